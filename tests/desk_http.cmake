# The desk's HTTP server in a real daemon: HTTPS, hostile requests, ports.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
add_executable(desk_http_test desk_http_test.cpp)
target_link_libraries(desk_http_test PRIVATE liandong_catch_main liandong_net_fixture
  PkgConfig::HTTPLIB nlohmann_json::nlohmann_json liandong_vips)
target_compile_definitions(desk_http_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(desk_http_test liandong)
catch_discover_tests(desk_http_test PROPERTIES TIMEOUT 300 LABELS integration)
