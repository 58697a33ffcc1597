#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun apply refuses bad manifests with exit 1 and a message that names the problem, and a
# pod that fails part-way (after its sandbox, network or roots were made) leaves nothing.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

# pod_with CONTAINER_YAML [SPEC_YAML]: a pod "bad" with one container (indented by the caller).
pod_with() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: bad
spec:
${2:-}
  containers:
  - name: app
$1
YAML
}

# refused PATTERN: apply of $M fails with exit 1, says PATTERN, and leaves nothing.
refused() {
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  [[ "$output" != *created* ]]
  assert_no_pods
  [ -z "$(find "$ROOTS/lib/objects" -type f 2>/dev/null)" ]
}

@test "bad: invalid YAML" {
  printf 'apiVersion: v1\nkind: Pod\nmetadata: [\n' > "$M"
  refused "$M:"
}

@test "bad: an unknown kind is named" {
  printf 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: d}\nspec: {}\n' > "$M"
  refused 'kind "ReplicationController" is not supported'
}

@test "bad: an unknown field is named" {
  pod_with '    image: busybox
    imagee: busybox' > "$M"
  refused "imagee"
}

@test "bad: a container without an image" {
  pod_with '    command: ["sleep", "1"]' > "$M"
  refused "image"
}

# An image that cannot be had leaves the pod waiting (ErrImagePull): pods-pull.bats.

@test "bad: fields this slice does not run are refused by name before anything is made" {
  pod_with '    image: busybox
    lifecycle:
      preStop:
        tcpSocket: {port: 80}' > "$M"
  refused "spec.containers[0].lifecycle.preStop.tcpSocket: not supported"
  # A claim that does not exist: nothing of the pod is made.
  pod_with '    image: busybox
    volumeMounts: [{name: h, mountPath: /h}]' '  volumes: [{name: h, persistentVolumeClaim: {claimName: c}}]' > "$M"
  refused 'spec.volumes[0] "h": persistentvolumeclaim "c" not found'
}

@test "bad: a reference to a missing ConfigMap" {
  pod_with '    image: busybox
    env:
    - name: X
      valueFrom: {configMapKeyRef: {name: nope, key: k}}' > "$M"
  refused 'configmap "nope" not found'
}

@test "bad: a namespace that does not exist" {
  pod_with '    image: busybox' | sed 's/^  name: bad/  name: bad\n  namespace: elsewhere/' > "$M"
  refused 'namespaces "elsewhere" not found'
}

@test "bad: one bad document of several: nothing of the manifest is applied" {
  { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n---\n'
    pod_with '    image: busybox
    bogus: 1'; } > "$M"
  refused "bogus"
}

@test "bad: a failure after the sandbox, network and roots were made leaves nothing" {
  # A probe on a port name no container has is found when the shim's spec is written.
  pod_with '    image: busybox
    command: ["sleep", "3600"]
    readinessProbe:
      tcpSocket: {port: nosuchport}' > "$M"
  refused 'no port named "nosuchport"'
}

@test "bad: a CNI plugin that is not there: the pinned namespaces go" {
  mkdir "$BATS_TEST_TMPDIR/nocni"
  PRN_EXTRA=(--cni-bin-dir "$BATS_TEST_TMPDIR/nocni")
  pod_with '    image: busybox' > "$M"
  refused "plugin \`podrun-bridge\` not found"
}

@test "bad: a shim that fails: the container roots, network and namespaces go" {
  PRN_EXTRA=(--shim /bin/false)
  pod_with '    image: busybox
    command: ["sleep", "3600"]' > "$M"
  refused "the shim failed (exit 1)"
}
