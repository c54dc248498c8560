# Every case flow end to end across real `liandong run` daemons (tests/flow_test.cpp).
add_executable(flow_test flow_test.cpp)
target_link_libraries(flow_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(flow_test liandong)
catch_discover_tests(flow_test PROPERTIES TIMEOUT 300 LABELS integration)
