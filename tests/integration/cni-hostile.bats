#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-bridge and podrun-ipam given hostile input: one attachment (container id, ifname)
# asked for from two network namespaces, container ids of any length, invalid ifnames.

load ../lib/helpers
load ../lib/cni-helpers

bats_require_minimum_version 1.5.0

setup() {
  cni_setup
  BR=$CNI_BUILD/podrun-bridge
  IPAM=$CNI_BUILD/podrun-ipam
  NODE=$(mkns node)
  ip netns exec "$NODE" ip link set lo up
}

teardown() {
  standard_teardown
  cni_teardown
}

bconf() { # bconf [EXTRA_TOP_LEVEL]
  echo "{\"cniVersion\":\"1.1.0\",\"name\":\"hnet\",\"type\":\"podrun-bridge\",\"bridge\":\"prbrh\",\"isGateway\":true${1:+,$1},\"ipam\":{\"type\":\"podrun-ipam\",\"dataDir\":\"$CNI_DATA\",\"subnet\":\"10.74.0.0/24\"}}"
}

pod_ip() { ip netns exec "$1" ip -4 -o addr show dev "${2:-eth0}" | awk '{print $4}'; }

# The allocation files of the network: one per address handed out.
allocations() { ls "$CNI_DATA/hnet" 2>/dev/null | grep -c '^10\.' || true; }

@test "cni-hostile: a second ADD of one attachment from another netns is refused; the first keeps it" {
  A=$(mkns a); B=$(mkns b)
  c=$(bconf '"ipMasq":true')
  run cni "$NODE" "$BR" ADD c1 "$A" eth0 "$c"
  [ "$status" -eq 0 ]
  ip_a=$(pod_ip "$A")
  [ "$ip_a" = 10.74.0.2/24 ]
  state=$(node_state "$NODE")
  run cni "$NODE" "$BR" ADD c1 "$B" eth0 "$c"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 103 ]
  [[ "$(echo "$output" | jq -r .msg)" == *"duplicate allocation is not allowed"* ]]
  # A still has its interface and address, B got nothing, the node did not change.
  [ "$(pod_ip "$A")" = "$ip_a" ]
  [ -z "$(ip netns exec "$B" ip -o link show | grep -v ' lo:')" ]
  [ "$(node_state "$NODE")" = "$state" ]
  ip netns exec "$A" "$BUSYBOX" ping -c1 -W2 10.74.0.1
  # A retry from A is still the same attachment; the address is still A's.
  run cni "$NODE" "$BR" ADD c1 "$A" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = "$ip_a" ]
  run cni "$NODE" "$BR" ADD c2 "$B" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.74.0.3/24 ]
  # After DEL the id may attach anywhere.
  run cni "$NODE" "$BR" DEL c2 "$B" eth0 "$c"; [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" DEL c1 "$A" eth0 "$c"; [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" ADD c1 "$B" eth0 "$c"
  [ "$status" -eq 0 ]
  [ -n "$(pod_ip "$B")" ]
}

@test "cni-hostile: parallel ADDs of one attachment into many netns: one wins, the others take nothing" {
  c=$(bconf)
  for i in 1 2 3 4 5 6; do
    p=$(mkns "p$i")
    (cni "$NODE" "$BR" ADD same "$p" eth0 "$c" > "$BATS_TEST_TMPDIR/out.$i"; echo $? > "$BATS_TEST_TMPDIR/rc.$i") &
  done
  wait
  ok=0
  for i in 1 2 3 4 5 6; do
    if [ "$(cat "$BATS_TEST_TMPDIR/rc.$i")" -eq 0 ]; then
      ok=$((ok + 1)); winner=$i
    else
      cat "$BATS_TEST_TMPDIR/out.$i"
      [ "$(jq -r .code < "$BATS_TEST_TMPDIR/out.$i")" -eq 103 ]
    fi
  done
  [ "$ok" -eq 1 ]
  won=$(pod_ip "$NS_PREFIX-p$winner")
  [ -n "$won" ]
  for i in 1 2 3 4 5 6; do
    [ "$i" = "$winner" ] || [ -z "$(ip netns exec "$NS_PREFIX-p$i" ip -o link show | grep -v ' lo:')" ]
  done
  # The winner's address is still taken: the next container gets another one.
  [ "$(allocations)" -eq 1 ]
  N=$(mkns next)
  run cni "$NODE" "$BR" ADD next "$N" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" != "$won" ]
  ip netns exec "$N" "$BUSYBOX" ping -c1 -W2 "${won%/*}"
}

@test "cni-hostile: parallel ADDs of one attachment into one netns all get it, and keep it" {
  P=$(mkns p)
  c=$(bconf)
  for i in 1 2 3 4 5 6; do
    (cni "$NODE" "$BR" ADD same "$P" eth0 "$c" > "$BATS_TEST_TMPDIR/out.$i"; echo $? > "$BATS_TEST_TMPDIR/rc.$i") &
  done
  wait
  for i in 1 2 3 4 5 6; do
    cat "$BATS_TEST_TMPDIR/out.$i"
    [ "$(cat "$BATS_TEST_TMPDIR/rc.$i")" -eq 0 ]
    [ "$(jq -r '.ips[0].address' < "$BATS_TEST_TMPDIR/out.$i")" = 10.74.0.2/24 ]
  done
  [ "$(pod_ip "$P")" = 10.74.0.2/24 ]
  [ "$(allocations)" -eq 1 ]
  N=$(mkns next)
  run cni "$NODE" "$BR" ADD next "$N" eth0 "$c"
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.74.0.3/24 ]
}

@test "cni-hostile: podrun-ipam alone refuses an attachment's second netns, and a failed ADD takes nothing" {
  A=$(mkns a); B=$(mkns b)
  c=$(bconf)
  ipam_in() { printf '%s' "$c" | env CNI_COMMAND="$1" CNI_CONTAINERID=c1 CNI_NETNS="$2" CNI_IFNAME=eth0 "$IPAM"; }
  run ipam_in ADD "/run/netns/$A"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.74.0.2/24 ]
  run ipam_in ADD "/run/netns/$B"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 103 ]
  # The same namespace by another path is the same attachment.
  want=$(ip netns exec "$A" readlink /proc/self/ns/net)
  ip netns exec "$A" sleep 60 &
  pid=$!
  echo "$pid" >> "$PIDS_LIST"
  for _ in $(seq 50); do
    [ "$(readlink "/proc/$pid/ns/net")" = "$want" ] && break
    sleep 0.1
  done
  [ "$(readlink "/proc/$pid/ns/net")" = "$want" ]
  run ipam_in ADD "/proc/$pid/ns/net"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.74.0.2/24 ]
  [ "$(allocations)" -eq 1 ]
}

@test "cni-hostile: container ids up to 128 bytes work and DEL frees all; longer are code 4 and leave nothing" {
  P=$(mkns p)
  c=$(bconf '"ipMasq":true')
  id128=$(head -c 128 /dev/zero | tr '\0' a)
  before=$(node_state "$NODE")
  run cni "$NODE" "$BR" ADD "$id128" "$P" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(allocations)" -eq 1 ]
  ip netns exec "$NODE" nft list ruleset | grep -q "$id128"
  run cni "$NODE" "$BR" DEL "$id128" "$P" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(allocations)" -eq 0 ]
  [ -z "$(ls "$CNI_DATA/hnet" | grep '^id%' || true)" ]
  run ! bash -c "ip netns exec $NODE nft list ruleset | grep -q $id128"
  rm -rf "$CNI_DATA/hnet"
  ip netns exec "$NODE" ip link del prbrh
  [ "$(node_state "$NODE")" = "$before" ]
  for n in 129 250 500 1000; do
    id=$(head -c "$n" /dev/zero | tr '\0' b)
    for plugin in "$BR" "$IPAM"; do
      run cni "$NODE" "$plugin" ADD "$id" "$P" eth0 "$c"
      [ "$status" -eq 1 ]
      [ "$(json_code)" -eq 4 ]
      [[ "$(echo "$output" | jq -r .msg)" == *"CNI_CONTAINERID"*"($n bytes)"*"1 to 128"* ]]
    done
  done
  [ ! -e "$CNI_DATA/hnet" ]
  [ "$(node_state "$NODE")" = "$before" ]
  [ -z "$(ip netns exec "$P" ip -o link show | grep -v ' lo:')" ]
}

@test "cni-hostile: invalid CNI_IFNAMEs are code 4 for ADD, DEL and CHECK, and leave nothing" {
  P=$(mkns p)
  c=$(bconf)
  before=$(node_state "$NODE")
  for ifname in 'x%y' 'eth%d' 0123456789abcdef a/b a:b 'a b' $'a\tb' $'a\nb' . .. $'a\x01b' $'a\xc2\xa0b'; do
    for cmd in ADD DEL CHECK; do
      for plugin in "$BR" "$IPAM"; do
        run cni "$NODE" "$plugin" "$cmd" c1 "$P" "$ifname" "$c"
        echo "$cmd $ifname: $output"
        [ "$status" -eq 1 ]
        [ "$(json_code)" -eq 4 ]
        [[ "$(echo "$output" | jq -r .msg)" == *"invalid CNI_IFNAME"* ]]
      done
    done
  done
  [ ! -e "$CNI_DATA/hnet" ]
  [ "$(node_state "$NODE")" = "$before" ]
  [ -z "$(ip netns exec "$P" ip -o link show | grep -v ' lo:')" ]
  # The edges that are names: 15 bytes, dots and dashes inside.
  run cni "$NODE" "$BR" ADD c1 "$P" 0123456789abcde "$c"
  [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" ADD c1 "$P" e.t-h_1 "$c"
  [ "$status" -eq 0 ]
}
