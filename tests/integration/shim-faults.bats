#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (it looks for processes host-wide)
# podrun-shim faults: killed containers, a SIGKILLed shim and its successor, a runtime that
# fails or hangs. (A full disk for logs is in shim-logs.bats.)

load ../lib/helpers
load ../lib/shim-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

@test "shim faults: killing a container's process is an Error exit and a restart" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  pid=$(st "$(ctr a).pid")
  kill -9 "$pid"
  wait_status "$(ctr a).restartCount == 1 and $(ctr a).state == \"running\""
  [ "$(st "$(ctr a).lastState.exitCode")" = 137 ]
  [ "$(st "$(ctr a).lastState.reason")" = Error ]
  [ "$(st "$(ctr a).pid")" != "$pid" ]
}

@test "shim faults: after a SIGKILLed shim, a new shim adopts the running containers" {
  write_spec "[$(ctr_json a 'i=0; while :; do echo "n $i"; i=$((i+1)); sleep 0.1; done')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  pid=$(st "$(ctr a).pid")
  old=$SHIM_PID
  kill -9 "$old"
  wait_for bash -c "! kill -0 $old"
  sleep 0.5
  # The container did not die with its supervisor.
  kill -0 "$pid"
  # A new shim on the same pod directory takes over the record and the container.
  start_shim
  [ "$SHIM_PID" != "$old" ]
  wait_status "$(ctr a).adopted == true and $(ctr a).pid == $pid and .shimPid == $SHIM_PID"
  [ "$(st "$(ctr a).state")" = running ]
  [ "$(st "$(ctr a).restartCount")" = 0 ]
  # The output written while nobody read it waited in the FIFO: no gap in the log.
  sleep 0.5
  awk '{print $5}' "$LOG_DIR/a.log" > "$BATS_TEST_TMPDIR/nums"
  seq 0 "$(tail -1 "$BATS_TEST_TMPDIR/nums")" | diff - "$BATS_TEST_TMPDIR/nums"
  # An adopted container's exit is seen (through its pidfd) and handled by the policy.
  kill -9 "$pid"
  wait_status "$(ctr a).restartCount == 1 and $(ctr a).state == \"running\""
  [ "$(st "$(ctr a).adopted // false")" = false ]
  run shimctl '{"cmd":"remove"}'
  [ ! -e "$POD_DIR" ]
  [ -z "$(ls "$STATE_ROOT")" ]
}

@test "shim faults: a container that ended while no shim ran is restarted by the next shim" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  pid=$(st "$(ctr a).pid")
  kill -9 "$SHIM_PID"
  kill -9 "$pid"
  sleep 0.3
  start_shim
  wait_status "$(ctr a).state == \"running\" and $(ctr a).restartCount == 1"
  [ "$(st "$(ctr a).pid")" != "$pid" ]
  [ "$(st "$(ctr a).lastState.reason")" = Error ]
}

@test "shim faults: a runtime that refuses create gives ContainerCannotRun" {
  export FAKE_RUNTIME_REAL=$RUNTIME FAKE_RUNTIME_FAIL=create
  POD_RUNTIME=$TOP/tests/lib/shim-fake-runtime.sh
  write_spec "[$(ctr_json a 'exec sleep 1000')]" '{"restartPolicy":"Never"}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\""
  [ "$(st "$(ctr a).reason")" = ContainerCannotRun ]
  [[ "$(st "$(ctr a).message")" == *"fake runtime: create refused"* ]]
  [ "$(st .phase)" = Failed ]
  [ -z "$(ls "$STATE_ROOT")" ]
}

@test "shim faults: a runtime whose kill fails: the stop still happens (pidfd)" {
  export FAKE_RUNTIME_REAL=$RUNTIME FAKE_RUNTIME_FAIL=kill
  POD_RUNTIME=$TOP/tests/lib/shim-fake-runtime.sh
  write_spec "[$(ctr_json a 'trap "exit 5" TERM; while :; do sleep 0.1; done')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  shimctl '{"cmd":"stop","container":"a"}'
  wait_status "$(ctr a).state == \"terminated\""
  [ "$(st "$(ctr a).exitCode")" = 5 ]
}

@test "shim faults: a runtime that hangs is killed after runtimeTimeoutSeconds" {
  export FAKE_RUNTIME_REAL=$RUNTIME FAKE_RUNTIME_HANG=create
  POD_RUNTIME=$TOP/tests/lib/shim-fake-runtime.sh
  write_spec "[$(ctr_json a 'exec sleep 1000')]" '{"restartPolicy":"Never","runtimeTimeoutSeconds":1}'
  start_shim
  # Answers while (and after) the runtime hangs.
  wait_status "$(ctr a).state == \"terminated\"" 50
  [ "$(st "$(ctr a).reason")" = ContainerCannotRun ]
  [[ "$(st "$(ctr a).message")" == *"no answer within 1000 ms"* ]]
  run shimctl '{"cmd":"status"}'
  [ "$status" -eq 0 ]
  # The hung runtime and what it forked are gone.
  ! pgrep -f "shim-fake-runtime.sh --root $STATE_ROOT" >/dev/null || false
  ! pgrep -P "$SHIM_PID" sleep >/dev/null || false
  unset FAKE_RUNTIME_HANG
  run shimctl '{"cmd":"remove"}'
  [ ! -e "$POD_DIR" ]
}

@test "shim faults: another pod's container under the same runtime id is neither adopted nor removed" {
  write_spec "[$(ctr_json one 'exec sleep 1000' '{"id":"shared"}')]"
  start_shim
  wait_status "$(ctr one).state == \"running\""
  pid=$(st "$(ctr one).pid")
  pod1=$POD_DIR
  # A second pod under the same runtimeRoot, with its own bundle but the same id.
  POD_DIR=$BATS_TEST_TMPDIR/pod2
  POD_NAME=$POD_NAME-two
  mkdir -p "$POD_DIR"
  write_spec "[$(ctr_json two 'exec sleep 1000' '{"id":"shared"}')]" '{"restartPolicy":"Never"}'
  start_shim
  wait_status "$(ctr two).state == \"terminated\""
  [ "$(st "$(ctr two).reason")" = ContainerCannotRun ]
  [[ "$(st "$(ctr two).message")" == *'container id "shared" is already used by another container'* ]]
  [ "$(st "$(ctr two).adopted // false")" = false ]
  [ "$(st "$(ctr two).pid // 0")" = 0 ]
  # Removing the second pod leaves the first pod's container alone.
  run shimctl '{"cmd":"remove"}'
  [ "$status" -eq 0 ]
  [ ! -e "$POD_DIR" ]
  kill -0 "$pid"
  [ "$(rt state shared | jq -r .pid)" = "$pid" ]
  POD_DIR=$pod1
  [ "$(st "$(ctr one).state")" = running ]
  [ "$(st "$(ctr one).pid")" = "$pid" ]
}

@test "shim faults: a new shim adopts a running container only when its pod's record says it ran" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  pid=$(st "$(ctr a).pid")
  old=$SHIM_PID
  kill -9 "$old"
  wait_for bash -c "! kill -0 $old"
  # Without a record the container is not taken as ours to supervise: it is replaced.
  rm "$POD_DIR/status.json"
  start_shim
  wait_status "$(ctr a).state == \"running\" and $(ctr a).pid != $pid"
  [ "$(st "$(ctr a).adopted // false")" = false ]
  wait_for bash -c "! kill -0 $pid"
}
