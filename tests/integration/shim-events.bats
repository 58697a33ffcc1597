#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-shim's events.json (podrun-shim(8), EVENTS.JSON): Kubernetes events of what happens in
# the pod, aggregated across restarts and across shims, bounded.

load ../lib/helpers
load ../lib/shim-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

# ev JQ: evaluates JQ on events.json
ev() {
  jq -r "$1" "$POD_DIR/events.json"
}

# ev_count REASON: that event's count (0 when there is none).
ev_count() {
  jq -r --arg r "$1" '[.[] | select(.reason == $r) | .count] | max // 0' "$POD_DIR/events.json" 2>/dev/null || echo 0
}

count_at_least() {
  [ "$(ev_count "$1")" -ge "$2" ]
}

@test "shim events: a crash loop is Created, Started and BackOff, each one event with a count" {
  write_spec "[$(ctr_json a 'exit 3')]" '{"namespace": "ns1", "uid": "u-1"}'
  start_shim
  wait_for count_at_least Started 3
  wait_for count_at_least BackOff 3
  [ "$(ev '[.[] | select(.reason == "Started")] | length')" -eq 1 ]
  ev '.[] | select(.reason == "Created") | .type == "Normal" and .message == "Created container a"
    and .component == "kubelet" and .fieldPath == "spec.containers{a}" and .count >= 3
    and .last >= .first' | grep -qx true
  ev '.[] | select(.reason == "BackOff") | .type == "Warning" and
    .message == "Back-off restarting failed container a in pod '"$POD_NAME"'_ns1(u-1)"' | grep -qx true
  # A new shim on the directory goes on counting.
  n=$(ev_count Started)
  kill -9 "$SHIM_PID"
  start_shim
  wait_for count_at_least Started $((n + 1))
  [ "$(ev '[.[] | select(.reason == "Started")] | length')" -eq 1 ]
}

@test "shim events: a stop on request is Killing" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  shimctl '{"cmd":"stop","container":"a","timeoutSeconds":0}'
  wait_for count_at_least Killing 1
  [ "$(ev '.[] | select(.reason == "Killing") | .message')" = "Stopping container a" ]
}

@test "shim events: an events.json over 256 KiB is not read and is replaced; a bad namespace is refused" {
  write_spec "[$(ctr_json a 'exec sleep 1000')]" '{"namespace": "a/b"}'
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.namespace: not a valid name"* ]]
  head -c 300000 /dev/zero | tr '\0' ' ' > "$POD_DIR/events.json"
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_for count_at_least Started 1
  [ "$(stat -c %s "$POD_DIR/events.json")" -lt 4096 ]
  grep -q "larger than 256 KiB" "$POD_DIR/shim.log"
}
