# SPDX-License-Identifier: Apache-2.0
# Helpers for the shim's bats files (tests/integration/shim-*.bats): busybox bundles, a pod
# directory with spec.json, starting the shim and talking to its socket, and a teardown that
# removes the pod and whatever a failed test left (shim processes, containers, mounts).

SHIM=${PODRUN_SHIM:-$PODRUN_BUILD/shim/podrun-shim}

shim_setup() {
  ensure_rootfs_cache
  STATE_ROOT=$BATS_TEST_TMPDIR/state
  POD_DIR=$BATS_TEST_TMPDIR/pod
  LOG_DIR=$BATS_TEST_TMPDIR/logs
  SHARED=$BATS_TEST_TMPDIR/shared
  mkdir -p "$STATE_ROOT" "$POD_DIR" "$LOG_DIR" "$SHARED"
  POD_NAME="shimt$$-${BATS_TEST_NUMBER}"
  SHIM_PID=
  POD_RUNTIME=${POD_RUNTIME:-$RUNTIME}
  # Under an ASan build the detached shim has no terminal: its reports go to files the
  # teardown checks.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$BATS_TEST_TMPDIR/asan"
}

# make_bundle NAME SCRIPT [JQ]: a bundle running `sh -c SCRIPT`, with $SHARED mounted at
# /shared and CAP_NET_ADMIN (probe tests bring up lo themselves: no CNI here).
make_bundle() {
  local b=$BATS_TEST_TMPDIR/bundles/$1
  mkdir -p "$b"
  cp -a "$ROOTFS_CACHE" "$b/rootfs"
  (cd "$b" && "$RUNTIME" spec)
  jq --arg s "$2" --arg shared "$SHARED" '
    .process.terminal = false | .process.args = ["sh", "-c", $s] | .root.readonly = false
    | .process.capabilities.bounding += ["CAP_NET_ADMIN"]
    | .process.capabilities.effective += ["CAP_NET_ADMIN"]
    | .process.capabilities.permitted += ["CAP_NET_ADMIN"]
    | .mounts += [{"destination": "/shared", "type": "bind", "source": $shared,
                   "options": ["rbind", "rw"]}]
    | '"${3:-.}" "$b/config.json" > "$b/config.json.new"
  mv "$b/config.json.new" "$b/config.json"
  echo "$b"
}

# ctr_json NAME SCRIPT [EXTRA_JSON [BUNDLE_JQ]]: one container entry for spec.json.
ctr_json() {
  local name=$1 script=$2 extra=${3:-'{}'}
  local b
  b=$(make_bundle "$name" "$script" "${4:-.}")
  jq -nc --arg n "$name" --arg b "$b" --argjson x "$extra" '{name: $n, bundle: $b} + $x'
}

# write_spec CONTAINERS_JSON_ARRAY [POD_EXTRA_JSON]
write_spec() {
  jq -n --arg name "$POD_NAME" --arg rt "$POD_RUNTIME" --arg root "$STATE_ROOT" \
    --arg logs "$LOG_DIR" --argjson ctrs "$1" --argjson x "${2:-{\}}" '
    {name: $name, runtime: $rt, runtimeRoot: $root, logDir: $logs,
     terminationGracePeriodSeconds: 2, runtimeTimeoutSeconds: 20,
     backOff: {baseSeconds: 0.2, capSeconds: 1},
     containers: $ctrs} + $x' > "$POD_DIR/spec.json"
}

start_shim() {
  SHIM_PID=$("$SHIM" --pod-dir "$POD_DIR" "$@")
  [ -n "$SHIM_PID" ] && kill -0 "$SHIM_PID"
}

shimctl() {
  timeout 30 "$SHIM" --pod-dir "$POD_DIR" --request "$1"
}

# st JQ: evaluates JQ on status.json
st() {
  jq -r "$1" "$POD_DIR/status.json"
}

# ctr NAME: jq path of a container's status
ctr() {
  echo "([.containerStatuses[], .initContainerStatuses[]] | map(select(.name == \"$1\"))[0])"
}

# wait_status JQ_BOOL [TRIES of 0.1 s]
wait_status() {
  local i
  for ((i = 0; i < ${2:-100}; i++)); do
    jq -e "$1" "$POD_DIR/status.json" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "status never satisfied: $1" >&2
  cat "$POD_DIR/status.json" >&2 || true
  return 1
}

# subscribe_events FILE: streams the shim's events into FILE (for at most 60 s), and returns
# once the subscription is in place (its first line, {"ok":true}), so no event after it is missed.
subscribe_events() {
  timeout 60 "$SHIM" --pod-dir "$POD_DIR" --request '{"cmd":"events"}' >"$1" &
  wait_for grep -q '"ok":true' "$1" || { cat "$1" >&2; return 1; }
}

# count_events FILE N PATTERN: FILE holds at least N lines that match PATTERN (grep -E).
count_events() {
  [ "$(grep -cE -- "$3" "$1")" -ge "$2" ]
}

# hold_clients N: up to N connections to the shim's socket that never send anything, held by
# a background process ($HOLDER_PID, killed by the teardown) until it is killed. A shim that no
# longer accepts makes connect wait: after 5 s the holder stops trying and keeps what it has.
hold_clients() {
  python3 -c '
import socket, sys, time
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sys.argv[1])
    except OSError:
        break
    socks.append(s)
print("ready", flush=True)
time.sleep(3600)
' "$POD_DIR/shim.sock" "$1" > "$BATS_TEST_TMPDIR/holder.out" &
  HOLDER_PID=$!
  wait_for grep -qx ready "$BATS_TEST_TMPDIR/holder.out"
}

# shim_raw FILE: sends FILE's bytes as they are to the shim's socket, closes the sending side
# and prints whatever the shim replies until it closes.
shim_raw() {
  timeout 30 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
with open(sys.argv[2], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR)
while True:
    b = s.recv(65536)
    if not b:
        break
    sys.stdout.buffer.write(b)
' "$POD_DIR/shim.sock" "$1"
}

# cpu_ticks PID: user + system time of a process so far, in clock ticks.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# Pods with their shims: remove through the socket, then SIGKILL what is left of any shim
# started on this test's pod dirs, then the runtime's leftovers and mounts.
shim_teardown() {
  local pid
  if [ -n "${HOLDER_PID:-}" ]; then kill "$HOLDER_PID" 2>/dev/null || true; fi
  if [ -S "${POD_DIR:-/nonexistent}/shim.sock" ]; then
    timeout 30 "$SHIM" --pod-dir "$POD_DIR" --request '{"cmd":"remove"}' >/dev/null 2>&1 || true
  fi
  for pid in $(pgrep -f "podrun-shim --pod-dir $BATS_TEST_TMPDIR" 2>/dev/null) ${SHIM_PID:-}; do
    kill -9 "$pid" 2>/dev/null || true
  done
  cleanup_containers
  if [ -n "${POD_RUNTIME:-}" ] && [ "$POD_RUNTIME" != "$RUNTIME" ] && [ -d "${STATE_ROOT:-}" ]; then
    for id in $("$POD_RUNTIME" --root "$STATE_ROOT" list -q 2>/dev/null); do
      "$POD_RUNTIME" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1 || true
    done
  fi
  if ls "$BATS_TEST_TMPDIR"/asan.* >/dev/null 2>&1; then
    cat "$BATS_TEST_TMPDIR"/asan.* >&2
    SHIM_ASAN_FAILED=1
  fi
  grep -o " $BATS_TEST_TMPDIR[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  [ -z "${SHIM_ASAN_FAILED:-}" ]
}
