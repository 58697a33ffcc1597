#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The same bundle under podrun-runtime and under runc (the peer whose command line we keep):
# state fields, the status sequence, exit codes of run and exec, list/ps JSON, kill and delete.
# Each test compares the two runtimes' answers rather than hard-coding either.
#
# Differences on purpose, asserted below so a change shows up:
# - ociVersion: ours is the spec version we implement (1.1.0), runc 1.1.5 says "1.0.2-dev".
# - ps --format json of a container with no process left, and list --format json with no
#   container: runc prints `null` (Go's nil slice), ours `[]`.
# - pause of a created container: runc freezes it, ours refuses (a created container has not
#   started its process; the spec defines pause for neither).
# - exec that cannot start its process (missing binary, container stopped or missing): runc
#   exits 255, ours 1 like every other error (podman and containerd read the message, not the
#   code).

load ../lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  command -v runc >/dev/null || skip "runc is not installed"
  setup_bundle
  RUNC_ROOT=$BATS_TEST_TMPDIR/runc-state
  mkdir -p "$RUNC_ROOT"
  # Different ids: without cgroupsPath both name the cgroup after the id.
  OURS=${CTR_PREFIX}-ours
  PEER=${CTR_PREFIX}-runc
}

teardown() {
  standard_teardown
  local dir
  [ -n "${RUNC_ROOT:-}" ] || return 0
  for dir in "$RUNC_ROOT"/*/; do
    [ -d "$dir" ] || continue
    runc --root "$RUNC_ROOT" delete --force "$(basename "$dir")" >/dev/null 2>&1 || true
  done
  # a runtime that takes a relative --root from the bundle (the bug the last test catches)
  # puts its container there
  for dir in "$BUNDLE"/state/*/; do
    [ -d "$dir" ] || continue
    "$RUNTIME" --root "$BUNDLE/state" delete --force "$(basename "$dir")" >/dev/null 2>&1 || true
  done
}

peer() {
  runc --root "$RUNC_ROOT" "$@"
}

# status_of RT ID: the status field of `state`, or "gone"
status_of() {
  "$1" state "$2" 2>/dev/null | jq -r .status || echo gone
}

# wait_status RT ID STATUS
wait_status() {
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(status_of "$1" "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  echo "$1: container $2 never reached $3 (now: $(status_of "$1" "$2"))" >&2
  return 1
}

# run_both_fg ARGS_JSON: runs the bundle with these args in the foreground under each runtime;
# sets ST_OURS and ST_PEER to the exit codes
run_both_fg() {
  update_config ".process.args = $1"
  rt run --bundle "$BUNDLE" "$OURS" >"$BATS_TEST_TMPDIR/out.ours" 2>&1 && ST_OURS=0 || ST_OURS=$?
  peer run --bundle "$BUNDLE" "$PEER" >"$BATS_TEST_TMPDIR/out.peer" 2>&1 && ST_PEER=0 || ST_PEER=$?
  echo "args $1: ours $ST_OURS, runc $ST_PEER" >&2
}

@test "state has the same fields under both runtimes from created through running, paused, stopped" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid.ours" "$OURS"
  peer create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid.peer" "$PEER"
  so=$(rt state "$OURS")
  sp=$(peer state "$PEER")
  # the same keys (ociVersion aside, the values below)
  [ "$(jq -c 'keys' <<<"$so")" = "$(jq -c 'keys' <<<"$sp")" ]
  [ "$(jq -r .ociVersion <<<"$so")" = 1.1.0 ]
  [ "$(jq -r .ociVersion <<<"$sp")" = 1.0.2-dev ]
  for f in status bundle rootfs owner; do
    [ "$(jq -r ".$f" <<<"$so")" = "$(jq -r ".$f" <<<"$sp")" ]
  done
  [ "$(jq -r .status <<<"$so")" = created ]
  [ "$(jq -r .bundle <<<"$so")" = "$BUNDLE" ]
  [ "$(jq -r .rootfs <<<"$so")" = "$BUNDLE/rootfs" ]
  [ "$(jq -r .id <<<"$so")" = "$OURS" ]
  [ "$(jq -r .id <<<"$sp")" = "$PEER" ]
  pid_ours=$(jq -r .pid <<<"$so")
  [ "$pid_ours" -gt 0 ]
  [ "$pid_ours" = "$(cat "$BATS_TEST_TMPDIR/pid.ours")" ]
  [ "$(jq -r .pid <<<"$sp")" = "$(cat "$BATS_TEST_TMPDIR/pid.peer")" ]
  # created: RFC 3339 with nanoseconds in UTC, as runc writes it, and close to now
  co=$(jq -r .created <<<"$so")
  cp=$(jq -r .created <<<"$sp")
  [[ "$co" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}Z$ ]]
  [[ "$cp" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,9}Z$ ]]
  now=$(date +%s)
  [ $((now - $(date -d "$co" +%s))) -lt 30 ]
  [ $((now - $(date -d "$cp" +%s))) -lt 30 ]

  rt start "$OURS"
  peer start "$PEER"
  wait_status rt "$OURS" running
  wait_status peer "$PEER" running
  [ "$(rt state "$OURS" | jq -r .pid)" = "$pid_ours" ]
  [ "$(rt state "$OURS" | jq -r .created)" = "$co" ]

  rt pause "$OURS"
  peer pause "$PEER"
  [ "$(status_of rt "$OURS")" = paused ]
  [ "$(status_of peer "$PEER")" = paused ]
  rt resume "$OURS"
  peer resume "$PEER"
  [ "$(status_of rt "$OURS")" = running ]
  [ "$(status_of peer "$PEER")" = running ]

  rt kill "$OURS" KILL
  peer kill "$PEER" KILL
  wait_status rt "$OURS" stopped
  wait_status peer "$PEER" stopped
  [ "$(rt state "$OURS" | jq -c 'keys')" = "$(peer state "$PEER" | jq -c 'keys')" ]
  [ "$(rt state "$OURS" | jq -r .pid)" = "$(peer state "$PEER" | jq -r .pid)" ]
  [ "$(rt state "$OURS" | jq -r .pid)" = 0 ]

  rt delete "$OURS"
  peer delete "$PEER"
  run rt state "$OURS"
  [ "$status" -eq 1 ]
  run peer state "$PEER"
  [ "$status" -eq 1 ]
}

@test "run returns the same exit codes: 0, 3, 255 and 1 when the process cannot start" {
  for args in '["true"]' '["sh", "-c", "exit 3"]' '["sh", "-c", "exit 255"]' \
    '["/no/such/binary"]' '["no-such-command"]' '["/etc/passwd"]' '["/etc"]'; do
    run_both_fg "$args"
    [ "$ST_OURS" -eq "$ST_PEER" ]
    # neither keeps the container after a foreground run
    [ -z "$(ls "$STATE_ROOT")" ]
    [ -z "$(ls "$RUNC_ROOT")" ]
  done
  run_both_fg '["sh", "-c", "exit 3"]'
  [ "$ST_OURS" -eq 3 ]
  run_both_fg '["/no/such/binary"]'
  [ "$ST_OURS" -eq 1 ]
  grep -q /no/such/binary "$BATS_TEST_TMPDIR/out.ours"
  # a bundle without its rootfs: both fail with 1 and keep nothing
  mv "$BUNDLE/rootfs" "$BUNDLE/rootfs.away"
  run_both_fg '["true"]'
  mv "$BUNDLE/rootfs.away" "$BUNDLE/rootfs"
  [ "$ST_OURS" -eq 1 ]
  [ "$ST_PEER" -eq 1 ]
  [ -z "$(ls "$STATE_ROOT")" ]
}

@test "run reports a container killed by a signal as 128+N under both" {
  update_config '.process.args = ["sleep", "100"]'
  rt run --bundle "$BUNDLE" "$OURS" &
  job_ours=$!
  peer run --bundle "$BUNDLE" "$PEER" &
  job_peer=$!
  wait_status rt "$OURS" running
  wait_status peer "$PEER" running
  rt kill "$OURS" KILL
  peer kill "$PEER" KILL
  wait "$job_ours" && st_ours=0 || st_ours=$?
  wait "$job_peer" && st_peer=0 || st_peer=$?
  [ "$st_peer" -eq 137 ]
  [ "$st_ours" -eq "$st_peer" ]

  # a handler's exit code comes through as is
  update_config '.process.args = ["sh", "-c", "trap \"exit 42\" TERM; while :; do sleep 0.1; done"]'
  rt run --bundle "$BUNDLE" "$OURS" &
  job_ours=$!
  peer run --bundle "$BUNDLE" "$PEER" &
  job_peer=$!
  wait_status rt "$OURS" running
  wait_status peer "$PEER" running
  wait_for_trap "$(rt state "$OURS" | jq -r .pid)" 15
  wait_for_trap "$(peer state "$PEER" | jq -r .pid)" 15
  rt kill "$OURS" TERM
  peer kill "$PEER" TERM
  wait "$job_ours" && st_ours=0 || st_ours=$?
  wait "$job_peer" && st_peer=0 || st_peer=$?
  [ "$st_peer" -eq 42 ]
  [ "$st_ours" -eq 42 ]
}

@test "run -d prints nothing and leaves the container running under both" {
  update_config '.process.args = ["sleep", "100"]'
  # to files, not `run`: the container keeps the runtime's stdout open
  rt run -d --bundle "$BUNDLE" "$OURS" >"$BATS_TEST_TMPDIR/out.ours" 2>&1
  peer run -d --bundle "$BUNDLE" "$PEER" >"$BATS_TEST_TMPDIR/out.peer" 2>&1
  [ ! -s "$BATS_TEST_TMPDIR/out.ours" ]
  [ ! -s "$BATS_TEST_TMPDIR/out.peer" ]
  [ "$(status_of rt "$OURS")" = running ]
  [ "$(status_of peer "$PEER")" = running ]
}

@test "list --format json shows the same fields, values and order" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" "$OURS-a"
  rt run -d --bundle "$BUNDLE" "$OURS-b"
  peer create --bundle "$BUNDLE" "$PEER-a"
  peer run -d --bundle "$BUNDLE" "$PEER-b"
  lo=$(rt list --format json)
  lp=$(peer list --format json)
  [ "$(jq length <<<"$lo")" -eq 2 ]
  [ "$(jq length <<<"$lp")" -eq 2 ]
  [ "$(jq -c '[.[] | keys]' <<<"$lo")" = "$(jq -c '[.[] | keys]' <<<"$lp")" ]
  # everything but the id and the pid's and time's values agree, in the same order
  strip='[.[] | del(.id, .pid, .created, .ociVersion)]'
  [ "$(jq -c "$strip" <<<"$lo")" = "$(jq -c "$strip" <<<"$lp")" ]
  [ "$(jq -r '.[0].status, .[1].status' <<<"$lo")" = "$(printf 'created\nrunning')" ]
  # list names the owner of the state (runc: the user owning the state dir), state does not
  [ "$(jq -r '.[0].owner' <<<"$lo")" = root ]
  [ "$(rt state "$OURS-a" | jq -r .owner)" = "$(peer state "$PEER-a" | jq -r .owner)" ]
  [ "$(jq -r '.[1].pid' <<<"$lo")" = "$(rt state "$OURS-b" | jq -r .pid)" ]
  # -q prints the ids only
  [ "$(rt list -q)" = "$(printf '%s\n%s' "$OURS-a" "$OURS-b")" ]
  [ "$(peer list -q)" = "$(printf '%s\n%s' "$PEER-a" "$PEER-b")" ]
  # a stopped container shows pid 0 in both
  rt kill "$OURS-b" KILL
  peer kill "$PEER-b" KILL
  wait_status rt "$OURS-b" stopped
  wait_status peer "$PEER-b" stopped
  [ "$(rt list --format json | jq -c '.[1] | [.status, .pid]')" = '["stopped",0]' ]
  [ "$(peer list --format json | jq -c '.[1] | [.status, .pid]')" = '["stopped",0]' ]
  # no container: runc prints null, ours an empty array (both mean none)
  rt delete --force "$OURS-a"
  rt delete --force "$OURS-b"
  peer delete --force "$PEER-a"
  peer delete --force "$PEER-b"
  [ "$(rt list --format json | jq -c .)" = '[]' ]
  [ "$(peer list --format json)" = null ]
}

@test "ps --format json lists the same processes: init and exec'd ones" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$OURS"
  peer run -d --bundle "$BUNDLE" "$PEER"
  rt exec -d --pid-file "$BATS_TEST_TMPDIR/epid.ours" "$OURS" sleep 50
  peer exec -d --pid-file "$BATS_TEST_TMPDIR/epid.peer" "$PEER" sleep 50
  po=$(rt ps --format json "$OURS")
  pp=$(peer ps --format json "$PEER")
  [ "$(jq -c 'type, length' <<<"$po")" = "$(jq -c 'type, length' <<<"$pp")" ]
  [ "$(jq length <<<"$po")" -eq 2 ]
  [ "$(jq -c 'sort' <<<"$po")" = "$(jq -c --argjson a "$(rt state "$OURS" | jq .pid)" \
    --argjson b "$(cat "$BATS_TEST_TMPDIR/epid.ours")" -n '[$a, $b] | sort')" ]
  [ "$(jq -c 'sort' <<<"$pp")" = "$(jq -c --argjson a "$(peer state "$PEER" | jq .pid)" \
    --argjson b "$(cat "$BATS_TEST_TMPDIR/epid.peer")" -n '[$a, $b] | sort')" ]
  # table output: the host's ps columns, then the container's processes
  [ "$(rt ps "$OURS" | head -1 | awk '{print $1, $2}')" = "$(peer ps "$PEER" | head -1 | awk '{print $1, $2}')" ]
  [ "$(rt ps "$OURS" | grep -c sleep)" -eq 2 ]
  # ps -o passes ps options through
  [ "$(rt ps "$OURS" -o pid,comm | head -1 | tr -s ' ' | sed 's/^ //')" = "PID COMMAND" ]

  # no process left: runc prints null, ours an empty array (both mean none)
  rt kill --all "$OURS" KILL
  peer kill --all "$PEER" KILL
  wait_status rt "$OURS" stopped
  wait_status peer "$PEER" stopped
  [ "$(peer ps --format json "$PEER")" = null ]
  [ "$(rt ps --format json "$OURS" | jq -c .)" = '[]' ]
}

@test "exec propagates exit codes like runc; a process that cannot start fails under both" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$OURS"
  peer run -d --bundle "$BUNDLE" "$PEER"
  for cmd in "true" "sh -c 'exit 6'" "sh -c 'kill -KILL \$\$'" "sh -c 'echo out; exit 255'"; do
    eval "rt exec $OURS $cmd" >/dev/null && so=0 || so=$?
    eval "peer exec $PEER $cmd" >/dev/null && sp=0 || sp=$?
    echo "exec $cmd: ours $so, runc $sp" >&2
    [ "$so" -eq "$sp" ]
  done
  # could not start: runc says 255, ours 1 (see the top of this file)
  for cmd in /no/such/binary no-such-command /etc/passwd; do
    run rt exec "$OURS" $cmd
    [ "$status" -eq 1 ]
    [[ "$output" == *"$cmd"* ]]
    run peer exec "$PEER" $cmd
    [ "$status" -eq 255 ]
  done
}

@test "kill takes the same signal forms and fails the same way on a stopped container" {
  update_config '.process.args = ["sh", "-c", "trap \"\" HUP USR1; trap \"exit 0\" TERM; while :; do sleep 0.1; done"]'
  rt run -d --bundle "$BUNDLE" "$OURS"
  peer run -d --bundle "$BUNDLE" "$PEER"
  # Both shells' traps are in place (HUP and USR1 ignored, TERM caught).
  for pid in "$(rt state "$OURS" | jq -r .pid)" "$(peer state "$PEER" | jq -r .pid)"; do
    wait_for_trap "$pid" 1 SigIgn
    wait_for_trap "$pid" 10 SigIgn
    wait_for_trap "$pid" 15
  done
  for sig in HUP SIGHUP 1 USR1 SIGUSR1 10; do
    run rt kill "$OURS" "$sig"
    so=$status
    run peer kill "$PEER" "$sig"
    [ "$so" -eq "$status" ]
    [ "$so" -eq 0 ]
  done
  for sig in NOSUCHSIG 99999; do
    run rt kill "$OURS" "$sig"
    so=$status
    run peer kill "$PEER" "$sig"
    [ "$so" -eq "$status" ]
    [ "$so" -eq 1 ]
  done
  # the default signal is TERM: the trap ends both
  rt kill "$OURS"
  peer kill "$PEER"
  wait_status rt "$OURS" stopped
  wait_status peer "$PEER" stopped
  # a stopped container: plain kill fails, kill --all succeeds, in both
  run rt kill "$OURS" KILL
  [ "$status" -eq 1 ]
  run peer kill "$PEER" KILL
  [ "$status" -eq 1 ]
  run rt kill --all "$OURS" KILL
  [ "$status" -eq 0 ]
  run peer kill --all "$PEER" KILL
  [ "$status" -eq 0 ]
}

@test "a created container: kill stops it, pause is refused by ours only" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" "$OURS"
  peer create --bundle "$BUNDLE" "$PEER"
  run peer pause "$PEER"
  [ "$status" -eq 0 ]
  peer resume "$PEER"
  run rt pause "$OURS"
  [ "$status" -eq 1 ]
  [[ "$output" == *created* ]]
  rt kill "$OURS" KILL
  peer kill "$PEER" KILL
  wait_status rt "$OURS" stopped
  wait_status peer "$PEER" stopped
  rt delete "$OURS"
  peer delete "$PEER"
  [ -z "$(ls "$STATE_ROOT")" ]
  [ -z "$(ls "$RUNC_ROOT")" ]
}

@test "delete: refuses a running container without --force, --force kills it, both alike" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$OURS"
  peer run -d --bundle "$BUNDLE" "$PEER"
  pid_ours=$(rt state "$OURS" | jq -r .pid)
  pid_peer=$(peer state "$PEER" | jq -r .pid)
  run rt delete "$OURS"
  [ "$status" -eq 1 ]
  run peer delete "$PEER"
  [ "$status" -eq 1 ]
  rt delete --force "$OURS"
  peer delete --force "$PEER"
  [ -z "$(ls "$STATE_ROOT")" ]
  [ -z "$(ls "$RUNC_ROOT")" ]
  for pid in "$pid_ours" "$pid_peer"; do
    [ ! -e "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
  done
  # the cgroup goes with the container in both
  [ -z "$(ls -d /sys/fs/cgroup/*/*/"$OURS" /sys/fs/cgroup/*/"$OURS" 2>/dev/null)" ]
  [ -z "$(ls -d /sys/fs/cgroup/*/*/"$PEER" /sys/fs/cgroup/*/"$PEER" 2>/dev/null)" ]
  # --force of a container that is already gone succeeds in both (podman relies on it)
  run rt delete --force "$OURS"
  [ "$status" -eq 0 ]
  run peer delete --force "$PEER"
  [ "$status" -eq 0 ]
}

@test "a missing container is an error with exit code 1 for every command" {
  for cmd in state start "kill" delete ps pause resume; do
    run rt $cmd nosuch-container
    so=$status
    [[ "$output" == *nosuch-container*"does not exist"* ]]
    run peer $cmd nosuch-container
    echo "$cmd: ours $so, runc $status" >&2
    [ "$so" -eq "$status" ]
    [ "$so" -eq 1 ]
  done
  # exec: runc says 255 for every failure, ours 1 (see the top of this file)
  run rt exec nosuch-container true
  [ "$status" -eq 1 ]
  run peer exec nosuch-container true
  [ "$status" -eq 255 ]
}

@test "relative --root and --pid-file mean the caller's directory in both" {
  update_config '.process.args = ["sleep", "100"]'
  cd "$BATS_TEST_TMPDIR"
  "$RUNTIME" --root state create --bundle "$BUNDLE" --pid-file pid.ours "$OURS"
  runc --root runc-state create --bundle "$BUNDLE" --pid-file pid.peer "$PEER"
  [ -d "$STATE_ROOT/$OURS" ]
  [ -d "$RUNC_ROOT/$PEER" ]
  [ "$(cat pid.ours)" = "$(rt state "$OURS" | jq -r .pid)" ]
  [ "$(cat pid.peer)" = "$(peer state "$PEER" | jq -r .pid)" ]
  [ ! -e "$BUNDLE/state" ]
  [ ! -e "$BUNDLE/pid.ours" ]
}

@test "HOME comes from the container's /etc/passwd when env has none: run, create and exec, as runc" {
  echo 'probe:x:1234:1234::/home/probe:/bin/sh' >> "$BUNDLE/rootfs/etc/passwd"
  update_config '.process.env = ["PATH=/bin:/usr/bin"]'
  for user in '0 /root' '1234 /home/probe' '4321 /'; do
    update_config ".process.user = {\"uid\": ${user% *}, \"gid\": ${user% *}}"
    run_both_fg '["sh", "-c", "echo $HOME"]'
    [ "$ST_OURS" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/out.ours")" = "${user#* }" ]
    [ "$(cat "$BATS_TEST_TMPDIR/out.ours")" = "$(cat "$BATS_TEST_TMPDIR/out.peer")" ]
  done
  # a HOME the config gives is kept
  update_config '.process.env += ["HOME=/given"]'
  run_both_fg '["sh", "-c", "echo $HOME"]'
  [ "$(cat "$BATS_TEST_TMPDIR/out.ours")" = /given ]
  # create + start, and exec with and without --user
  update_config '.process.env = ["PATH=/bin:/usr/bin"] | .process.user = {"uid": 0, "gid": 0}
    | .process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" "$OURS"
  rt start "$OURS"
  pid=$(rt state "$OURS" | jq -r .pid)
  [ "$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^HOME=')" = HOME=/root ]
  run rt exec "$OURS" sh -c 'echo $HOME'
  [ "$status" -eq 0 ]
  [ "$output" = /root ]
  run rt exec --user 1234:1234 "$OURS" sh -c 'echo $HOME'
  [ "$output" = /home/probe ]
  peer run -d --bundle "$BUNDLE" "$PEER" >/dev/null
  [ "$(peer exec --user 1234:1234 "$PEER" sh -c 'echo $HOME')" = /home/probe ]
}
