#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# linux.seccomp: actions, errnoRet, argument filters, the listener, and bad profiles.

load ../lib/helpers

setup() {
  setup_bundle
  # The filter tests write to the rootfs: a control run without the filter must succeed.
  update_config '.root.readonly = false'
}

teardown() {
  standard_teardown
  if [ -n "${LISTENER_PID:-}" ]; then
    kill "$LISTENER_PID" 2>/dev/null || true
    wait "$LISTENER_PID" 2>/dev/null || true
  fi
}

# set_seccomp JSON
set_seccomp() {
  update_config ".linux.seccomp = $1"
}

# set_args SHELL-COMMAND
set_args() {
  local cmd=$1
  update_config ".process.args = [\"/bin/sh\", \"-c\", $(jq -Rn --arg c "$cmd" '$c')]"
}

@test "seccomp: without a filter mkdir works (control)" {
  set_args 'mkdir /tmp/d && echo made'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == *made* ]]
}

@test "seccomp: SCMP_ACT_ERRNO makes mkdir fail with EPERM" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
  set_args 'mkdir /tmp/d; echo "rc=$?"; ls -d /tmp/d 2>/dev/null || echo absent'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" == *"rc=1"* ]]
  [[ "$output" == *absent* ]]
}

@test "seccomp: errnoRet sets the errno returned" {
  # 122 is EDQUOT on x86 and arm.
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":122}]}'
  set_args 'mkdir /tmp/d'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Disk quota exceeded"* ]]
}

@test "seccomp: noNewPrivileges=false loads the filter too" {
  update_config '.process.noNewPrivileges = false'
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
  set_args 'mkdir /tmp/d'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Operation not permitted"* ]]
}

@test "seccomp: an argument filter kills only the matching call (SIGSYS)" {
  # personality(PER_LINUX32 = 8) is killed; personality(PER_LINUX = 0) is not.
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["personality"],"action":"SCMP_ACT_KILL_PROCESS",
     "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}'
  set_args 'linux64 true; echo "rc64=$?"; linux32 true; echo "rc32=$?"'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == *"rc64=0"* ]]
  [[ "$output" == *"rc32=159"* ]]
}

@test "seccomp: the container process killed by SCMP_ACT_KILL exits 159" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["personality"],"action":"SCMP_ACT_KILL",
     "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}'
  update_config '.process.args = ["linux32", "true"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 159 ]
}

@test "seccomp: args on the same index are alternatives (OR, as runc)" {
  # personality(8) OR personality(0x20008) is refused with 71 (as AND it could never match);
  # personality(0) is allowed.
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":71,
     "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},
             {"index":0,"value":131080,"op":"SCMP_CMP_EQ"}]}]}'
  set_args 'linux32 true; echo "rc32=$?"; linux64 true; echo "rc64=$?"'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Protocol error"* ]] # strerror(71)
  [[ "$output" == *"rc32=1"* ]]
  [[ "$output" == *"rc64=0"* ]]
}

@test "seccomp: unknown syscall names are ignored, the rest of the rule applies" {
  set_seccomp '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["podrun_no_such_syscall","mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
  set_args 'mkdir /tmp/d'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Operation not permitted"* ]]
}

# bad_profile JSON EXPECTED-MESSAGE
bad_profile() {
  set_seccomp "$1"
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$2"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  run rt state "$CTR_PREFIX"
  [ "$status" -eq 1 ]
}

@test "seccomp: an unknown action fails create, naming the field" {
  bad_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["getpid"],"action":"SCMP_ACT_ERRNO"},
      {"names":["mkdir"],"action":"SCMP_ACT_FOO"}]}' \
    'linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO"'
}

@test "seccomp: an unknown operator fails create, naming the field" {
  bad_profile '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ALMOST"}]}]}' \
    'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_ALMOST"'
}

@test "seccomp: an unknown architecture or flag fails create" {
  bad_profile '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_PDP11"]}' \
    'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_PDP11"'
  bad_profile '{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NOPE"]}' \
    'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NOPE"'
}

@test "seccomp: features lists the actions, operators and supported flags" {
  run rt features
  [ "$status" -eq 0 ]
  [ "$(jq -r .linux.seccomp.enabled <<<"$output")" = true ]
  jq -e '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY")' <<<"$output"
  jq -e '.linux.seccomp.operators | index("SCMP_CMP_MASKED_EQ")' <<<"$output"
  jq -e '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_TSYNC")' <<<"$output"
}

@test "seccomp: SCMP_ACT_NOTIFY hands the fd and the state to listenerPath" {
  command -v python3 >/dev/null || skip "needs python3 for the listener"
  local sock=$BATS_TEST_TMPDIR/listener.sock out=$BATS_TEST_TMPDIR/listener.json
  # The listener records what it got, then closes the fd without answering: the notified
  # syscall then fails with ENOSYS ("Function not implemented").
  python3 - "$sock" "$out" <<'PY' &
import json, os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
data, fds, _, _ = socket.recv_fds(c, 65536, 4)
c.settimeout(0.2)
try:
    while True:
        more = c.recv(65536)
        if not more:
            break
        data += more
except socket.timeout:
    pass
msg = json.loads(data)
msg["_nfds"] = len(fds)
with open(out + ".tmp", "w") as f:
    json.dump(msg, f)
os.rename(out + ".tmp", out)
for fd in fds:
    os.close(fd)
PY
  LISTENER_PID=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  set_seccomp "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$sock\",
    \"listenerMetadata\":\"meta-42\",
    \"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
  set_args 'mkdir /tmp/d; echo "rc=$?"'
  run timeout 30 "$RUNTIME" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Function not implemented"* ]]
  [ -f "$out" ]
  [ "$(jq -r '.fds[0]' "$out")" = seccompFd ]
  [ "$(jq -r '._nfds' "$out")" = 1 ]
  [ "$(jq -r '.metadata' "$out")" = meta-42 ]
  [ "$(jq -r '.state.id' "$out")" = "$CTR_PREFIX" ]
  [ "$(jq -r '.pid' "$out")" = "$(jq -r '.state.pid' "$out")" ]
  [ "$(jq -r '.pid' "$out")" -gt 0 ]
}
