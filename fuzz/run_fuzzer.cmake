# Runs a libFuzzer binary on a fresh copy of a seed corpus, so the seeds are never modified.
# cmake -DFUZZER=... -DSEED_DIR=... -DWORK_DIR=... -DARTIFACT_DIR=... -DFUZZER_ARGS="a;b" -P this
foreach(var FUZZER SEED_DIR WORK_DIR ARTIFACT_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR} ${ARTIFACT_DIR})
file(COPY ${SEED_DIR}/ DESTINATION ${WORK_DIR})

# Sanitizer reports with their stacks, so a failure in CI can be read without rerunning.
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:$ENV{UBSAN_OPTIONS}")
execute_process(COMMAND ${FUZZER} ${FUZZER_ARGS} -artifact_prefix=${ARTIFACT_DIR}/ ${WORK_DIR}
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${result}); the input is in ${ARTIFACT_DIR}/")
endif()
