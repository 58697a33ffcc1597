#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# QoS classes as Kubernetes computes them, and the cgroups the kubelet lays out for them
# (cgroupfs driver): ROOT/kubepods/pod<uid>, ROOT/kubepods/burstable/pod<uid>,
# ROOT/kubepods/besteffort/pod<uid>, each container's cgroup inside its pod's, with the values
# the kubelet writes, on v1 (here) and cgroup2 (the QEMU lane).

load ../lib/helpers
load ../lib/pods-helpers
load ../lib/pods-cgroup-helpers

setup() {
  pods_setup
  cg_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  local r=0
  pods_teardown || r=$?
  cg_teardown
  return "$r"
}

# pod NAME RESOURCES...: a pod whose containers c0, c1 ... get the given resources (JSON).
pod() {
  local name=$1 i=0 r
  shift
  {
    printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n' "$name"
    for r in "$@"; do
      printf '  - {name: c%d, image: busybox, command: [sleep, "3600"], resources: %s}\n' "$i" "$r"
      i=$((i + 1))
    done
  } >"$M.$name"
  prn apply -f "$M.$name"
}

qos_of() {
  prn get pod "$1" -o json | jq -r .status.qosClass
}

cg_read() {
  cat "$(cg_dir "$1" "$2")/$3"
}

# The kubelet's shares to cgroup2 weight.
weight() {
  echo $((1 + (($1 - 2) * 9999) / 262142))
}

@test "qos: classes as GetPodQOS computes them, in status.qosClass and describe" {
  run pod g '{limits: {cpu: 250m, memory: 32Mi}}'
  [ "$status" -eq 0 ]
  run pod g2 '{limits: {cpu: 250m, memory: 32Mi}, requests: {cpu: 250m, memory: 32Mi}}' '{limits: {cpu: "1", memory: 1Gi}}'
  [ "$status" -eq 0 ]
  # Requests below the limits, one resource missing a limit, a limit of one resource only.
  run pod b1 '{limits: {cpu: 250m, memory: 32Mi}, requests: {cpu: 100m}}'
  [ "$status" -eq 0 ]
  run pod b2 '{requests: {memory: 16Mi}}'
  [ "$status" -eq 0 ]
  run pod b3 '{limits: {cpu: 250m, memory: 32Mi}}' '{}'
  [ "$status" -eq 0 ]
  run pod e '{}' '{}'
  [ "$status" -eq 0 ]
  [ "$(qos_of g)" = Guaranteed ]
  [ "$(qos_of g2)" = Guaranteed ]
  [ "$(qos_of b1)" = Burstable ]
  [ "$(qos_of b2)" = Burstable ]
  [ "$(qos_of b3)" = Burstable ]
  [ "$(qos_of e)" = BestEffort ]
  prn describe pod b1 | grep -qx 'QoS Class:                   Burstable'
  prn get pod e -o yaml | grep -qx '  qosClass: BestEffort'
}

@test "qos: a Guaranteed pod's cgroup is ROOT/kubepods/pod<uid> with the sum of its limits; its containers' inside with their own" {
  run pod g '{limits: {cpu: 500m, memory: 64Mi}}' '{limits: {cpu: 250m, memory: 32Mi}}'
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running g 2/2
  uid=$(pod_uid g)
  pod=$CG_ROOT/kubepods/pod$uid
  for d in $(cg_all_dirs "$pod/$uid-c0") $(cg_all_dirs "$pod/$uid-c1"); do
    [ -d "$d" ] || { echo "missing $d" >&2; return 1; }
  done
  # The containers' processes are in their cgroups.
  pid=$(jq -r '.containerStatuses[] | select(.name == "c0") | .pid' "$ROOTS/run/pods/$uid/shim/status.json")
  [ "$pid" -gt 0 ]
  grep ":$pod/$uid-c0\$" "/proc/$pid/cgroup"
  if cg_v2; then
    [ "$(cg_read cpu "$pod" cpu.weight)" = "$(weight 768)" ]
    [ "$(cg_read cpu "$pod" cpu.max)" = "75000 100000" ]
    [ "$(cg_read memory "$pod" memory.max)" = $((96 * 1024 * 1024)) ]
    [ "$(cg_read cpu "$pod/$uid-c1" cpu.weight)" = "$(weight 256)" ]
    [ "$(cg_read cpu "$pod/$uid-c1" cpu.max)" = "25000 100000" ]
    [ "$(cg_read memory "$pod/$uid-c1" memory.max)" = $((32 * 1024 * 1024)) ]
  else
    [ "$(cg_read cpu "$pod" cpu.shares)" = 768 ]
    [ "$(cg_read cpu "$pod" cpu.cfs_quota_us)" = 75000 ]
    [ "$(cg_read cpu "$pod" cpu.cfs_period_us)" = 100000 ]
    [ "$(cg_read memory "$pod" memory.limit_in_bytes)" = $((96 * 1024 * 1024)) ]
    [ "$(cg_read cpu "$pod/$uid-c1" cpu.shares)" = 256 ]
    [ "$(cg_read cpu "$pod/$uid-c1" cpu.cfs_quota_us)" = 25000 ]
    [ "$(cg_read memory "$pod/$uid-c1" memory.limit_in_bytes)" = $((32 * 1024 * 1024)) ]
  fi
  # The QoS class's parent has the node's allocatable CPU as shares.
  shares=$(($(getconf _NPROCESSORS_ONLN) * 1024))
  if cg_v2; then
    [ "$(cg_read cpu "$CG_ROOT/kubepods" cpu.weight)" = "$(weight $shares)" ]
  else
    [ "$(cg_read cpu "$CG_ROOT/kubepods" cpu.shares)" = $shares ]
  fi
}

@test "qos: Burstable and BestEffort pods go under their class; a limit holds for the pod only when every container has it" {
  run pod b '{requests: {cpu: 200m, memory: 16Mi}, limits: {memory: 64Mi}}' '{requests: {cpu: 100m}}'
  [ "$status" -eq 0 ]
  run pod e '{}'
  [ "$status" -eq 0 ]
  wait_running b 2/2
  wait_running e
  bu=$(pod_uid b)
  be=$(pod_uid e)
  pb=$CG_ROOT/kubepods/burstable/pod$bu
  pe=$CG_ROOT/kubepods/besteffort/pod$be
  [ -d "$(cg_dir memory "$pb/$bu-c0")" ]
  [ -d "$(cg_dir memory "$pe/$be-c0")" ]
  [ ! -e "$(cg_dir memory "$CG_ROOT/kubepods/pod$bu")" ]
  if cg_v2; then
    [ "$(cg_read cpu "$pb" cpu.weight)" = "$(weight 307)" ]
    [ "$(cg_read cpu "$pb" cpu.max)" = "max 100000" ]
    [ "$(cg_read memory "$pb" memory.max)" = max ]
    [ "$(cg_read memory "$pb/$bu-c0" memory.max)" = $((64 * 1024 * 1024)) ]
    [ "$(cg_read cpu "$pb/$bu-c1" cpu.weight)" = "$(weight 102)" ]
    [ "$(cg_read cpu "$pe" cpu.weight)" = 1 ]
    [ "$(cg_read cpu "$pe/$be-c0" cpu.weight)" = 1 ]
    [ "$(cg_read cpu "$CG_ROOT/kubepods/burstable" cpu.weight)" = "$(weight 307)" ]
    [ "$(cg_read cpu "$CG_ROOT/kubepods/besteffort" cpu.weight)" = 1 ]
  else
    [ "$(cg_read cpu "$pb" cpu.shares)" = 307 ]
    [ "$(cg_read cpu "$pb" cpu.cfs_quota_us)" = -1 ]
    [ "$(cg_read memory "$pb" memory.limit_in_bytes)" -gt $((1 << 60)) ]
    [ "$(cg_read memory "$pb/$bu-c0" memory.limit_in_bytes)" = $((64 * 1024 * 1024)) ]
    [ "$(cg_read cpu "$pb/$bu-c1" cpu.shares)" = 102 ]
    [ "$(cg_read cpu "$pe" cpu.shares)" = 2 ]
    [ "$(cg_read cpu "$pe/$be-c0" cpu.shares)" = 2 ]
    # The burstable class's shares are its pods' CPU requests (200m + 100m).
    [ "$(cg_read cpu "$CG_ROOT/kubepods/burstable" cpu.shares)" = 307 ]
    [ "$(cg_read cpu "$CG_ROOT/kubepods/besteffort" cpu.shares)" = 2 ]
  fi
}

@test "qos: deleting pods removes their cgroups, and the QoS parents podrun made once empty, never one it did not make" {
  run pod b1 '{requests: {cpu: 100m}}'
  [ "$status" -eq 0 ]
  run pod b2 '{requests: {cpu: 50m}}'
  [ "$status" -eq 0 ]
  # Someone else's besteffort parent, made before podrun needed it.
  for d in $(cg_all_dirs "$CG_ROOT/kubepods/besteffort"); do mkdir -p "$d"; done
  run pod e '{}'
  [ "$status" -eq 0 ]
  wait_running b1
  wait_running b2
  wait_running e
  u1=$(pod_uid b1)
  u2=$(pod_uid b2)
  ue=$(pod_uid e)
  run prn delete pod b1
  [ "$status" -eq 0 ]
  for d in $(cg_all_dirs "$CG_ROOT/kubepods/burstable/pod$u1"); do [ ! -e "$d" ]; done
  # b2 still holds the burstable parent; its shares are b2's request alone now.
  for d in $(cg_all_dirs "$CG_ROOT/kubepods/burstable/pod$u2"); do [ -d "$d" ]; done
  cg_v2 || [ "$(cg_read cpu "$CG_ROOT/kubepods/burstable" cpu.shares)" = 51 ]
  run prn delete pod b2
  [ "$status" -eq 0 ]
  for d in $(cg_all_dirs "$CG_ROOT/kubepods/burstable"); do [ ! -e "$d" ]; done
  run prn delete pod e
  [ "$status" -eq 0 ]
  for d in $(cg_all_dirs "$CG_ROOT/kubepods/besteffort/pod$ue"); do [ ! -e "$d" ]; done
  # Not podrun's: kept, and so are the parents above it.
  for d in $(cg_all_dirs "$CG_ROOT/kubepods/besteffort"); do [ -d "$d" ]; done
  assert_no_pods
  [ ! -s "$ROOTS/run/cgroups.made" ] || ! grep -q besteffort "$ROOTS/run/cgroups.made" || false
}

@test "qos: with no parents of anyone else's, the last pod's delete leaves nothing under the cgroup root" {
  run pod g '{limits: {cpu: 100m, memory: 32Mi}}'
  [ "$status" -eq 0 ]
  wait_running g
  run prn delete pod g
  [ "$status" -eq 0 ]
  for d in $(cg_all_dirs "$CG_ROOT"); do [ ! -e "$d" ] || { echo "left: $d" >&2; false; }; done
  [ ! -e "$ROOTS/run/cgroups.made" ]
}
