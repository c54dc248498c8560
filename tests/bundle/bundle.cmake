# Bundles on a USB stick (node/bundle.h): a village with no link for the
# whole work, its township and the county, in network namespaces
# (deploy/testbed/testbed.py); the bytes on the village's veth once the link
# comes up. Needs root (exit 77 otherwise: skipped). About 60 s.
find_package(Python3 3.9 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME bundle.mule
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/bundle_test.py
      --bin $<TARGET_FILE:liandong>)
  set_tests_properties(bundle.mule PROPERTIES
    SKIP_RETURN_CODE 77 LABELS "fault;bundle" TIMEOUT 600)
endif()
