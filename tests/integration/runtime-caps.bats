#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# process.capabilities: the container's sets are exactly those configured, ambient capabilities
# reach a non-root user, and a dropped capability is really gone.

load ../lib/helpers

setup() {
  setup_bundle
  update_config '.root.readonly = false'
  # uid 1000 must be able to reach /bin in the rootfs.
  chmod 755 "$BUNDLE/rootfs"
}

teardown() {
  standard_teardown
}

# Capability numbers of the names these tests use (linux/capability.h).
declare -gA CAPNUM=([CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7
  [CAP_SETPCAP]=8 [CAP_NET_BIND_SERVICE]=10 [CAP_NET_RAW]=13 [CAP_SYS_ADMIN]=21)

# caps_hex NAME... -> the 16-digit hex mask /proc/PID/status prints
caps_hex() {
  local mask=0 n
  for n in "$@"; do mask=$((mask | (1 << ${CAPNUM[$n]}))); done
  printf '%016x\n' "$mask"
}

# json_list NAME... -> ["NAME",...]
json_list() {
  printf '%s\n' "$@" | jq -Rsc 'split("\n") | map(select(length > 0))'
}

# set_caps BOUNDING EFFECTIVE PERMITTED INHERITABLE AMBIENT (each a space-separated list)
set_caps() {
  update_config ".process.capabilities = {
    \"bounding\": $(json_list $1), \"effective\": $(json_list $2),
    \"permitted\": $(json_list $3), \"inheritable\": $(json_list $4),
    \"ambient\": $(json_list $5)}"
}

# status_line OUTPUT KEY -> the hex value of KEY in a /proc/self/status dump
status_line() {
  awk -v k="$2:" '$1 == k { print $2 }' <<<"$1"
}

# The sets test_root_sets configures: effective = permitted, so that root's execve (which makes
# effective equal to permitted) leaves every set as configured.
ROOT_BND="CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW"
ROOT_PRM="CAP_CHOWN CAP_NET_BIND_SERVICE CAP_NET_RAW"
ROOT_INH="CAP_NET_BIND_SERVICE CAP_NET_RAW"
ROOT_AMB="CAP_NET_BIND_SERVICE"

@test "caps: a root container sees exactly the configured sets (noNewPrivileges)" {
  update_config '.process.noNewPrivileges = true'
  set_caps "$ROOT_BND" "$ROOT_PRM" "$ROOT_PRM" "$ROOT_INH" "$ROOT_AMB"
  update_config '.process.args = ["cat", "/proc/self/status"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(status_line "$output" CapBnd)" = "$(caps_hex $ROOT_BND)" ]
  [ "$(status_line "$output" CapPrm)" = "$(caps_hex $ROOT_PRM)" ]
  [ "$(status_line "$output" CapEff)" = "$(caps_hex $ROOT_PRM)" ]
  [ "$(status_line "$output" CapInh)" = "$(caps_hex $ROOT_INH)" ]
  [ "$(status_line "$output" CapAmb)" = "$(caps_hex $ROOT_AMB)" ]
}

@test "caps: without noNewPrivileges root's execve raises permitted to the bounding set" {
  # The kernel gives uid 0 bounding | inheritable on execve; no_new_privs would cap that at
  # the permitted set the runtime left. Bounding, inheritable and ambient stay as configured.
  update_config '.process.noNewPrivileges = false'
  set_caps "$ROOT_BND" "$ROOT_PRM" "$ROOT_PRM" "$ROOT_INH" "$ROOT_AMB"
  update_config '.process.args = ["cat", "/proc/self/status"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(status_line "$output" CapBnd)" = "$(caps_hex $ROOT_BND)" ]
  [ "$(status_line "$output" CapPrm)" = "$(caps_hex $ROOT_BND)" ]
  [ "$(status_line "$output" CapEff)" = "$(caps_hex $ROOT_BND)" ]
  [ "$(status_line "$output" CapInh)" = "$(caps_hex $ROOT_INH)" ]
  [ "$(status_line "$output" CapAmb)" = "$(caps_hex $ROOT_AMB)" ]
}

@test "caps: a non-root user gets ambient CAP_NET_BIND_SERVICE in its effective set" {
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  local nbs=CAP_NET_BIND_SERVICE
  set_caps "$nbs CAP_KILL" "$nbs" "$nbs" "$nbs" "$nbs"
  update_config '.process.args = ["cat", "/proc/self/status"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(status_line "$output" Uid | cut -f1)" = 1000 ]
  [ "$(status_line "$output" CapEff)" = "$(caps_hex $nbs)" ]
  [ "$(status_line "$output" CapPrm)" = "$(caps_hex $nbs)" ]
  [ "$(status_line "$output" CapAmb)" = "$(caps_hex $nbs)" ]
  [ "$(status_line "$output" CapBnd)" = "$(caps_hex $nbs CAP_KILL)" ]
}

@test "caps: without ambient a non-root user has no effective capabilities" {
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  local nbs=CAP_NET_BIND_SERVICE
  set_caps "$nbs" "$nbs" "$nbs" "$nbs" ""
  update_config '.process.args = ["cat", "/proc/self/status"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(status_line "$output" CapEff)" = 0000000000000000 ]
  [ "$(status_line "$output" CapAmb)" = 0000000000000000 ]
}

@test "caps: with CAP_CHOWN chown works, without it chown fails" {
  local base="CAP_KILL CAP_SETUID CAP_SETGID"
  update_config '.process.args = ["/bin/sh", "-c", "touch /tmp/f && chown 1000 /tmp/f && echo chowned"]'
  set_caps "$base CAP_CHOWN" "$base CAP_CHOWN" "$base CAP_CHOWN" "" ""
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX-with"
  [ "$status" -eq 0 ]
  [[ "$output" == *chowned* ]]

  rm -f "$BUNDLE/rootfs/tmp/f"
  set_caps "$base" "$base" "$base" "" ""
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX-without"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" != *chowned* ]]
}

@test "caps: no capabilities object drops every capability" {
  update_config 'del(.process.capabilities)'
  update_config '.process.args = ["cat", "/proc/self/status"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(status_line "$output" CapBnd)" = 0000000000000000 ]
  [ "$(status_line "$output" CapEff)" = 0000000000000000 ]
}

@test "caps: an unknown capability name fails create, naming set and name" {
  set_caps "CAP_CHOWN CAP_FLY" "CAP_CHOWN" "CAP_CHOWN" "" ""
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'capabilities.bounding[1]: unknown capability "CAP_FLY"'* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "caps: features lists every known capability" {
  run rt features
  [ "$status" -eq 0 ]
  jq -e '.linux.capabilities | index("CAP_CHOWN")' <<<"$output"
  jq -e '.linux.capabilities | index("CAP_CHECKPOINT_RESTORE")' <<<"$output"
  [ "$(jq '.linux.capabilities | length' <<<"$output")" -eq 41 ]
}
