# Key rotation and revocation across real daemons: a rolled key verifies
# everywhere; a revoked key's new events are quarantined at every level.
add_executable(keys_test keys_test.cpp)
target_link_libraries(keys_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(keys_test liandong)
catch_discover_tests(keys_test PROPERTIES TIMEOUT 300 LABELS integration)
