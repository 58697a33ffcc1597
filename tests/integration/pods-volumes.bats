#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# configMap, secret and hostPath volumes, readOnly and subPath mounts: what the containers see,
# what apply refuses before making anything, and that the pod's copies go with it.

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
  # The propagation tests' shared mount of $HOST, and what was mounted under it.
  if [ -n "${SHARED:-}" ]; then umount -R "$SHARED" 2>/dev/null || true; fi
}

# pod_with VOLUMES_YAML MOUNTS_YAML: a pod "v" with one sleeping container.
pod_with() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: v
spec:
  terminationGracePeriodSeconds: 1
  volumes:
$1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
$2
YAML
}

# refused PATTERN: apply of $M fails with exit 1, says PATTERN, and leaves no pod.
refused() {
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$1"* ]]
  [[ "$output" != *"pod/v created"* ]]
  assert_no_pods
}

@test "volumes: configMap and secret files (data, binaryData, stringData, items, modes), read-only, gone with the pod" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  app.conf: "port=80\n"
  other: two
binaryData:
  blob: AAEC/w==
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
data:
  password: czNjcjN0
  token: b2xk
stringData:
  token: new
---
YAML
  pod_with '  - name: c
    configMap: {name: cfg, defaultMode: 0640}
  - name: s
    secret:
      secretName: sec
      items:
      - {key: password, path: deep/pw, mode: 0400}
  - name: none
    configMap: {name: absent, optional: true}' '    - {name: c, mountPath: /etc/c}
    - {name: s, mountPath: /etc/s}
    - {name: none, mountPath: /etc/none}' >> "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  uid=$(pod_uid v)
  [ "$(pexec v app cat /etc/c/app.conf)" = "port=80" ]
  [ "$(pexec v app cat /etc/c/other)" = two ]
  [ "$(pexec v app od -An -tx1 /etc/c/blob | tr -d ' ')" = 000102ff ]
  [ "$(pexec v app stat -c %a /etc/c/other)" = 640 ]
  [ "$(pexec v app cat /etc/s/deep/pw)" = s3cr3t ]
  [ "$(pexec v app stat -c %a /etc/s/deep/pw)" = 400 ]
  # items: only the keys named.
  run pexec v app ls /etc/s
  [ "$output" = deep ]
  run pexec v app ls -A /etc/none
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  # Read-only whatever the mount says.
  run pexec v app touch /etc/c/new
  [ "$status" -eq 1 ]
  [ -f "$ROOTS/lib/pods/$uid/volumes/s/deep/pw" ]
  prn delete pod v
  [ ! -e "$ROOTS/lib/pods/$uid" ]
  assert_no_pods
}

@test "volumes: a Secret's stringData wins over its data in a volume" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: sec
data:
  token: b2xk
stringData:
  token: new
---
YAML
  pod_with '  - {name: s, secret: {secretName: sec}}' '    - {name: s, mountPath: /s}' >> "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app cat /s/token)" = new ]
}

@test "volumes: a missing ConfigMap, Secret or key that is not optional is refused by name before anything is made" {
  pod_with '  - {name: c, configMap: {name: nope}}' '    - {name: c, mountPath: /c}' > "$M"
  refused 'configmap "nope" not found'
  [[ "$output" == *'spec.volumes[0] "c"'* ]]
  pod_with '  - {name: s, secret: {secretName: hidden}}' '    - {name: s, mountPath: /s}' > "$M"
  refused 'secret "hidden" not found'
  prn apply -f - <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  a: "1"
YAML
  pod_with '  - {name: c, configMap: {name: cfg, items: [{key: b, path: b}]}}' '    - {name: c, mountPath: /c}' > "$M"
  refused 'configmap "cfg": no key "b"'
  pod_with '  - {name: c, configMap: {name: cfg, items: [{key: a, path: ../a}]}}' '    - {name: c, mountPath: /c}' > "$M"
  refused 'configMap.items[0]: key and a relative path without `..` are required'
  pod_with '  - {name: c, configMap: {name: cfg, defaultMode: 01777}}' '    - {name: c, mountPath: /c}' > "$M"
  refused 'defaultMode'
  # optional: a missing key is left out.
  pod_with '  - {name: c, configMap: {name: cfg, optional: true, items: [{key: b, path: b}, {key: a, path: x/a}]}}' \
    '    - {name: c, mountPath: /c}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running v
  [ "$(pexec v app cat /c/x/a)" = 1 ]
  run pexec v app ls /c
  [ "$output" = x ]
}

@test "volumes: hostPath types are checked as the kubelet checks them; OrCreate makes what is missing" {
  pod_with "  - {name: h, hostPath: {path: $HOST/nodir, type: Directory}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "hostPath type check failed: $HOST/nodir does not exist"
  touch "$HOST/file"
  pod_with "  - {name: h, hostPath: {path: $HOST/file, type: Directory}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "$HOST/file is not a directory"
  pod_with "  - {name: h, hostPath: {path: $HOST, type: File}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "$HOST is not a file"
  pod_with "  - {name: h, hostPath: {path: $HOST/file, type: Socket}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "$HOST/file is not a socket"
  pod_with "  - {name: h, hostPath: {path: $HOST/file, type: CharDevice}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "is not a character device"
  pod_with "  - {name: h, hostPath: {path: /dev/null, type: BlockDevice}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "/dev/null is not a block device"
  pod_with "  - {name: h, hostPath: {path: $HOST, type: Bogus}}" '    - {name: h, mountPath: /h}' > "$M"
  refused 'hostPath.type: unsupported value "Bogus"'
  pod_with "  - {name: h, hostPath: {path: relative}}" '    - {name: h, mountPath: /h}' > "$M"
  refused 'hostPath.path: required, and must be an absolute path'
  pod_with "  - {name: h, hostPath: {path: $HOST/../x}}" '    - {name: h, mountPath: /h}' > "$M"
  refused 'must be absolute, without ".."'
  # FileOrCreate does not make the parent directory.
  pod_with "  - {name: h, hostPath: {path: $HOST/none/f, type: FileOrCreate}}" '    - {name: h, mountPath: /h}' > "$M"
  refused "hostPath: $HOST/none/f: its directory does not exist"
  [ ! -e "$HOST/none" ]
  pod_with "  - {name: d, hostPath: {path: $HOST/made/dir, type: DirectoryOrCreate}}
  - {name: f, hostPath: {path: $HOST/made.txt, type: FileOrCreate}}
  - {name: nul, hostPath: {path: /dev/null, type: CharDevice}}
  - {name: ro, hostPath: {path: $HOST, type: Directory}}" \
    '    - {name: d, mountPath: /d}
    - {name: f, mountPath: /f.txt}
    - {name: nul, mountPath: /mynull}
    - {name: ro, mountPath: /ro, readOnly: true}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  [ -d "$HOST/made/dir" ]
  [ "$(stat -c %a "$HOST/made/dir")" = 755 ]
  [ -f "$HOST/made.txt" ]
  pexec v app sh -c 'echo hi > /d/x && echo there > /f.txt'
  [ "$(cat "$HOST/made/dir/x")" = hi ]
  [ "$(cat "$HOST/made.txt")" = there ]
  [ "$(pexec v app stat -c %F /mynull)" = "character special file" ]
  [ "$(pexec v app cat /ro/made.txt)" = there ]
  run pexec v app touch /ro/new
  [ "$status" -eq 1 ]
  [ ! -e "$HOST/new" ]
  prn delete pod v
  assert_no_pods
  # The host's files stay: podrun did not make the volume's directory.
  [ -f "$HOST/made/dir/x" ]
}

@test "volumes: subPath binds a path inside the volume, made when missing; one that leaves it is refused" {
  mkdir -p "$HOST/vol/sub" "$HOST/outside"
  echo inside > "$HOST/vol/sub/f"
  echo secret > "$HOST/outside/f"
  ln -s ../outside "$HOST/vol/up"
  ln -s /etc "$HOST/vol/abs"
  ln -s sub "$HOST/vol/within"
  pod_with "  - {name: h, hostPath: {path: $HOST/vol}}
  - {name: e, emptyDir: {}}" \
    '    - {name: h, mountPath: /a, subPath: sub}
    - {name: h, mountPath: /b, subPath: within, readOnly: true}
    - {name: h, mountPath: /c, subPath: new/dir}
    - {name: e, mountPath: /e, subPath: x}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running v
  uid=$(pod_uid v)
  [ "$(pexec v app cat /a/f)" = inside ]
  [ "$(pexec v app cat /b/f)" = inside ]
  run pexec v app touch /b/g
  [ "$status" -eq 1 ]
  pexec v app touch /c/made /e/y
  [ -f "$HOST/vol/new/dir/made" ]
  [ -f "$ROOTS/lib/pods/$uid/volumes/e/x/y" ]
  prn delete pod v
  assert_no_pods
  for sub in up up/f abs ../outside /etc; do
    pod_with "  - {name: h, hostPath: {path: $HOST/vol}}" "    - {name: h, mountPath: /a, subPath: $sub}" > "$M"
    run prn apply -f "$M"
    echo "$sub: $output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"subPath"*"\"$sub\""* ]]
    assert_no_pods
  done
  # Nothing was made outside the volume, nor in it through the escaping links.
  [ ! -e "$HOST/vol/etc" ]
  [ "$(ls "$HOST/outside")" = f ]
}

# exec_v CMD...: runs CMD in pod v's container.
exec_v() { prn exec v -- "$@"; }

@test "volumes: mountPropagation HostToContainer sees the node's later mounts, Bidirectional (privileged only) shows the container's to the node, and a source on a private mount is refused naming it" {
  # $HOST sits on the root mount, which is private here: neither may use it.
  pod_with "  - {name: h, hostPath: {path: $HOST, type: Directory}}" '    - {name: h, mountPath: /h, mountPropagation: HostToContainer}' > "$M"
  if awk '$5 == "/" { for (i = 7; $i != "-"; i++) if ($i ~ /^(shared|master):/) exit 0; exit 1 }' /proc/self/mountinfo; then
    skip "the root mount propagates on this host, so no private source is at hand"
  fi
  refused "mountPropagation HostToContainer: \`$HOST\` is on the mount \`/\`, which is neither shared nor slave (mount --make-rshared it)"

  # Not privileged: refused as the API server refuses it.
  pod_with "  - {name: h, hostPath: {path: $HOST, type: Directory}}" '    - {name: h, mountPath: /h, mountPropagation: Bidirectional}' > "$M"
  refused "spec.containers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers"

  SHARED=$HOST
  mount --bind "$HOST" "$HOST"
  mount --make-shared "$HOST"
  pod_with "  - {name: h, hostPath: {path: $HOST, type: Directory}}
  - {name: p, hostPath: {path: $HOST/priv, type: DirectoryOrCreate}}" '    - {name: h, mountPath: /h, mountPropagation: HostToContainer}
    - {name: p, mountPath: /p}' > "$M"
  prn apply -f "$M"
  wait_running v
  mkdir -p "$HOST/later" "$HOST/priv/later"
  mount -t tmpfs tmpfs "$HOST/later"
  echo seen > "$HOST/later/f"
  mount -t tmpfs tmpfs "$HOST/priv/later"
  echo hidden > "$HOST/priv/later/f"
  run exec_v cat /h/later/f
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = seen ]
  # A private bind (the default) does not receive it, on the same shared source.
  run exec_v cat /p/later/f
  [ "$status" -eq 1 ]
  # And the container's own mounts do not reach the node.
  run exec_v sh -c 'mkdir -p /h/back && mount -t tmpfs none /h/back && echo x > /h/back/g'
  [ ! -e "$HOST/back/g" ]
  prn delete pod v --grace-period=1
  umount "$HOST/later" "$HOST/priv/later"

  pod_with "  - {name: h, hostPath: {path: $HOST, type: Directory}}" '    - {name: h, mountPath: /h, mountPropagation: Bidirectional}' \
    | sed 's/^    command: \["sleep", "3600"\]$/&\n    securityContext: {privileged: true}/' > "$M"
  prn apply -f "$M"
  wait_running v
  exec_v sh -c 'mkdir -p /h/out && mount -t tmpfs none /h/out && echo both > /h/out/g'
  [ "$(cat "$HOST/out/g")" = both ]
  prn delete pod v --grace-period=1
  assert_no_pods
  # As on a cluster, what the container mounted on the node stays until the node unmounts it.
  umount "$HOST/out"
}
