#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Limits on what a CNI caller hands the plugins (DESIGN.md, "Limits"): each refused input is an
# error with the spec's code naming the limit, found before it is read whole, and nothing is
# allocated or configured. The plugins run bounded: without a limit they would eat the machine.

load ../lib/helpers
load ../lib/cni-helpers
load ../lib/limits-helpers

setup() {
  cni_setup
  IPAM=$CNI_BUILD/podrun-ipam
  BR=$CNI_BUILD/podrun-bridge
}

teardown() {
  standard_teardown
  cni_teardown
}

conf() { # conf IPAM_EXTRA [TOP_LEVEL_EXTRA]
  echo "{\"cniVersion\":\"1.1.0\",\"name\":\"limnet\",\"type\":\"podrun-bridge\",\"bridge\":\"lim0\"${2:+,$2},\"ipam\":{\"type\":\"podrun-ipam\",\"dataDir\":\"$CNI_DATA\",\"subnet\":\"10.58.0.0/24\"${1:+,$1}}}"
}

# plugin PLUGIN CMD < CONF: runs PLUGIN bounded, with a netns that only parsing will see.
plugin() {
  bounded env CNI_COMMAND="$2" CNI_CONTAINERID=lim1 CNI_NETNS=/var/run/netns/none CNI_IFNAME=eth0 \
    CNI_PATH="$CNI_PATH_DIRS" "$1"
}

pipe_to() { # pipe_to PLUGIN FILE: ADD with the configuration coming through a pipe
  cat "$2" | plugin "$1" ADD
}

msg() {
  echo "$output" | jq -r .msg
}

@test "cni-limits: ipam resolvConf /dev/zero is refused as not a regular file" {
  conf '"resolvConf":"/dev/zero"' > "$BATS_TEST_TMPDIR/conf.json"
  run plugin "$IPAM" ADD < "$BATS_TEST_TMPDIR/conf.json"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 7 ]
  [[ "$(msg)" == "ipam.resolvConf: \`/dev/zero\` is not a regular file" ]]
  [ ! -e "$CNI_DATA/limnet/10.58.0.2" ]
}

@test "cni-limits: ipam resolvConf over 64 KiB is refused" {
  { echo "nameserver 10.0.0.53"; head -c $((64 << 10)) /dev/zero | tr '\0' '#'; echo; } \
    > "$BATS_TEST_TMPDIR/resolv.conf"
  conf "\"resolvConf\":\"$BATS_TEST_TMPDIR/resolv.conf\"" > "$BATS_TEST_TMPDIR/conf.json"
  run plugin "$IPAM" ADD < "$BATS_TEST_TMPDIR/conf.json"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 7 ]
  [[ "$(msg)" == *"resolv.conf\` is larger than 64 KiB, the limit for it" ]]
}

@test "cni-limits: bridge nodesFile /dev/zero is refused as not a regular file" {
  node=$(mkns node)
  conf "" '"nodesFile":"/dev/zero"' > "$BATS_TEST_TMPDIR/conf.json"
  run bounded ip netns exec "$node" env CNI_COMMAND=ADD CNI_CONTAINERID=lim1 \
    CNI_NETNS=/var/run/netns/none CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH_DIRS" "$BR" \
    < "$BATS_TEST_TMPDIR/conf.json"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 7 ]
  [[ "$(msg)" == "nodesFile: \`/dev/zero\` is not a regular file" ]]
  # Nothing made in the node.
  [ -z "$(ip netns exec "$node" ip -o link show type bridge)" ]
}

@test "cni-limits: a network configuration over 1 MiB on stdin is refused" {
  conf > "$BATS_TEST_TMPDIR/conf.json"
  pad_json "$BATS_TEST_TMPDIR/conf.json" $((1 << 20))
  run plugin "$IPAM" ADD < "$BATS_TEST_TMPDIR/conf.json"
  echo "$output" | head -c 1000
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 5 ]
  [[ "$(msg)" == "\`network configuration on stdin\` is larger than 1 MiB, the limit for it" ]]
  [ ! -e "$CNI_DATA/limnet/10.58.0.2" ]
  # The same from a pipe, where no size is known in advance.
  run pipe_to "$IPAM" "$BATS_TEST_TMPDIR/conf.json"
  [ "$status" -eq 1 ]
  [[ "$(msg)" == "\`network configuration on stdin\` is larger than 1 MiB, the limit for it" ]]
}

@test "cni-limits: a network configuration nested deeper than 64 levels is refused" {
  conf "" "\"deep\":$(nested_json 65)" > "$BATS_TEST_TMPDIR/conf.json"
  run plugin "$IPAM" ADD < "$BATS_TEST_TMPDIR/conf.json"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 6 ]
  [[ "$(msg)" == *"JSON nested deeper than 64 levels, the limit"* ]]
  [ ! -e "$CNI_DATA/limnet/10.58.0.2" ]
  # 64 levels are fine.
  conf "" "\"deep\":$(nested_json 63)" > "$BATS_TEST_TMPDIR/conf.json"
  run plugin "$IPAM" ADD < "$BATS_TEST_TMPDIR/conf.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.58.0.2/24 ]
}
