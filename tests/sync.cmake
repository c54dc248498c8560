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
