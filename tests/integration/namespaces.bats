#!/usr/bin/env bats
# User and time namespaces, sysctl, domainname, personality, and a terminal proxied by a
# foreground `run`.

load helpers

setup() {
  setup_bundle
}

teardown() {
  standard_teardown
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
