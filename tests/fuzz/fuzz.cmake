# Fuzz targets for every parser of outside bytes (tests/fuzz/*_fuzz.cpp).
#
# Ordinary build: each target is a plain executable that replays its seed
# corpus (tests/fuzz/corpus/<name>/) through LLVMFuzzerTestOneInput; ctest
# runs it as `fuzz_corpus_<name>`.
#
# LIANDONG_FUZZ=ON (clang only, with LIANDONG_SANITIZE=address,undefined):
# each target is a libFuzzer binary (-fsanitize=fuzzer,address,undefined)
# and our libraries get coverage instrumentation; ctest then replays the
# corpora with `-runs=0`. tests/fuzz/run.sh configures and runs this build.
option(LIANDONG_FUZZ "Build the fuzz targets as libFuzzer binaries (clang)" OFF)

set(LIANDONG_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

if(LIANDONG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LIANDONG_FUZZ needs clang (CC=clang-14 CXX=clang++-14)")
  endif()
  if(NOT LIANDONG_SANITIZE MATCHES "address" OR NOT LIANDONG_SANITIZE MATCHES "undefined")
    message(FATAL_ERROR "LIANDONG_FUZZ needs -DLIANDONG_SANITIZE=address,undefined")
  endif()
  # Coverage feedback from the code under test, not only from the targets.
  foreach(lib liandong_protocol liandong_storage liandong_config liandong_sync)
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
endif()

# liandong_fuzz_target(name libs...): tests/fuzz/<name>_fuzz.cpp with its
# corpus in tests/fuzz/corpus/<name>/.
function(liandong_fuzz_target name)
  set(exe ${name}_fuzz)
  set(corpus ${LIANDONG_FUZZ_DIR}/corpus/${name})
  if(LIANDONG_FUZZ)
    add_executable(${exe} ${LIANDONG_FUZZ_DIR}/${name}_fuzz.cpp)
    target_compile_options(${exe} PRIVATE -fsanitize=fuzzer)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    add_test(NAME fuzz_corpus_${name} COMMAND ${exe} -runs=0 ${corpus})
    set_tests_properties(fuzz_corpus_${name} PROPERTIES
      ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
  else()
    add_executable(${exe} ${LIANDONG_FUZZ_DIR}/${name}_fuzz.cpp ${LIANDONG_FUZZ_DIR}/replay_main.cpp)
    add_test(NAME fuzz_corpus_${name} COMMAND ${exe} ${corpus})
  endif()
  target_link_libraries(${exe} PRIVATE ${ARGN})
  set_tests_properties(fuzz_corpus_${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
endfunction()

liandong_fuzz_target(sync_message liandong_sync)
liandong_fuzz_target(signed_event liandong_storage)
liandong_fuzz_target(config liandong_config)
liandong_fuzz_target(cursor liandong_storage)
liandong_fuzz_target(catalog liandong_storage)
liandong_fuzz_target(roster liandong_storage)
liandong_fuzz_target(calendar liandong_storage)
liandong_fuzz_target(submission_json liandong_storage)
liandong_fuzz_target(bundle liandong_sync)

# Writes the binary seed corpora (see make_seeds.cpp); not a test.
add_executable(fuzz_make_seeds ${LIANDONG_FUZZ_DIR}/make_seeds.cpp)
target_link_libraries(fuzz_make_seeds PRIVATE liandong_storage liandong_sync)
