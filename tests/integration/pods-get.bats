#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun get: label selectors (-l) and -o yaml in kubectl's object shape.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

# pod NAME LABELS_FLOW: a sleeping busybox pod.
pod() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: $2
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
---
YAML
}

# names ARGS...: the NAME column of `get ARGS`, space-separated.
names() {
  prn get "$@" | awk 'NR > 1 { printf "%s%s", sep, $1; sep = " " }'
}

@test "get -l: equality, set and existence selectors pick pods and ConfigMaps by label" {
  {
    pod web '{app: web, tier: front}'
    pod db '{app: db, tier: back}'
    pod job '{app: batch}'
    cat <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels: {app: web}
data: {a: "1"}
YAML
  } > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$(names pods -l app=web)" = web ]
  [ "$(names pods -l 'app!=web')" = "db job" ]
  [ "$(names pods -l 'tier in (front,back)')" = "db web" ]
  [ "$(names pods -l 'tier notin (front)')" = "db job" ]
  [ "$(names pods -l tier)" = "db web" ]
  [ "$(names pods -l '!tier')" = job ]
  [ "$(names pods -l app=web,tier=front)" = web ]
  [ "$(names configmaps -l app=web)" = cfg ]
  [ "$(prn get pods -l app=web -o name)" = pod/web ]
  [ "$(prn get pods -l app=db -o json | jq -r '.items | map(.metadata.name) | join(" ")')" = db ]
  run prn get pods -l app=none
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in default namespace." ]
  run prn get pods -l 'app in (a'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'-l "app in (a"'* ]]
  run prn get pods web -l app=web
  [ "$status" -eq 1 ]
  [[ "$output" == *"name cannot be provided when a selector is specified"* ]]
}

@test "get -o yaml: kubectl's pod shape (metadata, defaulted spec, status), the same object as -o json" {
  python3 -c 'import yaml' || skip "python3 yaml is needed to read the output"
  {
    pod web '{app: web, "num": "123", yes: "true", empty: ""}'
  } > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running web
  uid=$(pod_uid web)
  prn get pods web -o yaml > "$BATS_TEST_TMPDIR/web.yaml"
  cat "$BATS_TEST_TMPDIR/web.yaml"
  prn get pods web -o json > "$BATS_TEST_TMPDIR/web.json"
  # Read back by a YAML 1.1 reader, the same as the JSON: strings that look like numbers,
  # bools or timestamps are quoted.
  python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' \
    "$BATS_TEST_TMPDIR/web.yaml" | jq -S . > "$BATS_TEST_TMPDIR/from-yaml.json"
  jq -S . "$BATS_TEST_TMPDIR/web.json" | diff - "$BATS_TEST_TMPDIR/from-yaml.json"
  # kubectl's layout: top-level keys sorted, no document marker.
  [ "$(grep -E '^[a-z]' "$BATS_TEST_TMPDIR/web.yaml" | cut -d: -f1 | tr '\n' ' ')" = "apiVersion kind metadata spec status " ]
  grep -qx '    num: "123"' "$BATS_TEST_TMPDIR/web.yaml"
  grep -qx '    "yes": "true"' "$BATS_TEST_TMPDIR/web.yaml"
  grep -qx '    empty: ""' "$BATS_TEST_TMPDIR/web.yaml"
  grep -qE '^  creationTimestamp: "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"$' "$BATS_TEST_TMPDIR/web.yaml"
  j=$BATS_TEST_TMPDIR/web.json
  jq -e --arg uid "$uid" '.metadata.uid == $uid and .metadata.namespace == "default" and .metadata.labels.app == "web"' "$j"
  jq -e '.spec.restartPolicy == "Always" and .spec.dnsPolicy == "ClusterFirst" and .spec.terminationGracePeriodSeconds == 1' "$j"
  jq -e '.spec.containers[0] | .imagePullPolicy == "Always" and .terminationMessagePolicy == "File" and .resources == {}' "$j"
  jq -e '.status.phase == "Running" and (.status.podIP | test("^10\\.88\\.")) and .status.podIPs[0].ip == .status.podIP' "$j"
  jq -e '.status.startTime == .metadata.creationTimestamp and (.status.hostIP | length > 0)' "$j"
  jq -e '[.status.conditions[] | "\(.type)=\(.status)"] == ["Initialized=True", "Ready=True", "ContainersReady=True", "PodScheduled=True"]' "$j"
  jq -e --arg id "podrun://$uid-app" '.status.containerStatuses[0] | .name == "app" and .image == "busybox" and .ready and .started and .restartCount == 0 and .containerID == $id and (.state.running.startedAt | length > 0) and .lastState == {}' "$j"
  # A list is a List.
  [ "$(prn get pods -o yaml | python3 -c 'import sys, yaml; d = yaml.safe_load(sys.stdin); print(d["kind"], len(d["items"]), d["items"][0]["metadata"]["name"])')" = "List 1 web" ]
  run prn get pods web -o xml
  [ "$status" -eq 1 ]
  [[ "$output" == *"allowed formats are: json,name,wide,yaml"* ]]
}

@test "get: columns are aligned as kubectl aligns them (widest cell plus 3 spaces, last column bare)" {
  cat >"$M" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a-much-longer-name}
data: {k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v, k9: v, k10: v, k11: v}
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  run prn get configmaps
  [ "$status" -eq 0 ]
  # NAME is 18 wide + 3; DATA is 4 wide + 3; AGE, the last column, is not padded.
  [[ "${lines[0]}" =~ ^NAME\ {17}DATA\ {3}AGE$ ]]
  [[ "${lines[1]}" =~ ^a\ {20}1\ {6}[0-9]+s$ ]]
  [[ "${lines[2]}" =~ ^a-much-longer-name\ {3}11\ {5}[0-9]+s$ ]]
  run prn delete -f "$M"
  [ "$status" -eq 0 ]
}

@test "get all: each kind of the all category as a table of its own, names carrying their kind; -o name; -l" {
  run prn get all
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in default namespace." ]
  {
    pod web '{app: web}'
    pod db '{app: db}'
    cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
YAML
  } > "$M"
  prn apply -f "$M"
  run prn get all
  [ "$status" -eq 0 ]
  echo "$output"
  [[ "${lines[0]}" =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE$ ]]
  [[ "${lines[1]}" == "pod/db "* ]]
  [[ "${lines[2]}" == "pod/web "* ]]
  [ -z "${lines[3]:-}" ] || [[ "${lines[3]}" =~ ^NAME\ +TYPE ]]
  [[ "$output" == *$'\n\nNAME '*"TYPE"*$'\nservice/web '* ]]
  run prn get all -o name
  [ "$status" -eq 0 ]
  [ "$output" = "pod/db
pod/web
service/web" ]
  run prn get all -l app=web -o name
  [ "$output" = "pod/web" ]
  run prn get all -o json
  [ "$status" -eq 1 ]
  [[ "$output" == *"get all: -o json|yaml is not supported yet"* ]]
  prn delete -f "$M"
}
