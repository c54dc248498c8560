# Multi-process sync tests: trees of real `liandong run` daemons on loopback.
add_executable(sync_test sync_test.cpp)
target_link_libraries(sync_test PRIVATE liandong_catch_main liandong_net_fixture)
add_dependencies(sync_test liandong)
catch_discover_tests(sync_test PROPERTIES TIMEOUT 300 LABELS integration)

# The links fail closed (CurveZMQ, the ZAP handler, pinned parent keys).
add_executable(link_security_test link_security_test.cpp)
target_link_libraries(link_security_test PRIVATE liandong_catch_main liandong_net_fixture)
target_compile_definitions(link_security_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(link_security_test liandong)
catch_discover_tests(link_security_test PROPERTIES TIMEOUT 300 LABELS integration)

# Refusals travel back as custody; clock faults (protocol/hlc.h).
add_executable(refusal_test refusal_test.cpp)
target_link_libraries(refusal_test PRIVATE liandong_catch_main liandong_net_fixture)
target_compile_definitions(refusal_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(refusal_test liandong)
catch_discover_tests(refusal_test PROPERTIES TIMEOUT 300 LABELS integration)

# Attachments on real links: scans up, custody and a decision's papers down.
add_executable(attachment_test attachment_test.cpp)
target_link_libraries(attachment_test PRIVATE liandong_catch_main liandong_net_fixture
  nlohmann_json::nlohmann_json)
add_dependencies(attachment_test liandong)
catch_discover_tests(attachment_test PROPERTIES TIMEOUT 300 LABELS integration)
