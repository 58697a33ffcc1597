#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun serve's systemd cgroup driver against a real systemd, as a kubelet run with
# --cgroup-driver=systemd uses it: RuntimeConfig says SYSTEMD, the sandbox's cgroup_parent is the
# slice the kubelet made (kubepods-besteffort-pod<uid>.slice), each container is the transient
# scope cri-podrun-<id>.scope in it with its resources, stats and UpdateContainerResources work
# on that scope, and RemovePodSandbox leaves no scope. A cgroupfs path is refused naming both
# drivers. Needs systemd as PID 1 with cgroup v2: the systemd lane (tests/qemu/run-v2-lane.sh
# --systemd) runs it.

load ../lib/helpers
load ../lib/pods-helpers

PY=/usr/bin/python3

setup() {
  if [ ! -d /run/systemd/system ]; then
    # In the systemd lane a missing systemd is the lane's failure, not a reason to skip.
    [ -z "${PODRUN_SYSTEMD_LANE:-}" ] || { echo "the systemd lane runs without systemd" >&2; return 1; }
    skip "needs systemd as PID 1 (run-v2-lane.sh --systemd)"
  fi
  [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "needs cgroup v2"
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  LOGS=$BATS_TEST_TMPDIR/podlogs
  SERVE_PID=
  # The kubelet escapes '-' in a pod's uid: a '-' in a slice name opens a parent slice.
  PUID="u$$x${BATS_TEST_NUMBER}"
  SLICE="kubepods-besteffort-pod$PUID.slice"
  SLICE_DIR="/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/$SLICE"
}

teardown() {
  [ -d /run/systemd/system ] || return 0
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null
  [ -n "$SERVE_PID" ] && wait "$SERVE_PID" 2>/dev/null
  pods_teardown
  systemctl stop "$SLICE" 2>/dev/null || true
  # The server's own sanitizer reports go to its log, not to a `run`'s output.
  if [ -f "$BATS_TEST_TMPDIR/serve.log" ] &&
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$BATS_TEST_TMPDIR/serve.log" >&2; then
    return 1
  fi
  return 0
}

cri() { "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" "$@"; }

start_serve() {
  rm -f "$SOCK"
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" \
    serve --listen "unix://$SOCK" "$@" > "$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$SOCK"
}

# sandbox_config PARENT: a host-network PodSandboxConfig (no CNI: the cgroups are the point).
sandbox_config() {
  jq -nc --arg u "$PUID" --arg logs "$LOGS/default_sd_$PUID" --arg cg "$1" \
    '{metadata: {name: "sd", namespace: "default", uid: $u, attempt: 0},
      log_directory: $logs, linux: {cgroup_parent: $cg,
        security_context: {namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"}}}}'
}

# The pod's slice, made as the kubelet makes it: a transient slice unit.
make_slice() {
  busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager StartTransientUnit 'ssa(sv)a(sa(sv))' \
    "$SLICE" fail 1 Description s "test pod slice" 0 >/dev/null
  wait_for test -d "$SLICE_DIR"
}

@test "cri-systemd: the systemd driver puts a pod's containers in scopes under the kubelet's slice" {
  make_slice
  start_serve
  run cri RuntimeService/RuntimeConfig
  [ "$status" -eq 0 ]
  [ "$(jq -r .linux.cgroup_driver <<< "$output")" = SYSTEMD ]
  run cri RuntimeService/Status '{"verbose":true}'
  [ "$(jq -r '.info.config | fromjson | .cgroupDriver' <<< "$output")" = systemd ]

  local sc out sb ctr scope
  sc=$(sandbox_config "$SLICE")
  out=$(cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$sc" '{config: $c}')")
  sb=$(jq -r .pod_sandbox_id <<<"$out")
  [[ "$sb" =~ ^[0-9a-f]{64}$ ]]
  out=$(cri RuntimeService/CreateContainer "$(jq -nc --arg sb "$sb" --argjson sc "$sc" \
    '{pod_sandbox_id: $sb, sandbox_config: $sc,
      config: {metadata: {name: "app", attempt: 0}, image: {image: "busybox"},
               command: ["sh", "-c", "echo hi; exec sleep 1000"], log_path: "app/0.log",
               linux: {resources: {memory_limit_in_bytes: 67108864, cpu_shares: 512}}}}')")
  ctr=$(jq -r .container_id <<<"$out")
  scope="cri-podrun-$ctr.scope"
  run cri RuntimeService/StartContainer "{\"container_id\":\"$ctr\"}"
  echo "$output"
  [ "$status" -eq 0 ]

  # The container's process is in its scope, the scope in the kubelet's slice, limits applied.
  [ "$(systemctl is-active "$scope")" = active ]
  [ "$(systemctl show -P Slice "$scope")" = "$SLICE" ]
  [ "$(cat "$SLICE_DIR/$scope/memory.max")" = 67108864 ]
  local pid
  pid=$(cat "$SLICE_DIR/$scope/cgroup.procs" | head -1)
  [ -n "$pid" ]
  [ "$(cat "/proc/$pid/cgroup")" = "0::/kubepods.slice/kubepods-besteffort.slice/$SLICE/$scope" ]

  # Stats come from the scope (the container) and the slice (the pod).
  run cri RuntimeService/ContainerStats "{\"container_id\":\"$ctr\"}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .stats.memory.working_set_bytes.value <<<"$output")" -gt 0 ]
  run cri RuntimeService/PodSandboxStats "{\"pod_sandbox_id\":\"$sb\"}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .stats.linux.memory.working_set_bytes.value <<<"$output")" -gt 0 ]
  # UpdateContainerResources writes into the scope.
  run cri RuntimeService/UpdateContainerResources "{\"container_id\":\"$ctr\",\"linux\":{\"memory_limit_in_bytes\":134217728}}"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$SLICE_DIR/$scope/memory.max")" = 134217728 ]

  run cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$sb\"}"
  [ "$status" -eq 0 ]
  run cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$sb\"}"
  [ "$status" -eq 0 ]
  run systemctl is-active "$scope"
  [ "$status" -eq 3 ]
  [ ! -e "$SLICE_DIR/$scope" ]
  # The slice is the kubelet's: still there for it to remove.
  [ -d "$SLICE_DIR" ]
  assert_no_pods
}

@test "cri-systemd: a cgroupfs parent is refused by the systemd driver, naming both drivers" {
  start_serve --cgroup-driver systemd
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config /kubepods/besteffort/pod$PUID)" '{config: $c}')"
  echo "$output"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT"*"is a cgroupfs path"*"systemd cgroup driver"*"--cgroup-driver=cgroupfs"* ]]
  [ -z "$(ls "$ROOTS/run/sandboxes" 2>/dev/null)" ]
  # And the cgroupfs driver, chosen by hand on a systemd node, refuses a slice.
  kill "$SERVE_PID"
  wait "$SERVE_PID" || true
  start_serve --cgroup-driver cgroupfs
  run cri RuntimeService/RuntimeConfig
  [ "$(jq -r .linux.cgroup_driver <<< "$output")" = CGROUPFS ]
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config "$SLICE")" '{config: $c}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT"*"is a systemd slice"*"cgroupfs cgroup driver"*"--cgroup-driver=systemd"* ]]
}
