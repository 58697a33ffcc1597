#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# User and time namespaces, sysctl, domainname, personality, and a terminal proxied by a
# foreground `run`.

load ../lib/helpers

setup() {
  setup_bundle
}

teardown() {
  standard_teardown
  [ -z "${NETDEV:-}" ] || ip link del "$NETDEV" 2>/dev/null || true
  local pid
  for pid in ${HOLDERS:-}; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "${RUNC_ROOT:-}" ] && [ -d "$RUNC_ROOT" ]; then
    for pid in $(ls -A "$RUNC_ROOT"); do
      runc --root "$RUNC_ROOT" delete --force "$pid" >/dev/null 2>&1 || true
    done
  fi
}

# start_ns_holder KIND UNSHARE_FLAGS...: a sleep in new namespaces, to be joined by path;
# HOLDER is its pid once its KIND namespace (as in /proc/PID/ns/KIND) is its own.
start_ns_holder() {
  local kind=$1 i
  shift
  unshare "$@" sleep 600 </dev/null >/dev/null 2>&1 3>&- &
  HOLDER=$!
  HOLDERS="${HOLDERS:-} $HOLDER"
  for ((i = 0; i < 100; i++)); do
    [ "$(readlink /proc/$HOLDER/ns/$kind)" != "$(readlink /proc/self/ns/$kind)" ] && return 0
    sleep 0.05
  done
  echo "the $kind namespace holder never got its own namespace" >&2
  return 1
}

# join_by_path TYPE PATH: the config joins this namespace instead of making it
join_by_path() {
  update_config ".linux.namespaces |= map(if .type == \"$1\" then .path = \"$2\" else . end)"
}

# try_create: create with its output in a file, not in a pipe that a container created by
# mistake would hold open; sets $status and $output as `run` does.
create_to_file() {
  rt create --bundle "$BUNDLE" "$CTR_PREFIX" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1
}
try_create() {
  run create_to_file
  output=$(cat "$BATS_TEST_TMPDIR/create.out")
}

no_namespace_config() {
  update_config 'del(.hostname) | .linux.namespaces = [] | .mounts = [] | .root.readonly = false
    | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
}

userns_config() {
  # The mapped root is an unprivileged uid on the host: it must be able to reach the rootfs,
  # and bats makes its temporary directories 0700.
  local d=$BUNDLE
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  update_config '.root.readonly = false
    | .linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
}

@test "a user namespace maps the container's root to an unprivileged host uid" {
  userns_config
  update_config '.process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map; touch /tmp/made-inside"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "$(echo ${lines[1]})" = "0 100000 65536" ]
  [ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/made-inside")" = 100000:100000 ]
}

@test "exec joins the user namespace too" {
  userns_config
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  run rt exec "$CTR_PREFIX" sh -c 'id -u; readlink /proc/self/ns/user'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = "$(readlink /proc/$pid/ns/user)" ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/user)" ]
}

@test "a time namespace shifts the boot clock" {
  update_config '.linux.namespaces += [{"type": "time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 86400000, "nanosecs": 0}}
    | .process.args = ["cat", "/proc/uptime"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  up=${output%%.*}
  [ "$up" -ge 86400000 ]
  host_up=$(cut -d. -f1 /proc/uptime)
  [ "$host_up" -lt 86400000 ]
}

@test "timeOffsets without a time namespace is refused" {
  update_config '.linux.timeOffsets = {"monotonic": {"secs": 10}}'
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.timeOffsets: needs a new time namespace"* ]]
}

@test "namespaced sysctls are set inside the container only" {
  update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "2048"}
    | .process.args = ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni"]
    | .mounts = [.mounts[] | if .destination == "/proc" then . else . end]
    | .linux.readonlyPaths = []'
  before=$(cat /proc/sys/kernel/shmmni)
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 2048 ]
  [ "$(cat /proc/sys/kernel/shmmni)" = "$before" ]
}

@test "hostname and domainname are set in the uts namespace" {
  update_config '.hostname = "box" | .domainname = "example.test"
    | .process.args = ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = box ]
  [ "${lines[1]}" = example.test ]
}

@test "personality LINUX32 makes uname report a 32-bit machine" {
  update_config '.linux.personality = {"domain": "LINUX32"} | .process.args = ["uname", "-m"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == i?86 ]]
}

@test "the cgroup namespace hides the host's cgroup paths" {
  update_config '.process.args = ["cat", "/proc/self/cgroup"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" != *podrun* ]]
  [[ "$output" == *":/"* ]]
}

@test "a foreground run relays a terminal when no console socket is given" {
  update_config '.process.terminal = true | .process.args = ["sh", "-c", "tty; read line; echo got:$line"]'
  run sh -c "echo hello | '$RUNTIME' --root '$STATE_ROOT' run --bundle '$BUNDLE' '$CTR_PREFIX'"
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/pts/0"* ]]
  [[ "$output" == *"got:hello"* ]]
}

@test "a mount namespace joined by path gets the bundle's rootfs, with no way back to the host's / (as runc)" {
  touch "$BUNDLE/rootfs/rootfs-marker"
  cat > "$BUNDLE/rootfs/bin/lsroot" <<'EOF'
#!/bin/sh
ls -A / | sort | tr '\n' ' '; echo
cd /../.. && ls -A | sort | tr '\n' ' '; echo
EOF
  chmod +x "$BUNDLE/rootfs/bin/lsroot"
  expected=$(ls -A "$BUNDLE/rootfs" | LC_ALL=C sort | tr '\n' ' ')
  update_config '.process.args = ["lsroot"]'
  start_ns_holder mnt -m --propagation private
  join_by_path mount "/proc/$HOLDER/ns/mnt"
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$expected" == *rootfs-marker* ]]
  [ "${lines[0]}" = "$expected" ]
  [ "${lines[1]}" = "$expected" ]
  if command -v runc >/dev/null; then
    RUNC_ROOT=$BATS_TEST_TMPDIR/runc-state
    start_ns_holder mnt -m --propagation private
    join_by_path mount "/proc/$HOLDER/ns/mnt"
    run runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" "$CTR_PREFIX-runc"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$expected" ]
  fi
}

@test "hostname is set in a uts namespace joined by path (as runc), refused for the runtime's own" {
  host=$(hostname)
  start_ns_holder uts -u
  join_by_path uts "/proc/$HOLDER/ns/uts"
  update_config '.hostname = "joined-uts" | .process.args = ["hostname"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$output" = joined-uts ]
  [ "$(nsenter -t "$HOLDER" -u hostname)" = joined-uts ]
  [ "$(hostname)" = "$host" ]
  join_by_path uts "/proc/$$/ns/uts"
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"hostname: the uts namespace \`/proc/$$/ns/uts\` is the runtime's own"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  [ "$(hostname)" = "$host" ]
}

@test "a config without namespaces runs chroot'ed in the rootfs: create, exec and start (as runc)" {
  no_namespace_config
  touch "$BUNDLE/rootfs/rootfs-marker"
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$(rt state "$CTR_PREFIX" | jq -r .status)" = created ]
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  [ "$(readlink /proc/$pid/root)" = "$(realpath "$BUNDLE/rootfs")" ]
  run rt exec "$CTR_PREFIX" sh -c 'cd /../..; ls -A | sort | tr "\n" " "'
  [ "$status" -eq 0 ]
  [ "$output" = "$(ls -A "$BUNDLE/rootfs" | LC_ALL=C sort | tr '\n' ' ')" ]
  rt start "$CTR_PREFIX"
  wait_for_state "$CTR_PREFIX" running
  [ "$(readlink /proc/$pid/root)" = "$(realpath "$BUNDLE/rootfs")" ]
}

@test "without a mount namespace, mounts and masked paths fail create and leave nothing behind" {
  update_config 'del(.hostname) | .linux.namespaces = []'
  try_create
  [ "$status" -eq 1 ]
  [[ "$output" == *"mounts: performing them needs a mount namespace"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  ! mountpoint -q "$BUNDLE/rootfs/proc" || false
  update_config '.mounts = []'
  try_create
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.maskedPaths: masking paths needs a mount namespace"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  if command -v runc >/dev/null; then
    # runc refuses the masks as well ("unable to restrict sys entries")
    RUNC_ROOT=$BATS_TEST_TMPDIR/runc-state
    run runc --root "$RUNC_ROOT" create --bundle "$BUNDLE" "$CTR_PREFIX-runc"
    [ "$status" -eq 1 ]
  fi
}

@test "create fails with the real error when the container cannot reach its exec fifo" {
  # No pid namespace (so no init stub) and no /proc: the fifo's /proc/self/fd path is gone.
  update_config 'del(.linux.namespaces[] | select(.type == "pid"))
    | del(.mounts[] | select(.destination == "/proc"))
    | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .process.args = ["sleep", "100"]'
  try_create
  [ "$status" -eq 1 ]
  [[ "$output" == *"reach the exec fifo through"*"is /proc mounted in the container?"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "lo is up in a new network namespace (as runc)" {
  update_config '.process.args = ["cat", "/sys/class/net/lo/flags"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ $((output & 1)) -eq 1 ]
  if command -v runc >/dev/null; then
    RUNC_ROOT=$BATS_TEST_TMPDIR/runc-state
    run runc --root "$RUNC_ROOT" run --bundle "$BUNDLE" "$CTR_PREFIX-runc"
    [ "$status" -eq 0 ]
    [ $((output & 1)) -eq 1 ]
  fi
}

@test "kernel.hostname and kernel.domainname in linux.sysctl are refused" {
  for key in kernel.hostname kernel.domainname; do
    update_config ".linux.sysctl = {\"$key\": \"x\"}"
    try_create
    [ "$status" -eq 1 ]
    [[ "$output" == *"linux.sysctl: \"$key\" is not allowed: use the config's \"${key#kernel.}\" field"* ]]
    [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  done
}

@test "linux.netDevices moves a host interface (a veth end) into the container's network namespace, renamed and up" {
  NETDEV=prnd$$
  ip link add "$NETDEV" type veth peer name "${NETDEV}p"
  # a permanent global address moves with it (TEST-NET-1, on no route anyone uses)
  addr=192.0.2.$((100 + $$ % 100))
  ip addr add "$addr/32" dev "$NETDEV"
  update_config ".linux.netDevices = {\"$NETDEV\": {\"name\": \"ctr0\"}}
    | .process.args = [\"sh\", \"-c\", \"cat /sys/class/net/ctr0/flags; ls /sys/class/net | sort | tr '\\\\n' ' '; echo; ip -4 -o addr show dev ctr0\"]"
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ $((lines[0] & 1)) -eq 1 ]
  [ "${lines[1]}" = "ctr0 lo " ]
  [[ "${lines[2]}" == *"inet $addr/32 "* ]]
  # a veth pair goes with the namespace that held one end
  run ip link show "$NETDEV"
  [ "$status" -eq 1 ]
}

@test "linux.netDevices: a missing interface or no network namespace fails create, nothing moved" {
  update_config '.linux.netDevices = {"prnd-none": {}}'
  try_create
  [ "$status" -eq 1 ]
  [[ "$output" == *'linux.netDevices: host interface "prnd-none"'* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  NETDEV=prnd$$
  ip link add "$NETDEV" type veth peer name "${NETDEV}p"
  update_config "del(.linux.namespaces[] | select(.type == \"network\")) | .linux.netDevices = {\"$NETDEV\": {}}"
  try_create
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.netDevices: moving devices needs a network namespace"* ]]
  ip link show "$NETDEV" >/dev/null
}

@test "joining the runtime's own mount namespace by path is refused: the host's root stays" {
  join_by_path mount "/proc/$$/ns/mnt"
  try_create
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.namespaces: the mount namespace \`/proc/$$/ns/mnt\` is the runtime's own"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  [ "$(readlink /proc/self/root)" = / ]
  ! grep -q " $BUNDLE" /proc/self/mountinfo || false
}
