# Liveness on loopback: a village's submission reaches the county within a
# second after any idle period (real daemons, a counted run of 200 tries).
add_executable(liveness_test liveness_test.cpp)
target_link_libraries(liveness_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(liveness_test liandong)
catch_discover_tests(liveness_test PROPERTIES TIMEOUT 300 LABELS integration)
