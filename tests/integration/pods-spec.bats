#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# How a pod's spec reaches its containers: probes in the shim's fields, restart policy,
# securityContext and resources in config.json, emptyDir volumes shared by the containers.

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/pod.yaml
}

teardown() {
  pods_teardown
}

# status_is POD STATUS [READY]: `get pods POD` shows STATUS (and READY when given).
status_is() {
  local out
  out=$(prn get pods "$1" 2>&1) || return 1
  awk -v s="$2" -v r="${3:-}" 'NR == 2 && $3 == s && (r == "" || $2 == r) { ok = 1 } END { exit !ok }' <<<"$out"
}

@test "spec: a readiness probe (exec) holds READY back until it passes; a named port reaches the shim" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports:
    - name: http
      containerPort: 8080
    readinessProbe:
      exec:
        command: ["test", "-e", "/tmp/ready"]
      periodSeconds: 1
    livenessProbe:
      tcpSocket:
        port: http
      periodSeconds: 1
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  uid=$(pod_uid probed)
  jq -e '.containers[0].livenessProbe.tcpSocket.port == 8080 and .containers[0].livenessProbe.periodSeconds == 1' \
    "$ROOTS/run/pods/$uid/shim/spec.json"
  jq -e '.containers[0].readinessProbe.exec.command == ["test", "-e", "/tmp/ready"]' \
    "$ROOTS/run/pods/$uid/shim/spec.json"
  wait_for status_is probed Running 0/1
  pexec probed app touch /tmp/ready
  wait_for status_is probed Running 1/1
  # The liveness probe keeps passing: no restart.
  [ "$(prn get pods probed | awk 'NR == 2 {print $4}')" = 0 ]
}

@test "spec: restartPolicy Never: a container that exits 0 is Completed; Always: a failing one is in CrashLoopBackOff" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: once
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["true"]
---
apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["false"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_for status_is once Completed 0/1
  wait_for status_is crash CrashLoopBackOff 0/1
  [ "$(prn get pods once -o json | jq -r .status.phase)" = Succeeded ]
}

@test "spec: securityContext and resources reach config.json and the process" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: sec
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 1000
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    workingDir: /tmp
    securityContext:
      runAsGroup: 2000
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
        add: ["NET_BIND_SERVICE"]
    resources:
      limits:
        memory: 64Mi
        cpu: 500m
      requests:
        cpu: 250m
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running sec
  cfg=$ROOTS/lib/pods/$(pod_uid sec)/containers/app/config.json
  jq -e '.process.user.uid == 1000 and .process.user.gid == 2000' "$cfg"
  jq -e '.root.readonly == true and .process.noNewPrivileges == true' "$cfg"
  jq -e '.process.capabilities.bounding == ["CAP_NET_BIND_SERVICE"]' "$cfg"
  jq -e '.linux.resources.memory.limit == 67108864' "$cfg"
  jq -e '.linux.resources.cpu.quota == 50000 and .linux.resources.cpu.period == 100000' "$cfg"
  jq -e '.linux.resources.cpu.shares == 256' "$cfg"
  jq -e '[.linux.namespaces[] | select(.path) | .type] == ["network", "ipc", "uts"]' "$cfg"
  jq -e '[.linux.namespaces[] | select(.path == null) | .type] | sort == ["cgroup", "mount", "pid"]' "$cfg"
  [ "$(pexec sec app id -u)" = 1000 ]
  [ "$(pexec sec app id -g)" = 2000 ]
  [ "$(pexec sec app pwd)" = /tmp ]
  run pexec sec app touch /x
  [ "$status" -ne 0 ] || false
  [[ "$output" == *"Read-only file system"* ]]
}

@test "spec: runAsNonRoot with an image that runs as root is refused and leaves nothing" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: nonroot
spec:
  containers:
  - name: app
    image: busybox
    securityContext:
      runAsNonRoot: true
YAML
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"container has runAsNonRoot and image will run as root"* ]]
  assert_no_pods
}

@test "spec: an emptyDir volume is shared by the pod's containers and removed with the pod" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: vol
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: scratch
    emptyDir: {}
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "echo shared > /data/f && exec sleep 3600"]
    volumeMounts:
    - name: scratch
      mountPath: /data
  - name: reader
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - name: scratch
      mountPath: /in
      readOnly: true
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running vol 2/2
  uid=$(pod_uid vol)
  wait_for pexec vol reader cat /in/f
  [ "$(pexec vol reader cat /in/f)" = shared ]
  run pexec vol reader touch /in/g
  [ "$status" -ne 0 ] || false
  [ -f "$ROOTS/lib/pods/$uid/volumes/scratch/f" ]
  # The volume is anyone's (any runAsUser writes to it); the dirs above it are root's alone.
  [ "$(stat -c %a "$ROOTS/lib/pods/$uid/volumes/scratch")" = 777 ]
  [ "$(stat -c %a "$ROOTS/lib/pods/$uid/volumes")" = 700 ]
  prn delete pod vol
  [ ! -e "$ROOTS/lib/pods/$uid" ]
  assert_no_pods
}

@test "spec: the downward API's fields and \$(VAR) expansion in env, command and args" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: down
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "exec sleep 3600", "$(GREETING)", "$$(GREETING)", "$(UNDEFINED)"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: POD_UID
      valueFrom: {fieldRef: {fieldPath: metadata.uid}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: APP
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}
    - name: GREETING
      value: "hello $(POD_NAME)"
    - name: EARLY
      value: "$(LATE)"
    - name: LATE
      value: x
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running down
  ip=$(prn get pods down -o json | jq -r .status.podIP)
  [ "$(pexec down app sh -c 'echo "$POD_NAME $POD_NAMESPACE $APP"')" = "down default web" ]
  [ "$(pexec down app sh -c 'echo "$POD_UID"')" = "$(pod_uid down)" ]
  [ "$(pexec down app sh -c 'echo "$POD_IP"')" = "$ip" ]
  [ "$(pexec down app sh -c 'echo "$GREETING"')" = "hello down" ]
  # Only variables defined before one are expanded in it, as in Kubernetes.
  [ "$(pexec down app sh -c 'echo "$EARLY"')" = '$(LATE)' ]
  cfg=$ROOTS/lib/pods/$(pod_uid down)/containers/app/config.json
  jq -e '.process.args == ["sh", "-c", "exec sleep 3600", "hello down", "$(GREETING)", "$(UNDEFINED)"]' "$cfg"
}

@test "logs: a container's output without the CRI prefixes, long lines joined; -c picks one of several" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: talk
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: one
    image: busybox
    command: ["sh", "-c", "echo first; echo second >&2; head -c 20000 /dev/zero | tr '\\0' x; echo; exec sleep 3600"]
  - name: two
    image: busybox
    command: ["sh", "-c", "echo from two; exec sleep 3600"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running talk 2/2
  wait_for bash -c "[ \$(grep -c ' F ' $ROOTS/log/$(pod_uid talk)/one.log) -ge 3 ]"
  # Without -c: kubectl's default, the first container, said on stderr.
  run --separate-stderr prn logs talk
  [ "$status" -eq 0 ]
  [ "$stderr" = 'Defaulted container "one" out of: one, two' ]
  [ "${#lines[@]}" -eq 3 ]
  run prn logs talk -c one
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  # stdout and stderr are separate pipes: their records interleave in any order.
  [ "$(printf '%s\n' "${lines[@]}" | grep -v xxx | sort | tr '\n' ' ')" = "first second " ]
  [ "$(printf '%s\n' "${lines[@]}" | grep -n xxx | cut -d: -f1)" -gt "$(printf '%s\n' "${lines[@]}" | grep -n first | cut -d: -f1)" ]
  [ "$(printf '%s\n' "${lines[@]}" | grep xxx | tr -d '\n' | wc -c)" -eq 20000 ]
  # The long line came as partial records.
  grep -q ' P ' "$ROOTS/log/$(pod_uid talk)/one.log"
  run prn logs -c two talk
  [ "$output" = "from two" ]
  run prn logs talk -c three
  [ "$status" -eq 1 ]
  [[ "$output" == *"container three is not valid for pod talk"* ]]
}
