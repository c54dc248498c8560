# The level blamed at each step across real daemons, offline in turn (tests/blame_test.cpp).
add_executable(blame_test blame_test.cpp)
target_link_libraries(blame_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(blame_test liandong)
catch_discover_tests(blame_test PROPERTIES TIMEOUT 300 LABELS integration)
