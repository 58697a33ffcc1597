#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun get -w: the listing, then a line per change (a restart, a new pod, a delete) within a
# second, from inotify on the state: an idle watch uses no CPU.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
  OUT=$BATS_TEST_TMPDIR/watch.out
  WATCH=
}

teardown() {
  [ -z "$WATCH" ] || { kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null; } || true
  pods_teardown
}

pod() {
  cat > "$M" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: $1}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  prn apply -f "$M"
}

# watch ARGS...: `podrun get ARGS` in the background (no node netns needed to read state).
watch() {
  "$PODRUN" --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" get "$@" > "$OUT" 2>&1 &
  WATCH=$!
}

# within_ms MS CMD...: CMD becomes true within MS milliseconds (checked every 20 ms).
within_ms() {
  local limit=$1 start now
  shift
  start=$(date +%s%N)
  while :; do
    "$@" >/dev/null 2>&1 && break
    now=$(date +%s%N)
    if (((now - start) / 1000000 > limit)); then
      echo "not within ${limit} ms: $*" >&2
      cat "$OUT" >&2
      return 1
    fi
    sleep 0.02
  done
  echo "took $((($(date +%s%N) - start) / 1000000)) ms: $*" >&3
}

more_lines_than() {
  [ "$(wc -l < "$OUT")" -gt "$1" ]
}

# cpu_ticks PID: utime + stime of the process, from /proc.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

@test "get pods -w: a restart and a delete each appear within a second; an idle watch uses no CPU" {
  pod web
  wait_running web
  watch pods -w
  wait_for grep -q '^web .*Running' "$OUT"
  [ "$(head -1 "$OUT" | awk '{print $1, $2, $3, $4, $5}')" = "NAME READY STATUS RESTARTS AGE" ]
  # Idle: nothing changes for 3 s, and the watch uses no CPU (a tick is 10 ms; allow one).
  local before after
  before=$(cpu_ticks "$WATCH")
  sleep 3
  after=$(cpu_ticks "$WATCH")
  echo "idle watch: $((after - before)) ticks in 3 s" >&3
  [ $((after - before)) -le 1 ]
  [ "$(grep -c '^web ' "$OUT")" -eq 1 ]
  # The container killed: within a second a line says it is down (the shim's back-off), and
  # its restart then shows as a line with RESTARTS 1 (after the back-off's 10 s).
  local pid
  pid=$(jq -r '.containerStatuses[0].pid' "$ROOTS"/run/pods/*/shim/status.json)
  kill -9 "$pid"
  within_ms 1000 awk '$1 == "web" && $2 == "0/1" { ok = 1 } END { exit !ok }' "$OUT"
  within_ms 15000 awk '$1 == "web" && $3 == "Running" && $4 == 1 { ok = 1 } END { exit !ok }' "$OUT"
  # Deleted: its containers stopping show within a second, then a last line as kubectl's.
  local lines
  lines=$(wc -l < "$OUT")
  prn delete pod web >/dev/null 2>&1 &
  local deleting=$!
  within_ms 1000 more_lines_than "$lines"
  within_ms 5000 grep -q '^web .*Terminating' "$OUT"
  wait "$deleting"
  alive "$WATCH"
}

@test "get -w: a new pod appears; --watch-only skips the listing; -o name and -o json stream" {
  pod one
  wait_running one
  watch pods --watch-only -o name
  sleep 0.5
  [ ! -s "$OUT" ]
  pod two
  within_ms 1000 grep -qx 'pod/two' "$OUT"
  run grep -c 'pod/one' "$OUT"
  [ "$output" = 0 ]
  kill "$WATCH"
  wait "$WATCH" || true
  watch pods -w -o json -l app=two
  wait_for grep -q '"name": "two"' "$OUT"
  wait_running two
  sleep 0.3
  # A stream of whole objects (no List), every one parseable, only the selected pod.
  run jq -rs 'map(.kind + "/" + .metadata.name) | unique | join(" ")' "$OUT"
  [ "$status" -eq 0 ]
  [ "$output" = "Pod/two" ]
  # A named object that is not there yet is waited for.
  kill "$WATCH"
  wait "$WATCH" || true
  watch cm later -w
  sleep 0.3
  alive "$WATCH"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {a: "1"}\n' > "$M"
  prn apply -f "$M"
  within_ms 1000 grep -q '^later ' "$OUT"
  [ "$(head -1 "$OUT" | awk '{print $1, $2, $3}')" = "NAME DATA AGE" ]
}

@test "get -w ends on SIGINT with status 0" {
  watch pods -w
  sleep 0.3
  kill -INT "$WATCH"
  local st=0
  wait "$WATCH" || st=$?
  WATCH=
  [ "$st" -eq 0 ]
  [ "$(cat "$OUT")" = "No resources found in default namespace." ] || [ ! -s "$OUT" ]
}
