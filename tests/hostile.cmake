# Hostile peers against a real township: a sibling posing as another village,
# floods of messages outside a session and of idle connections
# (tests/hostile_peer_test.cpp).
add_executable(hostile_peer_test hostile_peer_test.cpp)
target_link_libraries(hostile_peer_test PRIVATE liandong_catch_main liandong_net_fixture
  liandong_protocol cppzmq)
add_dependencies(hostile_peer_test liandong)
catch_discover_tests(hostile_peer_test PROPERTIES TIMEOUT 300 LABELS integration)
