#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Events as Kubernetes records them: the pod manager's (Scheduled, Pulling, Pulled) and the
# shim's (Created, Started, Killing, BackOff, Unhealthy, OOMKilling, Failed), aggregated, shown
# by `get events` (table, wide, json, yaml, name) and `describe pod`, and gone with their pod.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

# pod NAME [CONTAINER_YAML...]: a pod with one container "app" (its lines indented by 4).
pod() {
  local name=$1
  shift
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 1\n' "$name"
  [ -z "${SPEC:-}" ] || printf '%s\n' "$SPEC"
  printf '  containers:\n  - name: app\n    image: busybox\n'
  local l
  for l in "$@"; do printf '    %s\n' "$l"; done
}

# reasons [NS_ARGS]: the REASON column of `get events`, space-separated, in order.
reasons() {
  prn get events "$@" | awk 'NR > 1 { printf "%s%s", sep, $3; sep = " " }'
}

# has_event POD REASON: `get events -o json` holds that event of that pod.
has_event() {
  prn get events -o json | jq -e --arg p "$1" --arg r "$2" \
    '[.items[] | select(.involvedObject.name == $p and .reason == $r)] | length > 0' >/dev/null
}

# count POD REASON: the count of that event.
count() {
  prn get events -o json | jq -r --arg p "$1" --arg r "$2" \
    '[.items[] | select(.involvedObject.name == $p and .reason == $r) | .count] | max // 0'
}

count_at_least() {
  [ "$(count "$1" "$2")" -ge "$3" ]
}

@test "events: a pod's start is Scheduled, Pulling, Pulled, Created, Started, in kubectl's table" {
  pod web 'command: ["sleep", "3600"]' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running web
  wait_for has_event web Started
  run prn get events
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^LAST\ SEEN\ +TYPE\ +REASON\ +OBJECT\ +MESSAGE$ ]]
  [ "$(reasons)" = "Scheduled Pulling Pulled Created Started" ]
  node=$(hostname)
  [[ "$output" == *"Normal   Scheduled   pod/web   Successfully assigned default/web to $node"* ]]
  [[ "$output" == *'Pulling image "busybox"'* ]]
  [[ "$output" =~ Successfully\ pulled\ image\ \"busybox\"\ in\ [0-9.]+m?s\ \( ]]
  [[ "$output" == *"Created container app"* ]]
  [[ "$output" == *"Started container app"* ]]
  # -A adds NAMESPACE; another namespace has none.
  run prn get events -A
  [[ "${lines[0]}" =~ ^NAMESPACE\ +LAST\ SEEN ]]
  [[ "${lines[1]}" =~ ^default\ + ]]
  run prn get events -n kube-system
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in kube-system namespace." ]
  # wide: kubectl's extra columns.
  run prn get events -o wide
  [[ "${lines[0]}" =~ ^LAST\ SEEN\ +TYPE\ +REASON\ +OBJECT\ +SUBOBJECT\ +SOURCE\ +MESSAGE\ +FIRST\ SEEN\ +COUNT\ +NAME$ ]]
  [[ "$output" == *"spec.containers{app}   kubelet, $node"* ]]
  [[ "${lines[1]}" == *"default-scheduler"* ]]
}

@test "events: -o json and yaml are v1 Events as the recorder makes them; -o name; get by name" {
  pod web 'command: ["sleep", "3600"]' > "$M"
  prn apply -f "$M"
  wait_running web
  wait_for has_event web Started
  uid=$(pod_uid web)
  run prn get events -o json
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.kind == "List" and .apiVersion == "v1" and (.items | length == 5)'
  echo "$output" | jq -e --arg uid "$uid" '.items | all(
      .apiVersion == "v1" and .kind == "Event" and .count == 1 and .type == "Normal" and
      .involvedObject == ({apiVersion: "v1", kind: "Pod", name: "web", namespace: "default",
                           uid: $uid} + (if .involvedObject.fieldPath then
                             {fieldPath: "spec.containers{app}"} else {} end)) and
      (.metadata.name | test("^web\\.[0-9a-f]{16,}$")) and .metadata.namespace == "default" and
      (.firstTimestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) and
      .lastTimestamp >= .firstTimestamp and (.message | length > 0))'
  echo "$output" | jq -e '.items[0] | .reason == "Scheduled" and .source == {component: "default-scheduler"}
    and (.involvedObject | has("fieldPath") | not)'
  echo "$output" | jq -e --arg n "$(hostname)" '.items[4] | .reason == "Started" and
    .source == {component: "kubelet", host: $n} and .involvedObject.fieldPath == "spec.containers{app}"'
  # The names sort as the API server lists them: by first time.
  [ "$(echo "$output" | jq -r '.items[].metadata.name' | sort -c && echo sorted)" = sorted ]
  name=$(echo "$output" | jq -r '.items[4].metadata.name')
  run prn get events -o name
  [ "${lines[4]}" = "event/$name" ]
  [ "${#lines[@]}" -eq 5 ]
  run prn get events "$name" -o json
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.kind == "Event" and .reason == "Started"'
  run prn get events -o yaml
  [ "$status" -eq 0 ]
  echo "$output" | python3 -c 'import sys, yaml; d = yaml.safe_load(sys.stdin); assert d["kind"] == "List" and len(d["items"]) == 5 and d["items"][1]["reason"] == "Pulling", d'
  run prn get events web.0 -o json
  [ "$status" -eq 1 ]
  [[ "$output" == *'events "web.0" not found'* ]]
  # Events have no labels: -l keeps them only when the selector matches none.
  run prn get events -l app=web
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in default namespace." ]
  [ "$(prn get events -l '!app' -o name | wc -l)" -eq 5 ]
}

@test "events: a failing readiness probe is Unhealthy, aggregated; describe shows (xN over ...)" {
  pod web 'command: ["sleep", "3600"]' \
    'readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}' > "$M"
  prn apply -f "$M"
  wait_for has_event web Unhealthy
  wait_for count_at_least web Unhealthy 3
  [ "$(prn get events -o json | jq '[.items[] | select(.reason == "Unhealthy")] | length')" -eq 1 ]
  prn get events -o json | jq -e '.items[] | select(.reason == "Unhealthy") |
    .type == "Warning" and .message == "Readiness probe failed: " + (.message | ltrimstr("Readiness probe failed: "))
    and .count >= 3 and .lastTimestamp >= .firstTimestamp'
  run prn describe pod web
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\nEvents:\n  Type     Reason     Age'* ]]
  [[ "$output" =~ \ \ Type\ +Reason\ +Age\ +From\ +Message ]]
  [[ "$output" =~ \ \ ----\ +------\ +----\ +----\ +------- ]]
  [[ "$output" =~ \ \ Normal\ +Scheduled\ +[0-9]+s\ +default-scheduler\ +Successfully\ assigned\ default/web ]]
  [[ "$output" =~ \ \ Warning\ +Unhealthy\ +[0-9]+s\ \(x[0-9]+\ over\ [0-9]+s\)\ +kubelet\ +Readiness\ probe\ failed ]]
}

@test "events: a failed liveness probe is Killing, a crash BackOff; delete takes the events" {
  pod web 'command: ["sleep", "3600"]' \
    'livenessProbe: {exec: {command: ["false"]}, periodSeconds: 1, failureThreshold: 1}' > "$M"
  prn apply -f "$M"
  wait_for has_event web BackOff
  prn get events -o json | jq -e '.items[] | select(.reason == "Killing") |
    .type == "Normal" and .message == "Container app failed liveness probe, will be restarted"'
  prn get events -o json | jq -e '.items[] | select(.reason == "BackOff") |
    .type == "Warning" and .message == "Back-off restarting failed container app in pod web_default(" + .involvedObject.uid + ")"'
  prn get events -o json | jq -e '.items[] | select(.reason == "Unhealthy") |
    .message == "Liveness probe failed: " + (.message | ltrimstr("Liveness probe failed: "))'
  run prn delete pod web
  [ "$status" -eq 0 ]
  run prn get events
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in default namespace." ]
  assert_no_pods
}

@test "events: a container the runtime cannot run is Failed; describe with none says <none>" {
  SPEC='  restartPolicy: Never' pod bad 'command: ["/no/such/program"]' > "$M"
  prn apply -f "$M"
  wait_for has_event bad Failed
  prn get events -o json | jq -e '.items[] | select(.reason == "Failed") |
    .type == "Warning" and (.message | startswith("Error: ")) and
    .involvedObject.fieldPath == "spec.containers{app}"'
  # A pod with no events yet (its file removed) says <none>, as kubectl does.
  rm "$ROOTS/run/pods/$(pod_uid bad)/events.json" "$ROOTS/run/pods/$(pod_uid bad)/shim/events.json"
  run prn describe pod bad
  [[ "$output" =~ $'\n'Events:\ +\<none\>$ ]]
}

@test "events: an OOM kill is OOMKilling" {
  SPEC='  restartPolicy: Never' pod oom \
    'command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]' \
    'resources: {limits: {memory: 16Mi}}' > "$M"
  prn apply -f "$M"
  wait_for has_event oom OOMKilling
  prn get events -o json | jq -e '.items[] | select(.reason == "OOMKilling") |
    .type == "Warning" and (.message | test("out of memory.*container app"))'
  [ "$(prn get pods oom -o json | jq -r '.status.containerStatuses[0].state.terminated.reason')" = OOMKilled ]
}

@test "events: the events file is bounded: a larger one is refused by name, entries are capped" {
  pod web 'command: ["sleep", "3600"]' > "$M"
  prn apply -f "$M"
  wait_running web
  f=$ROOTS/run/pods/$(pod_uid web)/events.json
  # 100 distinct events written by hand: 64 are kept, the ones seen last.
  python3 - "$f" <<'PY'
import json, sys
json.dump([{"type": "Normal", "reason": "R%d" % i, "message": "m", "component": "kubelet",
            "count": 1, "first": 1700000000000000 + i, "last": 1700000000000000 + i}
           for i in range(100)], open(sys.argv[1], "w"))
PY
  run prn get events -o json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq '[.items[] | select(.reason | test("^R[0-9]+$"))] | length')" -eq 64 ]
  [ "$(echo "$output" | jq -r '[.items[] | select(.reason | test("^R[0-9]+$")) | .reason] | first')" = R36 ]
  head -c 300000 /dev/zero | tr '\0' ' ' > "$f"
  run prn get events
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"events of pod \"web\""*"events.json\` is larger than 256 KiB"* ]]
  ln -sf /dev/zero "$f"
  run timeout 10 "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" get events
  [ "$status" -eq 1 ]
}
