#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The shim's part of a pod's life: lifecycle postStart and preStop (exec, httpGet, sleep),
# the termination message (File, FallbackToLogsOnError, bounded), activeDeadlineSeconds, and
# disk emptyDir sizeLimit enforced by eviction.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
  HOST=$BATS_TEST_TMPDIR/host
  mkdir -p "$HOST"
}

teardown() {
  pods_teardown
}

# pod NAME RESTART CONTAINER_EXTRA_YAML [SPEC_EXTRA_YAML]: one container "app" of busybox, with
# the host dir $HOST at /host.
pod() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: $2
  terminationGracePeriodSeconds: ${GRACE:-5}
$4
  volumes:
  - {name: host, hostPath: {path: $HOST}}
  containers:
  - name: app
    image: busybox
    volumeMounts:
    - {name: host, mountPath: /host}
$3
YAML
}

# json POD: the pod as -o json.
json() {
  prn get pod "$1" -o json
}

# wait_jq POD FILTER: until the pod's JSON satisfies FILTER.
wait_jq() {
  local i
  for ((i = 0; i < 300; i++)); do
    if json "$1" | jq -e "$2" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  json "$1" >&2
  return 1
}

@test "lifecycle: the termination message from terminationMessagePath, in -o json and describe" {
  {
    pod msg Never '    command: ["sh", "-c", "printf \"all done\\nbye\" > /dev/termination-log; exit 3"]'
    echo ---
    pod own Never '    terminationMessagePath: /tmp/why
    command: ["sh", "-c", "echo custom > /tmp/why; exit 0"]'
  } > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_jq msg '.status.containerStatuses[0].state.terminated'
  json msg | jq -e '.status.containerStatuses[0].state.terminated | .exitCode == 3 and .message == "all done\nbye"'
  run prn describe pod msg
  echo "$output"
  [[ "$output" == *"Message:      all done"* ]]
  [[ "$output" == *"                    bye"* ]]
  wait_jq own '.status.containerStatuses[0].state.terminated.message == "custom\n"'
}

@test "lifecycle: FallbackToLogsOnError takes the log's last lines on failure only; a message is cut at 4096 bytes" {
  {
    pod fb Never '    terminationMessagePolicy: FallbackToLogsOnError
    command: ["sh", "-c", "echo first; sleep 0.3; echo second >&2; exit 1"]'
    echo ---
    pod ok Never '    terminationMessagePolicy: FallbackToLogsOnError
    command: ["sh", "-c", "echo fine"]'
    echo ---
    pod big Never '    command: ["sh", "-c", "head -c 10000 /dev/zero | tr \"\\0\" x > /dev/termination-log; exit 1"]'
  } > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_jq fb '.status.containerStatuses[0].state.terminated.message == "first\nsecond"'
  wait_jq ok '.status.containerStatuses[0].state.terminated.reason == "Completed"'
  json ok | jq -e '.status.containerStatuses[0].state.terminated.message == null'
  wait_jq big '.status.containerStatuses[0].state.terminated'
  json big | jq -e '.status.containerStatuses[0].state.terminated.message | length == 4096'
}

@test "lifecycle: the termination message file is read as itself: a symlink put in its place is not followed" {
  echo "host secret" > "$BATS_TEST_TMPDIR/secret"
  pod sym Never '    command: ["sh", "-c", "echo mine > /dev/termination-log; while [ ! -e /host/go ]; do sleep 0.1; done; exit 1"]' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running sym
  file=$ROOTS/lib/pods/$(pod_uid sym)/containers/app/termination-log
  [ -f "$file" ]
  rm "$file"
  ln -s "$BATS_TEST_TMPDIR/secret" "$file"
  touch "$HOST/go"
  wait_jq sym '.status.containerStatuses[0].state.terminated'
  json sym | jq -e '.status.containerStatuses[0].state.terminated.message == null'
  [ "$(cat "$BATS_TEST_TMPDIR/secret")" = "host secret" ]
}

@test "lifecycle: the pod's termination messages share 12 KiB: four containers get 3072 bytes each" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: four}
spec:
  restartPolicy: Never
  containers:
YAML
  for n in a b c d; do
    cat >> "$M" <<YAML
  - name: $n
    image: busybox
    command: ["sh", "-c", "head -c 5000 /dev/zero | tr '\\\\0' $n > /dev/termination-log"]
YAML
  done
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_jq four '[.status.containerStatuses[].state.terminated] | length == 4 and all(. != null)'
  json four | jq -e '[.status.containerStatuses[].state.terminated.message | length] == [3072, 3072, 3072, 3072]'
  json four | jq -e '.status.containerStatuses[1].state.terminated.message | test("^b+$")'
}

@test "lifecycle: postStart (exec) runs after every start, the shim's restarts included" {
  pod ps Always '    command: ["sh", "-c", "cat /host/count > /host/seen-$$; sleep 1; exit 1"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo started >> /host/count"]}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  # The first back-off is 10 s.
  for ((i = 0; i < 300; i++)); do
    [ "$(wc -l < "$HOST/count" 2>/dev/null || echo 0)" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(wc -l < "$HOST/count")" -ge 2 ]
  wait_jq ps '.status.containerStatuses[0].restartCount >= 1'
}

@test "lifecycle: a failing postStart kills the container: FailedPostStartHook, restarted by the policy" {
  {
    pod never Never '    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo nope; exit 7"]}'
    echo ---
    pod always Always '    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "exit 7"]}'
    echo ---
    pod web Never '    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        httpGet: {port: 9, path: /}'
  } > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_jq never '.status.containerStatuses[0].state.terminated.reason == "FailedPostStartHook"'
  json never | jq -e '.status.containerStatuses[0].state.terminated.message | startswith("PostStart hook failed: exit 7: nope")'
  run prn get pod never
  [[ "$output" == *FailedPostStartHook* ]]
  wait_jq always '.status.containerStatuses[0].lastState.terminated.reason == "FailedPostStartHook"'
  json always | jq -e '.status.containerStatuses[0].lastState.terminated.message == "PostStart hook failed: exit 7"'
  wait_jq web '.status.containerStatuses[0].state.terminated.reason == "FailedPostStartHook"'
  json web | jq -e '.status.containerStatuses[0].state.terminated.message | contains("connect to port 9")'
}

@test "lifecycle: preStop (exec, httpGet) runs before the container is stopped on delete" {
  {
    pod ex Always '    command: ["sh", "-c", "trap \"echo term >> /host/ex; exit 0\" TERM; while :; do sleep 0.1; done"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo prestop >> /host/ex"]}'
    echo ---
    pod http Always '    command: ["sh", "-c", "printf \"HTTP/1.0 200 OK\\r\\n\\r\\n\" | nc -l -p 8080 > /host/req; sleep 3600"]
    ports: [{name: web, containerPort: 8080}]
    lifecycle:
      preStop:
        httpGet: {path: /bye, port: web}'
  } > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running ex
  wait_running http
  run prn delete pod ex
  [ "$status" -eq 0 ]
  # preStop first, then SIGTERM.
  [ "$(cat "$HOST/ex")" = "$(printf 'prestop\nterm')" ]
  run prn delete pod http
  [ "$status" -eq 0 ]
  grep -q '^GET /bye HTTP/1.1' "$HOST/req"
  assert_no_pods
}

@test "lifecycle: preStop sleep delays the stop; a preStop longer than the grace period is cut at the deadline" {
  {
    pod nap Always '    command: ["sleep", "3600"]
    lifecycle:
      preStop:
        sleep: {seconds: 2}'
    echo ---
    pod long Always '    command: ["sleep", "3600"]
    lifecycle:
      preStop:
        exec: {command: ["sleep", "100"]}'
  } > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running nap
  wait_running long
  start=$(date +%s%N)
  prn delete pod nap
  took=$((($(date +%s%N) - start) / 1000000))
  echo "nap took $took ms"
  [ "$took" -ge 2000 ]
  start=$(date +%s%N)
  prn delete pod long
  took=$((($(date +%s%N) - start) / 1000000))
  echo "long took $took ms"
  # terminationGracePeriodSeconds is 5: killed then, not after 100 s.
  [ "$took" -ge 5000 ] && [ "$took" -lt 20000 ]
  assert_no_pods
}

@test "lifecycle: a lifecycle podrun cannot run is refused by name" {
  for h in 'tcpSocket: {port: 80}' 'exec: {}' 'httpGet: {port: nope}' 'bogus: 1'; do
    pod bad Always "    command: [\"sleep\", \"1\"]
    lifecycle:
      postStart: {$h}" > "$M"
    run prn apply -f "$M"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"spec.containers[0].lifecycle.postStart"* ]]
    assert_no_pods
  done
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  initContainers:
  - name: init
    image: busybox
    lifecycle: {postStart: {exec: {command: ["true"]}}}
  containers:
  - {name: app, image: busybox}
YAML
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.initContainers[0].lifecycle: Forbidden"* ]]
  assert_no_pods
}

@test "lifecycle: activeDeadlineSeconds stops the pod: Failed, DeadlineExceeded in get pods" {
  pod dl Always '    command: ["sleep", "3600"]' '  activeDeadlineSeconds: 2' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running dl
  wait_jq dl '.status.phase == "Failed" and .status.reason == "DeadlineExceeded"'
  wait_jq dl '.status.containerStatuses[0].state.terminated'
  run prn get pods dl
  echo "$output"
  [[ "$output" == *DeadlineExceeded* ]]
  run prn describe pod dl
  [[ "$output" == *"Reason:           DeadlineExceeded"* ]]
  # For good: not restarted.
  sleep 1
  json dl | jq -e '.status.containerStatuses[0].state.terminated and .status.containerStatuses[0].restartCount == 0'
}

@test "lifecycle: a disk emptyDir over its sizeLimit gets the pod evicted" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: ev
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: scratch, emptyDir: {sizeLimit: 1Mi}}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "dd if=/dev/zero of=/scratch/small bs=1k count=512; sleep 3; dd if=/dev/zero of=/scratch/big bs=1M count=2; sleep 3600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
YAML
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running ev
  # Under the limit: still running after a check or two.
  sleep 2.5
  json ev | jq -e '.status.phase == "Running"'
  wait_jq ev '.status.reason == "Evicted"'
  json ev | jq -e '.status.phase == "Failed" and (.status.message | contains("Usage of EmptyDir volume \"scratch\" exceeds the limit"))'
  run prn get pods ev
  [[ "$output" == *Evicted* ]]
}

@test "lifecycle: delete --grace-period overrides the pod's; --force --grace-period 0 skips preStop" {
  {
    GRACE=60 pod short Always '    command: ["sleep", "3600"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo ran >> /host/short; sleep 100"]}'
    echo ---
    pod now Always '    command: ["sleep", "3600"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo ran >> /host/now"]}'
  } > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running short
  wait_running now
  start=$(date +%s%N)
  prn delete pod short --grace-period 2
  took=$((($(date +%s%N) - start) / 1000000))
  echo "short took $took ms"
  [ "$took" -ge 2000 ] && [ "$took" -lt 15000 ]
  [ "$(cat "$HOST/short")" = ran ]
  prn delete pod now --force --grace-period 0
  [ ! -e "$HOST/now" ]
  run prn delete pod x --grace-period soon
  [ "$status" -eq 1 ]
  [[ "$output" == *"--grace-period"* ]]
  assert_no_pods
}
