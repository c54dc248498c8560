# The package and its systemd units (cmake/Packaging.cmake, deploy/systemd/,
# deploy/debian/): cheap checks, each well under a minute. The full install,
# upgrade and purge in a clean Debian 12 is deploy/package-test.sh (not here).
add_test(NAME deploy.unit
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/unit_check.sh ${CMAKE_SOURCE_DIR}
          $<TARGET_FILE:liandong>)
add_test(NAME deploy.backup_rotation
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/backup_rotation.sh ${CMAKE_SOURCE_DIR})
add_test(NAME deploy.store_version
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/store_version.sh $<TARGET_FILE:liandong>)
add_test(NAME deploy.package
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/package_check.sh ${CMAKE_BINARY_DIR}
          ${CPACK_PACKAGE_VERSION})
set_tests_properties(deploy.unit deploy.backup_rotation deploy.store_version PROPERTIES TIMEOUT 60 LABELS deploy)
# cpack strips the binary and asks each command for its --help (the man page).
set_tests_properties(deploy.package PROPERTIES TIMEOUT 180 LABELS deploy)
