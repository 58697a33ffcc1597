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

deploy_ready_ns() { # NS: myapp READY 2/2 there
  prn get deployments myapp -n "$1" 2>/dev/null | awk 'NR == 2 && $2 == "2/2" { ok = 1 } END { exit !ok }'
}

no_loop() {
  [ -z "$(controllers_pid)" ]
}

# wait_long CMD...: as wait_for, for up to 60 s (pods start one after another).
wait_long() {
  local i
  for ((i = 0; i < 600; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "never true: $*" >&2
  return 1
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
  # apply itself made the ReplicaSet and its pods; the loop keeps them.
  [ "$(pod_count app=myapp)" -eq 3 ]
  wait_long deploy_ready myapp 3
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
  [ "$(jq -r .metadata.generation <<<"$j")" = 1 ]
  [ "$(jq -r .status.observedGeneration <<<"$j")" = 1 ]
  [ "$(jq -r .status.replicas <<<"$j")" = 3 ]
  [ "$(jq -r .status.readyReplicas <<<"$j")" = 3 ]
  [ "$(jq -r .status.availableReplicas <<<"$j")" = 3 ]
  [ "$(jq -r .status.updatedReplicas <<<"$j")" = 3 ]
  [ "$(jq -r '.status.conditions[] | select(.type == "Available") | .status' <<<"$j")" = True ]
  [ "$(jq -r '.status.conditions[] | select(.type == "Progressing") | .reason' <<<"$j")" = NewReplicaSetAvailable ]
  [ "$(jq -r '.spec.strategy.type // "RollingUpdate"' <<<"$j")" = RollingUpdate ]
  j=$(prn get rs "$rsname" -o json)
  [ "$(jq -r '.metadata.annotations["deployment.kubernetes.io/revision"]' <<<"$j")" = 1 ]
  [ "$(jq -r '.metadata.ownerReferences[0].kind' <<<"$j")" = Deployment ]
  run prn describe deployment myapp
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Name:                   myapp" ]
  [[ "$output" == *$'\nSelector:               app=myapp\n'* ]]
  [[ "$output" == *$'\nReplicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable\n'* ]]
  [[ "$output" == *$'\nStrategyType:           RollingUpdate\n'* ]]
  [[ "$output" == *$'\nRollingUpdateStrategy:  25% max unavailable, 25% max surge\n'* ]]
  [[ "$output" == *$'\n  Available      True    MinimumReplicasAvailable\n'* ]]
  [[ "$output" == *$'\nNewReplicaSet:   '"$rsname"$' (3/3 replicas created)\n'* ]]
  [[ "$output" == *$'\nOldReplicaSets:  <none>\n'* ]]
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
  wait_for no_loop
}

@test "deployments: create deployment hello-node --image=busybox -- CMD, as kubectl makes it" {
  run prn create deployment hello-node --image=busybox --port=8080 -- sh -c 'sleep 3600'
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/hello-node created" ]
  wait_long deploy_ready hello-node 1
  j=$(prn get deployment hello-node -o json)
  [ "$(jq -c .metadata.labels <<<"$j")" = '{"app":"hello-node"}' ]
  [ "$(jq -c .spec.selector <<<"$j")" = '{"matchLabels":{"app":"hello-node"}}' ]
  [ "$(jq -r .spec.replicas <<<"$j")" = 1 ]
  [ "$(jq -c '.spec.template.spec.containers[0] | [.name, .image, .command, .ports]' <<<"$j")" = \
    '["busybox","busybox",["sh","-c","sleep 3600"],[{"containerPort":8080}]]' ]
  p=$(prn get pods -o name)
  [[ "$p" =~ ^pod/hello-node-[a-z0-9]{6,10}-[a-z0-9]{5}$ ]]
  run prn create deployment hello-node --image=busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *'deployments.apps "hello-node" already exists'* ]]
  run prn create deployment other
  [ "$status" -eq 1 ]
  [[ "$output" == *'required flag(s) "image" not set'* ]]
  run prn delete deploy hello-node
  [ "$status" -eq 0 ]
  assert_no_pods
}

@test "deployments: scale deployment --replicas=5 and back to 2" {
  myapp_yaml 2 | prn apply -f -
  wait_long deploy_ready myapp 2
  run prn scale deployment myapp --replicas=5
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/myapp scaled" ]
  wait_long deploy_ready myapp 5
  [ "$(prn get rs -o name | wc -l)" -eq 1 ]
  run prn scale deployment/myapp --replicas=2
  [ "$status" -eq 0 ]
  wait_long deploy_ready myapp 2
  j=$(prn get deployment myapp -o json)
  [ "$(jq .spec.replicas <<<"$j")" = 2 ]
  [ "$(jq .metadata.generation <<<"$j")" = 3 ]
  [ "$(jq .status.observedGeneration <<<"$j")" = 3 ]
  prn get deployment myapp -o yaml | grep -q '^  availableReplicas: 2$' 
  run prn scale deployment myapp --replicas=-1
  [ "$status" -eq 1 ]
  run prn scale deployment nosuch --replicas=1
  [ "$status" -eq 1 ]
  [[ "$output" == *'deployments "nosuch" not found'* ]]
  run prn scale pod x --replicas=1
  [ "$status" -eq 1 ]
  prn delete deployment myapp
  assert_no_pods
}

@test "deployments: the loop replaces a deleted pod and a pod whose shim is killed, within 2 s" {
  myapp_yaml 2 | prn apply -f -
  wait_long deploy_ready myapp 2
  loop=$(controllers_pid)
  [ -n "$loop" ]
  victim=$(prn get pods -o name | head -1)
  prn delete pods "${victim#pod/}"
  start=$(date +%s%N)
  wait_for deploy_ready myapp 2
  [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000 ]
  run prn get pods "${victim#pod/}"
  [ "$status" -eq 1 ]
  # kill -9 of one pod's shim: the pod is replaced by a new one.
  victim=$(prn get pods -o name | head -1)
  uid=$(pod_uid "${victim#pod/}")
  shim=$(pgrep -f "podrun-shim --pod-dir $ROOTS/run/pods/$uid/shim")
  kill -9 "$shim"
  start=$(date +%s%N)
  replaced() {
    deploy_ready myapp 2 || return 1
    prn get pods "${victim#pod/}" >/dev/null 2>&1 && return 1
    return 0
  }
  wait_for replaced
  [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000 ]
  [ "$(controllers_pid)" = "$loop" ]
  # The idle loop sleeps in poll(): no CPU used while nothing changes.
  t1=$(awk '{print $14 + $15}' "/proc/$loop/stat")
  sleep 2
  t2=$(awk '{print $14 + $15}' "/proc/$loop/stat")
  [ $((t2 - t1)) -le 2 ]
  prn delete deployment myapp
  assert_no_pods
  wait_for no_loop
}

@test "deployments: kill -9 of the controller loop: the next apply restarts it and it catches up" {
  myapp_yaml 2 | prn apply -f -
  wait_long deploy_ready myapp 2
  loop=$(controllers_pid)
  kill -9 "$loop"
  wait_for no_loop
  victim=$(prn get pods -o name | head -1)
  prn delete pods "${victim#pod/}"
  sleep 0.5
  [ "$(pod_count app=myapp)" -eq 1 ]
  run prn apply -f <(myapp_yaml 2)
  [ "$status" -eq 0 ]
  wait_long deploy_ready myapp 2
  [ -n "$(controllers_pid)" ]
  [ "$(controllers_pid)" != "$loop" ]
  prn delete deployment myapp
  assert_no_pods
}

@test "deployments: a rolling update of 3 replicas keeps at least replicas - maxUnavailable Ready" {
  myapp_yaml 3 | prn apply -f -
  wait_long deploy_ready myapp 3
  old=$(prn get rs -o name)
  # The new pods turn Ready one second after they start (a readiness probe).
  myapp_yaml 3 "touch /tmp/ok; sleep 3600" | sed 's/^        command:/        readinessProbe: {exec: {command: [cat, \/tmp\/ok]}, periodSeconds: 1}\n        command:/' \
    > "$BATS_TEST_TMPDIR/v2.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/v2.yaml"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "deployment.apps/myapp configured" ]
  prn rollout status deployment/myapp --timeout=120s > "$BATS_TEST_TMPDIR/rollout" 2>&1 &
  rollout=$!
  # maxUnavailable 25% of 3 rounds down to 0: 3 stay Ready at every moment.
  min=3
  for ((i = 0; i < 300; i++)); do
    n=$(ready_count app=myapp)
    [ "$n" -lt "$min" ] && min=$n
    prn get rs -o name | grep -qv "^$old$" && deploy_ready myapp 3 &&
      [ "$(prn get rs "${old#replicaset.apps/}" -o json | jq .spec.replicas)" = 0 ] && break
    sleep 0.1
  done
  [ "$min" -ge 3 ]
  deploy_ready myapp 3
  wait "$rollout"
  grep -q '^Waiting for deployment "myapp" rollout to finish: ' "$BATS_TEST_TMPDIR/rollout"
  [ "$(tail -1 "$BATS_TEST_TMPDIR/rollout")" = 'deployment "myapp" successfully rolled out' ]
  [ "$(prn get deployment myapp -o json | jq .metadata.generation)" = 2 ]
  [ "$(prn get rs -o name | wc -l)" -eq 2 ]
  new=$(prn get rs -o name | grep -v "^$old$")
  [ "$(prn get rs "${new#replicaset.apps/}" -o json | jq -r '.metadata.annotations["deployment.kubernetes.io/revision"]')" = 2 ]
  for p in $(prn get pods -o name); do
    [[ "$p" == "pod/${new#replicaset.apps/}-"* ]]
  done
  prn delete deployment myapp
  assert_no_pods
}

@test "deployments: bad objects are refused and leave nothing" {
  bad() {
    run prn apply -f -
    [ "$status" -eq 1 ]
    [[ "$output" == *"$1"* ]]
    run prn get deployments
    [ "$output" = "No resources found in default namespace." ]
  }
  myapp_yaml | sed 's/^      app: myapp$/      app: other/' | bad "spec.template.metadata.labels: Invalid value: \`selector\` does not match template \`labels\`"
  myapp_yaml -1 | bad "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
  myapp_yaml | sed 's/^  replicas:/  replicaz:/' | bad "spec.replicaz"
  myapp_yaml | sed 's/^  selector:/  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}\n  selector:/' | bad "spec.strategy.rollingUpdate: Forbidden"
  myapp_yaml | sed 's/^  selector:/  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n  selector:/' | bad "may not be 0 when \`maxSurge\` is 0"
  myapp_yaml | sed 's/^kind: Deployment/kind: ReplicationController/' | bad 'kind "ReplicationController" is not supported by podrun'
  myapp_yaml | sed 's/^apiVersion: apps\/v1/apiVersion: v1/' | bad 'no kind "Deployment" in version "v1"'
  [ -z "$(controllers_pid)" ]
  assert_no_pods
}

@test "deployments: Recreate stops every old pod before a new one starts; rollout status when done" {
  myapp_yaml 2 | sed 's/^  selector:/  strategy: {type: Recreate}\n  selector:/' | prn apply -f -
  wait_long deploy_ready myapp 2
  run prn rollout status deployment myapp
  [ "$status" -eq 0 ]
  [ "$output" = 'deployment "myapp" successfully rolled out' ]
  old=$(prn get rs -o name)
  myapp_yaml 2 "sleep 3601" | sed 's/^  selector:/  strategy: {type: Recreate}\n  selector:/' | prn apply -f -
  for ((i = 0; i < 300; i++)); do
    names=$(prn get pods -o name 2>/dev/null) || continue
    # Never old and new pods at once.
    if grep -q "^pod/${old#replicaset.apps/}-" <<<"$names"; then
      [ "$(grep -vc "^pod/${old#replicaset.apps/}-" <<<"$names")" -eq 0 ]
    fi
    deploy_ready myapp 2 && ! grep -q "^pod/${old#replicaset.apps/}-" <<<"$names" && break
    sleep 0.1
  done
  wait_long deploy_ready myapp 2
  run prn rollout history deployment myapp
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'deployment.apps/myapp \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>')" ]
  prn delete deployment myapp
  assert_no_pods
}

@test "deployments: a pod that cannot start waits, the others are made, and the loop does not spin" {
  myapp_yaml 1 | sed 's/image: busybox/image: nosuch.example\/none:1/; s/imagePullPolicy: IfNotPresent/imagePullPolicy: Never/' |
    sed 's/name: myapp$/name: broken/; s/app: myapp$/app: broken/' > "$BATS_TEST_TMPDIR/broken.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/broken.yaml"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "deployment.apps/broken created" ]
  [[ "$output" == *"warning: pod \"broken-"*"\" is kept waiting with ErrImageNeverPull"* ]]
  myapp_yaml 1 | prn apply -f -
  wait_long deploy_ready myapp 1
  run prn get pods -l app=broken
  [[ "${lines[1]}" =~ ^broken-[a-z0-9]+-[a-z0-9]{5}\ +0/1\ +ErrImageNeverPull\  ]]
  [ "$(pod_count app=broken)" -eq 1 ]
  loop=$(controllers_pid)
  sleep 1
  t1=$(awk '{print $14 + $15}' "/proc/$loop/stat")
  sleep 2
  t2=$(awk '{print $14 + $15}' "/proc/$loop/stat")
  [ $((t2 - t1)) -le 2 ]
  [ "$(pod_count app=broken)" -eq 1 ]
  run prn get deployment broken
  [[ "${lines[1]}" =~ ^broken\ +0/1\ +1\ +0\  ]]
  prn delete deployment broken myapp
  assert_no_pods
  wait_for no_loop
}

@test "deployments: a rollout whose pods never become Ready exceeds progressDeadlineSeconds and says so" {
  myapp_yaml 1 | sed 's/^  selector:/  progressDeadlineSeconds: 2\n  selector:/' |
    sed 's/^        command:/        readinessProbe: {exec: {command: [cat, \/nonexistent]}, periodSeconds: 1}\n        command:/' |
    prn apply -f -
  run prn rollout status deployment myapp --timeout=60s
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = 'Waiting for deployment "myapp" rollout to finish: 0 of 1 updated replicas are available...' ]
  [[ "${lines[1]}" == *'deployment "myapp" exceeded its progress deadline' ]]
  j=$(prn get deployment myapp -o json)
  [ "$(jq -r '.status.conditions[] | select(.type == "Progressing") | .status + " " + .reason' <<<"$j")" = "False ProgressDeadlineExceeded" ]
  [ "$(jq -r '.status.conditions[] | select(.type == "Available") | .status' <<<"$j")" = False ]
  [ "$(jq -r .status.unavailableReplicas <<<"$j")" = 1 ]
  run prn describe deployment myapp
  [[ "$output" == *$'\n  Progressing    False   ProgressDeadlineExceeded\n'* ]]
  prn delete deployment myapp
  assert_no_pods
}

@test "deployments: in a namespace, and deleted with it" {
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team%s}\n' "$$" | prn apply -f -
  myapp_yaml 2 | prn apply -n "team$$" -f -
  wait_long deploy_ready_ns "team$$"
  run prn get deployments
  [ "$output" = "No resources found in default namespace." ]
  run prn get deploy -A
  [[ "${lines[1]}" =~ ^team$$\ +myapp\ +2/2\  ]]
  run prn delete namespace "team$$"
  [ "$status" -eq 0 ]
  run prn get rs -A
  [ "$output" = "No resources found" ]
  assert_no_pods
  wait_for no_loop
}

@test "deployments: minReadySeconds: pods count as available only after it, and the loop wakes for it" {
  mr() { myapp_yaml 2 "$1" | sed 's/^  selector:/  minReadySeconds: 2\n  selector:/'; }
  mr "sleep 3600" | prn apply -f -
  j=$(prn get deployment myapp -o json)
  [ "$(jq -r .status.availableReplicas <<<"$j")" = 0 ]
  run prn rollout status deployment myapp --timeout=60s
  [ "$status" -eq 0 ]
  [ "$(prn get deployment myapp -o json | jq .status.availableReplicas)" = 2 ]
  mr "sleep 3601" | prn apply -f -
  start=$(date +%s)
  # Each new pod waits 2 s before the next step: no file changes then, only the loop's timer.
  run prn rollout status deployment myapp --timeout=60s
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = 'deployment "myapp" successfully rolled out' ]
  [ $(($(date +%s) - start)) -ge 2 ]
  prn delete deployment myapp
  assert_no_pods
}
