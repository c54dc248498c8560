# The CLI as a user meets it: the real liandong binary on real stores.
add_executable(cli_test cli_test.cpp)
target_link_libraries(cli_test PRIVATE liandong_catch_main liandong_test_support)
target_compile_definitions(cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(cli_test liandong)
catch_discover_tests(cli_test PROPERTIES TIMEOUT 300)
add_executable(report_cli_test report_cli_test.cpp)
target_link_libraries(report_cli_test PRIVATE liandong_catch_main liandong_net_fixture
  liandong_json_reader liandong_node)
target_compile_definitions(report_cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(report_cli_test liandong)
catch_discover_tests(report_cli_test PROPERTIES TIMEOUT 300)
# The service catalog (事项目录): publish, list, show, submissions checked against it.
add_executable(catalog_cli_test catalog_cli_test.cpp)
target_link_libraries(catalog_cli_test PRIVATE liandong_catch_main liandong_test_support)
target_compile_definitions(catalog_cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>"
  LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(catalog_cli_test liandong)
catch_discover_tests(catalog_cli_test PROPERTIES TIMEOUT 300)
add_executable(deadline_cli_test deadline_cli_test.cpp)
target_link_libraries(deadline_cli_test PRIVATE liandong_catch_main liandong_test_support
  liandong_net_fixture liandong_json_reader)
target_compile_definitions(deadline_cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>" LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(deadline_cli_test liandong)
catch_discover_tests(deadline_cli_test PROPERTIES TIMEOUT 300)
# Who may act where (storage/authority.h): refusals at the CLI and through a daemon.
add_executable(authority_cli_test authority_cli_test.cpp)
target_link_libraries(authority_cli_test PRIVATE liandong_catch_main liandong_net_fixture
  liandong_json_reader)
target_compile_definitions(authority_cli_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(authority_cli_test liandong)
catch_discover_tests(authority_cli_test PROPERTIES TIMEOUT 300)
# Hostile and careless input: bounded files, escaped output, validation gaps.
add_executable(hostile_input_test hostile_input_test.cpp)
target_link_libraries(hostile_input_test PRIVATE liandong_catch_main liandong_net_fixture
  liandong_json_reader)
target_compile_definitions(hostile_input_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(hostile_input_test liandong)
catch_discover_tests(hostile_input_test PROPERTIES TIMEOUT 300)
# Figures a county can sign: `report --by level` on 12,000 generated cases.
add_executable(figures_cli_test figures_cli_test.cpp)
target_link_libraries(figures_cli_test PRIVATE liandong_catch_main liandong_test_support
  liandong_json_reader liandong_node)
target_compile_definitions(figures_cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>"
  LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(figures_cli_test liandong)
catch_discover_tests(figures_cli_test PROPERTIES TIMEOUT 300)
# Paper ledgers brought in (`liandong import`): CSV (GBK, UTF-8 BOM) and XLSX.
pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)
add_executable(import_cli_test import_cli_test.cpp)
target_link_libraries(import_cli_test PRIVATE liandong_catch_main liandong_net_fixture
  liandong_json_reader PkgConfig::XLSXWRITER)
target_compile_definitions(import_cli_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(import_cli_test liandong)
catch_discover_tests(import_cli_test PROPERTIES TIMEOUT 300)
# `case list` paging and search (storage/case_query.h).
add_executable(case_search_cli_test case_search_cli_test.cpp)
target_link_libraries(case_search_cli_test PRIVATE liandong_catch_main liandong_test_support
  liandong_json_reader)
target_compile_definitions(case_search_cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(case_search_cli_test liandong)
catch_discover_tests(case_search_cli_test PROPERTIES TIMEOUT 300)
# One application layer behind the CLI and the control socket (node/app).
add_executable(app_layer_test app_layer_test.cpp)
target_link_libraries(app_layer_test PRIVATE liandong_catch_main liandong_net_fixture
  liandong_json_reader cppzmq)
target_compile_definitions(app_layer_test PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(app_layer_test liandong)
catch_discover_tests(app_layer_test PROPERTIES TIMEOUT 300)
# Attached files: submit --attach, attachment list / get, limits.
add_executable(attachment_cli_test attachment_cli_test.cpp)
target_link_libraries(attachment_cli_test PRIVATE liandong_catch_main liandong_test_support
  nlohmann_json::nlohmann_json liandong_vips)
target_compile_definitions(attachment_cli_test PRIVATE LIANDONG_BIN="$<TARGET_FILE:liandong>")
add_dependencies(attachment_cli_test liandong)
catch_discover_tests(attachment_cli_test PROPERTIES TIMEOUT 300)
