# The staff roster (人员名册) across real daemons.
add_executable(roster_test roster_test.cpp)
target_link_libraries(roster_test PRIVATE liandong_catch_main liandong_net_fixture)
target_compile_definitions(roster_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(roster_test liandong)
catch_discover_tests(roster_test PROPERTIES TIMEOUT 300 LABELS integration)
