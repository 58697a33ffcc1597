#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The services' data path (nftables, agent/pods/services.c), in one run on this machine:
#  1. overhead: new TCP connections per second (connect, one HTTP/1.0 request, close) from the
#     node to a clusterIP with 10 busybox httpd endpoints, against the same client to one pod's
#     IP directly (median of BENCH_ROUNDS, 3, alternating); R = direct rate / clusterIP rate;
#  2. 1000 services created from one manifest (seconds, the whole `apply`);
#  3. one change with those 1000 services present: applying one more service (ms, the whole
#     `apply`: the process, the lock, the store and the one nftables batch).
# Everything runs in a "node" network namespace made here; the client is python3 in it.
# Last line: overhead=R change_ms_1000=M create_s_1000=S
# usage: tests/bench/services.sh   (PODRUN_BUILD=DIR picks the build; BENCH_ROUNDS, BENCH_CONNS)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${PODRUN_BUILD:-$TOP/build}
PODRUN=$BUILD/agent/podrun
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-1000}
WORK=$(mktemp -d /tmp/services-bench.XXXXXX)
NODE=prsbench$$
export PODRUN_CGROUP_ROOT=/podrun-sbench$$

pr() {
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$WORK/images" --run-root "$WORK/run" \
    --lib-root "$WORK/lib" --log-root "$WORK/log" --cni-conf-dir "$WORK/cni" \
    --ipam-data-dir "$WORK/ipam" "$@"
}

cleanup() {
  set +e
  [ -e "/run/netns/$NODE" ] && [ -f "$WORK/pods.yaml" ] &&
    pr delete -f "$WORK/pods.yaml" --ignore-not-found >/dev/null 2>&1
  pkill -9 -f "podrun-shim --pod-dir $WORK/" 2>/dev/null
  # What serves the node while services or pods remain: the controller loop and the cluster DNS.
  pkill -9 -f -- "--run-root $WORK/run .*serve --controllers-only" 2>/dev/null
  pkill -9 -f -- "--conf-file=$WORK/run/dns/dnsmasq.conf" 2>/dev/null
  for id in $("$BUILD/runtime/podrun-runtime" --root "$WORK/run/runtime" list -q 2>/dev/null); do
    "$BUILD/runtime/podrun-runtime" --root "$WORK/run/runtime" delete --force "$id" >/dev/null 2>&1
  done
  awk -v d="$WORK/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r mp; do umount -l "$mp"; done
  # The services' table goes with the namespace.
  ip netns del "$NODE" 2>/dev/null
  rm -rf "$WORK"
  for d in /sys/fs/cgroup"$PODRUN_CGROUP_ROOT" /sys/fs/cgroup/*"$PODRUN_CGROUP_ROOT"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# rate HOST[,HOST...] PORT: new connections per second over CONNS connections (to the hosts in
# turn).
rate() {
  nsenter --net="/run/netns/$NODE" python3 - "$1" "$2" "$CONNS" <<'PY'
import socket, sys, time
hosts, port, n = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])
t0 = time.monotonic()
for i in range(n):
    s = socket.create_connection((hosts[i % len(hosts)], port), timeout=5)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()
print("%.1f" % (n / (time.monotonic() - t0)))
PY
}

# ---- set-up: a node with a default route (a clusterIP is routed before the DNAT), 10 pods ----
ip netns add "$NODE"
ip -n "$NODE" link set lo up
ip -n "$NODE" link add prsb0 type veth peer name prsb1
ip -n "$NODE" link set prsb0 up
ip -n "$NODE" link set prsb1 up
ip -n "$NODE" route add default dev prsb0
pr load -q "$BUILD/images/busybox.tar" >/dev/null
for ((i = 0; i < 10; i++)); do
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web-$i
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox:latest
    imagePullPolicy: Never
    command: ["sh", "-c", "echo web-$i > /index.html && exec httpd -f -p 80 -h /"]
---
YAML
done >"$WORK/pods.yaml"
cat >"$WORK/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {port: 80}
YAML
pr apply -f "$WORK/pods.yaml" >/dev/null
t0=$(now_ms)
until [ "$(pr get pods -o json | jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')" -ge 10 ]; do
  (($(now_ms) - t0 < 180000)) || { echo "services.sh: the pods never became Ready" >&2; exit 1; }
  sleep 0.2
done
pr apply -f "$WORK/svc.yaml" >/dev/null
vip=$(pr get svc web -o json | jq -r .spec.clusterIP)
pod_ip=$(pr get pod web-0 -o json | jq -r .status.podIP)
all_ips=$(pr get pods -o json | jq -r '[.items[].status.podIP] | join(",")')
eps=$(ip netns exec "$NODE" nft list table ip podrun_services | grep -c 'dnat to')
[ "$eps" -eq 10 ] || { echo "services.sh: $eps endpoints in the data path, not 10" >&2; exit 1; }

# ---- 1. overhead ----
rate "$vip" 80 >/dev/null # warm-up (ARP, the first forks)
rate "$pod_ip" 80 >/dev/null
direct=() through=() spread=()
for ((r = 0; r < ROUNDS; r++)); do
  direct+=("$(rate "$pod_ip" 80)")
  through+=("$(rate "$vip" 80)")
  spread+=("$(rate "$all_ips" 80)")
done
d=$(printf '%s\n' "${direct[@]}" | median)
v=$(printf '%s\n' "${through[@]}" | median)
overhead=$(echo "scale=3; $d / $v" | bc)
s10=$(printf '%s\n' "${spread[@]}" | median)
echo "connections/s: direct to a pod $d (${direct[*]}), through the clusterIP (10 endpoints) $v (${through[*]}), direct to the 10 pods in turn $s10 (${spread[*]})" >&2

# ---- 2. 1000 services from one manifest ----
for ((i = 0; i < 1000; i++)); do
  printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s%d\nspec:\n  selector: {app: s%d}\n  ports:\n  - {port: 80}\n---\n' "$i" "$i"
done >"$WORK/many.yaml"
t0=$(now_ms)
pr apply -f "$WORK/many.yaml" >/dev/null
t1=$(now_ms)
create_s=$(echo "scale=2; ($t1 - $t0) / 1000" | bc)

# ---- 3. one change with 1000 services present ----
changes=()
for ((r = 0; r < ROUNDS; r++)); do
  printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: one%d\nspec:\n  selector: {app: web}\n  ports:\n  - {port: 81, targetPort: 80}\n' "$r" >"$WORK/one.yaml"
  t0=$(now_ms)
  pr apply -f "$WORK/one.yaml" >/dev/null
  t1=$(now_ms)
  changes+=($((t1 - t0)))
done
change_ms=$(printf '%s\n' "${changes[@]}" | median)
echo "1000 services: created in ${create_s} s; one more applied in ${changes[*]} ms" >&2
echo "overhead=$overhead change_ms_1000=$change_ms create_s_1000=$create_s"
