#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Fake: an expected-failure test that accepts any non-zero status and finds its message, while
# the program really died of an ASan report (exit code 86).

@test "bad input fails with a message" {
  run "$HARNESS_BIN/asan-victim"
  [ "$status" -ne 0 ]
  [[ "$output" == *"the expected message"* ]]
}
