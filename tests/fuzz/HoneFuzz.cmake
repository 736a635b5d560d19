# HoneFuzz.cmake: the default of HONE_FUZZ. Looks for a clang that compiles and links
# a libFuzzer target with AddressSanitizer and UBSan (on Debian: the packages clang and
# libclang-rt-dev) and sets
#   HONE_FUZZ_CLANG      (cache) that compiler: the C compiler itself when it is clang
#   HONE_FUZZ_AVAILABLE  TRUE when the probe linked
# The main build is usually gcc, so check_c_source_compiles cannot ask clang; the probe
# runs the candidate compiler directly, once per compiler (the answer is cached).
if(CMAKE_C_COMPILER_ID MATCHES "Clang" AND NOT HONE_FUZZ_CLANG)
  set(HONE_FUZZ_CLANG ${CMAKE_C_COMPILER} CACHE FILEPATH "clang used for the libFuzzer targets")
endif()
find_program(HONE_FUZZ_CLANG NAMES clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14
  DOC "clang used for the libFuzzer targets")

if(NOT HONE_FUZZ_CLANG)
  set(HONE_FUZZ_AVAILABLE FALSE)
elseif(DEFINED CACHE{HONE_FUZZ_PROBED} AND HONE_FUZZ_PROBED STREQUAL HONE_FUZZ_CLANG)
  set(HONE_FUZZ_AVAILABLE ${HONE_FUZZ_PROBE_RESULT})
else()
  set(probe_dir ${CMAKE_BINARY_DIR}/CMakeFiles/hone_fuzz_probe)
  file(MAKE_DIRECTORY ${probe_dir})
  file(WRITE ${probe_dir}/probe.c
    "#include <stddef.h>\n#include <stdint.h>\n"
    "int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)\n"
    "{ return size > 0 && data[0] == 'x' ? 1 : 0; }\n")
  execute_process(
    COMMAND ${HONE_FUZZ_CLANG} -fsanitize=fuzzer,address,undefined probe.c -o probe
    WORKING_DIRECTORY ${probe_dir}
    RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(HONE_FUZZ_AVAILABLE TRUE)
  else()
    set(HONE_FUZZ_AVAILABLE FALSE)
  endif()
  set(HONE_FUZZ_PROBED ${HONE_FUZZ_CLANG} CACHE INTERNAL "compiler the libFuzzer probe ran with")
  set(HONE_FUZZ_PROBE_RESULT ${HONE_FUZZ_AVAILABLE} CACHE INTERNAL "whether it linked -fsanitize=fuzzer")
  message(STATUS "libFuzzer with ${HONE_FUZZ_CLANG}: ${HONE_FUZZ_AVAILABLE}")
endif()
