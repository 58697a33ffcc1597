#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A container's own stdio through its shim (podrun-shim(8), ATTACH): podrun run -i/-t and
# podrun attach, as kubectl has them: stdin piped through, a terminal with its size, stdinOnce,
# several attachers, a client that never reads, detach and reattach, --rm and exit codes.

load ../lib/helpers
load ../lib/pods-helpers

bats_require_minimum_version 1.5.0

setup() {
  pods_setup
}

teardown() {
  local p
  for p in $(cat "$BATS_TEST_TMPDIR"/bg.pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  pods_teardown
}

# bg CMD...: in the background, killed by the teardown.
bg() {
  "$@" &
  echo $! >> "$BATS_TEST_TMPDIR/bg.pids"
}

@test "run -i --rm: stdin piped through (stdinOnce), exit code as kubectl's, the pod deleted" {
  run --separate-stderr prn run x -i --rm --restart=Never --image=busybox -- cat <<<"hi"
  echo "$output / $stderr"
  [ "$status" -eq 0 ]
  [ "$output" = hi ]
  [ "$stderr" = 'pod "x" deleted' ]
  run prn get pod x
  [ "$status" -eq 1 ]
  # A container that fails: its code is podrun's, after the removal (kubectl's order).
  run --separate-stderr prn run y -i --rm --restart=Never --image=busybox -- sh -c 'read l; echo "got $l"; exit 3' <<<"line"
  echo "$output / $stderr"
  [ "$status" -eq 3 ]
  [ "$output" = "got line" ]
  [ "${stderr_lines[0]}" = 'pod "y" deleted' ]
  [ "${stderr_lines[1]}" = "error: pod default/y terminated (Error)" ]
  assert_no_pods
}
