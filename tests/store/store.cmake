# The store against careless and hostile hands: the real binary on real
# LMDB files (tests/store/*_test.py). identity, single_writer and damage
# need nothing special; full_flag makes a mount namespace with a small
# tmpfs (root or user namespaces; otherwise it exits 77: skipped).
# LIANDONG_DAMAGE_CASES / LIANDONG_DAMAGE_SEED change the damage test's
# count (default 600) and seed.
find_package(Python3 3.9 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  foreach(name identity single_writer damage full_flag)
    add_test(NAME store.${name}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/${name}_test.py
        --bin $<TARGET_FILE:liandong>)
    set_tests_properties(store.${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS store TIMEOUT 600)
  endforeach()
else()
  message(STATUS "python3 not found: store tests (tests/store) not registered")
endif()
