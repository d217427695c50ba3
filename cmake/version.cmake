# Writes OUT (app/version.h) with the project version, the current git revision and the build
# date, touching the file only when its content changes, so a new commit rebuilds just what
# prints the version.
#
# The build date is reproducible: SOURCE_DATE_EPOCH when set (the reproducible-builds
# convention, which Debian's tools set), else the commit date of HEAD, else "unknown". It is
# never the wall-clock time, so building the same commit twice gives the same binary.
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

if(NOT "$ENV{SOURCE_DATE_EPOCH}" MATCHES "^[0-9]+$")
  execute_process(COMMAND git log -1 --format=%ct HEAD
    WORKING_DIRECTORY ${SOURCE_DIR}
    OUTPUT_VARIABLE commit_epoch OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(commit_epoch MATCHES "^[0-9]+$")
    # string(TIMESTAMP) formats SOURCE_DATE_EPOCH instead of the current time when it is set.
    set(ENV{SOURCE_DATE_EPOCH} "${commit_epoch}")
  endif()
endif()
if("$ENV{SOURCE_DATE_EPOCH}" MATCHES "^[0-9]+$")
  string(TIMESTAMP build_date "%Y-%m-%dT%H:%M:%SZ" UTC)
else()
  set(build_date "unknown")
endif()

set(content "// Generated at build time by cmake/version.cmake.
#pragma once
#define HELIOS_VERSION \"${VERSION}\"
#define HELIOS_GIT_REVISION \"${revision}\"
#define HELIOS_BUILD_DATE \"${build_date}\"
")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${content}")
  file(WRITE ${OUT} "${content}")
endif()
