#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-shim supervision: init containers, restart policies with back-off, OOMKilled.

load ../lib/helpers
load ../lib/shim-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

# events_to FILE: the event stream in the background (EV_PID)
events_to() {
  timeout 60 "$SHIM" --pod-dir "$POD_DIR" --request '{"cmd":"events"}' > "$1" &
  EV_PID=$!
  # The subscription is in place once its {"ok":true} line is in.
  wait_for grep -q '"ok":true' "$1"
}

@test "shim: init containers run one by one to completion before the app containers" {
  write_spec "[$(ctr_json app 'cat /shared/order > /shared/seen; exec sleep 1000')]" \
    "{\"initContainers\": [$(ctr_json i1 'sleep 0.3; echo i1 >> /shared/order'),
                           $(ctr_json i2 'echo i2 >> /shared/order')]}"
  start_shim
  wait_status "$(ctr app).state == \"running\""
  wait_for test -s "$SHARED/seen"
  [ "$(cat "$SHARED/seen" | tr '\n' ' ')" = "i1 i2 " ]
  [ "$(st "$(ctr i1).completed")" = true ]
  [ "$(st "$(ctr i2).reason")" = Completed ]
  [ "$(st .phase)" = Running ]
  [ "$(st "$(ctr i1).ready")" = false ]
}

@test "shim: a failing init container is retried per the policy, then the pod goes on" {
  write_spec "[$(ctr_json app 'exec sleep 1000')]" \
    "{\"restartPolicy\":\"OnFailure\",
      \"initContainers\": [$(ctr_json i1 'echo x >> /shared/tries; [ $(wc -l < /shared/tries) -ge 3 ]')]}"
  start_shim
  wait_status "$(ctr app).state == \"running\""
  [ "$(wc -l < "$SHARED/tries")" = 3 ]
  [ "$(st "$(ctr i1).restartCount")" = 2 ]
  [ "$(st "$(ctr i1).completed")" = true ]
}

@test "shim: a failing init container with restartPolicy Never fails the pod" {
  write_spec "[$(ctr_json app 'touch /shared/app-ran; exec sleep 1000')]" \
    "{\"restartPolicy\":\"Never\", \"initContainers\": [$(ctr_json i1 'exit 4')]}"
  start_shim
  wait_status '.phase == "Failed"'
  [ "$(st "$(ctr i1).exitCode")" = 4 ]
  [ "$(st "$(ctr i1).reason")" = Error ]
  [ "$(st "$(ctr app).state")" = waiting ]
  sleep 0.5
  [ ! -e "$SHARED/app-ran" ]
}

@test "shim: restartPolicy Always restarts a crashing container with a doubling back-off" {
  write_spec "[$(ctr_json a 'cut -d" " -f1 /proc/uptime | tr -d . >> /shared/starts; exit 2')]" \
    '{"backOff": {"baseSeconds": 0.2, "capSeconds": 0.8}}'
  start_shim
  wait_status "$(ctr a).restartCount >= 5" 200
  # Between restarts it waits, reported as CrashLoopBackOff with the last exit.
  wait_status "$(ctr a).state == \"waiting\" and $(ctr a).reason == \"CrashLoopBackOff\""
  [ "$(st "$(ctr a).lastState.exitCode")" = 2 ]
  [ "$(st "$(ctr a).lastState.reason")" = Error ]
  # Gaps: 0.2, 0.4, 0.8, 0.8 (capped) s of back-off, plus a create/start/delete each.
  mapfile -t t < "$SHARED/starts"
  gaps=()
  for i in 1 2 3 4; do gaps+=($(( (10#${t[i]} - 10#${t[i-1]}) * 10 ))); done
  echo "gaps ms: ${gaps[*]}"
  # The lower bounds prove the back-off. The upper bounds leave room for a loaded machine and
  # an ASan build (a create/start/delete can take a second there); the cap shows in the last two
  # gaps being alike (uncapped, the last would be 0.8 s longer), the doubling in the growth.
  [ "${gaps[0]}" -ge 190 ]
  [ "${gaps[0]}" -lt 3000 ]
  [ "${gaps[1]}" -ge 390 ]
  [ "${gaps[1]}" -lt 3200 ]
  [ "${gaps[2]}" -ge 790 ]
  [ "${gaps[2]}" -lt 3600 ]
  [ "${gaps[3]}" -ge 790 ]
  [ "${gaps[3]}" -lt 3600 ]
  [ "${gaps[2]}" -gt $(( gaps[0] + 300 )) ]
  [ "${gaps[3]}" -lt $(( gaps[2] + 600 )) ]
}

@test "shim: OnFailure leaves a completed container alone, Never leaves a failed one" {
  write_spec "[$(ctr_json ok 'exit 0'), $(ctr_json bad 'exit 1')]" '{"restartPolicy":"OnFailure"}'
  start_shim
  wait_status "$(ctr ok).state == \"terminated\" and $(ctr bad).restartCount >= 1"
  [ "$(st "$(ctr ok).reason")" = Completed ]
  [ "$(st "$(ctr ok).restartCount")" = 0 ]
  shimctl '{"cmd":"remove"}'
  mkdir -p "$POD_DIR"
  write_spec "[$(ctr_json bad 'exit 1')]" '{"restartPolicy":"Never"}'
  start_shim
  wait_status "$(ctr bad).state == \"terminated\""
  sleep 0.6
  [ "$(st "$(ctr bad).restartCount")" = 0 ]
  [ "$(st "$(ctr bad).reason")" = Error ]
  [ "$(st .phase)" = Failed ]
}

@test "shim: without supervision nothing is restarted" {
  write_spec "[$(ctr_json a 'exit 3')]" '{"supervise": false}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\""
  sleep 0.6
  [ "$(st "$(ctr a).restartCount")" = 0 ]
  [ "$(st .supervise)" = false ]
}

@test "shim: an OOM kill is reported as OOMKilled" {
  [ -e /sys/fs/cgroup/memory/memory.oom_control ] || [ -e /sys/fs/cgroup/cgroup.controllers ] ||
    skip "needs the memory cgroup controller"
  write_spec "[$(ctr_json a 'tail /dev/zero' '{}' \
    '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}')]" '{"restartPolicy":"Never"}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\"" 300
  [ "$(st "$(ctr a).reason")" = OOMKilled ]
  [ "$(st "$(ctr a).exitCode")" = 137 ]
}
