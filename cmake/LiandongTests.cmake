# Catch2 for every test, compiled once.
#
# Debian 12 ships Catch2 2.13 as one header (catch2/catch.hpp, ~18,000 lines).
# Its implementation and main() are compiled once, into liandong_catch_main;
# the header itself is compiled once more into a precompiled header
# (liandong_catch_pch) that every test target reuses, so no test file parses
# it again. liandong_share_test_pch() hands that header to each target that
# links liandong_catch_main or Catch2, wherever it was declared, so a new test
# needs nothing but `target_link_libraries(... liandong_catch_main)`.
#
# LIANDONG_TEST_PCH=OFF compiles every test file on its own (to check that a
# test includes what it uses; the precompiled header, tests/catch_pch.h, also
# brings the standard headers most tests use).

option(LIANDONG_TEST_PCH "Tests share one precompiled header (Catch2, std)" ON)

include(CTest)
include(Catch)

add_library(liandong_catch_main STATIC ${CMAKE_SOURCE_DIR}/tests/catch_main.cpp)
target_link_libraries(liandong_catch_main PUBLIC Catch2::Catch2)

if(LIANDONG_TEST_PCH)
  # The precompiled header is built from an empty source with the flags every
  # test has (the global ones); a test's own -D and -I do not change what the
  # header means, and neither compiler refuses it for them.
  add_library(liandong_catch_pch OBJECT ${CMAKE_SOURCE_DIR}/tests/catch_pch.cpp)
  target_link_libraries(liandong_catch_pch PRIVATE Catch2::Catch2)
  target_precompile_headers(liandong_catch_pch PRIVATE ${CMAKE_SOURCE_DIR}/tests/catch_pch.h)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # A .pch without its timestamp, so ccache can hash it.
    target_compile_options(liandong_catch_pch PRIVATE -Xclang -fno-pch-timestamp)
  endif()
endif()

# Unit tests beside the code: liandong_unit_test(name source libs...). One
# process, no sockets; labelled `unit` (deploy/test.sh runs them again under
# AddressSanitizer and UndefinedBehaviorSanitizer: `ctest -L unit`).
function(liandong_unit_test name src)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE liandong_catch_main ${ARGN})
  catch_discover_tests(${name} PROPERTIES TIMEOUT 300 LABELS unit)
endfunction()

# Every build-system target below `dir`, recursively.
function(liandong_targets_below dir out_var)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    liandong_targets_below(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out_var} ${targets} PARENT_SCOPE)
endfunction()

# Call once, after every add_subdirectory(): each target that links Catch2
# (through liandong_catch_main or directly) reuses liandong_catch_pch.
function(liandong_share_test_pch)
  if(NOT LIANDONG_TEST_PCH)
    return()
  endif()
  # ccache hashes a compile that uses a precompiled header only with this
  # sloppiness (ccache manual, "Precompiled headers"); without it every test
  # file would be compiled again on each build.
  set(launcher)
  if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache")
    set(launcher ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros
      ${CMAKE_CXX_COMPILER_LAUNCHER})
    set_property(TARGET liandong_catch_pch PROPERTY CXX_COMPILER_LAUNCHER ${launcher})
  endif()
  liandong_targets_below(${CMAKE_SOURCE_DIR} targets)
  foreach(target IN LISTS targets)
    if(target STREQUAL "liandong_catch_pch" OR target STREQUAL "liandong_catch_main")
      continue()
    endif()
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY")
      continue()
    endif()
    get_target_property(libs ${target} LINK_LIBRARIES)
    if(NOT libs)
      continue()
    endif()
    if("liandong_catch_main" IN_LIST libs OR "Catch2::Catch2" IN_LIST libs)
      set_property(TARGET ${target} PROPERTY PRECOMPILE_HEADERS_REUSE_FROM liandong_catch_pch)
      if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        # GCC 12 reports -Warray-bounds, -Wstringop-overflow and -overread in <string>
        # on `std::string(...) + "literal"` once <string> comes from a
        # precompiled header (the same false positive as the -Wrestrict one
        # in CMakeLists.txt; GCC 13 has none of them).
        set_property(TARGET ${target} APPEND PROPERTY COMPILE_OPTIONS
          -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread)
      endif()
      if(launcher)
        set_property(TARGET ${target} PROPERTY CXX_COMPILER_LAUNCHER ${launcher})
      endif()
    endif()
  endforeach()
endfunction()
