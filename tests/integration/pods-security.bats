#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# securityContext as the container sees it: seccompProfile (RuntimeDefault, Unconfined,
# Localhost, pod level with the container's winning), capabilities, privileged,
# allowPrivilegeEscalation; the pod's supplementalGroups, fsGroup and sysctls.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

# pod NAME POD_SECURITY_YAML CONTAINER_SECURITY_YAML: one sleeping container "app".
pod() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
$2
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    securityContext:
$3
YAML
}

# status_field POD FIELD: a line of /proc/self/status inside the pod's container.
status_field() {
  pexec "$1" app cat /proc/self/status | awk -v f="$2:" '$1 == f { print $2 }'
}

@test "security: seccompProfile RuntimeDefault (pod level) denies unshare; the container's Unconfined wins over it" {
  {
    pod def '    seccompProfile: {type: RuntimeDefault}' '      {}'
    echo ---
    pod unc '    seccompProfile: {type: RuntimeDefault}' '      seccompProfile: {type: Unconfined}'
  } > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running def
  wait_running unc
  cfg=$ROOTS/lib/pods/$(pod_uid def)/containers/app/config.json
  jq -e '.linux.seccomp.defaultAction == "SCMP_ACT_ERRNO"' "$cfg"
  jq -e '[.linux.seccomp.syscalls[].names[]] | index("unshare") == null' "$cfg"
  [ "$(status_field def Seccomp)" = 2 ]
  [ "$(status_field unc Seccomp)" = 0 ]
  # A new user namespace needs no capability: only the profile stops it.
  run pexec def app unshare -U true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Operation not permitted"* ]]
  run pexec unc app unshare -U true
  echo "$output"
  [ "$status" -eq 0 ]
  # Ordinary work goes on under the profile: files, processes, sockets, threads.
  run pexec def app sh -c 'echo hi > /tmp/f && cat /tmp/f && ls / >/dev/null && nc -z 127.0.0.1 1 ; echo done'
  [ "$status" -eq 0 ]
  [[ "$output" == *hi*done* ]]
}

@test "security: RuntimeDefault allows what an added capability unlocks (SYS_ADMIN: unshare)" {
  pod adm '    {}' '      seccompProfile: {type: RuntimeDefault}
      capabilities: {add: [SYS_ADMIN]}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running adm
  run pexec adm app unshare -U true
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "security: seccompProfile Localhost is read from lib-root/seccomp, never from outside it" {
  mkdir -p "$ROOTS/lib/seccomp/team"
  cat > "$ROOTS/lib/seccomp/team/no-mkdir.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
JSON
  pod loc '    {}' '      seccompProfile: {type: Localhost, localhostProfile: team/no-mkdir.json}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running loc
  run pexec loc app mkdir /tmp/d
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Permission denied"* ]]
  run pexec loc app touch /tmp/f
  [ "$status" -eq 0 ]
  prn delete pod loc

  # Outside the directory: by "..", by a symlink, or missing: refused, nothing made.
  echo '{"defaultAction": "SCMP_ACT_ALLOW"}' > "$BATS_TEST_TMPDIR/outside.json"
  ln -s "$BATS_TEST_TMPDIR/outside.json" "$ROOTS/lib/seccomp/link.json"
  ln -s ../../../outside.json "$ROOTS/lib/seccomp/rel.json"
  for p in ../outside.json link.json rel.json missing.json; do
    pod loc '    {}' "      seccompProfile: {type: Localhost, localhostProfile: $p}" > "$M"
    run prn apply -f "$M"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"localhostProfile"* ]]
    assert_no_pods
  done
  echo '[1]' > "$ROOTS/lib/seccomp/bad.json"
  pod loc '    {}' '      seccompProfile: {type: Localhost, localhostProfile: bad.json}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not a seccomp profile"* ]]
  assert_no_pods
}

@test "security: capabilities, privileged and allowPrivilegeEscalation as the process has them" {
  {
    pod caps '    runAsUser: 0' '      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_ADMIN, CHOWN]}'
    echo ---
    pod priv '    {}' '      privileged: true'
  } > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running caps
  wait_running priv
  # CAP_CHOWN is bit 0, CAP_NET_ADMIN bit 12.
  [ "$(status_field caps CapEff)" = 0000000000001001 ]
  [ "$(status_field caps CapBnd)" = 0000000000001001 ]
  [ "$(status_field caps NoNewPrivs)" = 1 ]
  [ "$(status_field priv NoNewPrivs)" = 0 ]
  [ "$(status_field priv CapEff)" = "$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)" ]
  # Privileged: devices and a writable /sys, so mounting works.
  run pexec priv app sh -c 'mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && echo mounted'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = mounted ]
  run pexec caps app sh -c 'mkdir -p /tmp/m && mount -t tmpfs t /tmp/m'
  [ "$status" -ne 0 ] || false
}

@test "security: supplementalGroups and fsGroup: the process's groups, and fsGroup owns the pod's volumes" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata:
  name: grp
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    supplementalGroups: [4000, 4001]
    fsGroup: 2000
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: c, configMap: {name: cfg, defaultMode: 0400}}
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: c, mountPath: /c}
YAML
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running grp
  [ "$(pexec grp app id -u)" = 1000 ]
  [ "$(pexec grp app id -g)" = 3000 ]
  [ "$(pexec grp app id -G | tr ' ' '\n' | sort | tr '\n' ' ')" = "2000 3000 4000 4001 " ]
  # The emptyDir is the group's and setgid: a new file there is the group's too.
  [ "$(pexec grp app stat -c %g /scratch)" = 2000 ]
  pexec grp app touch /scratch/new
  [ "$(pexec grp app stat -c %g /scratch/new)" = 2000 ]
  # The ConfigMap's file is the group's and group-readable: uid 1000 reads a 0400 file.
  [ "$(pexec grp app stat -c '%g %a' /c/k)" = "2000 440" ]
  [ "$(pexec grp app cat /c/k)" = v ]
}

@test "security: safe sysctls are set in the pod's namespaces; others are refused by name" {
  pod sys '    sysctls:
    - {name: kernel.shm_rmid_forced, value: "1"}
    - {name: net.ipv4.ip_local_port_range, value: "20000 20999"}' '      {}' > "$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running sys
  [ "$(pexec sys app cat /proc/sys/kernel/shm_rmid_forced)" = 1 ]
  [ "$(pexec sys app cat /proc/sys/net/ipv4/ip_local_port_range | tr -s ' \t' ' ')" = "20000 20999" ]
  # The node's are untouched.
  [ "$(in_node cat /proc/sys/net/ipv4/ip_local_port_range | tr -s ' \t' ' ')" != "20000 20999" ]
  prn delete pod sys
  for f in 'kernel.msgmax' 'vm.swappiness'; do
    pod p "    sysctls: [{name: $f, value: \"1\"}]" '      {}' > "$M"
    run prn apply -f "$M"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"spec.securityContext.sysctls[0]: \"$f\": not a safe sysctl"* ]]
    assert_no_pods
  done
  pod p '    supplementalGroupsPolicy: Strict' '      {}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.securityContext.supplementalGroupsPolicy: not supported"* ]]
  assert_no_pods
  pod p '    supplementalGroups: [-1]' '      {}' > "$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.securityContext.supplementalGroups[0]: not a group id"* ]]
  assert_no_pods
}
