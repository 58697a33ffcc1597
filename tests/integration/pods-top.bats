#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (it measures CPU use)
# podrun top pod|node: kubectl's columns from the cgroups' counters, a CPU rate over a window
# of two samples.

load ../lib/helpers
load ../lib/pods-helpers
load ../lib/pods-cgroup-helpers

setup() {
  pods_setup
  cg_setup
  M=$BATS_TEST_TMPDIR/m.yaml
  cat >"$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: busy}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: spin
    image: busybox
    command: [sh, -c, "while :; do :; done"]
    resources: {limits: {cpu: 300m, memory: 32Mi}}
  - name: idle
    image: busybox
    command: [sleep, "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: quiet}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: idle
    image: busybox
    command: [sleep, "3600"]
YAML
}

teardown() {
  local r=0
  pods_teardown || r=$?
  cg_teardown
  return "$r"
}

# millicores "250m" -> 250
mc() {
  echo "${1%m}"
}

@test "top pod: a busy pod's CPU is above a sleeping one's, memory in Mi; --containers splits it" {
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running busy 2/2
  wait_running quiet
  run prn top pod
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(sed -n 1p <<<"$output" | tr -s ' ')" = "NAME CPU(cores) MEMORY(bytes)" ]
  busy=$(awk '$1 == "busy" { print $2 }' <<<"$output")
  quiet=$(awk '$1 == "quiet" { print $2 }' <<<"$output")
  [[ "$busy" =~ ^[0-9]+m$ ]]
  [[ "$quiet" =~ ^[0-9]+m$ ]]
  # The spinner is held to its limit of 300m: well above idle, not above the quota.
  [ "$(mc "$busy")" -gt 100 ]
  [ "$(mc "$busy")" -le 400 ]
  [ "$(mc "$quiet")" -lt 20 ]
  awk 'NR > 1 { if ($3 !~ /^[0-9]+Mi$/) exit 1 }' <<<"$output"
  [ "${#lines[@]}" -eq 3 ]
  run prn top pod busy --containers
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(sed -n 1p <<<"$output" | tr -s ' ')" = "POD NAME CPU(cores) MEMORY(bytes)" ]
  spin=$(awk '$2 == "spin" { print $3 }' <<<"$output")
  idle=$(awk '$2 == "idle" { print $3 }' <<<"$output")
  [ "$(mc "$spin")" -gt "$(mc "$idle")" ]
  [ "$(mc "$spin")" -gt 100 ]
  run prn top pod -A --no-headers
  [ "$status" -eq 0 ]
  [ "$(awk '{ print $1 "/" $2 }' <<<"$output" | tr '\n' ' ')" = "default/busy default/quiet " ]
  run prn top pod missing
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "missing" not found'* ]]
}

@test "top node: the machine's CPU and memory, with percentages of allocatable" {
  run prn top node
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(sed -n 1p <<<"$output" | tr -s ' ')" = "NAME CPU(cores) CPU% MEMORY(bytes) MEMORY%" ]
  read -r -a v <<<"${lines[1]}"
  [ "${v[0]}" = "$(hostname | tr 'A-Z' 'a-z')" ]
  [[ "${v[1]}" =~ ^[0-9]+m$ ]]
  [[ "${v[2]}" =~ ^[0-9]+%$ ]]
  [[ "${v[3]}" =~ ^[0-9]+Mi$ ]]
  [[ "${v[4]}" =~ ^[0-9]+%$ ]]
  # The memory figure is the kernel's: in use minus inactive file pages, within what moves in
  # a second.
  want=$(awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } /^Inactive\(file\):/ { i = $2 } END { print int((t - f - i) / 1024) }' /proc/meminfo)
  got=${v[3]%Mi}
  [ $((got - want)) -lt 200 ] && [ $((want - got)) -lt 200 ]
  total=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
  [ "${v[4]%\%}" -eq $((got * 1024 * 1024 * 100 / total)) ] || [ "${v[4]%\%}" -eq $((got * 1024 * 1024 * 100 / total + 1)) ]
  # CPU use cannot exceed the machine.
  [ "${v[1]%m}" -le $(($(getconf _NPROCESSORS_ONLN) * 1000 + 50)) ]
  run prn top node elsewhere
  [ "$status" -eq 1 ]
  run prn top deployments
  [ "$status" -eq 1 ]
}
