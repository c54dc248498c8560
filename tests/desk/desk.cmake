# The desk's browser tests (tests/desk/desk_test.py): headless Chromium
# through chromedriver and python3-selenium against a county, a township and
# a village running on 127.0.0.1 (deploy/install-deps.sh installs them).
# Screenshots and printouts go to BUILD/desk-artifacts. About two minutes.
# desk_attach_test.py: attachments across the links, artifacts in
# BUILD/desk-artifacts/attach. desk_supervision_test.py: 督办, 效能投诉 and
# the 评价器, artifacts in BUILD/desk-artifacts/supervision. public_test.py: the public page
# (办事结果公开), artifacts in BUILD/desk-artifacts/public.
# desk_report_test.py: the 统计报表 page and
# its XLSX/CSV downloads (read back with python3-openpyxl), artifacts in
# BUILD/desk-artifacts/reports.
# Run: `ctest -R desk --output-on-failure`.
find_package(Python3 3.9 COMPONENTS Interpreter)
# The interpreter that has Selenium: the one CMake found (it may be a
# pyenv shim without Debian's packages), else the system's.
set(LIANDONG_DESK_PYTHON "")
foreach(py ${Python3_EXECUTABLE} /usr/bin/python3)
  if(NOT LIANDONG_DESK_PYTHON AND EXISTS ${py})
    execute_process(COMMAND ${py} -c "import selenium"
      RESULT_VARIABLE has_selenium OUTPUT_QUIET ERROR_QUIET)
    if(has_selenium EQUAL 0)
      set(LIANDONG_DESK_PYTHON ${py})
    endif()
  endif()
endforeach()
if(LIANDONG_DESK_PYTHON AND EXISTS /usr/bin/chromium AND EXISTS /usr/bin/chromedriver)
  add_test(NAME desk.browser
    COMMAND ${LIANDONG_DESK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/desk_test.py
      --bin $<TARGET_FILE:liandong>)
  # Ports are picked by the system; RUN_SERIAL only so that the timings of
  # two Chromiums and three daemons are not shared with a parallel build.
  set_tests_properties(desk.browser PROPERTIES
    LABELS desk TIMEOUT 600 RUN_SERIAL TRUE
    ENVIRONMENT "LIANDONG_ARTIFACTS=${CMAKE_BINARY_DIR}/desk-artifacts")
  # Two photos uploaded at an offline village, seen at the county once the
  # links come up (tests/desk/desk_attach_test.py). About 30-90 seconds,
  # mostly waiting for custody: it runs beside the suite.
  add_test(NAME desk.attachments
    COMMAND ${LIANDONG_DESK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/desk_attach_test.py
      --bin $<TARGET_FILE:liandong>)
  set_tests_properties(desk.attachments PROPERTIES
    LABELS desk TIMEOUT 300 COST 3000
    ENVIRONMENT "LIANDONG_ARTIFACTS=${CMAKE_BINARY_DIR}/desk-artifacts/attach")
  # 督办, 效能投诉 and the 评价器 across county, township and village, seen on
  # the county's 电子监察 page (tests/desk/desk_supervision_test.py). About
  # a minute; it runs beside the suite.
  add_test(NAME desk.supervision
    COMMAND ${LIANDONG_DESK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/desk_supervision_test.py
      --bin $<TARGET_FILE:liandong>)
  set_tests_properties(desk.supervision PROPERTIES
    LABELS desk TIMEOUT 300 COST 3000
    ENVIRONMENT "LIANDONG_ARTIFACTS=${CMAKE_BINARY_DIR}/desk-artifacts/supervision")
  # 办事结果公开 (tests/desk/public_test.py): 1,000 decided cases at one
  # county, the public page, its API and the 服务告知单 searched for every
  # applicant's name, ID number and phone. About 40-60 seconds; artifacts
  # in BUILD/desk-artifacts/public.
  add_test(NAME desk.public
    COMMAND ${LIANDONG_DESK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/public_test.py
      --bin $<TARGET_FILE:liandong>)
  set_tests_properties(desk.public PROPERTIES
    LABELS desk TIMEOUT 240 COST 2000
    ENVIRONMENT "LIANDONG_ARTIFACTS=${CMAKE_BINARY_DIR}/desk-artifacts/public")
  # The 统计报表 page: periods and drilling by clicking, the charts, the
  # XLSX, CSV and 台账 downloads read back cell by cell. About 40 seconds;
  # it runs beside the suite.
  add_test(NAME desk.reports
    COMMAND ${LIANDONG_DESK_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/desk_report_test.py
      --bin $<TARGET_FILE:liandong>)
  set_tests_properties(desk.reports PROPERTIES
    LABELS desk TIMEOUT 300 COST 2000
    ENVIRONMENT "LIANDONG_ARTIFACTS=${CMAKE_BINARY_DIR}/desk-artifacts/reports")
else()
  # Not skipped in silence: a machine without them fails the test, saying why.
  add_test(NAME desk.browser COMMAND sh -c
    "echo 'desk.browser: python3-selenium, /usr/bin/chromium or /usr/bin/chromedriver missing (bash deploy/install-deps.sh installs them)' >&2; exit 1")
  set_tests_properties(desk.browser PROPERTIES LABELS desk)
  add_test(NAME desk.attachments COMMAND sh -c
    "echo 'desk.attachments: python3-selenium, /usr/bin/chromium or /usr/bin/chromedriver missing (bash deploy/install-deps.sh installs them)' >&2; exit 1")
  set_tests_properties(desk.attachments PROPERTIES LABELS desk)
  add_test(NAME desk.supervision COMMAND sh -c
    "echo 'desk.supervision: python3-selenium, /usr/bin/chromium or /usr/bin/chromedriver missing (bash deploy/install-deps.sh installs them)' >&2; exit 1")
  set_tests_properties(desk.supervision PROPERTIES LABELS desk)
  add_test(NAME desk.public COMMAND sh -c
    "echo 'desk.public: python3-selenium, /usr/bin/chromium or /usr/bin/chromedriver missing (bash deploy/install-deps.sh installs them)' >&2; exit 1")
  set_tests_properties(desk.public PROPERTIES LABELS desk)
  add_test(NAME desk.reports COMMAND sh -c
    "echo 'desk.reports: python3-selenium, /usr/bin/chromium or /usr/bin/chromedriver missing (bash deploy/install-deps.sh installs them)' >&2; exit 1")
  set_tests_properties(desk.reports PROPERTIES LABELS desk)
endif()
