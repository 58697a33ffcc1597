#!/usr/bin/env bats
# podrun-shim: detaching, the runtime lifecycle, status.json, the control socket, removal.

load helpers
load ../lib/shim-helpers
load ../lib/limits-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

@test "shim detaches, is a subreaper, runs the pod and logs in CRI format" {
  write_spec "[$(ctr_json a 'echo hello; echo oops >&2; exec sleep 1000')]"
  start_shim
  # Detached: a session of its own (double fork: not its leader), not our child.
  [ "$(ps -o sid= -p "$SHIM_PID" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
  [ "$(ps -o sid= -p "$SHIM_PID" | tr -d ' ')" != "$SHIM_PID" ]
  [ "$(ps -o ppid= -p "$SHIM_PID" | tr -d ' ')" != "$$" ]
  wait_status "$(ctr a).state == \"running\""
  run st "$(ctr a).pid"
  pid=$output
  # The container's process was reparented to the shim (subreaper).
  [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$SHIM_PID" ]
  [ "$(rt state "$POD_NAME-a" | jq -r .status)" = running ]
  [ "$(st .phase)" = Running ]
  [ "$(st "$(ctr a).restartCount")" = 0 ]
  [ "$(st "$(ctr a).ready")" = true ]
  st "$(ctr a).startedAt" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
  wait_for grep -q hello "$LOG_DIR/a.log"
  wait_for grep -q oops "$LOG_DIR/a.log"
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z stdout F hello$' "$LOG_DIR/a.log"
  grep -Eq '^[0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z stderr F oops$' "$LOG_DIR/a.log"
}

@test "shim: remove stops and deletes everything, leaves nothing behind" {
  write_spec "[$(ctr_json a 'exec sleep 1000'), $(ctr_json b 'trap "exit 0" TERM; while :; do sleep 0.1; done')]"
  start_shim
  wait_status "$(ctr a).state == \"running\" and $(ctr b).state == \"running\""
  pa=$(st "$(ctr a).pid"); pb=$(st "$(ctr b).pid")
  run shimctl '{"cmd":"remove"}'
  [ "$status" -eq 0 ]
  ! kill -0 "$SHIM_PID" 2>/dev/null
  ! kill -0 "$pa" 2>/dev/null
  ! kill -0 "$pb" 2>/dev/null
  [ ! -e "$POD_DIR" ]
  [ -z "$(ls "$STATE_ROOT")" ]
  # Logs stay for whoever removes the pod's log dir.
  [ -f "$LOG_DIR/a.log" ]
}

@test "shim: SIGTERM to the shim removes the pod too" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  kill -TERM "$SHIM_PID"
  wait_for bash -c "! kill -0 $SHIM_PID"
  [ ! -e "$POD_DIR" ]
  [ -z "$(ls "$STATE_ROOT")" ]
}

@test "shim: stop sends the stop signal, SIGKILL after the grace period" {
  write_spec "[$(ctr_json polite 'trap "exit 7" TERM; while :; do sleep 0.1; done'),
               $(ctr_json stubborn 'trap "" TERM; while :; do sleep 0.1; done')]" \
    '{"terminationGracePeriodSeconds": 1}'
  start_shim
  wait_status "$(ctr polite).state == \"running\" and $(ctr stubborn).state == \"running\""
  t0=$(date +%s%N)
  run shimctl '{"cmd":"stop","container":"polite"}'
  [ "$status" -eq 0 ]
  wait_status "$(ctr polite).state == \"terminated\""
  [ "$(st "$(ctr polite).exitCode")" = 7 ]
  [ "$(st "$(ctr polite).reason")" = Error ]
  # Stopped on request: no restart although the policy is Always.
  sleep 0.5
  [ "$(st "$(ctr polite).state")" = terminated ]
  [ "$(st "$(ctr polite).restartCount")" = 0 ]
  t1=$(date +%s%N)
  shimctl '{"cmd":"stop","container":"stubborn"}'
  wait_status "$(ctr stubborn).state == \"terminated\""
  t2=$(date +%s%N)
  [ "$(st "$(ctr stubborn).exitCode")" = 137 ]
  # The grace period was waited for (1 s), the polite one did not need it.
  [ $(( (t2 - t1) / 1000000 )) -ge 900 ]
  [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]
  # start brings a stopped container back.
  shimctl '{"cmd":"start","container":"polite"}'
  wait_status "$(ctr polite).state == \"running\" and $(ctr polite).restartCount == 1"
}

@test "shim: exec through the runtime, status and events on the control socket" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  run shimctl '{"cmd":"exec","container":"a","command":["sh","-c","echo in-$(hostname); exit 3"]}'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .exitCode)" = 3 ]
  [ "$(echo "$output" | jq -r .output)" = "in-$(rt state "$POD_NAME-a" >/dev/null; jq -r .hostname "$BATS_TEST_TMPDIR/bundles/a/config.json")" ]
  run shimctl '{"cmd":"status"}'
  [ "$(echo "$output" | jq -r '.status.containerStatuses[0].state')" = running ]
  run shimctl '{"cmd":"nonsense"}'
  [ "$status" -ne 0 ]
  echo "$output" | jq -e '.ok == false and (.error | test("unknown cmd"))'
  run shimctl '{"cmd":"stop","container":"nope"}'
  [ "$status" -ne 0 ]
  # events: a stream until the client goes away
  timeout 10 "$SHIM" --pod-dir "$POD_DIR" --request '{"cmd":"events"}' > "$BATS_TEST_TMPDIR/events" &
  evpid=$!
  sleep 0.3
  shimctl '{"cmd":"stop","container":"a","timeoutSeconds":0}'
  wait_status "$(ctr a).state == \"terminated\""
  wait_for grep -q '"event":"exited"' "$BATS_TEST_TMPDIR/events"
  kill "$evpid" 2>/dev/null || true
  head -1 "$BATS_TEST_TMPDIR/events" | jq -e '.ok == true'
  grep '"event":"stopping"' "$BATS_TEST_TMPDIR/events" | jq -e '.container == "a"'
  grep '"event":"exited"' "$BATS_TEST_TMPDIR/events" | jq -e '.message == "code 137 reason Error"'
}

@test "shim: a container given as rootfs and args gets a bundle built by the shim" {
  cp -a "$ROOTFS_CACHE" "$BATS_TEST_TMPDIR/rootfs"
  c=$(jq -nc --arg r "$BATS_TEST_TMPDIR/rootfs" \
    '{name: "a", rootfs: $r, args: ["sh", "-c", "echo $FOO in $(pwd); exec sleep 1000"],
      env: ["FOO=bar"], cwd: "/tmp"}')
  write_spec "[$c]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  wait_for grep -q 'stdout F bar in /tmp$' "$LOG_DIR/a.log"
  [ "$(jq -r .root.path "$POD_DIR/bundles/a/config.json")" = "$BATS_TEST_TMPDIR/rootfs" ]
  shimctl '{"cmd":"remove"}'
  [ ! -e "$POD_DIR" ]
  [ -d "$BATS_TEST_TMPDIR/rootfs/bin" ]
}

@test "shim: a pod under runc" {
  POD_RUNTIME=/usr/sbin/runc
  command -v runc >/dev/null || skip "runc is not installed"
  write_spec "[$(ctr_json a 'echo via-runc; exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  [ "$(runc --root "$STATE_ROOT" state "$POD_NAME-a" | jq -r .status)" = running ]
  wait_for grep -q 'stdout F via-runc' "$LOG_DIR/a.log"
  run shimctl '{"cmd":"exec","container":"a","command":["echo","exec-ok"]}'
  [ "$(echo "$output" | jq -r .output)" = "exec-ok" ]
  shimctl '{"cmd":"stop","container":"a","timeoutSeconds":1}'
  wait_status "$(ctr a).state == \"terminated\""
  [ -z "$(runc --root "$STATE_ROOT" list -q)" ]
  shimctl '{"cmd":"remove"}'
  [ ! -e "$POD_DIR" ]
}

@test "shim: one shim per pod; a bad spec is refused before detaching" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -ne 0 ]
  [[ "$output" == *"another shim already runs"* ]]
  bad=$BATS_TEST_TMPDIR/bad
  mkdir -p "$bad"
  echo '{"name":"x","containers":[{"name":"a","bundle":"relative"}]}' > "$bad/spec.json"
  run "$SHIM" --pod-dir "$bad"
  [ "$status" -eq 1 ]
  [[ "$output" == *"bundle"* ]]
  echo '{"name":"x","restartPolicy":"Sometimes","containers":[{"name":"a","bundle":"/b"}]}' > "$bad/spec.json"
  run "$SHIM" --pod-dir "$bad"
  [[ "$output" == *"restartPolicy"* ]]
}

# Limits (DESIGN.md, "Limits"): spec.json is read whole, so it has a size limit.
@test "shim: a spec.json over 4 MiB, or not a regular file, is refused before detaching" {
  bad=$BATS_TEST_TMPDIR/bad
  mkdir -p "$bad"
  # Valid but for its restartPolicy: read whole, it would be refused for that instead.
  echo '{"name":"x","restartPolicy":"Sometimes","containers":[{"name":"a","bundle":"/b"}]}' > "$bad/spec.json"
  pad_json "$bad/spec.json" $((4 << 20))
  run bounded "$SHIM" --pod-dir "$bad"
  echo "$output" | head -c 1000
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.json\` is larger than 4 MiB, the limit for it"* ]]
  ln -sf /dev/zero "$bad/spec.json"
  run bounded "$SHIM" --pod-dir "$bad"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.json\` is not a regular file"* ]]
}
