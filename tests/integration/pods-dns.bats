#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A pod's /etc/resolv.conf, /etc/hosts and /etc/hostname as the kubelet (and containerd) write
# them: dnsPolicy and dnsConfig against the node's resolv.conf (a test file given as the
# kubelet's --resolv-conf), cluster DNS when the node has it, hostname, subdomain,
# setHostnameAsFQDN and hostAliases; per-pod files bound over the image's.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/pod.yaml
  cat > "$BATS_TEST_TMPDIR/resolv.conf" <<'EOF'
# the node's resolver
nameserver 192.0.2.53
nameserver 192.0.2.54
search corp.example. lab.example
options timeout:2 attempts:3
EOF
  PRN_EXTRA=(--resolv-conf "$BATS_TEST_TMPDIR/resolv.conf")
}

teardown() {
  pods_teardown
}

# pod NAME [SPEC LINES...]: a sleeping busybox pod with extra spec lines (indented 2).
pod() {
  local name=$1
  shift
  {
    printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 1\n' "$name"
    for l in "$@"; do printf '  %s\n' "$l"; done
    printf '  containers:\n  - name: app\n    image: busybox\n    command: ["sleep", "3600"]\n'
  } > "$M"
}

pod_ip() {
  jq -r .ip "$ROOTS/run/pods/$(pod_uid "$1")/pod.json"
}

@test "dns: ClusterFirst on a node without cluster DNS (no dnsmasq to run) falls back to the node's resolv.conf; hosts and hostname as the kubelet writes them" {
  export PODRUN_DNSMASQ=$BATS_TEST_TMPDIR/no-dnsmasq
  pod plain
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running plain
  run pexec plain app cat /etc/resolv.conf
  [ "$status" -eq 0 ]
  [ "$output" = "search corp.example lab.example
nameserver 192.0.2.53
nameserver 192.0.2.54
options timeout:2 attempts:3" ]
  ip=$(pod_ip plain)
  run pexec plain app cat /etc/hosts
  [ "$status" -eq 0 ]
  [ "$output" = "# Kubernetes-managed hosts file.
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
fe00::0	ip6-mcastprefix
fe00::1	ip6-allnodes
fe00::2	ip6-allrouters
$ip	plain" ]
  [ "$(pexec plain app cat /etc/hostname)" = plain ]
  [ "$(pexec plain app hostname)" = plain ]
  # Bound over the image's files, never written into its root.
  run pexec plain app grep -c -e ' /etc/resolv.conf ' -e ' /etc/hosts ' -e ' /etc/hostname ' /proc/self/mountinfo
  [ "$output" = 3 ]
}

@test "dns: ClusterFirst with cluster DNS: its server, the cluster's search list before the node's, ndots:5; dnsConfig merged in" {
  PRN_EXTRA+=(--cluster-dns 10.96.0.10 --cluster-domain cluster.test)
  pod cf 'dnsConfig:' '  nameservers: ["192.0.2.99"]' '  searches: [extra.example, svc.cluster.test]' \
    '  options:' '  - name: ndots' '    value: "2"' '  - name: edns0'
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running cf
  run pexec cf app cat /etc/resolv.conf
  [ "$status" -eq 0 ]
  [ "$output" = "search default.svc.cluster.test svc.cluster.test cluster.test corp.example lab.example extra.example
nameserver 10.96.0.10
nameserver 192.0.2.99
options ndots:2 edns0" ]
}

@test "dns: Default uses the node's resolver even with cluster DNS; None uses dnsConfig alone; --resolv-conf '' is 127.0.0.1" {
  PRN_EXTRA+=(--cluster-dns 10.96.0.10)
  pod dflt 'dnsPolicy: Default'
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod none 'dnsPolicy: None' 'dnsConfig:' '  nameservers: ["192.0.2.1", "2001:db8::1"]' '  searches: [a.example]'
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running dflt
  wait_running none
  [ "$(pexec dflt app sed -n 2p /etc/resolv.conf)" = "nameserver 192.0.2.53" ]
  run pexec none app cat /etc/resolv.conf
  [ "$output" = "search a.example
nameserver 192.0.2.1
nameserver 2001:db8::1" ]
  PRN_EXTRA=(--resolv-conf "")
  pod noconf 'dnsPolicy: Default'
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running noconf
  run pexec noconf app cat /etc/resolv.conf
  [ "$output" = "search .
nameserver 127.0.0.1" ]
}

@test "dns: hostname, subdomain and setHostnameAsFQDN; hostAliases appended to hosts" {
  pod fq 'hostname: web-0' 'subdomain: webs' 'setHostnameAsFQDN: true' 'hostAliases:' \
    '- ip: 192.0.2.7' '  hostnames: [foo.local, bar.local]' '- ip: "2001:db8::7"' '  hostnames: [six.local]'
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running fq
  ip=$(pod_ip fq)
  [ "$(pexec fq app hostname)" = web-0.webs.default.svc.cluster.local ]
  [ "$(pexec fq app cat /etc/hostname)" = web-0.webs.default.svc.cluster.local ]
  [ "$(pexec fq app sh -c 'echo $HOSTNAME')" = web-0.webs.default.svc.cluster.local ]
  run pexec fq app tail -n 5 /etc/hosts
  [ "$output" = "$ip	web-0.webs.default.svc.cluster.local	web-0

# Entries added by HostAliases.
192.0.2.7	foo.local	bar.local
2001:db8::7	six.local" ]
  # Without setHostnameAsFQDN the kernel keeps the short name.
  pod short 'hostname: db' 'subdomain: dbs'
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running short
  [ "$(pexec short app hostname)" = db ]
  [ "$(pexec short app tail -n 1 /etc/hosts)" = "$(pod_ip short)	db.dbs.default.svc.cluster.local	db" ]
}

@test "dns: the files are per pod, writable as the kubelet's; readOnlyRootFilesystem makes resolv.conf and hostname read-only; a container's own mount wins" {
  echo "192.0.2.1 mine" > "$BATS_TEST_TMPDIR/myhosts"
  cat > "$M" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: files
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: own
    hostPath:
      path: $BATS_TEST_TMPDIR/myhosts
      type: File
  containers:
  - name: rw
    image: busybox
    command: ["sleep", "3600"]
  - name: ro
    image: busybox
    command: ["sleep", "3600"]
    securityContext:
      readOnlyRootFilesystem: true
  - name: mine
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - name: own
      mountPath: /etc/hosts
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod other
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running files 3/3
  wait_running other
  # One file for the pod's containers: a write in one is seen by the other, not by another pod.
  pexec files rw sh -c 'echo "192.0.2.8 added" >> /etc/hosts'
  [ "$(pexec files ro tail -n 1 /etc/hosts)" = "192.0.2.8 added" ]
  run pexec other app grep -c added /etc/hosts
  [ "$output" = 0 ]
  run pexec files ro sh -c 'echo x >> /etc/resolv.conf'
  [ "$status" -eq 1 ]
  run pexec files ro sh -c 'echo x >> /etc/hostname'
  [ "$status" -eq 1 ]
  [ "$(pexec files mine cat /etc/hosts)" = "192.0.2.1 mine" ]
}

@test "dns: bad dnsConfig and hostAliases are refused as the API server refuses them, and nothing is made" {
  pod bad 'dnsPolicy: None'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None'* ]]
  pod bad 'dnsConfig:' '  nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4]'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.dnsConfig.nameservers: Invalid value: must not have more than 3 nameservers'* ]]
  pod bad 'dnsConfig:' '  nameservers: [not-an-ip]'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.dnsConfig.nameservers[0]: Invalid value: "not-an-ip": must be a valid IP address'* ]]
  pod bad 'dnsConfig:' '  searches: [Bad_Domain]'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.dnsConfig.searches[0]: Invalid value: "Bad_Domain"'* ]]
  pod bad 'dnsConfig:' '  options:' '  - value: "1"'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.dnsConfig.options[0].name: Required value'* ]]
  pod bad 'dnsConfig:' '  servers: [1.1.1.1]'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.dnsConfig: unknown field "servers"'* ]]
  pod bad 'hostAliases:' '- ip: 300.1.1.1' '  hostnames: [a]'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.hostAliases[0].ip: Invalid value: "300.1.1.1"'* ]]
  pod bad 'hostname: a-very-long-hostname-that-is-allowed-by-itself-123456789' \
    'subdomain: and-a-subdomain-that-makes-it-too-long' 'setHostnameAsFQDN: true'
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.setHostnameAsFQDN: failed to construct FQDN from pod hostname and cluster domain'*'is too long (64 characters is the max'* ]]
  run prn --cluster-dns 10.96.0.10,nope get pods
  [ "$status" -eq 1 ]
  [[ $output == *'cluster DNS: `nope` is not an IP address'* ]]
  assert_no_pods
}
