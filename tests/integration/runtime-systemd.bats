#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# --systemd-cgroup against a real systemd: the container's cgroup is a transient scope systemd
# made (through podrun-runtime-systemd over the system bus) in the slice cgroupsPath names, the
# resources are written there, update reaches it, and delete stops the scope. Needs systemd as
# PID 1 with cgroup v2: the systemd lane (tests/qemu/run-v2-lane.sh --systemd) runs it.

load ../lib/helpers

setup() {
  if [ ! -d /run/systemd/system ]; then
    # In the systemd lane a missing systemd is the lane's failure, not a reason to skip.
    [ -z "${PODRUN_SYSTEMD_LANE:-}" ] || { echo "the systemd lane runs without systemd" >&2; return 1; }
    skip "needs systemd as PID 1 (run-v2-lane.sh --systemd)"
  fi
  [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "needs cgroup v2"
  setup_bundle
  ID="$CTR_PREFIX"
  SLICE="podrun-t$$x${BATS_TEST_NUMBER}.slice"
  UNIT="podrun-test-$ID.scope"
  DIR="/sys/fs/cgroup/podrun.slice/$SLICE/$UNIT"
}

teardown() {
  [ -d /run/systemd/system ] || return 0
  standard_teardown
  systemctl stop "$UNIT" "$SLICE" 2>/dev/null || true
  return 0
}

@test "runtime-systemd: run --systemd-cgroup makes the scope in the slice, with its resources; delete stops it" {
  update_config ".linux.cgroupsPath = \"podrun-t$$x${BATS_TEST_NUMBER}.slice:podrun-test:$ID\"
    | .linux.resources = {memory: {limit: 67108864}, pids: {limit: 40}}
    | .process.args = [\"sleep\", \"1000\"]"
  # Not through `run`: the detached container would hold its output pipe open.
  rt --systemd-cgroup run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null
  [ "$(systemctl is-active "$UNIT")" = active ]
  [ "$(systemctl show -P ControlGroup "$UNIT")" = "/podrun.slice/$SLICE/$UNIT" ]
  [ "$(cat "$DIR/memory.max")" = 67108864 ]
  [ "$(cat "$DIR/pids.max")" = 40 ]
  local pid
  pid=$(rt state "$ID" | jq -r .pid)
  [ "$(cat "/proc/$pid/cgroup")" = "0::/podrun.slice/$SLICE/$UNIT" ]
  # update writes into the scope too.
  run rt update --pids-limit 50 --memory 134217728 "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$DIR/pids.max")" = 50 ]
  [ "$(cat "$DIR/memory.max")" = 134217728 ]
  run rt delete --force "$ID"
  [ "$status" -eq 0 ]
  # systemd forgets a stopped transient scope: is-active says inactive (exit 3).
  run systemctl is-active "$UNIT"
  [ "$status" -eq 3 ]
  [ ! -e "$DIR" ]
}

@test "runtime-systemd: a scope systemd refuses (it exists) leaves no container behind" {
  update_config ".linux.cgroupsPath = \"podrun-t$$x${BATS_TEST_NUMBER}.slice:podrun-test:$ID\"
    | .process.args = [\"sleep\", \"1000\"]"
  rt --systemd-cgroup run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null
  # A second container whose cgroupsPath names the first one's scope.
  run rt --systemd-cgroup run -d --bundle "$BUNDLE" "$ID-b" </dev/null
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$UNIT"* ]]
  [ ! -e "$STATE_ROOT/$ID-b" ]
  [ "$(systemctl is-active "$UNIT")" = active ]
}
