#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Flat pod network across nodes: three "nodes" (network namespaces) on an underlay bridge in a
# fourth, two pods on each; every pod reaches every other pod by its IP with no NAT.

load ../lib/helpers
load ../lib/cni-helpers

setup() {
  cni_setup
  BR=$CNI_BUILD/podrun-bridge
  UL=$(mkns underlay)
  ip netns exec "$UL" ip link add ulbr type bridge
  ip netns exec "$UL" ip link set ulbr up
  NODES_JSON='[{"name":"n1","nodeIP":"192.168.77.1","podCIDR":"10.210.1.0/24"},{"name":"n2","nodeIP":"192.168.77.2","podCIDR":"10.210.2.0/24"},{"name":"n3","nodeIP":"192.168.77.3","podCIDR":"10.210.3.0/24"}]'
  for n in 1 2 3; do
    node=$(mkns "n$n")
    ip netns exec "$node" ip link set lo up
    ip link add "prcul$$n$n" netns "$UL" type veth peer name eth0 netns "$node"
    ip netns exec "$UL" ip link set "prcul$$n$n" master ulbr up
    ip netns exec "$node" ip addr add "192.168.77.$n/24" dev eth0
    ip netns exec "$node" ip link set eth0 up
  done
}

teardown() {
  standard_teardown
  cni_teardown
}

# nconf N [EXTRA]: node N's network config: its own pod subnet, the cluster's nodes.
nconf() {
  echo "{\"cniVersion\":\"1.1.0\",\"name\":\"flat\",\"type\":\"podrun-bridge\",\"bridge\":\"pod0\",\"isGateway\":true,\"isDefaultGateway\":true,\"ipMasq\":true,\"clusterCIDR\":\"10.210.0.0/16\",\"nodes\":$NODES_JSON${2:+,$2},\"ipam\":{\"type\":\"podrun-ipam\",\"dataDir\":\"$CNI_DATA/n$1\",\"subnet\":\"10.210.$1.0/24\"}}"
}

start_httpd() { # start_httpd POD: serves /cgi-bin/ip, which answers the client's address
  local www=$BATS_TEST_TMPDIR/www-$1
  mkdir -p "$www/cgi-bin"
  printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > "$www/cgi-bin/ip"
  chmod +x "$www/cgi-bin/ip"
  ip netns exec "$1" "$BUSYBOX" httpd -f -p 8080 -h "$www" &
  echo $! >> "$PIDS_LIST"
}

fetch_ip() { # fetch_ip FROM_POD TO_IP: what the server at TO_IP saw as our address
  printf 'GET /cgi-bin/ip HTTP/1.0\r\n\r\n' |
    ip netns exec "$1" timeout 5 "$BUSYBOX" nc "$2" 8080 | tail -n1 | tr -d '\r' |
    sed -E 's/^\[(::ffff:)?//; s/\]$//' # httpd's dual-stack socket writes [::ffff:A.B.C.D]
}

@test "cni-flat: six pods on three nodes reach each other by IP and see each other's pod IP" {
  declare -A ip
  pods=()
  for n in 1 2 3; do
    for k in a b; do
      pod=$(mkns "pod$n$k")
      ip netns exec "$pod" ip link set lo up
      run cni "$NS_PREFIX-n$n" "$BR" ADD "pod$n$k" "$pod" eth0 "$(nconf $n)"
      [ "$status" -eq 0 ]
      ip[$pod]=$(echo "$output" | jq -r '.ips[0].address | split("/")[0]')
      pods+=("$pod")
      start_httpd "$pod"
    done
  done
  # Each node routes the others' pod subnets via their node IPs (host-gw), not its own.
  ip netns exec "$NS_PREFIX-n1" ip route show proto 211 | sort > "$BATS_TEST_TMPDIR/routes"
  cat "$BATS_TEST_TMPDIR/routes"
  [ "$(grep -c . "$BATS_TEST_TMPDIR/routes")" -eq 2 ]
  grep -q '^10.210.2.0/24 via 192.168.77.2 dev eth0' "$BATS_TEST_TMPDIR/routes"
  grep -q '^10.210.3.0/24 via 192.168.77.3 dev eth0' "$BATS_TEST_TMPDIR/routes"
  for i in $(seq 1 50); do
    [ -n "$(fetch_ip "${pods[5]}" "${ip[${pods[5]}]}")" ] && break
    sleep 0.1
  done
  for src in "${pods[@]}"; do
    for dst in "${pods[@]}"; do
      [ "$src" = "$dst" ] && continue
      ip netns exec "$src" "$BUSYBOX" ping -c1 -W2 "${ip[$dst]}" >/dev/null
      seen=$(fetch_ip "$src" "${ip[$dst]}")
      echo "$src -> $dst: server saw $seen"
      [ "$seen" = "${ip[$src]}" ]
    done
  done
}

@test "cni-flat: sync-routes follows the nodes list and removes routes of nodes that left" {
  node=$NS_PREFIX-n1
  printf '%s' "$(nconf 1)" | ip netns exec "$node" "$BR" sync-routes
  [ "$(ip netns exec "$node" ip route show proto 211 | wc -l)" -eq 2 ]
  # Node 3 leaves the cluster: the next sync drops its route and keeps the rest of the table.
  NODES_JSON='[{"name":"n1","nodeIP":"192.168.77.1","podCIDR":"10.210.1.0/24"},{"name":"n2","nodeIP":"192.168.77.2","podCIDR":"10.210.2.0/24"}]'
  printf '%s' "$(nconf 1)" | ip netns exec "$node" "$BR" sync-routes
  [ "$(ip netns exec "$node" ip route show proto 211)" = "10.210.2.0/24 via 192.168.77.2 dev eth0 " ] ||
    [ "$(ip netns exec "$node" ip route show proto 211 | sed 's/ *$//')" = "10.210.2.0/24 via 192.168.77.2 dev eth0" ]
  ip netns exec "$node" ip route | grep -q '^192.168.77.0/24 dev eth0'
  # The same list from a file.
  echo "{\"nodes\":$NODES_JSON}" > "$BATS_TEST_TMPDIR/nodes.json"
  conf=$(nconf 1 | jq -c --arg f "$BATS_TEST_TMPDIR/nodes.json" 'del(.nodes) | .nodesFile = $f')
  ip netns exec "$node" ip route del 10.210.2.0/24
  printf '%s' "$conf" | ip netns exec "$node" "$BR" sync-routes
  [ "$(ip netns exec "$node" ip route show proto 211 | wc -l)" -eq 1 ]
  # The configuration list an operator has in the conf dir: its podrun-bridge entry, with the
  # list's version and name. Node 3 comes back.
  NODES_JSON='[{"name":"n1","nodeIP":"192.168.77.1","podCIDR":"10.210.1.0/24"},{"name":"n2","nodeIP":"192.168.77.2","podCIDR":"10.210.2.0/24"},{"name":"n3","nodeIP":"192.168.77.3","podCIDR":"10.210.3.0/24"}]'
  list=$(nconf 1 | jq -c '{cniVersion, name, plugins: [{type: "portmap"}, (del(.cniVersion, .name))]}')
  printf '%s' "$list" | ip netns exec "$node" "$BR" sync-routes
  [ "$(ip netns exec "$node" ip route show proto 211 | wc -l)" -eq 2 ]
  ip netns exec "$node" ip route show proto 211 | grep -q '^10.210.3.0/24 via 192.168.77.3 dev eth0'
  run sh -c "printf '%s' '$(jq -c 'del(.plugins[1])' <<<"$list")' | ip netns exec $node $BR sync-routes"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no podrun-bridge in plugins"* ]]
  # A configuration with no nodes list at all is refused and removes no route (an empty list
  # would remove them all).
  run sh -c "printf '%s' '$(nconf 1 | jq -c 'del(.nodes)')' | ip netns exec $node $BR sync-routes"
  [ "$status" -eq 1 ]
  [[ "$output" == *"neither nodes nor nodesFile"* ]]
  [ "$(ip netns exec "$node" ip route show proto 211 | wc -l)" -eq 2 ]
  # A broken nodes list is an invalid configuration for ADD.
  pod=$(mkns pod)
  run cni "$node" "$BR" ADD c1 "$pod" eth0 "$(nconf 1 | jq -c '.nodes[0].podCIDR = "nope"')"
  [ "$(json_code)" -eq 7 ]
}
