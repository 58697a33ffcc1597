#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A pod's namespaces and ports on the node: hostNetwork, hostPID, hostIPC,
# shareProcessNamespace (and the init that holds it), hostPort through podrun's nftables table
# reached from a client network namespace wired to the node, from the node and from pods.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/pod.yaml
  # The node's own address (hostIP, and what a hostNetwork pod reports).
  # (a bridge without ports: this kernel may have no dummy driver)
  in_node ip link add prdummy type bridge
  in_node ip addr add 10.123.0.1/24 dev prdummy
  in_node ip link set prdummy up
  in_node ip link set lo up
  CLIENT=""
}

teardown() {
  pods_teardown
}

# file_changed FILE OLD: FILE holds something other than OLD.
file_changed() {
  [ -s "$1" ] && [ "$(cat "$1")" != "$2" ]
}

# web NAME HOSTPORT [PORT LINES...]: a busybox httpd answering NAME on 8080.
web() {
  cat > "$M" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo from-$1 > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
    - containerPort: 8080
      hostPort: $2
YAML
}

@test "net: hostNetwork: the pod sees the node's interfaces and hostname, reports the node's IP; its hostPort must be its containerPort" {
  echo "nameserver 192.0.2.53" > "$BATS_TEST_TMPDIR/resolv.conf"
  PRN_EXTRA=(--resolv-conf "$BATS_TEST_TMPDIR/resolv.conf" --cluster-dns 10.96.0.10)
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: hn
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    ports:
    - containerPort: 9099
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running hn
  run pexec hn app ip -o addr show prdummy
  [ "$status" -eq 0 ]
  [[ $output == *"10.123.0.1/24"* ]]
  [ "$(pexec hn app readlink /proc/self/ns/net)" = "$(in_node readlink /proc/self/ns/net)" ]
  [ "$(pexec hn app hostname)" = "$(hostname)" ]
  [ "$(prn get pods hn -o json | jq -r .status.podIP)" = 10.123.0.1 ]
  [ "$(prn get pods hn -o json | jq -r .status.hostIP)" = 10.123.0.1 ]
  # DNS and names of a hostNetwork pod: ClusterFirst falls back to the node's resolver, hosts is
  # the node's file under the kubelet's header.
  [ "$(pexec hn app cat /etc/resolv.conf)" = "nameserver 192.0.2.53" ]
  [ "$(pexec hn app head -n 1 /etc/hosts)" = "# Kubernetes-managed hosts file (host network)." ]
  [ "$(pexec hn app tail -n +2 /etc/hosts)" = "$(cat /etc/hosts)" ]
  [ "$(pexec hn app cat /etc/hostname)" = "$(hostname)" ]
  # No CNI: no veth, no address taken from the pod network.
  [ -z "$(in_node ip -o link show type veth)" ]
  [ -z "$(find "$ROOTS/ipam" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null)" ]
  # Its port is the node's: a second pod asking for it is refused.
  web clash 9099
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.containers[0].ports[0]: hostPort 9099/TCP is already used by pod "default/hn"'* ]]
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: hn2
spec:
  hostNetwork: true
  containers:
  - name: app
    image: busybox
    ports:
    - containerPort: 9099
      hostPort: 9100
YAML
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.containers[0].ports[0].hostPort: Invalid value: 9100: must match `containerPort` when `hostNetwork` is true'* ]]
  # ClusterFirstWithHostNet: the cluster's DNS for a hostNetwork pod.
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: hn3
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running hn3
  [ "$(pexec hn3 app sed -n 2p /etc/resolv.conf)" = "nameserver 10.96.0.10" ]
  run prn delete pod hn
  [ "$status" -eq 0 ]
  run prn delete pod hn3
  [ "$status" -eq 0 ]
  assert_no_pods
}

@test "net: hostPID and hostIPC join the node's namespaces; a plain pod has its own" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: hp
spec:
  hostPID: true
  hostIPC: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: plain
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running hp
  wait_running plain
  [ "$(pexec hp app readlink /proc/self/ns/pid)" = "$(readlink /proc/self/ns/pid)" ]
  [ "$(pexec hp app readlink /proc/self/ns/ipc)" = "$(readlink /proc/self/ns/ipc)" ]
  [ "$(pexec plain app readlink /proc/self/ns/pid)" != "$(readlink /proc/self/ns/pid)" ]
  [ "$(pexec plain app readlink /proc/self/ns/ipc)" != "$(readlink /proc/self/ns/ipc)" ]
  # hostIPC: the pod's sandbox pinned no IPC namespace of its own.
  [ ! -e "$ROOTS/run/pods/$(pod_uid hp)/ns/ipc" ]
  # The node's processes are visible: the test's own shell among them.
  run pexec hp app cat /proc/$$/status
  [ "$status" -eq 0 ]
}

@test "net: shareProcessNamespace: containers see each other's processes under an init the shim holds, which goes with the pod" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: shared
spec:
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox
    command: ["sleep", "3601"]
  - name: b
    image: busybox
    command: ["sleep", "3602"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running shared 2/2
  uid=$(pod_uid shared)
  run pexec shared b ps -o pid,args
  [ "$status" -eq 0 ]
  [[ $output == *"sleep 3601"* ]]
  [[ $output == *"sleep 3602"* ]]
  [ "$(pexec shared a sh -c "tr '\\0' ' ' < /proc/1/cmdline")" = "podrun-shim --hold-pid-namespace " ]
  [ "$(pexec shared a readlink /proc/self/ns/pid)" = "$(pexec shared b readlink /proc/self/ns/pid)" ]
  holder=$(cat "$ROOTS/run/pods/$uid/shim/pidns.pid")
  alive "$holder"
  [ "$(readlink /proc/$holder/ns/pid)" = "$(pexec shared a readlink /proc/self/ns/pid)" ]
  # The holder's death kills the pod's processes; the shim makes a new namespace and the
  # containers come back into it.
  kill -9 "$holder"
  wait_for file_changed "$ROOTS/run/pods/$uid/shim/pidns.pid" "$holder"
  holder=$(cat "$ROOTS/run/pods/$uid/shim/pidns.pid")
  alive "$holder"
  run prn delete pod shared
  [ "$status" -eq 0 ]
  run alive "$holder"
  [ "$status" -eq 1 ]
  assert_no_pods
}

@test "net: a plain pod's containers each have their own PID namespace" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: apart
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox
    command: ["sleep", "3601"]
  - name: b
    image: busybox
    command: ["sleep", "3602"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running apart 2/2
  run pexec apart b ps -o args
  [[ $output != *"sleep 3601"* ]]
  [ "$(pexec apart a sh -c "tr '\\0' ' ' < /proc/1/cmdline")" = "sleep 3601 " ]
}

@test "net: hostPort: reached from a client netns, from the node, from the pod itself and from another pod; gone with the pod, and the table with the last" {
  pods_client 10.124.0
  # Someone else's rules, which podrun must leave as they are.
  in_node nft add table inet other
  in_node nft add chain inet other c '{ type filter hook input priority 0; }'
  in_node nft add rule inet other c tcp dport 1 counter
  before=$(in_node nft list table inet other)
  web web 18080
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running web
  run in_node nft list tables
  [[ $output == *"table inet podrun_hostports"* ]]
  wait_for in_client curl -s --max-time 3 -o /dev/null http://10.124.0.1:18080/
  [ "$(in_client curl -s --max-time 3 http://10.124.0.1:18080/)" = from-web ]
  # From the node itself (the output chain), on each of its addresses.
  [ "$(in_node curl -s --max-time 3 http://10.124.0.1:18080/)" = from-web ]
  [ "$(in_node curl -s --max-time 3 http://10.123.0.1:18080/)" = from-web ]
  # Hairpin: the pod reaches itself through the node's port.
  [ "$(pexec web app wget -q -O- http://10.123.0.1:18080/)" = from-web ]
  # Another pod on the same bridge.
  cat > "$BATS_TEST_TMPDIR/other.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: peer
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/other.yaml"
  [ "$status" -eq 0 ]
  wait_running peer
  [ "$(pexec peer app wget -q -O- http://10.124.0.1:18080/)" = from-web ]
  # A second server on another port: both work, the table is shared.
  web web2 18081
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running web2
  wait_for in_client curl -s --max-time 3 -o /dev/null http://10.124.0.1:18081/
  [ "$(in_client curl -s --max-time 3 http://10.124.0.1:18081/)" = from-web2 ]
  run prn delete pod web
  [ "$status" -eq 0 ]
  run in_client curl -s --max-time 3 http://10.124.0.1:18080/
  [ "$status" -eq 7 ] # connection refused: nothing forwards the port any more
  [ "$(in_client curl -s --max-time 3 http://10.124.0.1:18081/)" = from-web2 ]
  run in_node nft list table inet podrun_hostports
  [[ $output != *"18080"* ]]
  run prn delete pod web2
  [ "$status" -eq 0 ]
  run in_node nft list tables
  [[ $output != *"podrun_hostports"* ]]
  [ "$(in_node nft list table inet other)" = "$before" ]
  prn delete pod peer
  pods_drop_client
  assert_no_pods
}

@test "net: hostPort with hostIP binds one address; the same port, protocol and address for a second pod is refused, naming the pod, with nothing left behind" {
  pods_client 10.124.0
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: first
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo first > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports:
    - containerPort: 80
      hostPort: 18090
      hostIP: 10.124.0.1
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running first
  wait_for in_client curl -s --max-time 3 -o /dev/null http://10.124.0.1:18090/
  [ "$(in_client curl -s --max-time 3 http://10.124.0.1:18090/)" = first ]
  # Not on the node's other address.
  run in_node curl -s --max-time 3 http://10.123.0.1:18090/
  [ "$status" -eq 7 ] # connection refused: not forwarded on that address
  rules=$(in_node nft -a list table inet podrun_hostports)
  web second 18090
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *'pod "second": spec.containers[0].ports[0]: hostPort 18090/TCP is already used by pod "default/first"'* ]]
  run prn get pods second
  [ "$status" -eq 1 ]
  [ "$(in_node nft -a list table inet podrun_hostports)" = "$rules" ]
  [ "$(find "$ROOTS/run/pods" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ]
  # Another protocol on the same port is another port; one pod asking twice is refused.
  sed -i 's/hostPort: 18090/hostPort: 18090\n      protocol: UDP/' "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running second
  # UDP is forwarded too: the conntrack entry of a datagram from the client shows the DNAT.
  ip=$(jq -r .ip "$ROOTS/run/pods/$(pod_uid second)/pod.json")
  in_client bash -c 'echo hi > /dev/udp/10.124.0.1/18090'
  run in_node grep -E "^ipv4 +2 udp .*dst=10.124.0.1 sport=[0-9]+ dport=18090 .*src=$ip dst=10.124.0.2 sport=8080" /proc/net/nf_conntrack
  [ "$status" -eq 0 ]
  # SCTP: the rule matches SCTP's port.
  sed -i 's/name: second/name: third/; s/protocol: UDP/protocol: SCTP/' "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  run in_node nft list chain inet podrun_hostports hostports
  [[ $output == *"sctp dport 18090"* ]] || [[ $output == *"meta l4proto sctp th dport 18090"* ]]
  cat > "$BATS_TEST_TMPDIR/dup.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: dup
spec:
  containers:
  - name: app
    image: busybox
    ports:
    - {containerPort: 80, hostPort: 18095}
    - {containerPort: 81, hostPort: 18095}
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/dup.yaml"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.containers[0].ports[1].hostPort: Duplicate value: "18095/TCP"'* ]]
  prn delete pod first
  prn delete pod second
  prn delete pod third
  run in_node nft list tables
  [[ $output != *"podrun_hostports"* ]]
  pods_drop_client
  assert_no_pods
}

@test "net: a hostPort pod that fails after its rules were added leaves no rule, no table, nothing" {
  web late 18100
  # runAsNonRoot is judged against the image's user when the container is made: late.
  sed -i 's/^    ports:/    securityContext:\n      runAsNonRoot: true\n    ports:/' "$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *"runAsNonRoot"* ]]
  run in_node nft list tables
  [[ $output != *"podrun_hostports"* ]]
  assert_no_pods
  # A node resolver that cannot be read fails before anything is made.
  web early 18100
  run prn --resolv-conf "$BATS_TEST_TMPDIR/missing" apply -f "$M"
  [ "$status" -eq 1 ]
  [[ $output == *"the node's resolv.conf"*"missing"* ]]
  assert_no_pods
}

# shared_pod: a pod of two containers sharing a PID namespace, Running; sets UID and HOLDER.
shared_pod() {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: shared
spec:
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox
    command: ["sleep", "3601"]
  - name: b
    image: busybox
    command: ["sleep", "3602"]
YAML
  prn apply -f "$M"
  wait_running shared 2/2
  UID_=$(pod_uid shared)
  HOLDER=$(cat "$ROOTS/run/pods/$UID_/shim/pidns.pid")
  alive "$HOLDER"
}

kill_shim() {
  local shim
  shim=$(jq -r .shimPid "$ROOTS/run/pods/$UID_/shim/status.json")
  kill -9 "$shim"
  wait_for not_alive "$shim"
}

not_alive() {
  if alive "$1"; then return 1; fi
}

# ended PID: a killed PID namespace init is gone, or still in the kernel's wait for the
# namespace's last processes: those of adopted containers, whose parent after their first shim
# died is this machine's pid 1, which may not reap them (a real init does).
ended() {
  if alive "$1"; then
    [ "$(cat "/proc/$1/wchan" 2>/dev/null)" = zap_pid_ns_processes ]
  fi
}

@test "net: shareProcessNamespace: a new shim adopts the running init (same namespace, containers untouched)" {
  shared_pod
  before=$(pexec shared a ps -o pid,args | grep 'sleep 360')
  kill_shim
  alive "$HOLDER"
  "$SHIM" --pod-dir "$ROOTS/run/pods/$UID_/shim"
  wait_running shared 2/2
  [ "$(cat "$ROOTS/run/pods/$UID_/shim/pidns.pid")" = "$HOLDER" ]
  [ "$(pexec shared a ps -o pid,args | grep 'sleep 360')" = "$before" ]
  run prn delete pod shared
  [ "$status" -eq 0 ]
  wait_for ended "$HOLDER"
  assert_no_pods
}

@test "net: shareProcessNamespace: with the shim gone, delete kills the init and unpins its namespace" {
  shared_pod
  kill_shim
  alive "$HOLDER"
  run prn delete pod shared
  [ "$status" -eq 0 ]
  wait_for ended "$HOLDER"
  assert_no_pods
}
