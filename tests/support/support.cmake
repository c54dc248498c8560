# Test support shared by the unit tests beside the code and the tests here:
# temporary dirs (temp_dir.h), test data under tests/data/ and whole-file
# reads (files.h), running a program (run_process.h), reading the CLI's JSON
# (json_reader.h); and, for trees of real daemons, the tree runner
# (net_fixture.h) with the submit helpers (submit.h).
add_library(liandong_test_process STATIC ${CMAKE_SOURCE_DIR}/tests/run_process.cpp)
target_include_directories(liandong_test_process PUBLIC ${CMAKE_SOURCE_DIR})
add_library(liandong_json_reader STATIC ${CMAKE_SOURCE_DIR}/tests/json_reader.cpp)
target_include_directories(liandong_json_reader PUBLIC ${CMAKE_SOURCE_DIR})

add_library(liandong_test_support STATIC ${CMAKE_SOURCE_DIR}/tests/support/files.cpp)
target_include_directories(liandong_test_support PUBLIC ${CMAKE_SOURCE_DIR})
target_compile_definitions(liandong_test_support PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(liandong_test_support PUBLIC liandong_test_process liandong_json_reader)

add_library(liandong_net_fixture STATIC ${CMAKE_SOURCE_DIR}/tests/net_fixture.cpp
  ${CMAKE_SOURCE_DIR}/tests/support/submit.cpp)
target_link_libraries(liandong_net_fixture PUBLIC liandong_protocol liandong_test_support
  Catch2::Catch2)
target_compile_definitions(liandong_net_fixture PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(liandong_net_fixture liandong)
