# The Debian package (`cpack -G DEB` in a build directory, or `cpack --preset release`).
#
# Layout, Debian-style:
#   /usr/bin/heliosdb-conversational-bi                     the server (src/CMakeLists.txt)
#   /usr/share/heliosdb-conversational-bi/web/              the web chat (cmake/web.cmake), found
#                                                           by the binary next to its bin/
#   /etc/heliosdb/conversational-bi.toml                    config/conversational-bi.toml as is
#   /etc/heliosdb/conversational-bi.env                     deploy/conversational-bi.env, the
#                                                           secrets: root:heliosdb 0640
#   /lib/systemd/system/heliosdb-conversational-bi.service  deploy/, neither enabled nor started
# Both files in /etc/heliosdb are conffiles: an upgrade never overwrites an administrator's edits.
# The maintainer scripts (deploy/debian/) make the heliosdb user and group, /var/lib/heliosdb
# (the service's working directory: the users file and SQLite files) and /var/log/heliosdb;
# a purge removes them again.
#
# The files under /etc and /lib are the install component "system", left out of a plain
# `cmake --install` (which would otherwise write to /etc whatever the prefix) and put into the
# package with everything else. `cmake --install <dir> --component system` installs them by hand.
#
# Dependencies on shared libraries are found by dpkg-shlibdeps (package dpkg-dev). The debug
# symbols are split off the binary (objcopy --only-keep-debug, then --add-gnu-debuglink) into a
# -dbgsym .ddeb written beside the package, installed under /usr/lib/debug/.build-id/ where gdb
# looks. They are only useful from a build with -g: the "release" preset (CMakePresets.json).
include(GNUInstallDirs)

set(HELIOS_PACKAGE_NAME heliosdb-conversational-bi)
set(HELIOS_PACKAGE_MAINTAINER "HeliosDB Conversational BI maintainers <maintainers@heliosdb.invalid>"
    CACHE STRING "The Debian package's Maintainer field")

install(FILES ${CMAKE_SOURCE_DIR}/deploy/heliosdb-conversational-bi.service
  DESTINATION /lib/systemd/system COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/config/conversational-bi.toml
  DESTINATION /etc/heliosdb COMPONENT system EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/conversational-bi.env
  DESTINATION /etc/heliosdb COMPONENT system EXCLUDE_FROM_ALL
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${HELIOS_PACKAGE_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${HELIOS_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Conversational BI server: plain-language questions answered with SQL and charts")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "HeliosDB Conversational BI answers questions about data asked in plain language with the
SQL it ran, the results and a chart, over an HTTP API and a web chat. It reads SQLite,
PostgreSQL and MySQL/MariaDB databases, writes SQL with a built-in engine or a language model,
and can share its sessions, cache and rate limits between instances through Redis.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Where the package puts the binary: the unit's ExecStart must run it (tests/deploy checks).
set(HELIOS_PACKAGED_BINARY
    ${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/heliosdb-conversational-bi)
set(CPACK_STRIP_FILES OFF)  # the debug-symbol split below strips the binary itself

# One package with the default component (binary, web chat) and "system".
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Unspecified system)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)

set(CPACK_DEBIAN_PACKAGE_NAME ${HELIOS_PACKAGE_NAME})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser for the maintainer scripts; the libraries come from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles
    ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
    ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
