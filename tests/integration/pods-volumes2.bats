#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# downwardAPI and projected volumes, Memory emptyDirs (tmpfs, sizeLimit, charged to the
# container's memory) and disk emptyDirs with a sizeLimit: what the containers see.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

# pod_with VOLUMES_YAML MOUNTS_YAML [RESOURCES_YAML]: a pod "v" with one sleeping container.
pod_with() {
  local res=${3:-"      limits: {cpu: 250m, memory: 64Mi}"}
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: v
  labels: {tier: front, app: web}
  annotations: {note: 'say "hi"'}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
$1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    resources:
$res
    volumeMounts:
$2
YAML
}

@test "volumes2: downwardAPI files (fieldRef, resourceFieldRef, modes) and env resourceFieldRef" {
  pod_with '  - name: d
    downwardAPI:
      defaultMode: 0640
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: ns, fieldRef: {fieldPath: metadata.namespace}}
      - {path: uid, fieldRef: {fieldPath: metadata.uid}}
      - {path: meta/labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}, mode: 0400}
      - {path: cpu_m, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}
      - {path: cpu, resourceFieldRef: {containerName: app, resource: limits.cpu}}
      - {path: mem_mi, resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}}
      - {path: req_mem, resourceFieldRef: {containerName: app, resource: requests.memory}}' \
    '    - {name: d, mountPath: /etc/pod}' > "$M"
  cat >> "$M" <<'YAML'
    env:
    - name: MEM
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
YAML
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app cat /etc/pod/name)" = v ]
  [ "$(pexec v app cat /etc/pod/ns)" = default ]
  [ "$(pexec v app cat /etc/pod/uid)" = "$(pod_uid v)" ]
  [ "$(pexec v app cat /etc/pod/meta/labels)" = "$(printf 'app="web"\ntier="front"')" ]
  [ "$(pexec v app cat /etc/pod/annotations)" = 'note="say \"hi\""' ]
  [ "$(pexec v app cat /etc/pod/cpu_m)" = 250 ]
  [ "$(pexec v app cat /etc/pod/cpu)" = 1 ]
  [ "$(pexec v app cat /etc/pod/mem_mi)" = 64 ]
  # A request that is not set is its limit, as the API server defaults it.
  [ "$(pexec v app cat /etc/pod/req_mem)" = 67108864 ]
  [ "$(pexec v app stat -c %a /etc/pod/name)" = 640 ]
  [ "$(pexec v app stat -c %a /etc/pod/annotations)" = 400 ]
  [ "$(pexec v app sh -c 'echo $MEM')" = 64 ]
  run pexec v app touch /etc/pod/new
  [ "$status" -eq 1 ]
}

@test "volumes2: a resourceFieldRef limit that is not set is the node's capacity" {
  pod_with '  - name: d
    downwardAPI:
      items:
      - {path: cpu, resourceFieldRef: {containerName: app, resource: limits.cpu}}
      - {path: mem, resourceFieldRef: {containerName: app, resource: limits.memory}}' \
    '    - {name: d, mountPath: /d}' '      {}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app cat /d/cpu)" = "$(nproc)" ]
  [ "$(pexec v app cat /d/mem)" = "$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) ))" ]
}

@test "volumes2: a projected volume joins ConfigMap, Secret and downward API files under one defaultMode" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: one, b: two}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {pw: s3cr3t}
---
YAML
  pod_with '  - name: p
    projected:
      defaultMode: 0600
      sources:
      - configMap: {name: cfg, items: [{key: a, path: conf/a}]}
      - secret: {name: sec}
      - downwardAPI: {items: [{path: podname, fieldRef: {fieldPath: metadata.name}, mode: 0444}]}
      - configMap: {name: absent, optional: true}' \
    '    - {name: p, mountPath: /p}' >> "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app cat /p/conf/a)" = one ]
  [ "$(pexec v app cat /p/pw)" = s3cr3t ]
  [ "$(pexec v app cat /p/podname)" = v ]
  [ "$(pexec v app stat -c %a /p/pw)" = 600 ]
  [ "$(pexec v app stat -c %a /p/podname)" = 444 ]
  run pexec v app ls /p/conf
  [ "$output" = a ]
  run pexec v app touch /p/x
  [ "$status" -eq 1 ]
}

@test "volumes2: projected serviceAccountToken and clusterTrustBundle, and a missing source, are refused by name" {
  for src in 'serviceAccountToken: {path: token}' 'clusterTrustBundle: {path: b, name: x}'; do
    pod_with "  - name: p
    projected:
      sources:
      - $src" '    - {name: p, mountPath: /p}' > "$M"
    run prn apply -f "$M"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"projected.sources[0].${src%%:*}: not supported"* ]]
    assert_no_pods
  done
  pod_with '  - name: p
    projected:
      sources:
      - secret: {name: nope}' '    - {name: p, mountPath: /p}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'secret "nope" not found'* ]]
  assert_no_pods
  pod_with '  - name: d
    downwardAPI: {items: [{path: x, fieldRef: {fieldPath: status.podIP}}]}' '    - {name: d, mountPath: /d}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *'fieldPath: unsupported value "status.podIP"'* ]]
  assert_no_pods
}

@test "volumes2: a Memory emptyDir is a tmpfs of sizeLimit, shared, full at its limit, unmounted with the pod" {
  pod_with '  - name: m
    emptyDir: {medium: Memory, sizeLimit: 8Mi}' '    - {name: m, mountPath: /m}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  uid=$(pod_uid v)
  run pexec v app awk '$2 == "/m" { print $3 }' /proc/mounts
  [ "$output" = tmpfs ]
  [ "$(pexec v app df -k /m | awk 'NR == 2 { print $2 }')" = 8192 ]
  run pexec v app dd if=/dev/zero of=/m/big bs=1M count=16
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"No space left on device"* ]]
  grep -q " $ROOTS/lib/pods/$uid/volumes/m " /proc/self/mountinfo
  prn delete pod v
  assert_no_pods
}

@test "volumes2: a Memory emptyDir without sizeLimit, in a pod without memory limits, is as large as the node's memory" {
  pod_with '  - name: m
    emptyDir: {medium: Memory}' '    - {name: m, mountPath: /m}' '      {}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app df -k /m | awk 'NR == 2 { print $2 }')" = "$(( $(getconf _PHYS_PAGES) * $(getconf PAGESIZE) / 1024 ))" ]
}

@test "volumes2: a Memory emptyDir without sizeLimit is as large as the pod's memory limit, and its pages count against it" {
  pod_with '  - name: m
    emptyDir: {medium: Memory}' '    - {name: m, mountPath: /m}' '      limits: {memory: 32Mi}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app df -k /m | awk 'NR == 2 { print $2 }')" = 32768 ]
  # The tmpfs's pages are charged to the container's memory cgroup, and stay charged after
  # the writer exits: 24 MiB of them (less whatever else of the cgroup the kernel reclaimed
  # meanwhile: at least 20 MiB net), and 16 MiB more than the 32 MiB limit allows.
  before=$(pexec v app sh -c 'cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.current')
  pexec v app dd if=/dev/zero of=/m/a bs=1M count=24
  after=$(pexec v app sh -c 'cat /sys/fs/cgroup/memory/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.current')
  echo "before $before after $after"
  [ $((after - before)) -ge $((20 << 20)) ]
  run pexec v app dd if=/dev/zero of=/m/b bs=1M count=16
  echo "status $status $output"
  [ "$status" -ne 0 ] || false
  [ "$(pexec v app du -sk /m | awk '{ print $1 }')" -lt 32768 ]
}
