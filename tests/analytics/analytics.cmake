# The PostgreSQL export (docs/ANALYTICS.md) against a real PostgreSQL started
# by the test (tests/analytics/analytics_test.py): a county store of 10,000
# generated cases (county_gen), the exporter SIGKILLed and PostgreSQL
# crashed at random while new events arrive, then every row exactly once
# and the SQL views equal to `liandong report`. Skipped (77) where
# PostgreSQL's server binaries are absent. About 40-70 s.
# Run: `ctest -L analytics --output-on-failure`.
add_executable(county_gen ${CMAKE_CURRENT_LIST_DIR}/county_gen.cpp)
target_link_libraries(county_gen PRIVATE liandong_node)
target_compile_definitions(county_gen PRIVATE LIANDONG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_test(NAME analytics.postgres_export
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/analytics_test.py
    --bin $<TARGET_FILE:liandong> --gen $<TARGET_FILE:county_gen>)
set_tests_properties(analytics.postgres_export PROPERTIES LABELS analytics TIMEOUT 240
  SKIP_RETURN_CODE 77)
