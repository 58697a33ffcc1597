#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# apply pulls by imagePullPolicy, from the node's registry (pods-helpers: a fake registry on the
# node's loopback, docker.io's mirror): Always pulls every time, IfNotPresent only what is
# missing, Never nothing (ErrImageNeverPull); a pull that fails keeps the pod waiting with
# ErrImagePull and nothing else made, and the next apply retries it.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

# pod NAME IMAGE [POLICY]
pod() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $2
${3:+    imagePullPolicy: $3}
    command: ["sleep", "3600"]
YAML
}

# manifest_gets REPO: how many times the registry was asked for REPO's manifest.
manifest_gets() {
  cat "$PODS_REG_LOG" 2>/dev/null | grep -c "^GET /v2/$1/manifests/" || true
}

# event POD REASON: the messages of that event, one a line.
event() {
  prn get events -o json | jq -r --arg p "$1" --arg r "$2" \
    '.items[] | select(.involvedObject.name == $p and .reason == $r) | .message'
}

# Nothing of the pod but its record and its events: no sandbox, shim, bundle, log or address.
assert_only_waiting() {
  local uid
  uid=$(pod_uid "$1")
  [ -f "$ROOTS/run/pods/$uid/pod.json" ]
  [ ! -e "$ROOTS/run/pods/$uid/ns" ]
  [ ! -e "$ROOTS/run/pods/$uid/shim" ]
  [ ! -e "$ROOTS/lib/pods/$uid" ]
  [ ! -e "$ROOTS/log/$uid" ]
  [ -z "$(pgrep -f "podrun-shim --pod-dir $ROOTS/run/pods/$uid/" || true)" ]
  [ -z "$(ls "$IMAGES_ROOT/containers" 2>/dev/null | grep "$uid" || true)" ]
  [ -z "$(grep -rl "$uid" "$ROOTS/ipam" 2>/dev/null || true)" ]
}

@test "pull: Always (busybox's default: no tag) pulls on every apply" {
  pod web busybox > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$(manifest_gets library/busybox)" -eq 1 ]
  [ "$(prn get pod web -o json | jq -r '.spec.containers[0].imagePullPolicy')" = Always ]
  wait_running web
  [[ "$(event web Pulled)" =~ ^Successfully\ pulled\ image\ \"busybox\"\ in\ [0-9.]+m?s\ \([0-9.]+m?s\ including\ waiting\)$ ]]
  [ "$(event web Pulling)" = 'Pulling image "busybox"' ]
  # Nothing on a terminal: no progress on stderr.
  run prn delete pod web
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web created" ]
  [ "$(manifest_gets library/busybox)" -eq 2 ]
  wait_running web
}

@test "pull: IfNotPresent uses the stored image, and pulls a missing one" {
  pod web busybox:latest IfNotPresent > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$(manifest_gets library/busybox)" -eq 0 ]
  [ "$(event web Pulled)" = 'Container image "busybox:latest" already present on machine' ]
  [ -z "$(event web Pulling)" ]
  wait_running web
  # A tagged image is IfNotPresent by default: one the store lacks is pulled once.
  echo library/other >> "$PODS_REG/repos"
  pod other other:1.0 > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$(manifest_gets library/other)" -eq 1 ]
  [ "$(event other Pulling)" = 'Pulling image "other:1.0"' ]
  wait_running other
  prn delete pod other
  prn apply -f "$M"
  [ "$(manifest_gets library/other)" -eq 1 ]
  [ "$(event other Pulled)" = 'Container image "other:1.0" already present on machine' ]
}

@test "pull: Never runs a stored image and refuses a missing one with ErrImageNeverPull" {
  pod web busybox Never > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$(manifest_gets library/busybox)" -eq 0 ]
  wait_running web
  pod gone nothere:1.0 Never > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'ErrImageNeverPull: container image "nothere:1.0" is not present with pull policy of Never'* ]]
  [[ "$output" == *"kept waiting with ErrImageNeverPull"* ]]
  [ "$(manifest_gets library/nothere)" -eq 0 ]
  run prn get pods gone
  [[ "${lines[1]}" =~ ^gone\ +0/1\ +ErrImageNeverPull\ +0\  ]]
  [ "$(event gone ErrImageNeverPull)" = 'Container image "nothere:1.0" is not present with pull policy of Never' ]
  [ "$(event gone Failed)" = "Error: ErrImageNeverPull" ]
  assert_only_waiting gone
  run prn delete pod gone
  [ "$status" -eq 0 ]
  run prn get pods gone
  [ "$status" -eq 1 ]
}

@test "pull: an init container's missing image is Init:ErrImageNeverPull; the app container waits" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: init
spec:
  initContainers:
  - name: first
    image: nothere:1.0
    imagePullPolicy: Never
  containers:
  - name: app
    image: busybox
YAML
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *'container "first": ErrImageNeverPull'* ]]
  run prn get pods init
  [[ "${lines[1]}" =~ ^init\ +0/1\ +Init:ErrImageNeverPull\  ]]
  prn get pod init -o json | jq -e '
    .status.initContainerStatuses[0].state.waiting.reason == "ErrImageNeverPull" and
    .status.containerStatuses[0].state.waiting.reason == "PodInitializing"'
  prn get events -o json | jq -e '[.items[] | select(.reason == "Failed") | .involvedObject.fieldPath] ==
    ["spec.initContainers{first}"]'
  # The app container's image was not looked at: nothing after the init container is pulled.
  [ "$(manifest_gets library/busybox)" -eq 0 ]
  assert_only_waiting init
}

@test "pull: a failed pull keeps the pod waiting with ErrImagePull; apply retries; delete removes it" {
  pod web nosuchimage:1.0 > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'pod "web" is kept waiting with ErrImagePull'* ]]
  [[ "$output" == *'container "app": ErrImagePull: failed to pull image "nosuchimage:1.0"'* ]]
  [ "$(manifest_gets library/nosuchimage)" -eq 1 ]
  assert_only_waiting web
  run prn get pods
  [[ "${lines[1]}" =~ ^web\ +0/1\ +ErrImagePull\ +0\  ]]
  prn get pod web -o json | jq -e '.status.phase == "Pending" and
    (.status.containerStatuses[0] | .name == "app" and .ready == false and .restartCount == 0 and
     .state.waiting.reason == "ErrImagePull" and
     (.state.waiting.message | contains("failed to pull image \"nosuchimage:1.0\"")))'
  prn get pod web -o yaml | grep -q 'reason: ErrImagePull'
  run prn describe pod web
  echo "$output"
  [[ "$output" =~ State:\ +Waiting$'\n'\ +Reason:\ +ErrImagePull ]]
  [[ "$output" =~ Warning\ +Failed\ +[0-9]+s\ +kubelet\ +Failed\ to\ pull\ image\ \"nosuchimage:1.0\": ]]
  [[ "$output" =~ Warning\ +Failed\ +[0-9]+s\ +kubelet\ +Error:\ ErrImagePull ]]
  # Applying it again retries the pull (the same events, counted).
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [ "$(manifest_gets library/nosuchimage)" -eq 2 ]
  [ "$(prn get events -o json | jq '.items[] | select(.reason == "Pulling") | .count')" -eq 2 ]
  assert_only_waiting web
  # Once the registry has it, the retry runs the pod.
  echo library/nosuchimage >> "$PODS_REG/repos"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web created" ]
  wait_running web
  [[ "$(event web Pulled)" == 'Successfully pulled image "nosuchimage:1.0" in '* ]]
  run prn delete pod web
  [ "$status" -eq 0 ]
  assert_no_pods
}

@test "pull: a pod waiting for its image is deleted with nothing left" {
  pod web nosuchimage:1.0 > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  run prn delete -f "$M"
  [ "$status" -eq 0 ]
  assert_no_pods
  [ -z "$(find "$ROOTS/run/pods" -mindepth 1 2>/dev/null)" ]
}

# pulling: a pod's events say it is being pulled.
pulling() {
  grep -qs Pulling "$ROOTS"/run/pods/*/events.json
}

@test "pull: podrun killed while pulling leaves a pod the next apply takes up, or delete removes" {
  pod web busybox > "$M"
  echo slow > "$PODS_REG/mode"
  prn apply -f "$M" > /dev/null 2>&1 &
  pid=$!
  wait_for pulling
  # podrun itself (prn's nsenter execs it), not the subshell running prn.
  kill -9 $(pgrep -P "$pid") "$pid"
  wait "$pid" || true
  run prn get pods web
  [[ "${lines[1]}" =~ ^web\ +0/1\ +ContainerCreating\  ]]
  echo ok > "$PODS_REG/mode"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web created" ]
  wait_running web
  [ "$(prn get events -o json | jq '.items[] | select(.reason == "Pulling") | .count')" -eq 2 ]
  # Killed again while pulling, the pod is deleted whole.
  prn delete pod web
  pod web2 busybox > "$M"
  echo slow > "$PODS_REG/mode"
  prn apply -f "$M" > /dev/null 2>&1 &
  pid=$!
  wait_for pulling
  # podrun itself (prn's nsenter execs it), not the subshell running prn.
  kill -9 $(pgrep -P "$pid") "$pid"
  wait "$pid" || true
  run prn delete pod web2
  [ "$status" -eq 0 ]
  assert_no_pods
}

@test "pull: on a terminal apply draws the pull's progress" {
  command -v script >/dev/null || skip "needs script(1) for a terminal"
  pod web other:2.0 > "$M"
  echo library/other >> "$PODS_REG/repos"
  # A store without the busybox blobs, so that the layer is downloaded.
  local verb
  for verb in "apply -f $M" "delete pod web"; do
    cat > "$BATS_TEST_TMPDIR/${verb%% *}.sh" <<SH
exec nsenter --net=/run/netns/$NODE "$PODRUN" --images-root "$BATS_TEST_TMPDIR/images2" \
  --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
  --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" $verb
SH
  done
  run script -qec "sh $BATS_TEST_TMPDIR/apply.sh" /dev/null
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Copying blob "*" done"* ]]
  [[ "$output" == *"pod/web created"* ]]
  # The pod runs on that store: delete it there.
  run sh "$BATS_TEST_TMPDIR/delete.sh"
  [ "$status" -eq 0 ]
}
