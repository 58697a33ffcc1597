#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-shim: detaching, the runtime lifecycle, status.json, the control socket, removal.

load ../lib/helpers
load ../lib/shim-helpers
load ../lib/limits-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
  # What an unfixed shim would have made in the host's / (the relative-path test).
  if [ -n "${REL_NAME:-}" ]; then rm -f "/$REL_NAME" "/$REL_NAME".*; fi
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
  # The shim answers, then exits.
  wait_for bash -c "! kill -0 $SHIM_PID"
  ! kill -0 "$pa" 2>/dev/null || false
  ! kill -0 "$pb" 2>/dev/null || false
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
  # The grace period was waited for (1 s). The polite one did not need it: its exit code 7 is
  # its TERM trap's (a SIGKILL after the grace period would be 137), which no timing bound on a
  # loaded machine shows as surely.
  [ $(( (t2 - t1) / 1000000 )) -ge 900 ]
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
  [ "$status" -eq 2 ]
  echo "$output" | jq -e '.ok == false and (.error | test("unknown cmd"))'
  run shimctl '{"cmd":"stop","container":"nope"}'
  [ "$status" -eq 2 ]
  # events: a stream until the client goes away
  timeout 10 "$SHIM" --pod-dir "$POD_DIR" --request '{"cmd":"events"}' > "$BATS_TEST_TMPDIR/events" &
  evpid=$!
  wait_for grep -q '"ok":true' "$BATS_TEST_TMPDIR/events"
  shimctl '{"cmd":"stop","container":"a","timeoutSeconds":0}'
  wait_status "$(ctr a).state == \"terminated\""
  wait_for grep -q '"event":"exited"' "$BATS_TEST_TMPDIR/events"
  kill "$evpid" 2>/dev/null || true
  head -1 "$BATS_TEST_TMPDIR/events" | jq -e '.ok == true'
  grep '"event":"stopping"' "$BATS_TEST_TMPDIR/events" | jq -e '.container == "a"'
  grep '"event":"exited"' "$BATS_TEST_TMPDIR/events" | jq -e '.message == "code 137 reason Error"'
}

@test "shim: a container given as rootfs and args is refused: bundles come from the pod manager" {
  cp -a "$ROOTFS_CACHE" "$BATS_TEST_TMPDIR/rootfs"
  c=$(jq -nc --arg r "$BATS_TEST_TMPDIR/rootfs" '{name: "a", rootfs: $r, args: ["sh"]}')
  write_spec "[$c]"
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"containers[0].rootfs: not supported: give an OCI bundle"* ]]
  [ ! -e "$POD_DIR/shim.sock" ] && [ -z "$(ls "$STATE_ROOT")" ]
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
  [ "$status" -eq 1 ]
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

@test "shim: relative logPath, logDir and runtimeRoot are refused (they would land in the host's /)" {
  REL_NAME="podrun-shimtest-$$-$BATS_TEST_NUMBER.log"
  write_spec "[$(ctr_json a 'echo hi; exec sleep 1000' "{\"logPath\":\"$REL_NAME\"}")]"
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"logPath: \"$REL_NAME\" must be an absolute path"* ]]
  [ ! -e "/$REL_NAME" ]
  [ ! -e "$POD_DIR/shim.sock" ]
  write_spec "[$(ctr_json b 'exec sleep 1000')]" "{\"logDir\":\"$REL_NAME\"}"
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.logDir: \"$REL_NAME\" must be an absolute path"* ]]
  write_spec "[$(ctr_json c 'exec sleep 1000')]" "{\"runtimeRoot\":\"$REL_NAME\"}"
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.runtimeRoot: \"$REL_NAME\" must be an absolute path"* ]]
  [ ! -e "/$REL_NAME" ]
  [ -z "$(ls "$STATE_ROOT")" ]
}

@test "shim: idle clients past the cap make room for new ones; the shim answers and does not spin" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  # Far more idle connections than the cap (256): the oldest are closed to let the new ones in.
  hold_clients 2000
  [ "$(grep -c . "$BATS_TEST_TMPDIR/holder.out")" -eq 1 ]
  [ "$(ls "/proc/$SHIM_PID/fd" | wc -l)" -le $((256 + 32)) ]
  run shimctl '{"cmd":"status"}'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.status.containerStatuses[0].state')" = running ]
  t0=$(cpu_ticks "$SHIM_PID")
  sleep 2 # the measuring window
  [ $(( $(cpu_ticks "$SHIM_PID") - t0 )) -lt 20 ] # under 10% of a core
  kill "$HOLDER_PID"
  wait_for bash -c "[ \$(ls /proc/$SHIM_PID/fd | wc -l) -lt 40 ]"
}

@test "shim: out of descriptors, the shim closes idle clients instead of spinning, and still answers" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  # Far below the client cap: accept(2) fails with EMFILE first.
  prlimit --pid "$SHIM_PID" --nofile=64: # the soft limit: the runtime raises its own
  hold_clients 100
  run shimctl '{"cmd":"status"}'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.status.containerStatuses[0].state')" = running ]
  t0=$(cpu_ticks "$SHIM_PID")
  sleep 2 # the measuring window
  [ $(( $(cpu_ticks "$SHIM_PID") - t0 )) -lt 20 ] # under 10% of a core
  shimctl '{"cmd":"stop","container":"a","timeoutSeconds":0}'
  wait_status "$(ctr a).state == \"terminated\""
  # Once the crowd is gone the shim has its descriptors back: a container starts again.
  kill "$HOLDER_PID"
  wait_for bash -c "[ \$(ls /proc/$SHIM_PID/fd | wc -l) -lt 40 ]"
  shimctl '{"cmd":"start","container":"a"}'
  wait_status "$(ctr a).state == \"running\" and $(ctr a).restartCount == 1"
}

@test "shim: every request line gets an answer: too long, empty, binary; then the next line" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  req=$BATS_TEST_TMPDIR/req
  # 100 KiB in one line, then a good request on the same connection.
  { printf '{"cmd":"status","pad":"'; head -c 102400 /dev/zero | tr '\0' x; printf '"}\n'
    printf '{"cmd":"status"}\n'; } > "$req"
  run shim_raw "$req"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  echo "${lines[0]}" | jq -e '.ok == false and .error == "request: a line longer than 65536 bytes"'
  echo "${lines[1]}" | jq -e '.ok == true and .status.containerStatuses[0].state == "running"'
  # An empty line, a line with a NUL byte, bytes that are not UTF-8, then a good request.
  printf '\n\0\1x\n\001\377\376\n{"cmd":"status"}\n' > "$req"
  run shim_raw "$req"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 4 ]
  echo "${lines[0]}" | jq -e '.ok == false and (.error | startswith("request: empty line"))'
  echo "${lines[1]}" | jq -e '.ok == false and (.error | startswith("request: a NUL byte"))'
  echo "${lines[2]}" | jq -e '.ok == false'
  echo "${lines[3]}" | jq -e '.ok == true'
}

@test "shim: a 100 MB request line is answered with an error and costs no memory" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$SHIM_PID/status")
  req=$BATS_TEST_TMPDIR/req
  { head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' x; printf '\n{"cmd":"status"}\n'; } > "$req"
  run shim_raw "$req"
  rm -f "$req"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  echo "${lines[0]}" | jq -e '.ok == false and (.error | contains("longer than 65536"))'
  echo "${lines[1]}" | jq -e '.ok == true'
  rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$SHIM_PID/status")
  echo "VmRSS before $rss0 kB, after $rss1 kB"
  [ $((rss1 - rss0)) -lt 1024 ]
}

@test "shim: exec and stop refuse a timeoutSeconds that would wrap around" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  run shimctl '{"cmd":"exec","container":"a","command":["true"],"timeoutSeconds":18446744073709}'
  [ "$status" -eq 2 ]
  echo "$output" | jq -e '.ok == false and .error == "request.timeoutSeconds: 18446744073709 is out of range (0 to 31536000 seconds)"'
  run shimctl '{"cmd":"stop","container":"a","timeoutSeconds":9223372036854775807}'
  [ "$status" -eq 2 ]
  echo "$output" | jq -e '.ok == false and (.error | contains("out of range"))'
  run shimctl '{"cmd":"stop","container":"a","timeoutSeconds":-1}'
  [ "$status" -eq 2 ]
  run shimctl '{"cmd":"stop","container":"a","timeoutSeconds":"5"}'
  [ "$status" -eq 2 ]
  # None of them stopped anything.
  [ "$(st "$(ctr a).state")" = running ]
  [ "$(st "$(ctr a).message // empty")" = "" ]
  run shimctl '{"cmd":"exec","container":"a","command":["echo","ok"],"timeoutSeconds":31536000}'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .output)" = ok ]
}

@test "shim: names planted in the pod directory are not followed" {
  echo keep > "$BATS_TEST_TMPDIR/target"
  write_spec "[$(ctr_json a 'echo out; exec sleep 1000')]"
  for planted in shim.log runtime.log status.json events.json a.stdout a.stderr; do
    ln -s "$BATS_TEST_TMPDIR/target" "$POD_DIR/$planted"
    run "$SHIM" --pod-dir "$POD_DIR"
    [ "$status" -eq 1 ]
    [[ "$output" == *"pod directory: \`$POD_DIR/$planted\` is a symbolic link"* ]]
    rm "$POD_DIR/$planted"
  done
  # A device node where a FIFO belongs, a hard link where shim.log goes.
  mknod "$POD_DIR/a.stdout" c 1 3
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"\`$POD_DIR/a.stdout\` is not a FIFO"* ]]
  rm "$POD_DIR/a.stdout"
  rm -f "$POD_DIR/shim.log" # the shim's own, from the runs before
  ln "$BATS_TEST_TMPDIR/target" "$POD_DIR/shim.log"
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"\`$POD_DIR/shim.log\` has other hard links"* ]]
  rm "$POD_DIR/shim.log"
  # Nothing was written, emptied or removed through them.
  [ "$(cat "$BATS_TEST_TMPDIR/target")" = keep ]
  [ -z "$(ls "$STATE_ROOT")" ]
  # With the names free, the pod runs.
  start_shim
  wait_status "$(ctr a).state == \"running\""
  wait_for grep -q 'stdout F out$' "$LOG_DIR/a.log"
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
