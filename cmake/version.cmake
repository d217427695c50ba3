# Writes OUT (app/version.h) with the project version and the current git revision, touching the
# file only when its content changes, so a new commit rebuilds just what prints the version.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT revision)
  set(revision "unknown")
endif()
execute_process(COMMAND git status --porcelain --untracked-files=no
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(dirty)
  set(revision "${revision}-modified")
endif()
set(content "// Generated at build time by cmake/version.cmake.
#pragma once
#define HELIOS_VERSION \"${VERSION}\"
#define HELIOS_GIT_REVISION \"${revision}\"
")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE ${OUT} "${content}")
endif()
