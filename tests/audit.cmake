# The audit log (审计日志) across real daemons: refusals, admin commands and
# role refusals recorded as events and seen at the county.
add_executable(audit_test audit_test.cpp)
target_link_libraries(audit_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(audit_test liandong)
catch_discover_tests(audit_test PROPERTIES TIMEOUT 300 LABELS integration)
