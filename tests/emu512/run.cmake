# SPDX-License-Identifier: MIT
# Runs one suite linked against focal_emu512, as
#   cmake -DTEST=<binary> -DFILTER=<CMocka filter> -DEXPECT=<text> -P run.cmake
# (FILTER may be empty) and passes only if it exits 0, printed EXPECT (the
# avx512 cases really ran) and skipped no avx512 case: a suite that skips the
# kernel it exists to run, or whose filter matches no case, must not pass
# silently.
cmake_minimum_required(VERSION 3.25)

set(args "")
if(FILTER)
  set(args "${FILTER}")
endif()
execute_process(COMMAND "${TEST}" ${args}
  OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
message("${out}")

if(NOT rc EQUAL 0)
  message(FATAL_ERROR "emu512: ${TEST} '${FILTER}' failed (${rc})")
endif()
string(FIND "${out}" "${EXPECT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "emu512: '${EXPECT}' not in the output: the avx512 cases did not run")
endif()
if(out MATCHES "\\[ *SKIPPED *\\][^\n]*avx512")
  message(FATAL_ERROR "emu512: avx512 cases were skipped; the emulated kernel must run them all")
endif()
