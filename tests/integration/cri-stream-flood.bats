#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun serve's streaming sessions whose client stops reading while the container floods its
# output (DESIGN.md "Limits on input", streaming and attach rows): the server's memory stays
# bounded (its RSS grows by less than RSS_BOUND_KB while the command could write far more than
# 200 MB), an exec'd command and a port-forwarded server are back-pressured (it stops writing once the bytes queued to the
# client, the pipes and the socket buffers are full) and ended after the idle timeout, and
# other sessions and RPCs are served meanwhile.

load ../lib/helpers
load ../lib/pods-helpers

PY=/usr/bin/python3
# The bound on the server's growth: the 256 KiB queued per client, a frame or two, and the
# allocator's slack; far below the 200 MB a free-running `yes` writes in that time.
RSS_BOUND_KB=16384
# Under ASan freed memory waits in its quarantine and every allocation has redzones.
if ldd "$PODRUN" 2>/dev/null | grep -q libasan; then
  RSS_BOUND_KB=65536
fi

setup() {
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  SERVE_PID='' HOLD_PID=''
  PF_MARK="flood-portforward-$$"
  cat >"$BATS_TEST_TMPDIR/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
  - name: pf
    image: busybox
    command: ["nc", "-ll", "-p", "8081", "-e", "yes", "$PF_MARK"]
YAML
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running s 2/2
  APP=$(pod_uid s)-app
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" \
    serve --listen "unix://$SOCK" --streaming-idle-timeout 6 >"$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$SOCK" || { cat "$BATS_TEST_TMPDIR/serve.log"; false; }
}

teardown() {
  if [ -n "$SERVE_PID" ]; then
    kill -9 "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  if [ -n "$HOLD_PID" ]; then
    kill "$HOLD_PID" 2>/dev/null || true
    wait "$HOLD_PID" 2>/dev/null || true
  fi
  [ -z "${MARK:-}" ] || pkill -9 -f "^yes $MARK" 2>/dev/null || true
  pods_teardown
}

cri() { "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" "$@"; }
sc() { in_node "$PY" "$TOP/tests/lib/stream-client.py" "$@"; }

url() {
  local out
  out=$(cri "RuntimeService/$1" "$2") || return 1
  jq -r .url <<<"$out"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status"; }
threads() { ls "/proc/$SERVE_PID/task" | wc -l; }
wchar() { awk '/^wchar:/ { print $2 }' "/proc/$1/io"; }

# watch_rss SECONDS: the largest RSS of the server over that time, sampled every 50 ms.
watch_rss() {
  local max=0 r i
  for ((i = 0; i < $1 * 20; i++)); do
    r=$(rss_kb)
    ((r > max)) && max=$r
    sleep 0.05
  done
  echo "$max"
}

# hold URL: a client that never reads (30 s), in HOLD_PID (nsenter execs it: $! is the client).
hold() {
  nsenter --net="/run/netns/$NODE" "$PY" "$TOP/tests/lib/stream-client.py" "$1" raw \
    --hostile neverread --hold 30 >"$BATS_TEST_TMPDIR/held" 3>&- &
  HOLD_PID=$!
}

# The server stops on SIGTERM (draining) within 10 s while the client still holds its
# connection: no session thread waits for that client.
stops_on_term() {
  kill -TERM "$SERVE_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVE_PID" 2>/dev/null; then
    echo "podrun serve still runs 10 s after SIGTERM" >&2
    return 1
  fi
  wait "$SERVE_PID" || true
  SERVE_PID=''
  kill -0 "$HOLD_PID"
}

# Other sessions and calls are served meanwhile.
still_serving() {
  run cri RuntimeService/Version '{}'
  [ "$status" -eq 0 ] || { echo "Version: $output" >&2; return 1; }
  run cri RuntimeService/ListPodSandbox '{}'
  [ "$status" -eq 0 ] || { echo "ListPodSandbox: $output" >&2; return 1; }
  local u
  u=$(url Exec "$(jq -nc --arg c "$APP" '{container_id: $c, cmd: ["echo", "still-serving"], stdout: true}')")
  run sc "$u" exec
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<<"$output")" = still-serving ]
}

@test "cri-stream-flood: an exec whose client never reads: the command is back-pressured, the server's memory bounded, others served, the stream ended after the idle timeout" {
  MARK="flood-exec-$$"
  local base u pid w1 w2 max
  base=$(rss_kb)
  u=$(url Exec "$(jq -nc --arg c "$APP" --arg m "$MARK" '{container_id: $c, cmd: ["yes", $m], stdout: true, stderr: true}')")
  hold "$u"
  wait_for pgrep -f "^yes $MARK"
  pid=$(pgrep -f "^yes $MARK" | head -1)
  max=$(watch_rss 2)
  w1=$(wchar "$pid")
  sleep 1
  w2=$(wchar "$pid")
  echo "# exec flood: $w1 bytes written before the stall, server RSS $base kB -> at most $max kB" >&3
  # Stalled: nothing more written, and far less than 200 MB.
  [ "$w1" -eq "$w2" ]
  [ "$w1" -lt $((32 << 20)) ]
  [ $((max - base)) -lt "$RSS_BOUND_KB" ]
  still_serving
  [ $(($(rss_kb) - base)) -lt "$RSS_BOUND_KB" ]
  # The idle timeout (6 s) ends the command while the client still holds the connection.
  local i
  for ((i = 0; i < 150; i++)); do
    [ -z "$(pgrep -f "^yes $MARK")" ] && break
    sleep 0.1
  done
  [ -z "$(pgrep -f "^yes $MARK")" ]
  kill -0 "$HOLD_PID"
  stops_on_term
}

@test "cri-stream-flood: an attach whose client never reads: the container goes on, the server's memory bounded, others served" {
  MARK="flood-attach-$$"
  cat >"$BATS_TEST_TMPDIR/flood.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: flood
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["yes", "$MARK"]
YAML
  prn apply -f "$BATS_TEST_TMPDIR/flood.yaml"
  wait_running flood
  local base u pid w1 w2 max t0 i
  # The CRI workers made first: the threads counted next are the session's.
  still_serving
  t0=$(threads)
  base=$(rss_kb)
  u=$(url Attach "$(jq -nc --arg c "$(pod_uid flood)-main" '{container_id: $c, stdout: true, stderr: true}')")
  hold "$u"
  # The session's threads, seen as soon as the client is in: the shim drops a relay that reads
  # nothing for 2 s, which can end the session before the idle timeout on a loaded machine.
  more_threads() { (($(threads) > t0)); }
  wait_for more_threads
  pid=$(pgrep -f "^yes $MARK" | head -1)
  [ -n "$pid" ]
  max=$(watch_rss 3)
  # Past the shim's stall limit (2 s): the container still writes.
  w1=$(wchar "$pid")
  sleep 1
  w2=$(wchar "$pid")
  echo "# attach flood: the container wrote $((w2 - w1)) bytes in 1 s after the stall, server RSS $base kB -> at most $max kB, threads $t0 -> $(threads)" >&3
  [ "$w2" -gt $((w1 + (1 << 20))) ]
  [ $((max - base)) -lt "$RSS_BOUND_KB" ]
  still_serving
  [ $(($(rss_kb) - base)) -lt "$RSS_BOUND_KB" ]
  # The idle timeout (6 s) ends the session while the client still holds its connection: its
  # threads (the connection's and the relay's) are gone.
  for ((i = 0; i < 150; i++)); do
    (($(threads) <= t0)) && break
    sleep 0.1
  done
  (($(threads) <= t0)) || { echo "threads: $t0 before the session, $(threads) after its idle timeout" >&2; false; }
  kill -0 "$HOLD_PID"
  stops_on_term
  run prn delete pod flood
  [ "$status" -eq 0 ]
}

@test "cri-stream-flood: a port-forward whose client never reads: the pod's server is back-pressured, the server's memory bounded, others served, the stream ended after the idle timeout" {
  MARK=$PF_MARK
  local base u pid w1 w2 max t0 i
  still_serving
  t0=$(threads)
  base=$(rss_kb)
  u=$(url PortForward "$(jq -nc --arg s "$(pod_uid s)" '{pod_sandbox_id: $s, port: [8081]}')")
  hold "$u?port=8081"
  wait_for pgrep -f "^yes $MARK"
  pid=$(pgrep -f "^yes $MARK" | head -1)
  max=$(watch_rss 2)
  w1=$(wchar "$pid")
  sleep 1
  w2=$(wchar "$pid")
  echo "# port-forward flood: $w1 bytes written before the stall, server RSS $base kB -> at most $max kB" >&3
  [ "$w1" -eq "$w2" ]
  [ "$w1" -lt $((32 << 20)) ]
  [ $((max - base)) -lt "$RSS_BOUND_KB" ]
  still_serving
  [ $(($(rss_kb) - base)) -lt "$RSS_BOUND_KB" ]
  # The idle timeout (6 s) closes the stream and the pod's connection: the server's writer
  # gets its end, and the session's threads are gone.
  for ((i = 0; i < 150; i++)); do
    [ -z "$(pgrep -f "^yes $MARK")" ] && (($(threads) <= t0)) && break
    sleep 0.1
  done
  [ -z "$(pgrep -f "^yes $MARK")" ]
  (($(threads) <= t0))
  kill -0 "$HOLD_PID"
  stops_on_term
}
