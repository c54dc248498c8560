# Operations across real daemons on loopback: enrollment by one-time join
# code and live config reload (SIGHUP). About a minute, mostly waiting on
# links; LABELS integration like the other multi-process tests.
find_package(Python3 3.9 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME ops.enroll
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/enroll_test.py --bin $<TARGET_FILE:liandong>)
  set_tests_properties(ops.enroll PROPERTIES LABELS integration TIMEOUT 300)
endif()
