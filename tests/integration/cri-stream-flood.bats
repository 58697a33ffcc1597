#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun serve's streaming sessions whose client stops reading while the container floods its
# output (DESIGN.md "Limits on input", streaming and attach rows): the server's memory stays
# bounded (its RSS grows by less than RSS_BOUND_KB while the command could write far more than
# 200 MB), an exec'd command is back-pressured (it stops writing once the bytes queued to the
# client, the pipes and the socket buffers are full) and ended after the idle timeout, and
# other sessions and RPCs are served meanwhile.

load ../lib/helpers
load ../lib/pods-helpers

PY=/usr/bin/python3
# The bound on the server's growth: the 256 KiB queued per client, a frame or two, and the
# allocator's slack; far below the 200 MB a free-running `yes` writes in that time.
RSS_BOUND_KB=16384

setup() {
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  SERVE_PID= HOLD_PID=
  cat >"$BATS_TEST_TMPDIR/pod.yaml" <<'YAML'
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
YAML
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running s
  APP=$(pod_uid s)-app
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" \
    serve --listen "unix://$SOCK" --streaming-idle-timeout 6 >"$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$SOCK" || { cat "$BATS_TEST_TMPDIR/serve.log"; false; }
}

teardown() {
  [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
  [ -n "$HOLD_PID" ] && wait "$HOLD_PID" 2>/dev/null
  if [ -n "$SERVE_PID" ]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
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
  sc "$u" raw --hostile neverread --hold 30 >"$BATS_TEST_TMPDIR/held" &
  HOLD_PID=$!
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
}
