# The web chat (web/): its npm packages are installed by scripts/web-deps.sh and the page is
# bundled by web/build.mjs (esbuild) into ${HELIOS_WEB_DIR}: index.html and assets/. The server
# binary finds it there (its build tree's web/) or where `cmake --install` puts it
# (<prefix>/share/heliosdb-conversational-bi/web).
find_program(NODE_PROGRAM NAMES node nodejs)
find_program(NPM_PROGRAM npm)
if(NOT NODE_PROGRAM OR NOT NPM_PROGRAM)
  message(FATAL_ERROR "The web chat needs Node.js and npm (scripts/setup.sh installs them); "
                      "configure with -DHELIOS_BUILD_WEB=OFF to build the server without it.")
endif()

set(HELIOS_WEB_DIR ${CMAKE_BINARY_DIR}/web)
set(web_src ${CMAKE_SOURCE_DIR}/web)
file(GLOB_RECURSE web_sources CONFIGURE_DEPENDS ${web_src}/src/*)
set(web_deps_stamp ${CMAKE_BINARY_DIR}/web-deps.stamp)
add_custom_command(OUTPUT ${web_deps_stamp}
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/web-deps.sh
  COMMAND ${CMAKE_COMMAND} -E touch ${web_deps_stamp}
  DEPENDS ${web_src}/package.json ${web_src}/package-lock.json ${CMAKE_SOURCE_DIR}/scripts/web-deps.sh
  COMMENT "Installing the web chat's npm packages"
  VERBATIM)
add_custom_command(OUTPUT ${HELIOS_WEB_DIR}/index.html
  COMMAND ${NODE_PROGRAM} ${web_src}/build.mjs --outdir ${HELIOS_WEB_DIR}
  DEPENDS ${web_deps_stamp} ${web_sources} ${web_src}/build.mjs
  COMMENT "Bundling the web chat"
  VERBATIM)
add_custom_target(helios_web ALL DEPENDS ${HELIOS_WEB_DIR}/index.html)

include(GNUInstallDirs)
install(DIRECTORY ${HELIOS_WEB_DIR}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/heliosdb-conversational-bi/web
  PATTERN .web-build.json EXCLUDE)
