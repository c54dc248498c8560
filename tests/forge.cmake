# A hostile township on a real link: forged, altered and replayed events are
# refused while honest traffic goes on (tests/forge_test.cpp).
add_executable(forge_test forge_test.cpp)
target_link_libraries(forge_test PRIVATE liandong_catch_main liandong_net_fixture liandong_storage
  cppzmq)
add_dependencies(forge_test liandong)
catch_discover_tests(forge_test PROPERTIES TIMEOUT 300 LABELS integration)
target_compile_definitions(forge_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
