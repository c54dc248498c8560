# The Debian package liandong_<version>_amd64.deb (CPack's DEB generator):
#   cpack --config build/CPackConfig.cmake -B build/pkg    (or `ninja -C build package`)
# What it installs and why: docs/OPERATIONS.md, "安装与升级 / Package and
# service"; its maintainer scripts are deploy/debian/. The desk's pages are
# compiled into the binary (node/desk/embed_assets.cmake), so nothing of
# them is installed beside it.
#
# LIANDONG_PACKAGE_VERSION_SUFFIX is appended to the project() version, as a
# rebuilt package to upgrade to (deploy/package-test.sh: "+t1").

set(LIANDONG_PACKAGE_VERSION_SUFFIX "" CACHE STRING
  "Appended to the package version, e.g. +t1 (deploy/package-test.sh)")

include(GNUInstallDirs)

install(TARGETS liandong RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${CMAKE_SOURCE_DIR}/deploy/liandong-backup DESTINATION lib/liandong)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/liandong.service
  ${CMAKE_SOURCE_DIR}/deploy/systemd/liandong-backup.service
  ${CMAKE_SOURCE_DIR}/deploy/systemd/liandong-backup.timer
  DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/liandong.toml DESTINATION /etc/liandong)
install(FILES ${CMAKE_SOURCE_DIR}/config/examples/county.toml
  ${CMAKE_SOURCE_DIR}/config/examples/township.toml
  ${CMAKE_SOURCE_DIR}/config/examples/village.toml
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The man page, made from the program's own --help when installing
# (cmake/liandong_manpage.py asks each of ~400 commands: some 20 s, so not
# on every build), again only when the program, the template or the script
# is newer than the page kept in the build tree.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(LIANDONG_MANPAGE_VERSION "${PROJECT_VERSION}${LIANDONG_PACKAGE_VERSION_SUFFIX}")
install(CODE "
  set(page \"${CMAKE_BINARY_DIR}/man/${LIANDONG_MANPAGE_VERSION}/liandong.1\")
  set(made_from \"$<TARGET_FILE:liandong>\" \"${CMAKE_SOURCE_DIR}/deploy/liandong.1.in\"
    \"${CMAKE_SOURCE_DIR}/cmake/liandong_manpage.py\")
  set(fresh TRUE)
  foreach(input IN LISTS made_from)
    if(NOT EXISTS \"\${page}.gz\" OR NOT \"\${page}.gz\" IS_NEWER_THAN \"\${input}\")
      set(fresh FALSE)
    endif()
  endforeach()
  if(NOT fresh)
    file(MAKE_DIRECTORY \"${CMAKE_BINARY_DIR}/man/${LIANDONG_MANPAGE_VERSION}\")
    execute_process(COMMAND \"${Python3_EXECUTABLE}\" \"${CMAKE_SOURCE_DIR}/cmake/liandong_manpage.py\"
        \"$<TARGET_FILE:liandong>\" \"${LIANDONG_MANPAGE_VERSION}\"
        \"${CMAKE_SOURCE_DIR}/deploy/liandong.1.in\" \"\${page}\"
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"liandong_manpage.py failed: \${rc}\")
    endif()
    file(REMOVE \"\${page}.gz\")
    execute_process(COMMAND gzip -n -9 -k \"\${page}\" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"gzip failed: \${rc}\")
    endif()
  endif()
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man1\"
    TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES \"\${page}.gz\")
")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME liandong)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}${LIANDONG_PACKAGE_VERSION_SUFFIX}")
set(CPACK_PACKAGE_VENDOR "Liandong")
set(CPACK_PACKAGE_CONTACT "Liandong maintainers <liandong@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "case sync node for county, township and village service centers")
set(CPACK_PACKAGE_DESCRIPTION
  "Liandong (联动) keeps a store of signed case events at each county service
center, township service center and village agent point, syncs them with the
node's parent and children when the network is up, and serves the Chinese web
desk. This package installs the program, its systemd units (the node and a
nightly backup) and a config to fill in.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# postinst uses adduser and deb-systemd-helper (init-system-helpers); the
# unit's ExecReload, /bin/kill (procps).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52), procps")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles
  ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
  ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/pkg)
include(CPack)
