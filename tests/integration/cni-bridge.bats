#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-bridge: every test runs the plugin inside a "node" network namespace it made, on
# pods that are network namespaces too; the host's own namespace is never touched.

load ../lib/helpers
load ../lib/cni-helpers

setup() {
  cni_setup
  BR=$CNI_BUILD/podrun-bridge
  NODE=$(mkns node)
  ip netns exec "$NODE" ip link set lo up
}

teardown() {
  standard_teardown
  cni_teardown
}

# bconf VERSION [EXTRA_TOP_LEVEL] [IPAM_TYPE] [SUBNET]
bconf() {
  local ipam=${3:-podrun-ipam} subnet=${4:-10.70.0.0/24}
  echo "{\"cniVersion\":\"$1\",\"name\":\"brnet\",\"type\":\"podrun-bridge\",\"bridge\":\"prbr0\",\"isGateway\":true,\"isDefaultGateway\":true${2:+,$2},\"ipam\":{\"type\":\"$ipam\",\"dataDir\":\"$CNI_DATA\",\"subnet\":\"$subnet\"}}"
}

pod_ip() { ip netns exec "$1" ip -4 -o addr show dev "${2:-eth0}" | awk '{print $4}'; }

@test "cni-bridge: VERSION lists 0.3.0 to 1.1.0" {
  run bash -c "echo '{\"cniVersion\":\"1.1.0\"}' | CNI_COMMAND=VERSION $BR"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c .supportedVersions)" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' ]
}

@test "cni-bridge: ADD wires a pod to the bridge, with its address, routes and a reachable gateway" {
  POD=$(mkns pod1)
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$(bconf 1.1.0 '"dns":{"nameservers":["10.70.0.53"]}')"
  [ "$status" -eq 0 ]
  echo "$output"
  [ "$(echo "$output" | jq -r .cniVersion)" = 1.1.0 ]
  [ "$(echo "$output" | jq -r '.interfaces | length')" -eq 3 ]
  [ "$(echo "$output" | jq -r '.interfaces[0].name')" = prbr0 ]
  [ "$(echo "$output" | jq -r '.interfaces[2].name')" = eth0 ]
  [ "$(echo "$output" | jq -r '.interfaces[2].sandbox')" = "/run/netns/$POD" ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.70.0.2/24 ]
  [ "$(echo "$output" | jq -r '.ips[0].interface')" = 2 ]
  [ "$(echo "$output" | jq -r '.routes[0].dst')" = 0.0.0.0/0 ]
  [ "$(echo "$output" | jq -r '.dns.nameservers[0]')" = 10.70.0.53 ]
  host_veth=$(echo "$output" | jq -r '.interfaces[1].name')
  # The pod side: eth0 up with the address and a default route via the gateway.
  [ "$(pod_ip "$POD")" = 10.70.0.2/24 ]
  [ "$(ip netns exec "$POD" cat /sys/class/net/eth0/address)" = "$(echo "$output" | jq -r '.interfaces[2].mac')" ]
  ip netns exec "$POD" ip route | grep -q '^default via 10.70.0.1 dev eth0'
  # The node side: veth on the bridge, the gateway on the bridge, forwarding on.
  ip netns exec "$NODE" ip -o link show "$host_veth" | grep -q 'master prbr0'
  ip netns exec "$NODE" ip -o addr show dev prbr0 | grep -q '10.70.0.1/24'
  [ "$(ip netns exec "$NODE" sysctl -n net.ipv4.ip_forward)" = 1 ]
  ip netns exec "$NODE" "$BUSYBOX" ping -c1 -W2 10.70.0.2
  ip netns exec "$POD" "$BUSYBOX" ping -c1 -W2 10.70.0.1
}

@test "cni-bridge: two pods on one bridge reach each other" {
  A=$(mkns a); B=$(mkns b)
  run cni "$NODE" "$BR" ADD ca "$A" eth0 "$(bconf 1.0.0)"; [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" ADD cb "$B" eth0 "$(bconf 1.0.0)"; [ "$status" -eq 0 ]
  ip netns exec "$A" "$BUSYBOX" ping -c1 -W2 10.70.0.3
  ip netns exec "$B" "$BUSYBOX" ping -c1 -W2 10.70.0.2
}

@test "cni-bridge: ADD twice for the same container returns the same attachment" {
  POD=$(mkns pod)
  c=$(bconf 1.1.0 '"ipMasq":true')
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"; [ "$status" -eq 0 ]
  first=$output
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"; [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c .ips)" = "$(echo "$first" | jq -c .ips)" ]
  [ "$(echo "$output" | jq -c '.interfaces[1:]')" = "$(echo "$first" | jq -c '.interfaces[1:]')" ]
  [ "$(ip netns exec "$NODE" nft list ruleset | grep -c masquerade)" -eq 1 ]
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.')" -eq 1 ]
  # A different container cannot take an interface name that is not its own attachment.
  run cni "$NODE" "$BR" ADD other "$POD" eth0 "$c"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 102 ]
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.')" -eq 1 ]
}

@test "cni-bridge: DEL removes veth, address, nft rule and allocation; DEL again and without netns succeed" {
  POD=$(mkns pod)
  c=$(bconf 1.1.0 '"ipMasq":true')
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"; [ "$status" -eq 0 ]
  host_veth=$(echo "$output" | jq -r '.interfaces[1].name')
  ip netns exec "$NODE" nft list table ip podrun_cni | grep -q 'podrun:brnet:c1:eth0'
  run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  ! ip netns exec "$NODE" ip link show "$host_veth" 2>/dev/null || false
  ! ip netns exec "$POD" ip link show eth0 2>/dev/null || false
  ! ip netns exec "$NODE" nft list tables | grep -q podrun_cni || false
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.')" -eq 0 ]
  run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  ip netns del "$POD"
  run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" DEL c1 "" eth0 "$c"
  [ "$status" -eq 0 ]
}

@test "cni-bridge: after ADD and DEL of many pods the node is as it was" {
  c=$(bconf 1.1.0 '"ipMasq":true,"hairpinMode":true')
  # The bridge and its gateway address stay by design (shared by all pods): make them first.
  P0=$(mkns p0)
  cni "$NODE" "$BR" ADD warm "$P0" eth0 "$c" >/dev/null
  cni "$NODE" "$BR" DEL warm "$P0" eth0 "$c"
  before=$(node_state "$NODE")
  echo "$before"
  for i in 1 2 3 4 5; do
    p=$(mkns "p$i")
    run cni "$NODE" "$BR" ADD "c$i" "$p" eth0 "$c"; [ "$status" -eq 0 ]
  done
  [ "$(node_state "$NODE")" != "$before" ]
  for i in 1 2 3 4 5; do
    run cni "$NODE" "$BR" DEL "c$i" "$NS_PREFIX-p$i" eth0 "$c"; [ "$status" -eq 0 ]
  done
  after=$(node_state "$NODE")
  diff <(echo "$before") <(echo "$after")
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.')" -eq 0 ]
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^id%')" -eq 0 ]
  for i in 1 2 3 4 5; do [ -z "$(ip netns exec "$NS_PREFIX-p$i" ip -o link show | grep -v ' lo:')" ]; done
}

@test "cni-bridge: CHECK passes on a healthy attachment and fails when the pod lost its address" {
  POD=$(mkns pod)
  c=$(bconf 1.1.0)
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"; [ "$status" -eq 0 ]
  checkconf=$(echo "$c" | jq -c --argjson prev "$output" '. + {prevResult: $prev}')
  run cni "$NODE" "$BR" CHECK c1 "$POD" eth0 "$checkconf"
  [ "$status" -eq 0 ]
  ip netns exec "$POD" ip addr flush dev eth0
  run cni "$NODE" "$BR" CHECK c1 "$POD" eth0 "$checkconf"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 100 ]
  # CHECK needs prevResult, and a version that has CHECK.
  run cni "$NODE" "$BR" CHECK c1 "$POD" eth0 "$c"
  [ "$(json_code)" -eq 7 ]
  run cni "$NODE" "$BR" CHECK c1 "$POD" eth0 "$(echo "$checkconf" | jq -c '.cniVersion = "0.3.1"')"
  [ "$(json_code)" -eq 1 ]
}

@test "cni-bridge: STATUS is ready with an IPAM plugin and 50 without one" {
  run cni "$NODE" "$BR" STATUS "" "" "" "$(bconf 1.1.0)"
  [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" STATUS "" "" "" "$(bconf 1.1.0 "" no-such-ipam)"
  [ "$(json_code)" -eq 50 ]
  # An exhausted range: IPAM says not available and the bridge passes it on.
  P1=$(mkns p1); P2=$(mkns p2)
  small=$(bconf 1.1.0 "" podrun-ipam 10.71.0.0/30)
  run cni "$NODE" "$BR" ADD c1 "$P1" eth0 "$small"; [ "$status" -eq 0 ]
  run cni "$NODE" "$BR" STATUS "" "" "" "$small"
  [ "$(json_code)" -eq 50 ]
  run cni "$NODE" "$BR" STATUS "" "" "" "$(bconf 1.0.0)"
  [ "$(json_code)" -eq 1 ]
}

@test "cni-bridge: GC removes what no valid attachment owns and keeps the rest" {
  c=$(bconf 1.1.0 '"ipMasq":true')
  for i in 1 2 3; do p=$(mkns "p$i"); run cni "$NODE" "$BR" ADD "c$i" "$p" eth0 "$c"; [ "$status" -eq 0 ]; done
  keep_veth=$(echo "$output" | jq -r '.interfaces[1].name')
  gc=$(echo "$c" | jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"c3","ifname":"eth0"}]}')
  run cni "$NODE" "$BR" GC "" "" "" "$gc"
  [ "$status" -eq 0 ]
  [ "$(ip netns exec "$NODE" ip -o link show master prbr0 | wc -l)" -eq 1 ]
  ip netns exec "$NODE" ip link show "$keep_veth"
  [ "$(ip netns exec "$NODE" nft list ruleset | grep -c masquerade)" -eq 1 ]
  ip netns exec "$NODE" nft list ruleset | grep -q 'podrun:brnet:c3:eth0'
  [ "$(ls "$CNI_DATA/brnet" | grep '^10\.')" = 10.70.0.4 ]
}

@test "cni-bridge: bad input is a spec error and nothing is half-made" {
  POD=$(mkns pod)
  before=$(node_state "$NODE")
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 '{"cniVersion":"1.0.0", broken'
  [ "$(json_code)" -eq 6 ]
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$(bconf 1.0.0 '"mtu":"big"')"
  [ "$(json_code)" -eq 7 ]
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$(bconf 0.2.0)"
  [ "$(json_code)" -eq 1 ]
  run cni "$NODE" "$BR" ADD c1 "$NS_PREFIX-missing" eth0 "$(bconf 1.0.0)"
  [ "$(json_code)" -eq 3 ]
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$(bconf 1.0.0 "" no-such-ipam)"
  [ "$(json_code)" -eq 7 ]
  [[ "$(echo "$output" | jq -r .msg)" == *no-such-ipam* ]]
  run cni "$NODE" "$BR" ADD c1 "$POD" "" "$(bconf 1.0.0)"
  [ "$(json_code)" -eq 4 ]
  [ "$(node_state "$NODE")" = "$before" ]
  [ -z "$(ip netns exec "$POD" ip -o link show | grep -v ' lo:')" ]
  # Exhausted range: /30 has one address besides the gateway.
  small=$(bconf 1.0.0 '"ipMasq":true' podrun-ipam 10.72.0.0/30)
  P1=$(mkns p1)
  run cni "$NODE" "$BR" ADD c1 "$P1" eth0 "$small"; [ "$status" -eq 0 ]
  state=$(node_state "$NODE")
  run cni "$NODE" "$BR" ADD c2 "$POD" eth0 "$small"
  [ "$(json_code)" -eq 11 ]
  [ "$(node_state "$NODE")" = "$state" ]
  [ -z "$(ip netns exec "$POD" ip -o link show | grep -v ' lo:')" ]
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.')" -eq 1 ]
}

@test "cni-bridge: prevResult is kept and ours appended (chaining); 0.3.1 results carry versions" {
  POD=$(mkns pod)
  prev='{"cniVersion":"1.0.0","interfaces":[{"name":"dummy0","mac":"aa:bb:cc:dd:ee:ff"}],"ips":[{"address":"192.0.2.9/24","interface":0}],"dns":{}}'
  c=$(bconf 1.0.0 | jq -c --argjson p "$prev" '. + {prevResult: $p}')
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.interfaces | length')" -eq 4 ]
  [ "$(echo "$output" | jq -r '.interfaces[0].name')" = dummy0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 192.0.2.9/24 ]
  [ "$(echo "$output" | jq -r '.ips[1].interface')" = 3 ]
  [ "$(echo "$output" | jq -r '.interfaces[3].name')" = eth0 ]
  P2=$(mkns p2)
  run cni "$NODE" "$BR" ADD c2 "$P2" eth0 "$(bconf 0.3.1)"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].version')" = 4 ]
}

@test "cni-bridge: mtu, hairpinMode, promiscMode and forceAddress" {
  POD=$(mkns pod)
  c=$(bconf 1.1.0 '"mtu":1400,"hairpinMode":true,"promiscMode":true')
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  hv=$(echo "$output" | jq -r '.interfaces[1].name')
  [ "$(ip netns exec "$POD" cat /sys/class/net/eth0/mtu)" = 1400 ]
  [ "$(ip netns exec "$NODE" cat /sys/class/net/$hv/mtu)" = 1400 ]
  [ "$(ip netns exec "$NODE" cat /sys/class/net/$hv/brport/hairpin_mode)" = 1 ]
  [ "$(ip netns exec "$NODE" cat /sys/class/net/prbr0/flags)" = "$(printf '0x%x' $(( $(ip netns exec "$NODE" cat /sys/class/net/prbr0/flags) | 0x100 )))" ]
  # Another gateway on the same bridge: refused, unless forceAddress replaces it.
  P2=$(mkns p2)
  other='{"cniVersion":"1.1.0","name":"brnet2","type":"podrun-bridge","bridge":"prbr0","isGateway":true,"ipam":{"type":"podrun-ipam","dataDir":"'$CNI_DATA'","subnet":"10.70.0.0/24","gateway":"10.70.0.254"}}'
  run cni "$NODE" "$BR" ADD c2 "$P2" eth0 "$other"
  [ "$(json_code)" -eq 7 ]
  [ -z "$(ip netns exec "$P2" ip -o link show | grep -v ' lo:')" ]
  run cni "$NODE" "$BR" ADD c2 "$P2" eth0 "$(echo "$other" | jq -c '.forceAddress = true')"
  [ "$status" -eq 0 ]
  ip netns exec "$NODE" ip -o addr show dev prbr0 | grep -q '10.70.0.254/24'
  ! ip netns exec "$NODE" ip -o addr show dev prbr0 | grep -q '10.70.0.1/24' || false
}

@test "cni-bridge: vlan puts the pod's port in its VLAN, or is refused cleanly without kernel support" {
  POD=$(mkns pod)
  c=$(bconf 1.1.0 '"vlan":42')
  if ! ip netns exec "$NODE" ip link add prvlantest type bridge vlan_filtering 1 2>/dev/null; then
    # The QEMU lane's Debian kernel has VLAN filtering: there the working path must run.
    [ -z "${PODRUN_REQUIRE_VLAN:-}" ] || { echo "bridge VLAN filtering missing" >&2; return 1; }
    # This kernel has no CONFIG_BRIDGE_VLAN_FILTERING: a clear error 7, nothing made.
    before=$(node_state "$NODE")
    run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"
    [ "$(json_code)" -eq 7 ]
    [[ "$(echo "$output" | jq -r .msg)" == *VLAN* ]]
    [ "$(node_state "$NODE")" = "$before" ]
    [ "$(ls "$CNI_DATA" | wc -l)" -eq 0 ]
    return
  fi
  ip netns exec "$NODE" ip link del prvlantest
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  hv=$(echo "$output" | jq -r '.interfaces[1].name')
  [ "$(ip netns exec "$NODE" cat /sys/class/net/prbr0/bridge/vlan_filtering)" = 1 ]
  ip netns exec "$NODE" bridge vlan show dev "$hv" | grep -q '42 PVID Egress Untagged'
}

@test "cni-bridge: works with the reference host-local IPAM" {
  [ -x "$REF_CNI/host-local" ] || skip "needs containernetworking-plugins (host-local)"
  POD=$(mkns pod)
  c=$(bconf 1.0.0 "" host-local)
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.70.0.2/24 ]
  [ -f "$CNI_DATA/brnet/10.70.0.2" ]
  [ "$(pod_ip "$POD")" = 10.70.0.2/24 ]
  run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$c"
  [ "$status" -eq 0 ]
  [ ! -f "$CNI_DATA/brnet/10.70.0.2" ]
}

# The pod's view, without what differs by nature (indexes, MACs, link-local addresses).
pod_view() {
  ip netns exec "$1" ip -j addr show | jq -c '[.[] | {ifname, mtu, operstate, flags,
    addrs: [.addr_info[] | select(.scope != "link") | {family, local, prefixlen, broadcast}]}]'
  ip netns exec "$1" ip -j route show | jq -c '[.[] | {dst, gateway, dev, protocol, scope}]'
}

shape() { # keys of the result, its interfaces and ips, without values that differ by nature
  echo "$1" | jq -c '{keys: keys, cniVersion, ifaces: [.interfaces[] | keys], ips: [.ips[] | {address, gateway, interface, version}], routes, dns}'
}

@test "cni-bridge: same config through the reference bridge gives the same result shape and pod" {
  [ -x "$REF_CNI/bridge" ] || skip "needs containernetworking-plugins (bridge)"
  NODE2=$(mkns node2)
  P1=$(mkns p1); P2=$(mkns p2)
  mkdir -p "$BATS_TEST_TMPDIR/ref"
  for v in 0.3.1 0.4.0 1.0.0; do
    ours=$(bconf $v '"mtu":1450,"hairpinMode":true' podrun-ipam)
    ref=$(echo "$ours" | jq -c --arg d "$BATS_TEST_TMPDIR/ref" '.type = "bridge" | .ipam.type = "host-local" | .ipam.dataDir = $d | .ipam.routes = [{"dst":"10.99.0.0/16"}]')
    ours=$(echo "$ours" | jq -c '.ipam.routes = [{"dst":"10.99.0.0/16"}]')
    run cni "$NODE" "$BR" ADD c1 "$P1" eth0 "$ours"; [ "$status" -eq 0 ]; r_ours=$output
    run cni "$NODE2" "$REF_CNI/bridge" ADD c1 "$P2" eth0 "$ref"; [ "$status" -eq 0 ]; r_ref=$output
    echo "ours: $r_ours"; echo "ref:  $r_ref"
    diff <(shape "$r_ours") <(shape "$r_ref")
    diff <(pod_view "$P1" | sed "s/$P1/POD/g") <(pod_view "$P2" | sed "s/$P2/POD/g")
    # The node side too: the bridge's address and the host veth's bridge port.
    diff <(ip netns exec "$NODE" ip -j addr show dev prbr0 | jq -c '[.[].addr_info[] | select(.scope != "link") | {local, prefixlen, broadcast}]') \
         <(ip netns exec "$NODE2" ip -j addr show dev prbr0 | jq -c '[.[].addr_info[] | select(.scope != "link") | {local, prefixlen, broadcast}]')
    hv1=$(echo "$r_ours" | jq -r '.interfaces[1].name'); hv2=$(echo "$r_ref" | jq -r '.interfaces[1].name')
    [ "$(ip netns exec "$NODE" cat /sys/class/net/$hv1/brport/hairpin_mode)" = "$(ip netns exec "$NODE2" cat /sys/class/net/$hv2/brport/hairpin_mode)" ]
    [ "$(ip netns exec "$NODE" cat /sys/class/net/$hv1/mtu)" = "$(ip netns exec "$NODE2" cat /sys/class/net/$hv2/mtu)" ]
    # Both DELs leave their pods empty.
    run cni "$NODE" "$BR" DEL c1 "$P1" eth0 "$ours"; [ "$status" -eq 0 ]
    run cni "$NODE2" "$REF_CNI/bridge" DEL c1 "$P2" eth0 "$ref"; [ "$status" -eq 0 ]
    diff <(pod_view "$P1") <(pod_view "$P2")
  done
}

@test "cni-bridge: ipMasq masquerades traffic leaving the pod network, and only that" {
  POD=$(mkns pod); OUT=$(mkns outside)
  ip link add "prcm$$" netns "$NODE" type veth peer name eth0 netns "$OUT"
  ip netns exec "$NODE" ip addr add 192.168.99.1/24 dev "prcm$$"
  ip netns exec "$NODE" ip link set "prcm$$" up
  ip netns exec "$OUT" ip addr add 192.168.99.2/24 dev eth0
  ip netns exec "$OUT" ip link set eth0 up
  run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$(bconf 1.1.0 '"ipMasq":true')"
  [ "$status" -eq 0 ]
  www=$BATS_TEST_TMPDIR/www; mkdir -p "$www/cgi-bin"
  printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > "$www/cgi-bin/ip"
  chmod +x "$www/cgi-bin/ip"
  ip netns exec "$OUT" "$BUSYBOX" httpd -f -p 8080 -h "$www" &
  echo $! >> "$PIDS_LIST"
  for i in $(seq 1 50); do
    seen=$(printf 'GET /cgi-bin/ip HTTP/1.0\r\n\r\n' | ip netns exec "$POD" timeout 5 "$BUSYBOX" nc 192.168.99.2 8080 | tail -n1 | tr -d '\r') && [ -n "$seen" ] && break
    sleep 0.1
  done
  echo "outside saw $seen"
  [[ "$seen" == *192.168.99.1* ]]
  # Without ipMasq the outside sees the pod's own address.
  P2=$(mkns p2)
  run cni "$NODE" "$BR" ADD c2 "$P2" eth0 "$(bconf 1.1.0)"
  ip netns exec "$OUT" ip route add 10.70.0.0/24 via 192.168.99.1
  seen=$(printf 'GET /cgi-bin/ip HTTP/1.0\r\n\r\n' | ip netns exec "$P2" timeout 5 "$BUSYBOX" nc 192.168.99.2 8080 | tail -n1 | tr -d '\r')
  [[ "$seen" == *10.70.0.3* ]]
}

@test "cni-bridge: dual-stack range sets give the pod IPv4 and IPv6 and both work" {
  A=$(mkns a); B=$(mkns b)
  c='{"cniVersion":"1.1.0","name":"ds","type":"podrun-bridge","bridge":"prbr0","isGateway":true,"isDefaultGateway":true,"ipam":{"type":"podrun-ipam","dataDir":"'$CNI_DATA'","ranges":[[{"subnet":"10.73.0.0/24"}],[{"subnet":"fd73::/64"}]]}}'
  run cni "$NODE" "$BR" ADD ca "$A" eth0 "$c"; [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[1].address')" = fd73::2/64 ]
  [ "$(echo "$output" | jq -r '[.routes[].dst] | sort | join(",")')" = "0.0.0.0/0,::/0" ]
  run cni "$NODE" "$BR" ADD cb "$B" eth0 "$c"; [ "$status" -eq 0 ]
  ip netns exec "$A" ip -6 route | grep -q '^default via fd73::1 dev eth0'
  ip netns exec "$NODE" ip -6 -o addr show dev prbr0 | grep -q 'fd73::1/64'
  ip netns exec "$A" "$BUSYBOX" ping -6 -c1 -W2 fd73::3
  ip netns exec "$A" "$BUSYBOX" ping -c1 -W2 10.73.0.3
  [ "$(ip netns exec "$NODE" sysctl -n net.ipv6.conf.all.forwarding)" = 1 ]
  run cni "$NODE" "$BR" DEL ca "$A" eth0 "$c"; [ "$status" -eq 0 ]
  [ "$(ls "$CNI_DATA/ds" | grep -c ':')" -eq 1 ]
}

@test "cni-bridge: 250 pods on one node get distinct addresses, talk, and all go away" {
  c=$(bconf 1.1.0 "" podrun-ipam 10.74.0.0/16)
  for i in $(seq 1 250); do
    p=$(mkns "m$i")
    cni "$NODE" "$BR" ADD "m$i" "$p" eth0 "$c" > /dev/null
  done
  [ "$(ip netns exec "$NODE" ip -o link show master prbr0 | wc -l)" -eq 250 ]
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.74\.')" -eq 250 ]
  [ "$(for i in $(seq 1 250); do pod_ip "$NS_PREFIX-m$i"; done | sort -u | wc -l)" -eq 250 ]
  ip netns exec "$NS_PREFIX-m250" "$BUSYBOX" ping -c1 -W2 10.74.0.2
  ip netns exec "$NS_PREFIX-m1" "$BUSYBOX" ping -c1 -W2 "$(pod_ip "$NS_PREFIX-m250" | cut -d/ -f1)"
  for i in $(seq 1 250); do
    cni "$NODE" "$BR" DEL "m$i" "$NS_PREFIX-m$i" eth0 "$c"
  done
  [ "$(ip netns exec "$NODE" ip -o link show master prbr0 | wc -l)" -eq 0 ]
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.74\.')" -eq 0 ]
}

@test "cni-bridge: parallel ADDs and DELs on one bridge" {
  c=$(bconf 1.1.0 '"ipMasq":true')
  for i in $(seq 1 16); do mkns "q$i" > /dev/null; done
  for i in $(seq 1 16); do
    cni "$NODE" "$BR" ADD "q$i" "$NS_PREFIX-q$i" eth0 "$c" > "$BATS_TEST_TMPDIR/add.$i" &
  done
  wait
  for i in $(seq 1 16); do jq -r '.ips[0].address' "$BATS_TEST_TMPDIR/add.$i"; done | sort -u > "$BATS_TEST_TMPDIR/ips"
  [ "$(grep -c '^10\.70\.0\.' "$BATS_TEST_TMPDIR/ips")" -eq 16 ]
  [ "$(ip netns exec "$NODE" ip -o link show master prbr0 | wc -l)" -eq 16 ]
  [ "$(ip netns exec "$NODE" nft list ruleset | grep -c masquerade)" -eq 16 ]
  for i in $(seq 1 16); do
    cni "$NODE" "$BR" DEL "q$i" "$NS_PREFIX-q$i" eth0 "$c" &
  done
  wait
  [ "$(ip netns exec "$NODE" ip -o link show master prbr0 | wc -l)" -eq 0 ]
  ! ip netns exec "$NODE" nft list tables | grep -q podrun_cni || false
  [ "$(ls "$CNI_DATA/brnet" | grep -c '^10\.')" -eq 0 ]
}
