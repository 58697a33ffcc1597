#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Bad input gets a clear error naming what and where, exit code 1, and leaves nothing behind.

load ../lib/helpers
load ../lib/limits-helpers

setup() {
  setup_bundle
}

teardown() {
  standard_teardown
}

# create must fail with status 1, print a message matching $1, and leave no trace.
# Its output goes through a file: a container created by mistake must not hold `run`'s pipe.
create_to_file() {
  rt create --bundle "$BUNDLE" "$CTR_PREFIX" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1
}
expect_create_fails() {
  run create_to_file
  output=$(cat "$BATS_TEST_TMPDIR/create.out")
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  # The cgroup the create made is gone: /sys/fs/cgroup/podrun/ID on cgroup v2,
  # /sys/fs/cgroup/*/podrun/ID on v1.
  [ -z "$(ls -d /sys/fs/cgroup/podrun/"$CTR_PREFIX" /sys/fs/cgroup/*/podrun/"$CTR_PREFIX" 2>/dev/null)" ]
  ! grep -q "$BUNDLE" /proc/self/mountinfo || false
}

@test "missing config.json" {
  rm "$BUNDLE/config.json"
  expect_create_fails "no config.json"
}

@test "malformed config.json" {
  echo '{"ociVersion": "1.0.0", "process": ' > "$BUNDLE/config.json"
  expect_create_fails "config.json: malformed JSON"
}

@test "config.json that is not an object" {
  echo '[1, 2]' > "$BUNDLE/config.json"
  expect_create_fails "expected a JSON object"
}

@test "unknown namespace type" {
  update_config '.linux.namespaces += [{"type": "bogus"}]'
  expect_create_fails 'linux.namespaces[6].type: unknown namespace type "bogus"'
}

@test "namespace listed twice" {
  update_config '.linux.namespaces += [{"type": "pid"}]'
  expect_create_fails 'namespace "pid" listed twice'
}

@test "namespace path that does not exist" {
  update_config '.linux.namespaces += [{"type": "user", "path": "/proc/nonexistent/ns/user"}]'
  expect_create_fails "/proc/nonexistent/ns/user"
}

@test "missing rootfs" {
  rm -rf "$BUNDLE/rootfs"
  expect_create_fails "root.path"
}

@test "wrong field type" {
  update_config '.process.args = "sh"'
  expect_create_fails "process.args: expected array, got string"
}

@test "relative cwd" {
  update_config '.process.cwd = "tmp"'
  expect_create_fails 'process.cwd: "tmp" is not an absolute path'
}

@test "unknown rlimit" {
  update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
  expect_create_fails 'process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS"'
}

@test "executable that does not exist in the container" {
  update_config '.process.args = ["/bin/does-not-exist"]'
  expect_create_fails "/bin/does-not-exist"
}

@test "non-namespaced sysctl" {
  update_config '.linux.sysctl = {"vm.swappiness": "10"}'
  expect_create_fails '"vm.swappiness" is not namespaced'
}

@test "user namespace without mappings" {
  update_config '.linux.namespaces += [{"type": "user"}]'
  expect_create_fails "a new user namespace needs both"
}

@test "container id holding a slash, or dot-dot" {
  run rt create --bundle "$BUNDLE" "a/b"
  [ "$status" -eq 1 ]
  [[ "$output" == *'invalid container id "a/b"'* ]]
  [ -z "$(ls "$STATE_ROOT")" ]
  run rt create --bundle "$BUNDLE" ".."
  [ "$status" -eq 1 ]
  [ -z "$(ls "$STATE_ROOT")" ]
}

@test "container id that already exists" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"already exists"* ]]
  # the existing container is untouched
  [ "$(rt state "$CTR_PREFIX" | jq -r .pid)" = "$pid" ]
  [ "$(rt state "$CTR_PREFIX" | jq -r .status)" = created ]
}

@test "commands on a container that does not exist" {
  for cmd in state start kill delete pause resume ps; do
    run rt $cmd nosuch
    [ "$status" -eq 1 ]
    [[ "$output" == *'container "nosuch" does not exist'* ]]
  done
}

@test "unknown option" {
  run rt create --bogus --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *'unknown option "--bogus"'* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "a rootfs that is a symlink is refused up front (as runc), nothing made" {
  mv "$BUNDLE/rootfs" "$BUNDLE/real-rootfs"
  ln -s real-rootfs "$BUNDLE/rootfs"
  expect_create_fails "root.path: invalid rootfs \`$(realpath "$BUNDLE")/rootfs\`: it is, or goes through, a symlink"
  rm "$BUNDLE/rootfs"
  ln -s / "$BUNDLE/rootfs"
  expect_create_fails "(to \`/\`)"
  if command -v runc >/dev/null; then
    run runc --root "$BATS_TEST_TMPDIR/runc-state" create --bundle "$BUNDLE" "$CTR_PREFIX-runc"
    [ "$status" -eq 1 ]
    [[ "$output" == *"invalid rootfs"* ]]
  fi
  rm "$BUNDLE/rootfs"
  mv "$BUNDLE/real-rootfs" "$BUNDLE/rootfs"
}

@test "list shows a container whose id starts with a dot (as runc)" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" ".hidden-$CTR_PREFIX"
  [ "$(rt state ".hidden-$CTR_PREFIX" | jq -r .status)" = created ]
  run rt list -q
  [ "$status" -eq 0 ]
  [ "$output" = ".hidden-$CTR_PREFIX" ]
  run rt list --format json
  [ "$(jq -r '.[].id' <<<"$output")" = ".hidden-$CTR_PREFIX" ]
  rt delete --force ".hidden-$CTR_PREFIX"
  [ ! -e "$STATE_ROOT/.hidden-$CTR_PREFIX" ]
}

# Limits (DESIGN.md, "Limits"): config.json is read whole, so it has a size and a depth limit.
# create_bounded: create, bounded, with its output in a file rather than a pipe, so that if a
# regression lets the container be created, its init holding the pipe cannot hang the test.
create_bounded() {
  bounded "$RUNTIME" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$CTR_PREFIX" \
    > "$BATS_TEST_TMPDIR/create.out" 2>&1 < /dev/null
}

expect_create_bounded_fails() {
  run create_bounded
  output=$(head -c 2000 "$BATS_TEST_TMPDIR/create.out")
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "config.json over the 4 MiB limit is refused" {
  pad_json "$BUNDLE/config.json" $((4 << 20))
  expect_create_bounded_fails "config.json\` is larger than 4 MiB, the limit for it"
}

@test "config.json that is a device (/dev/zero) is refused without reading it" {
  ln -sf /dev/zero "$BUNDLE/config.json"
  expect_create_bounded_fails "config.json\` is not a regular file"
}

@test "config.json nested deeper than 64 levels is refused" {
  local c
  c=$(jq -c '.deep = 0' "$BUNDLE/config.json")
  { printf '%s' "${c%%\"deep\":0*}\"deep\":"; nested_json 500000; printf '%s' "${c#*\"deep\":0}"; } \
    > "$BUNDLE/config.json"
  expect_create_bounded_fails "config.json: JSON nested deeper than 64 levels, the limit"
}
