#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-ipam: host-local semantics, run directly (IPAM touches files only, no namespaces).

load ../lib/helpers
load ../lib/cni-helpers

setup() {
  cni_setup
  IPAM=$CNI_BUILD/podrun-ipam
}

teardown() {
  standard_teardown
  cni_teardown
}

conf() { # conf VERSION IPAM_BODY [EXTRA_TOP_LEVEL]
  echo "{\"cniVersion\":\"$1\",\"name\":\"ipamnet\",\"type\":\"podrun-bridge\"${3:+,$3},\"ipam\":{\"type\":\"podrun-ipam\",\"dataDir\":\"$CNI_DATA\",$2}}"
}

ipam() { # ipam CMD ID IFNAME CONF [CNI_ARGS]
  printf '%s' "$4" | env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS=/var/run/netns/none \
    CNI_IFNAME="$3" CNI_ARGS="${5:-}" "$IPAM"
}

@test "cni-ipam: VERSION lists 0.3.0 to 1.1.0" {
  run bash -c "echo '{\"cniVersion\":\"1.0.0\"}' | CNI_COMMAND=VERSION $IPAM"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c .supportedVersions)" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]' ]
}

@test "cni-ipam: ADD hands out addresses in order with gateway, routes and dns" {
  echo "nameserver 10.0.0.53" > "$BATS_TEST_TMPDIR/resolv.conf"
  echo "search example.test" >> "$BATS_TEST_TMPDIR/resolv.conf"
  c=$(conf 1.1.0 "\"subnet\":\"10.50.0.0/24\",\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"10.60.0.0/16\",\"gw\":\"10.50.0.254\"}],\"resolvConf\":\"$BATS_TEST_TMPDIR/resolv.conf\"")
  run ipam ADD c1 eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.50.0.2/24 ]
  [ "$(echo "$output" | jq -r '.ips[0].gateway')" = 10.50.0.1 ]
  [ "$(echo "$output" | jq -r '.ips[0].version')" = null ]
  [ "$(echo "$output" | jq -c '.routes')" = '[{"dst":"0.0.0.0/0"},{"dst":"10.60.0.0/16","gw":"10.50.0.254"}]' ]
  [ "$(echo "$output" | jq -r '.dns.nameservers[0]')" = 10.0.0.53 ]
  [ "$(echo "$output" | jq -r '.dns.search[0]')" = example.test ]
  run ipam ADD c2 eth0 "$c"
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.50.0.3/24 ]
  # host-local's on-disk format: a file per address holding "id\r\nifname".
  [ "$(cat "$CNI_DATA/ipamnet/10.50.0.3")" = "$(printf 'c2\r\neth0')" ]
  # 0.3.1 results carry the address version.
  run ipam ADD c3 eth0 "$(conf 0.3.1 '"subnet":"10.50.0.0/24"')"
  [ "$(echo "$output" | jq -r '.ips[0].version')" = 4 ]
  [ "$(echo "$output" | jq -r '.cniVersion')" = 0.3.1 ]
}

@test "cni-ipam: the same attachment asking again gets the same address" {
  c=$(conf 1.0.0 '"subnet":"10.51.0.0/24"')
  run ipam ADD c1 eth0 "$c"
  first=$(echo "$output" | jq -r '.ips[0].address')
  run ipam ADD c1 eth0 "$c"
  [ "$(echo "$output" | jq -r '.ips[0].address')" = "$first" ]
  run ipam ADD c1 eth1 "$c"
  [ "$(echo "$output" | jq -r '.ips[0].address')" != "$first" ]
}

@test "cni-ipam: 50 parallel ADDs get 50 distinct addresses" {
  c=$(conf 1.1.0 '"subnet":"10.52.0.0/24"')
  for i in $(seq 1 50); do
    ipam ADD "par$i" eth0 "$c" > "$BATS_TEST_TMPDIR/out.$i" &
  done
  wait
  for i in $(seq 1 50); do jq -r '.ips[0].address' "$BATS_TEST_TMPDIR/out.$i"; done | sort > "$BATS_TEST_TMPDIR/all"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/all")" -eq 50 ]
  [ "$(sort -u "$BATS_TEST_TMPDIR/all" | wc -l)" -eq 50 ]
  ! grep -q null "$BATS_TEST_TMPDIR/all" || false
  [ "$(ls "$CNI_DATA/ipamnet" | grep -c '^10\.52\.')" -eq 50 ]
}

@test "cni-ipam: rangeStart, rangeEnd, gateway and range sets" {
  c=$(conf 1.1.0 '"ranges":[[{"subnet":"10.53.0.0/24","rangeStart":"10.53.0.10","rangeEnd":"10.53.0.11","gateway":"10.53.0.11"},{"subnet":"10.53.1.0/24","rangeStart":"10.53.1.5","rangeEnd":"10.53.1.5"}],[{"subnet":"fd53::/64"}]]')
  run ipam ADD a eth0 "$c"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.53.0.10/24 ]
  [ "$(echo "$output" | jq -r '.ips[0].gateway')" = 10.53.0.11 ]
  [ "$(echo "$output" | jq -r '.ips[1].address')" = fd53::2/64 ]
  [ "$(echo "$output" | jq -r '.ips[1].gateway')" = fd53::1 ]
  # .11 is the gateway, so the next one comes from the second range of the set.
  run ipam ADD b eth0 "$c"
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.53.1.5/24 ]
  [ "$(echo "$output" | jq -r '.ips[0].gateway')" = 10.53.1.1 ]
}

@test "cni-ipam: requested IPs from CNI_ARGS, args.cni.ips and runtimeConfig.ips" {
  base='"subnet":"10.54.0.0/24"'
  run ipam ADD a eth0 "$(conf 1.1.0 "$base")" "IgnoreUnknown=1;IP=10.54.0.77"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.54.0.77/24 ]
  run ipam ADD b eth0 "$(conf 1.1.0 "$base" '"args":{"cni":{"ips":["10.54.0.78"]}}')"
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.54.0.78/24 ]
  run ipam ADD c eth0 "$(conf 1.1.0 "$base" '"runtimeConfig":{"ips":["10.54.0.79/24"]}')"
  [ "$(echo "$output" | jq -r '.ips[0].address')" = 10.54.0.79/24 ]
  # Taken by another attachment: our code 101, nothing allocated for d.
  run ipam ADD d eth0 "$(conf 1.1.0 "$base")" "IP=10.54.0.77"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 101 ]
  ! grep -rq '^d' "$CNI_DATA/ipamnet"/10.54.* || false
  # Outside every range: invalid configuration.
  run ipam ADD e eth0 "$(conf 1.1.0 "$base")" "IP=10.99.0.1"
  [ "$(json_code)" -eq 7 ]
}

@test "cni-ipam: an exhausted range is error 11 and leaves nothing half-made" {
  c=$(conf 1.1.0 '"ranges":[[{"subnet":"10.55.0.0/29"}],[{"subnet":"fd55::/64"}]]')
  for i in 1 2 3 4 5; do run ipam ADD "x$i" eth0 "$c"; [ "$status" -eq 0 ]; done
  before=$(ls "$CNI_DATA/ipamnet" | sort)
  run ipam ADD full eth0 "$c"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 11 ]
  [[ "$(echo "$output" | jq -r .msg)" == *"no IP addresses available in range set: 10.55.0.1-10.55.0.6"* ]]
  # The IPv6 set had room, but no address of it was kept for the failed attachment.
  [ "$(ls "$CNI_DATA/ipamnet" | sort)" = "$before" ]
  # STATUS reports it as not available (50) until an address is released.
  run ipam STATUS "" "" "$c"
  [ "$(json_code)" -eq 50 ]
  run ipam DEL x3 eth0 "$c"
  [ "$status" -eq 0 ]
  run ipam STATUS "" "" "$c"
  [ "$status" -eq 0 ]
  run ipam ADD full eth0 "$c"
  [ "$status" -eq 0 ]
}

@test "cni-ipam: DEL releases by container id and ifname, twice is fine; CHECK sees it" {
  c=$(conf 1.1.0 '"subnet":"10.56.0.0/24"')
  run ipam ADD a eth0 "$c"; run ipam ADD a eth1 "$c"
  run ipam CHECK a eth0 "$c"
  [ "$status" -eq 0 ]
  run ipam DEL a eth0 "$c"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run ipam DEL a eth0 "$c"
  [ "$status" -eq 0 ]
  run ipam CHECK a eth0 "$c"
  [ "$status" -eq 1 ]
  [ "$(json_code)" -eq 100 ]
  [ "$(grep -l 'eth1' "$CNI_DATA/ipamnet"/10.56.* | wc -l)" -eq 1 ]
  [ "$(grep -l 'eth0' "$CNI_DATA/ipamnet"/10.56.* 2>/dev/null | wc -l)" -eq 0 ]
}

@test "cni-ipam: GC keeps the valid attachments and sweeps the rest" {
  c=$(conf 1.1.0 '"subnet":"10.57.0.0/24"')
  for id in keep1 gone1 keep2 gone2; do run ipam ADD "$id" eth0 "$c"; done
  gc=$(conf 1.1.0 '"subnet":"10.57.0.0/24"' '"cni.dev/valid-attachments":[{"containerID":"keep1","ifname":"eth0"},{"containerID":"keep2","ifname":"eth0"}]')
  run ipam GC "" "" "$gc"
  [ "$status" -eq 0 ]
  got=$(for f in "$CNI_DATA"/ipamnet/10.57.*; do tr -d '\r' < "$f" | tr '\n' ' '; echo; done | sort | tr '\n' ';')
  [ "$got" = "keep1 eth0;keep2 eth0;" ]
  [ "$(ls "$CNI_DATA/ipamnet" | grep -c '^id%')" -eq 2 ]
  # GC without the list refuses instead of sweeping everything; GC needs 1.1.0.
  run ipam GC "" "" "$c"
  [ "$(json_code)" -eq 7 ]
  run ipam GC "" "" "$(conf 1.0.0 '"subnet":"10.57.0.0/24"')"
  [ "$(json_code)" -eq 1 ]
}

@test "cni-ipam: bad input gets the spec's error codes" {
  run ipam ADD a eth0 '{not json'
  [ "$status" -eq 1 ]; [ "$(json_code)" -eq 6 ]
  run ipam ADD a eth0 '{"name":"n","type":"x","ipam":{"subnet":"10.0.0.0/24"}}'
  [ "$(json_code)" -eq 1 ]
  run ipam ADD a eth0 "$(conf 2.0.0 '"subnet":"10.58.0.0/24"')"
  [ "$(json_code)" -eq 1 ]
  run ipam ADD a eth0 "$(conf 1.1.0 '"subnet":"10.58.0.0/33"')"
  [ "$(json_code)" -eq 7 ]
  run ipam ADD a eth0 "$(conf 1.1.0 '"subnet":"10.58.0.0/24","rangeStart":"10.59.0.1"')"
  [ "$(json_code)" -eq 7 ]
  run ipam ADD a eth0 "$(conf 1.1.0 '"ranges":[[{"subnet":"10.58.0.0/24"}],[{"subnet":"10.58.0.0/25"}]]')"
  [ "$(json_code)" -eq 7 ]
  run ipam ADD 'bad/id' eth0 "$(conf 1.1.0 '"subnet":"10.58.0.0/24"')"
  [ "$(json_code)" -eq 4 ]
  run bash -c "printf '%s' '$(conf 1.1.0 '"subnet":"10.58.0.0/24"')' | CNI_COMMAND=ADD CNI_NETNS=/x CNI_IFNAME=eth0 $IPAM"
  [ "$(json_code)" -eq 4 ]
  [[ "$(echo "$output" | jq -r .msg)" == *CNI_CONTAINERID* ]]
  [ ! -e "$CNI_DATA/ipamnet/10.58.0.2" ]
}
