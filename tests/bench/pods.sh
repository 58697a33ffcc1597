#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pods from a manifest against `podman kube play` (podman 4 with runc, as
# ../shared/notes/podman-kube-play-here.md sets it up), in one run on this machine:
#  1. time from `apply` to Ready for one busybox httpd pod (median of BENCH_ROUNDS, 5);
#  2. time from `apply` to Ready for 20 such pods in one manifest (median of BENCH_ROUNDS);
#  3. memory per running pod: the RSS of what podrun runs per pod (its shim; a pod has no pause
#     container), with podman's (conmon for each container plus the infra container) for comparison;
#  4. 100 pods on the node: all Ready with distinct IPs, listed, and deleted with nothing left.
# podrun's time runs until `get pod` reports the Ready condition (polled every 10 ms); podman's
# until `kube play` returns, which is after it has started every container. podrun's pods get a
# network through CNI (podrun-bridge, in a network namespace made here); podman's run with
# --network=none, which spares podman that work.
# Last line: ratio_1=R ratio_20=R per_pod_kib=K pods_100=ok|failed
# usage: tests/bench/pods.sh   (PODRUN_BUILD=DIR picks the build; BENCH_ROUNDS)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${PODRUN_BUILD:-$TOP/build}
PODRUN=$BUILD/agent/podrun
ROUNDS=${BENCH_ROUNDS:-5}
WORK=$(mktemp -d /tmp/pods-bench.XXXXXX)
NODE=prbench$$
PM_DIR=$WORK/pm

pr() {
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$WORK/images" --run-root "$WORK/run" \
    --lib-root "$WORK/lib" --log-root "$WORK/log" --cni-conf-dir "$WORK/cni" \
    --ipam-data-dir "$WORK/ipam" "$@"
}

pm() {
  CONTAINERS_CONF=$PM_DIR/containers.conf podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" \
    --tmpdir "$PM_DIR/tmp" --storage-driver overlay "$@"
}

. "$TOP/tests/lib/cgroup-parents.bash"
podrun_parents_note
# podman's pods go under libpod_parent in each hierarchy, which it leaves behind.
libpod_before=$(ls -d /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)
cleanup() {
  set +e
  if [ -e "/run/netns/$NODE" ]; then
    for f in "$WORK"/*.yaml; do
      [ -f "$f" ] && pr delete -f "$f" --ignore-not-found >/dev/null 2>&1
    done
  fi
  pkill -9 -f "podrun-shim --pod-dir $WORK/" 2>/dev/null
  # The cluster DNS, which runs while a ClusterFirst pod uses it.
  pkill -9 -f -- "--conf-file=$WORK/run/dns/dnsmasq.conf" 2>/dev/null
  for id in $("$BUILD/runtime/podrun-runtime" --root "$WORK/run/runtime" list -q 2>/dev/null); do
    "$BUILD/runtime/podrun-runtime" --root "$WORK/run/runtime" delete --force "$id" >/dev/null 2>&1
  done
  if [ -d "$PM_DIR/root" ]; then
    for f in "$WORK"/*.yaml; do pm kube down "$f" >/dev/null 2>&1; done
    pm system reset -f >/dev/null 2>&1
  fi
  awk -v d="$WORK/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r mp; do umount -l "$mp"; done
  ip netns del "$NODE" 2>/dev/null
  rm -rf "$WORK"
  if [ -z "$libpod_before" ]; then
    for d in /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  podrun_parents_remove
}
trap cleanup EXIT

# manifest FILE N PREFIX: N busybox httpd pods named PREFIX-0..N-1.
manifest() {
  local i
  for ((i = 0; i < $2; i++)); do
    cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $3-$i
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox:latest
    imagePullPolicy: Never
    command: ["httpd", "-f", "-p", "80", "-h", "/"]
---
YAML
  done >"$1"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ready_count: how many of podrun's pods report the Ready condition.
ready_count() {
  pr get pods -o json | jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}

# podrun_ms FILE N: ms from apply until N pods are Ready; then deletes them.
podrun_ms() {
  local t0 t1
  t0=$(now_ms)
  pr apply -f "$1" >/dev/null
  until [ "$(ready_count)" -ge "$2" ]; do
    (($(now_ms) - t0 < 120000)) || { echo "pods.sh: podrun's pods never became Ready" >&2; return 1; }
    sleep 0.01
  done
  t1=$(now_ms)
  echo $((t1 - t0))
}

# podman_ms FILE: ms that `podman kube play` takes to start the file's pods.
podman_ms() {
  local t0 t1
  t0=$(now_ms)
  pm kube play --network=none "$1" >/dev/null
  t1=$(now_ms)
  echo $((t1 - t0))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rss_kib() { # PID...: the sum of their VmRSS
  local p s=0 v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

# ---- set-up ----
ip netns add "$NODE"
ip -n "$NODE" link set lo up
pr load -q "$BUILD/images/busybox.tar" >/dev/null
mkdir -p "$PM_DIR"
cat >"$PM_DIR/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
pm load -q -i "$BUILD/images/busybox.tar" >/dev/null
manifest "$WORK/one.yaml" 1 one
manifest "$WORK/twenty.yaml" 20 twenty
manifest "$WORK/hundred.yaml" 100 hundred

# ---- 1 pod and 20 pods, alternating podrun and podman each round ----
ours_1=() theirs_1=() ours_20=() theirs_20=()
for ((r = 0; r < ROUNDS; r++)); do
  ours_1+=("$(podrun_ms "$WORK/one.yaml" 1)")
  pr delete -f "$WORK/one.yaml" >/dev/null
  theirs_1+=("$(podman_ms "$WORK/one.yaml")")
  pm kube down "$WORK/one.yaml" >/dev/null
done
for ((r = 0; r < ROUNDS; r++)); do
  ours_20+=("$(podrun_ms "$WORK/twenty.yaml" 20)")
  if ((r == ROUNDS - 1)); then
    mapfile -t shims < <(pgrep -f "podrun-shim --pod-dir $WORK/")
    ours_kib=$(($(rss_kib "${shims[@]}") / 20))
  fi
  pr delete -f "$WORK/twenty.yaml" >/dev/null
  theirs_20+=("$(podman_ms "$WORK/twenty.yaml")")
  if ((r == ROUNDS - 1)); then
    mapfile -t conmons < <(pgrep -f "conmon .*$PM_DIR/" || true)
    mapfile -t infras < <(pgrep -x catatonit || true)
    theirs_kib=$(($(rss_kib "${conmons[@]}" "${infras[@]}") / 20))
  fi
  pm kube down "$WORK/twenty.yaml" >/dev/null
done
o1=$(printf '%s\n' "${ours_1[@]}" | median)
p1=$(printf '%s\n' "${theirs_1[@]}" | median)
o20=$(printf '%s\n' "${ours_20[@]}" | median)
p20=$(printf '%s\n' "${theirs_20[@]}" | median)
echo "1 pod, ms to Ready: podrun ${ours_1[*]} (median $o1); podman kube play ${theirs_1[*]} (median $p1)"
echo "20 pods, ms to Ready: podrun ${ours_20[*]} (median $o20); podman kube play ${theirs_20[*]} (median $p20)"
echo "memory per running pod, KiB RSS: podrun ${ours_kib} (${#shims[@]} shims); podman ${theirs_kib} (${#conmons[@]} conmon, ${#infras[@]} infra)"

# ---- 100 pods ----
pods_100=failed
if t100=$(podrun_ms "$WORK/hundred.yaml" 100); then
  ips=$(pr get pods -o json | jq -r '.items[].status.podIP' | sort -u | grep -c .)
  listed=$(pr get pods | awk 'NR > 1 && $3 == "Running"' | wc -l)
  pr delete -f "$WORK/hundred.yaml" >/dev/null
  left=$(pgrep -fc "podrun-shim --pod-dir $WORK/" || true)
  echo "100 pods: Ready in $t100 ms, $ips distinct IPs, $listed listed Running, $left shims left after delete"
  [ "$ips" -eq 100 ] && [ "$listed" -eq 100 ] && [ "$left" -eq 0 ] && pods_100=ok
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "ratio_1=$(ratio "$o1" "$p1") ratio_20=$(ratio "$o20" "$p20") per_pod_kib=$ours_kib pods_100=$pods_100"
