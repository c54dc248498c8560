# Online backup and restore across real daemons: a backup under load,
# restored, the neighbours send what it lacks; keys sealed with a
# passphrase; refusals that change nothing; a full and a read-only disk.
add_executable(backup_test backup_test.cpp)
target_link_libraries(backup_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(backup_test liandong)
catch_discover_tests(backup_test PROPERTIES TIMEOUT 180 LABELS integration)
