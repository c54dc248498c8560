# The metrics endpoint scraped by a real Prometheus (tests/metrics/prometheus_test.py):
# Debian's /usr/bin/prometheus started by the test (its own config, data
# directory and port), a township and a village on 127.0.0.1 through the desk
# tests' harness (tests/desk/desk_net.py), queries of Prometheus's HTTP API,
# and promtool on deploy/prometheus/ (check rules, check config, and the
# alerts' own tests in tests/metrics/rules_test.yml). About 15-25 s.
# Run: `ctest -R metrics.prometheus --output-on-failure`.
if(LIANDONG_DESK_PYTHON)
  add_test(NAME metrics.prometheus
    COMMAND ${LIANDONG_DESK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/prometheus_test.py
      --bin $<TARGET_FILE:liandong>)
  set_tests_properties(metrics.prometheus PROPERTIES LABELS metrics TIMEOUT 120)
endif()
