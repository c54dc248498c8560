# The CLI as a user meets it: the real liandong binary on real stores.
add_library(liandong_test_process STATIC run_process.cpp)
target_include_directories(liandong_test_process PUBLIC ${CMAKE_SOURCE_DIR})
add_executable(cli_test cli_test.cpp)
target_link_libraries(cli_test PRIVATE liandong_catch_main liandong_test_process)
target_compile_definitions(cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(cli_test liandong)
catch_discover_tests(cli_test PROPERTIES TIMEOUT 300)
