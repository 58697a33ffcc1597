#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Deployments through ReplicaSets: the seed's examples, scale, cascading delete, the
# controller loop's self-healing, and what the API server refuses.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
}

teardown() {
  pods_teardown
}

# myapp_yaml [REPLICAS] [COMMAND]: the seed's Deployment myapp.
myapp_yaml() {
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: myapp
spec:
  replicas: ${1:-3}
  selector:
    matchLabels:
      app: myapp
  template:
    metadata:
      labels:
        app: myapp
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "${2:-sleep 3600}"]
YAML
}

# ready_count SELECTOR: pods Running with all containers ready.
ready_count() {
  prn get pods -l "$1" 2>/dev/null | awk 'NR > 1 && $3 == "Running" { split($2, r, "/"); if (r[1] == r[2]) n++ } END { print n + 0 }'
}

pod_count() {
  prn get pods -l "$1" -o name 2>/dev/null | wc -l
}

deploy_ready() { # NAME N: READY N/N and exactly N pods
  local out
  out=$(prn get deployments "$1" 2>/dev/null) || return 1
  awk -v n="$2" 'NR == 2 && $2 == n "/" n && $3 == n && $4 == n { ok = 1 } END { exit !ok }' <<<"$out" &&
    [ "$(pod_count "app=$1")" -eq "$2" ]
}

@test "deployments: the seed's myapp with 3 replicas: a ReplicaSet NAME-HASH, pods NAME-HASH-SUFFIX owned by it" {
  myapp_yaml 3 > "$BATS_TEST_TMPDIR/myapp.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/myapp.yaml"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "deployment.apps/myapp created" ]
  wait_for deploy_ready myapp 3
  run prn get deployments
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE$ ]]
  [[ "${lines[1]}" =~ ^myapp\ +3/3\ +3\ +3\ + ]]
  rs=$(prn get rs -o name)
  [[ "$rs" =~ ^replicaset.apps/myapp-[a-z0-9]{6,10}$ ]]
  rsname=${rs#replicaset.apps/}
  hash=${rsname#myapp-}
  run prn get rs
  [[ "${lines[0]}" =~ ^NAME\ +DESIRED\ +CURRENT\ +READY\ +AGE$ ]]
  [[ "${lines[1]}" =~ ^$rsname\ +3\ +3\ +3\ + ]]
  run prn get rs -o wide
  [[ "${lines[0]}" =~ CONTAINERS\ +IMAGES\ +SELECTOR$ ]]
  [[ "${lines[1]}" =~ \ app\ +busybox\ +app=myapp,pod-template-hash=$hash$ ]]
  prn get pods -o name > "$BATS_TEST_TMPDIR/pods"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/pods")" -eq 3 ]
  while read -r p; do
    [[ "$p" =~ ^pod/$rsname-[a-z0-9]{5}$ ]]
    j=$(prn get pods "${p#pod/}" -o json)
    [ "$(jq -r '.metadata.ownerReferences[0].kind' <<<"$j")" = ReplicaSet ]
    [ "$(jq -r '.metadata.ownerReferences[0].name' <<<"$j")" = "$rsname" ]
    [ "$(jq -r '.metadata.labels["pod-template-hash"]' <<<"$j")" = "$hash" ]
  done < "$BATS_TEST_TMPDIR/pods"
  j=$(prn get deployment myapp -o json)
  [ "$(jq -r .status.readyReplicas <<<"$j")" = 3 ]
  [ "$(jq -r .status.availableReplicas <<<"$j")" = 3 ]
  [ "$(jq -r .status.updatedReplicas <<<"$j")" = 3 ]
  [ "$(jq -r '.status.conditions[] | select(.type == "Available") | .status' <<<"$j")" = True ]
  [ "$(jq -r '.status.conditions[] | select(.type == "Progressing") | .reason' <<<"$j")" = NewReplicaSetAvailable ]
  [ "$(jq -r '.spec.strategy.type // "RollingUpdate"' <<<"$j")" = RollingUpdate ]
  j=$(prn get rs "$rsname" -o json)
  [ "$(jq -r '.metadata.annotations["deployment.kubernetes.io/revision"]' <<<"$j")" = 1 ]
  [ "$(jq -r '.metadata.ownerReferences[0].kind' <<<"$j")" = Deployment ]
  # Applying it again changes nothing.
  run prn apply -f "$BATS_TEST_TMPDIR/myapp.yaml"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "deployment.apps/myapp unchanged" ]
  [ "$(prn get rs -o name)" = "$rs" ]
  # Delete cascades: the ReplicaSet and its pods go, and so does the loop.
  run prn delete deployment myapp
  [ "$status" -eq 0 ]
  [ "$output" = 'deployment.apps "myapp" deleted' ]
  run prn get rs
  [ "$output" = "No resources found in default namespace." ]
  assert_no_pods
  wait_for test -z "$(controllers_pid)"
}
