# Fault tests on the real kernel: network namespaces, veth, tbf, nftables
# (deploy/testbed/testbed.py). They need root; without it they exit 77 and
# ctest reports them as skipped. Run them alone: `ctest -L fault`.
find_package(Python3 3.9 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(LIANDONG_FAULT_DIR ${CMAKE_CURRENT_LIST_DIR})
  foreach(name slow_link partition)
    add_test(NAME fault.${name}
      COMMAND ${Python3_EXECUTABLE} ${LIANDONG_FAULT_DIR}/${name}_test.py --bin $<TARGET_FILE:liandong>)
    # RUN_SERIAL: the slow-link test measures time against link capacity;
    # a parallel build or test on this 2-core machine would skew it.
    set_tests_properties(fault.${name} PROPERTIES
      SKIP_RETURN_CODE 77 LABELS fault TIMEOUT 600 RUN_SERIAL TRUE)
  endforeach()
else()
  message(STATUS "python3 not found: fault tests (tests/fault) not registered")
endif()
