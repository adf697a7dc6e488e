# Runs one self-test program as a child and judges it by its exit code and what the sanitizers
# printed. Usage (ctest runs it):
#   cmake -DPROGRAM=path [-DARGS=a@@b] [-DASAN_EXTRA=k=v:k=v] [-DTSAN_EXTRA=k=v:k=v] -DEXPECT_EXIT=code
#         [-DEXPECT=regex@@...] [-DREJECT=regex@@...] [-DTIMEOUT=seconds] -P check_report.cmake
# Lists are separated by "@@" (a ";" would be split by add_test).
# ASAN_OPTIONS (TSAN_OPTIONS) is the inherited value with ASAN_EXTRA (TSAN_EXTRA) appended (a
# later option wins). Every
# EXPECT regex must match the child's output and no REJECT regex may; each failure is named.
cmake_minimum_required(VERSION 3.20)
if(NOT PROGRAM OR NOT EXPECT_EXIT MATCHES "^[0-9]+$")
  message(FATAL_ERROR "check_report.cmake: PROGRAM and EXPECT_EXIT=code are required")
endif()
foreach(var ARGS EXPECT REJECT)
  string(REPLACE "@@" ";" ${var} "${${var}}")
endforeach()
if(NOT TIMEOUT)
  set(TIMEOUT 120)
endif()

foreach(san ASAN TSAN)
  set(options "$ENV{${san}_OPTIONS}")
  if(${san}_EXTRA)
    if(options)
      string(APPEND options ":")
    endif()
    string(APPEND options "${${san}_EXTRA}")
  endif()
  set(ENV{${san}_OPTIONS} "${options}")
  message(STATUS "${san}_OPTIONS=${options}")
endforeach()
message(STATUS "running: ${PROGRAM} ${ARGS}")

execute_process(COMMAND ${PROGRAM} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT ${TIMEOUT})
set(all "${out}${err}")
message("---- child output (exit ${rc}) ----\n${all}---- end of child output ----")

set(failures "")
if(NOT rc MATCHES "^[0-9]+$")
  list(APPEND failures "child did not exit normally: ${rc}")
elseif(NOT rc EQUAL EXPECT_EXIT)
  list(APPEND failures "exit code ${rc}, expected ${EXPECT_EXIT}")
endif()
foreach(re IN LISTS EXPECT)
  if(NOT all MATCHES "${re}")
    list(APPEND failures "missing from the output: /${re}/")
  endif()
endforeach()
foreach(re IN LISTS REJECT)
  if(all MATCHES "${re}")
    list(APPEND failures "present in the output: /${re}/ (${CMAKE_MATCH_0})")
  endif()
endforeach()

if(failures)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "SELF-TEST FAILED:\n  ${text}")
endif()
message(STATUS "self-test passed")
