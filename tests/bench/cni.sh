#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Times ADD+DEL of N pods (default 100) through podrun-bridge+podrun-ipam and through the
# reference bridge+host-local (containernetworking-plugins), each on its own "node" network
# namespace; then checks that 250 pods fit on one node with ours. Last line: ratio=R
# (our time / the reference's). Everything happens inside network namespaces made here.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${PODRUN_BUILD:-$TOP/build}
OURS=$BUILD/cni
REF=${PODRUN_REF_CNI:-/usr/lib/cni}
N=${N:-100}
BIG=${BIG:-250}
TAG=prb$$
WORK=$(mktemp -d)
NSES=()

cleanup() {
  for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkns() { ip netns add "$1"; NSES+=("$1"); }

conf() { # conf TYPE IPAM SUBNET
  echo "{\"cniVersion\":\"1.0.0\",\"name\":\"bench\",\"type\":\"$1\",\"bridge\":\"bbr0\",\"isGateway\":true,\"isDefaultGateway\":true,\"ipMasq\":true,\"ipam\":{\"type\":\"$2\",\"dataDir\":\"$WORK/$1\",\"subnet\":\"$3\"}}"
}

run_all() { # run_all CMD PLUGIN NODE CONF COUNT
  local cmd=$1 plugin=$2 node=$3 c=$4 count=$5 i
  for ((i = 1; i <= count; i++)); do
    printf '%s' "$c" | nsenter --net="/run/netns/$node" env CNI_COMMAND="$cmd" CNI_CONTAINERID="pod$i" \
      CNI_NETNS="/run/netns/$TAG-pod$i" CNI_IFNAME=eth0 CNI_PATH="$OURS:$REF" "$plugin" >/dev/null
  done
}

now() { date +%s.%N; }

mkns "$TAG-node-ours"
mkns "$TAG-node-ref"
for ((i = 1; i <= BIG; i++)); do mkns "$TAG-pod$i"; done

time_one() { # time_one LABEL PLUGIN NODE CONF -> prints seconds
  local t0 t1 t2
  t0=$(now)
  run_all ADD "$2" "$3" "$4" "$N"
  t1=$(now)
  run_all DEL "$2" "$3" "$4" "$N"
  t2=$(now)
  echo "$1: ADD ${N} pods $(echo "$t1 - $t0" | bc) s, DEL $(echo "$t2 - $t1" | bc) s" >&2
  echo "$t2 - $t0" | bc
}

ours=$(time_one "podrun-bridge+podrun-ipam" "$OURS/podrun-bridge" "$TAG-node-ours" \
  "$(conf podrun-bridge podrun-ipam 10.88.0.0/16)")
ref=$(time_one "reference bridge+host-local" "$REF/bridge" "$TAG-node-ref" \
  "$(conf bridge host-local 10.89.0.0/16)")
echo "ours=${ours}s reference=${ref}s for ADD+DEL of $N pods"

# 250 pods on one node: all get distinct addresses, the last reaches the first, DEL cleans.
c=$(conf podrun-bridge podrun-ipam 10.90.0.0/16)
t0=$(now)
run_all ADD "$OURS/podrun-bridge" "$TAG-node-ours" "$c" "$BIG"
t1=$(now)
addrs=$(for ((i = 1; i <= BIG; i++)); do ip netns exec "$TAG-pod$i" ip -4 -o addr show dev eth0 | awk '{print $4}'; done | sort -u | wc -l)
ip netns exec "$TAG-pod$BIG" busybox ping -c1 -W2 10.90.0.2 >/dev/null
ports=$(ip netns exec "$TAG-node-ours" ip -o link show master bbr0 | wc -l)
run_all DEL "$OURS/podrun-bridge" "$TAG-node-ours" "$c" "$BIG"
left=$(ip netns exec "$TAG-node-ours" ip -o link show master bbr0 | wc -l)
echo "$BIG pods on one node: ADD $(echo "$t1 - $t0" | bc) s, $addrs distinct addresses, $ports bridge ports, $left left after DEL"
[ "$addrs" -eq "$BIG" ] && [ "$ports" -eq "$BIG" ] && [ "$left" -eq 0 ]
printf "ratio=%.3f\n" "$(echo "scale=4; $ours / $ref" | bc)"
