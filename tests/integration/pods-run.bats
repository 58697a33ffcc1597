#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun run: kubectl run's Pod (label run=NAME, restartPolicy, args or command, ports, env),
# made through the pod manager as apply makes pods, and its --dry-run=client output.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
}

teardown() {
  pods_teardown
}

@test "run: a pod with kubectl's defaults, args after --, env, port, and labels; created once" {
  run prn run sleeper --image=busybox --env=GREETING=hi --port=8080 -- sh -c 'echo $GREETING; sleep 3600'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/sleeper created" ]
  wait_running sleeper
  run prn get pod sleeper -o json
  [ "$status" -eq 0 ]
  [ "$(jq -r '.metadata.labels | to_entries | map("\(.key)=\(.value)") | join(",")' <<<"$output")" = run=sleeper ]
  [ "$(jq -r '.spec.restartPolicy' <<<"$output")" = Always ]
  [ "$(jq -r '.spec.containers[0].name' <<<"$output")" = sleeper ]
  [ "$(jq -c '.spec.containers[0].args' <<<"$output")" = '["sh","-c","echo $GREETING; sleep 3600"]' ]
  [ "$(jq -r '.spec.containers[0].command' <<<"$output")" = null ]
  [ "$(jq -r '.spec.containers[0].ports[0].containerPort' <<<"$output")" = 8080 ]
  wait_for sh -c "'$PODRUN' --images-root '$IMAGES_ROOT' --run-root '$ROOTS/run' --lib-root '$ROOTS/lib' --log-root '$ROOTS/log' logs sleeper | grep -qx hi"
  # Bash completion offers the pod's name from the state for logs, exec and get pods.
  source <("$PODRUN" completion bash)
  local R=("$PODRUN" --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log")
  COMP_WORDS=("${R[@]}" logs s) COMP_CWORD=8 COMPREPLY=()
  _podrun
  [ "${COMPREPLY[*]}" = sleeper ]
  COMP_WORDS=("${R[@]}" get pods s) COMP_CWORD=9 COMPREPLY=()
  _podrun
  [ "${COMPREPLY[*]}" = sleeper ]
  # kubectl run does not replace a pod: the second run fails and names it.
  run prn run sleeper --image=busybox -- sleep 1
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "sleeper" already exists'* ]]
  run prn delete pod sleeper
  [ "$status" -eq 0 ]
  assert_no_pods
}

@test "run: --command, --labels replace run=NAME, --restart=Never runs once" {
  run prn run once --image=busybox --restart=Never --labels=app=x,tier=y --command -- sh -c 'exit 3'
  [ "$status" -eq 0 ]
  wait_for sh -c "'$PODRUN' --run-root '$ROOTS/run' --lib-root '$ROOTS/lib' --log-root '$ROOTS/log' get pod once -o json | jq -e '.status.phase == \"Failed\"'"
  run prn get pod once -o json
  [ "$(jq -c '.spec.containers[0].command' <<<"$output")" = '["sh","-c","exit 3"]' ]
  [ "$(jq -r '.spec.containers[0].args' <<<"$output")" = null ]
  [ "$(jq -r '.spec.restartPolicy' <<<"$output")" = Never ]
  [ "$(jq -c '.metadata.labels' <<<"$output")" = '{"app":"x","tier":"y"}' ]
  [ "$(jq -r '.status.containerStatuses[0].restartCount' <<<"$output")" = 0 ]
  [ "$(jq -r '.status.containerStatuses[0].state.terminated.exitCode' <<<"$output")" = 3 ]
}

@test "run --dry-run=client -o yaml: kubectl's object, nothing made, and it applies as it is" {
  run prn run web --image=busybox --port=80 --env=A=1 --dry-run=client -o yaml -- httpd -f
  [ "$status" -eq 0 ]
  expected='apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: web
  name: web
spec:
  containers:
  - args:
    - httpd
    - -f
    env:
    - name: A
      value: "1"
    image: busybox
    name: web
    ports:
    - containerPort: 80
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}'
  [ "$output" = "$expected" ]
  [ ! -e "$ROOTS/lib/objects/pods/default/web.json" ]
  run prn run web --image=busybox --dry-run=client -o name
  [ "$output" = pod/web ]
  printf '%s\n' "$expected" > "$BATS_TEST_TMPDIR/web.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/web.yaml"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web created" ]
}

@test "run: bad input is refused as kubectl refuses it, and nothing is made" {
  run prn run x
  [ "$status" -eq 1 ]
  [[ "$output" == *'required flag(s) "image" not set'* ]]
  run prn run --image=busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"NAME is required for run"* ]]
  run prn run x --image=busybox --restart=Sometimes
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid restart policy: Sometimes"* ]]
  run prn run x --image=busybox --rm -- true
  [ "$status" -eq 1 ]
  [[ "$output" == *"--rm should only be used for attached containers"* ]]
  run prn run x --image=busybox --port=http
  [ "$status" -eq 1 ]
  [[ "$output" == *"--port=http"* ]]
  run prn run x --image=busybox --env=NOVALUE
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid env: NOVALUE"* ]]
  run prn run x --image=busybox --labels=bad
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid label spec: bad"* ]]
  run prn run Bad_Name --image=busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *'Pod "Bad_Name" is invalid'* ]]
  run prn run x --image=busybox --frobnicate
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "error: unknown flag: --frobnicate" ]
  [ "${lines[1]}" = "See 'podrun run --help' for usage." ]
  # -t without -i: kubectl's refusal, nothing made.
  run prn run x --image=busybox -t -- sh
  [ "$status" -eq 1 ]
  [[ "$output" == *"-i/--stdin is required for containers with -t/--tty=true"* ]]
  [ ! -e "$ROOTS/lib/objects/pods/default/x.json" ]
  assert_no_pods
}
