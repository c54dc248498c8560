# The division table (行政区划表) across real daemons.
add_executable(divisions_cli_test divisions_test.cpp)
target_link_libraries(divisions_cli_test PRIVATE liandong_catch_main liandong_net_fixture)
target_compile_definitions(divisions_cli_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(divisions_cli_test liandong)
catch_discover_tests(divisions_cli_test PROPERTIES TIMEOUT 300 LABELS integration)
