#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun serve's sandbox and container calls, driven as a kubelet drives them (RunPodSandbox,
# CreateContainer, StartContainer, ContainerStatus, ExecSync, List*, StopContainer,
# RemoveContainer, StopPodSandbox, RemovePodSandbox) by an independent client (python3-grpcio,
# tests/lib/cri-client.py), in a node network namespace of the test's own, on the pod
# manager's test roots; afterwards nothing of the pods is left.

load ../lib/helpers
load ../lib/pods-helpers

PY=/usr/bin/python3

setup() {
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  LOGS=$BATS_TEST_TMPDIR/podlogs
  SERVE_PID=
  EV_PIDS=()
}

teardown() {
  local p
  for p in ${EV_PIDS[@]+"${EV_PIDS[@]}"}; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null
  [ -n "$SERVE_PID" ] && wait "$SERVE_PID" 2>/dev/null
  pods_teardown
  # The propagation test's shared mount and what was mounted under it.
  if mountpoint -q "$BATS_TEST_TMPDIR/vol" 2>/dev/null; then umount -R "$BATS_TEST_TMPDIR/vol"; fi
}

cri() { "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" "$@"; }

start_serve() {
  rm -f "$SOCK"
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" ${SERVE_GLOBALS[@]+"${SERVE_GLOBALS[@]}"} \
    serve --listen "unix://$SOCK" --cgroup-driver cgroupfs > "$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$SOCK"
}

# sandbox_config NAME [UID]: a PodSandboxConfig as the kubelet writes one (host port 18095 to
# port 80 for the pod "web").
sandbox_config() {
  local uid=${2:-uid-$1}
  jq -nc --arg n "$1" --arg u "$uid" --arg logs "$LOGS/default_$1_$uid" --arg pid "${SB_PID:-CONTAINER}" \
    --arg cg "$PODS_CG_ROOT/kubepods/pod$uid" \
    '{metadata: {name: $n, namespace: "default", uid: $u, attempt: 0}, hostname: $n,
      log_directory: $logs, dns_config: {servers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"]},
      labels: {app: $n, "io.kubernetes.pod.name": $n}, annotations: {note: "kept as given"},
      linux: {cgroup_parent: $cg, security_context: {namespace_options: {network: "POD", pid: $pid, ipc: "POD"}}}}
     + (if env.SB_SYSCTLS then {linux: ({cgroup_parent: $cg, sysctls: (env.SB_SYSCTLS | fromjson), security_context: {namespace_options: {network: "POD", pid: $pid, ipc: "POD"}}})} else {} end)
     + (if $n == "web" then {port_mappings: [{protocol: "TCP", container_port: 80, host_port: 18095}]} else {} end)'
}

# run_sandbox NAME: its id in SB.
run_sandbox() {
  local out
  out=$(cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config "$1")" '{config: $c}')") || return 1
  SB=$(jq -r .pod_sandbox_id <<<"$out")
}

# create_container SANDBOX NAME CMD...: its id in CTR.
create_container() {
  local sb=$1 name=$2 out req
  shift 2
  req=$(jq -nc --arg sb "$sb" --arg n "$name" --argjson sc "$(sandbox_config web)" --arg mem "${CTR_MEM:-}" --arg user "${CTR_USER:-}" --arg groups "${CTR_GROUPS:-}" --argjson unified "${CTR_UNIFIED:-null}" --argjson seccomp "${CTR_SECCOMP:-null}" \
    '{pod_sandbox_id: $sb, sandbox_config: $sc,
      config: {metadata: {name: $n, attempt: 0}, image: {image: "busybox"},
               command: $ARGS.positional, log_path: ($n + "/0.log"), labels: {tier: $n},
               mounts: (env.CTR_MOUNTS // "[]" | fromjson),
               envs: [{key: "GREETING", value: "hello"}],
               linux: {resources: ({cpu_shares: 2, oom_score_adj: 1000} +
                                   (if $mem != "" then {memory_limit_in_bytes: ($mem | tonumber)} else {} end) +
                                   (if $unified != null then {unified: $unified} else {} end) +
                                   (if env.CTR_HUGE then {hugepage_limits: (env.CTR_HUGE | fromjson)} else {} end) +
                                   (if env.CTR_CPUS then {cpuset_cpus: env.CTR_CPUS} else {} end)),
                       security_context: ({namespace_options: {pid: (env.CTR_PID // "CONTAINER")}} +
                                          (if $user != "" then {run_as_username: $user} else {} end) +
                                          (if $seccomp != null then $seccomp else {} end) +
                                          (if env.CTR_PRIV then {privileged: true} else {} end) +
                                          (if $groups != "" then {supplemental_groups: ($groups | split(",") | map(tonumber))} else {} end))}}}' \
    --args -- "$@")
  out=$(cri RuntimeService/CreateContainer "$req") || return 1
  CTR=$(jq -r .container_id <<<"$out")
}

ctr_state() {
  cri RuntimeService/ContainerStatus "{\"container_id\":\"$1\"}" | jq -r .status.state
}

assert_no_sandboxes() {
  local left
  left=$(find "$ROOTS/run/sandboxes" "$ROOTS/lib/sandboxes" -mindepth 1 -maxdepth 1 2>/dev/null || true)
  [ -z "$left" ] || { echo "sandbox state left: $left" >&2; return 1; }
  assert_no_pods
}

@test "cri-pods: a pod through the kubelet's calls, from RunPodSandbox to RemovePodSandbox, leaves nothing" {
  # The node's own address, for the host port (a bridge without ports: there may be no dummy
  # driver).
  in_node ip link add prdummy type bridge
  in_node ip addr add 10.123.0.1/24 dev prdummy
  in_node ip link set prdummy up
  start_serve
  run_sandbox web
  [[ "$SB" =~ ^[0-9a-f]{64}$ ]]
  run cri RuntimeService/PodSandboxStatus "{\"pod_sandbox_id\":\"$SB\",\"verbose\":true}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_READY ]
  [ "$(jq -r .status.metadata.name <<<"$output")" = web ]
  [ "$(jq -r .status.annotations.note <<<"$output")" = "kept as given" ]
  ip=$(jq -r .status.network.ip <<<"$output")
  [[ "$ip" == 10.88.* ]]
  [ "$(jq -r .info.info <<<"$output" | jq -r .cgroupParent)" = "$PODS_CG_ROOT/kubepods/poduid-web" ]
  # The same metadata again is refused while the first sandbox exists.
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config web)" '{config: $c}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error ALREADY_EXISTS"* ]]

  create_container "$SB" app sh -c 'echo "$GREETING from $(hostname)"; exec sleep 1000'
  [[ "$CTR" =~ ^[0-9a-f]{64}$ ]]
  [ "$(ctr_state "$CTR")" = CONTAINER_CREATED ]
  run cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  [ "$(ctr_state "$CTR")" = CONTAINER_RUNNING ]
  # Its log at the kubelet's path, in the CRI format.
  wait_for grep -q ' stdout F hello from web$' "$LOGS/default_web_uid-web/app/0.log"
  # Exec through the streaming server, the container named by its CRI id.
  run cri RuntimeService/Exec "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["sh", "-c", "hostname; exit 4"], stdout: true, stderr: true}')"
  [ "$status" -eq 0 ]
  run in_node "$PY" "$TOP/tests/lib/stream-client.py" "$(jq -r .url <<<"$output")" exec
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<<"$output")" = web ]
  [ "$(jq -r .status.reason <<<"$output")" = NonZeroExitCode ]
  # Its cgroup under the kubelet's parent.
  cgdir=/sys/fs/cgroup/memory$PODS_CG_ROOT/kubepods/poduid-web
  [ -d /sys/fs/cgroup/memory ] || cgdir=/sys/fs/cgroup$PODS_CG_ROOT/kubepods/poduid-web
  [ -d "$cgdir/$CTR" ]
  # ExecSync: stdout and stderr apart, the exit code, the pod's network and DNS.
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["sh", "-c", "echo out; cat /etc/resolv.conf; ip -o -4 addr show eth0; echo err >&2; exit 3"], timeout: 10}')"
  [ "$status" -eq 0 ]
  [ "$(jq -r .exit_code <<<"$output")" = 3 ]
  sout=$(jq -r .stdout <<<"$output" | base64 -d)
  [ "$(jq -r .stderr <<<"$output" | base64 -d)" = err ]
  [[ "$sout" == out* ]]
  [[ "$sout" == *"nameserver 10.96.0.10"* ]]
  [[ "$sout" == *"search default.svc.cluster.local"* ]]
  [[ "$sout" == *"inet $ip/"* ]]
  # ReopenContainerLog after the kubelet moved the log away: what comes next goes to a new file.
  mv "$LOGS/default_web_uid-web/app/0.log" "$LOGS/default_web_uid-web/app/0.log.1"
  run cri RuntimeService/ReopenContainerLog "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["sh", "-c", "echo after reopen > /proc/1/fd/1"], timeout: 10}')" > /dev/null
  wait_for grep -q ' stdout F after reopen$' "$LOGS/default_web_uid-web/app/0.log"
  run grep -c 'after reopen' "$LOGS/default_web_uid-web/app/0.log.1"
  [ "$output" = 0 ]
  # UpdateRuntimeConfig: the node's pod CIDR (the network configuration's) is taken, another is
  # refused by name.
  run cri RuntimeService/UpdateRuntimeConfig '{"runtime_config": {"network_config": {"pod_cidr": "10.88.0.0/16"}}}'
  [ "$status" -eq 0 ]
  run cri RuntimeService/UpdateRuntimeConfig '{"runtime_config": {"network_config": {"pod_cidr": "10.1.0.0/24"}}}'
  [ "$status" -eq 3 ]
  [[ "$output" == *"FAILED_PRECONDITION"*"10.1.0.0/24 differs from the node's (10.88.0.0/16)"* ]]
  # Its timeout.
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["sleep", "30"], timeout: 1}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error DEADLINE_EXCEEDED"* ]]

  # The host port: the node's address, port 18095, reaches the pod's port 80.
  APP=$CTR
  create_container "$SB" www sh -c 'mkdir -p /www && echo hello through the host port > /www/index.html && exec httpd -f -p 80 -h /www'
  WWW=$CTR CTR=$APP
  cri RuntimeService/StartContainer "{\"container_id\":\"$WWW\"}" > /dev/null
  wait_for in_node curl -sf --max-time 3 -o /dev/null http://10.123.0.1:18095/
  run in_node curl -s --max-time 3 http://10.123.0.1:18095/
  [ "$output" = "hello through the host port" ]
  cri RuntimeService/RemoveContainer "{\"container_id\":\"$WWW\"}" > /dev/null

  # A second container that completes.
  APP=$CTR
  create_container "$SB" done sh -c 'exit 0'
  DONE=$CTR CTR=$APP
  cri RuntimeService/StartContainer "{\"container_id\":\"$DONE\"}"
  wait_for sh -c "[ \"\$($PY $TOP/tests/lib/cri-client.py $SOCK RuntimeService/ContainerStatus '{\"container_id\":\"$DONE\"}' | jq -r .status.state)\" = CONTAINER_EXITED ]"
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$DONE\"}"
  [ "$(jq -r '.status.exit_code, .status.reason' <<<"$output" | tr '\n' ' ')" = "0 Completed " ]
  [ "$(jq -r .status.finished_at <<<"$output")" -gt 0 ]
  [ "$(jq -r .status.log_path <<<"$output")" = "$LOGS/default_web_uid-web/done/0.log" ]

  # Lists and their filters.
  run cri RuntimeService/ListContainers '{}'
  [ "$(jq -r '.containers | length' <<<"$output")" = 2 ]
  run cri RuntimeService/ListContainers '{"filter": {"label_selector": {"tier": "app"}}}'
  [ "$(jq -r '.containers[].id' <<<"$output")" = "$CTR" ]
  run cri RuntimeService/ListContainers '{"filter": {"state": {"state": "CONTAINER_EXITED"}}}'
  [ "$(jq -r '.containers[].id' <<<"$output")" = "$DONE" ]
  run cri RuntimeService/ListContainers "{\"filter\": {\"id\": \"${CTR:0:12}\"}}"
  [ "$(jq -r '.containers[].id' <<<"$output")" = "$CTR" ]
  run cri RuntimeService/ListContainers '{"filter": {"pod_sandbox_id": "0000"}}'
  [ "$(jq -r '.containers | length' <<<"$output")" = 0 ]
  run cri RuntimeService/ListPodSandbox '{"filter": {"label_selector": {"app": "web"}}}'
  [ "$(jq -r '.items[].id' <<<"$output")" = "$SB" ]
  run cri RuntimeService/ListPodSandbox '{"filter": {"label_selector": {"app": "other"}}}'
  [ "$(jq -r '.items | length' <<<"$output")" = 0 ]
  run cri RuntimeService/ListPodSandbox '{"filter": {"state": {"state": "SANDBOX_NOTREADY"}}}'
  [ "$(jq -r '.items | length' <<<"$output")" = 0 ]
  run cri RuntimeService/ListPodSandbox "{\"filter\": {\"id\": \"${SB:0:12}\", \"state\": {\"state\": \"SANDBOX_READY\"}}}"
  [ "$(jq -r '.items[].id' <<<"$output")" = "$SB" ]
  # Verbose: the record and the status under "info", with the pid.
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$CTR\",\"verbose\":true}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .info.info <<<"$output" | jq -r .record.id)" = "$CTR" ]
  [ "$(jq -r .info.info <<<"$output" | jq -r .status.state)" = running ]
  [ "$(jq -r .info.info <<<"$output" | jq -r .pid)" -gt 0 ]

  # Stats from the cgroups: the running container's, and the sandbox's with it inside.
  run cri RuntimeService/ContainerStats "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .stats.attributes.metadata.name <<<"$output")" = app ]
  [ "$(jq -r .stats.cpu.usage_core_nano_seconds.value <<<"$output")" -gt 0 ]
  [ "$(jq -r .stats.memory.working_set_bytes.value <<<"$output")" -gt 0 ]
  run cri RuntimeService/ListContainerStats '{}'
  [ "$(jq -r '.stats[].attributes.id' <<<"$output")" = "$CTR" ]
  run cri RuntimeService/ListContainerStats '{"filter": {"label_selector": {"tier": "done"}}}'
  [ "$(jq -r '.stats | length' <<<"$output")" = 0 ]
  run cri RuntimeService/ListContainerStats "{\"filter\": {\"pod_sandbox_id\": \"${SB:0:12}\", \"id\": \"${CTR:0:12}\"}}"
  [ "$(jq -r '.stats[].attributes.id' <<<"$output")" = "$CTR" ]
  run cri RuntimeService/ListContainerStats '{"filter": {"pod_sandbox_id": "0000"}}'
  [ "$(jq -r '.stats | length' <<<"$output")" = 0 ]
  run cri RuntimeService/PodSandboxStats "{\"pod_sandbox_id\":\"$SB\"}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .stats.attributes.metadata.uid <<<"$output")" = uid-web ]
  [ "$(jq -r .stats.linux.cpu.usage_core_nano_seconds.value <<<"$output")" -gt 0 ]
  [ "$(jq -r '.stats.linux.containers[].attributes.id' <<<"$output")" = "$CTR" ]
  run cri RuntimeService/ListPodSandboxStats '{"filter": {"label_selector": {"app": "web"}}}'
  [ "$(jq -r '.stats[].attributes.id' <<<"$output")" = "$SB" ]
  run cri RuntimeService/ListPodSandboxStats '{"filter": {"id": "ffff"}}'
  [ "$(jq -r '.stats | length' <<<"$output")" = 0 ]

  # UpdateContainerResources: the running container's cgroup gets the new limit.
  run cri RuntimeService/UpdateContainerResources "{\"container_id\":\"$CTR\",\"linux\":{\"memory_limit_in_bytes\":67108864,\"cpu_shares\":512}}"
  [ "$status" -eq 0 ]
  if [ -f "$cgdir/$CTR/memory.limit_in_bytes" ]; then
    [ "$(cat "$cgdir/$CTR/memory.limit_in_bytes")" = 67108864 ]
  else
    [ "$(cat "$cgdir/$CTR/memory.max")" = 67108864 ]
  fi
  run cri RuntimeService/UpdateContainerResources "{\"container_id\":\"$CTR\",\"linux\":{\"oom_score_adj\":500}}"
  [ "$status" -eq 3 ]
  [[ "$output" == *"UNIMPLEMENTED: UpdateContainerResources: oom_score_adj cannot be changed by podrun yet"* ]]
  # A container over its memory limit: OOMKilled, 137.
  CTR_MEM=33554432 create_container "$SB" hog tail /dev/zero
  HOG=$CTR CTR=$APP
  cri RuntimeService/StartContainer "{\"container_id\":\"$HOG\"}" > /dev/null
  wait_for sh -c "[ \"\$($PY $TOP/tests/lib/cri-client.py $SOCK RuntimeService/ContainerStatus '{\"container_id\":\"$HOG\"}' | jq -r .status.state)\" = CONTAINER_EXITED ]"
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$HOG\"}"
  [ "$(jq -r '.status.exit_code, .status.reason' <<<"$output" | tr '\n' ' ')" = "137 OOMKilled " ]
  cri RuntimeService/RemoveContainer "{\"container_id\":\"$HOG\"}" > /dev/null

  # run_as_username, as the kubelet passes an image's named user: the image's /etc/passwd.
  # supplemental_groups join the image user's groups.
  CTR_USER=nobody CTR_GROUPS=1234,2345 create_container "$SB" who id
  WHO=$CTR CTR=$APP
  cri RuntimeService/StartContainer "{\"container_id\":\"$WHO\"}" > /dev/null
  wait_for grep -q 'stdout F uid=65534(nobody) gid=65534(' "$LOGS/default_web_uid-web/who/0.log"
  grep -q 'groups=.*1234.*2345' "$LOGS/default_web_uid-web/who/0.log"
  cri RuntimeService/RemoveContainer "{\"container_id\":\"$WHO\"}" > /dev/null
  CTR_USER=nosuch run create_container "$SB" nosuch id
  [ "$status" -eq 1 ]
  [[ "$output" == *"INVALID_ARGUMENT"*'run_as_username "nosuch" is not in the image'* ]]
  run cri RuntimeService/CreateContainer "$(jq -nc --arg sb "$SB" '{pod_sandbox_id: $sb, config: {metadata: {name: "g"}, image: {image: "busybox"}, linux: {security_context: {run_as_group: {value: 5}}}}}')"
  [[ "$output" == *"INVALID_ARGUMENT"*"run_as_group is given without run_as_user"* ]]

  # StopContainer waits its timeout for a pid 1 that ignores SIGTERM, then kills it.
  t0=$(date +%s%N)
  run cri RuntimeService/StopContainer "{\"container_id\":\"$CTR\",\"timeout\":1}"
  [ "$status" -eq 0 ]
  t1=$(date +%s%N)
  [ $(( (t1 - t0) / 1000000 )) -ge 900 ]
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$CTR\"}"
  [ "$(jq -r '.status.state, .status.exit_code, .status.reason' <<<"$output" | tr '\n' ' ')" = "CONTAINER_EXITED 137 Error " ]
  run cri RuntimeService/StopContainer "{\"container_id\":\"$CTR\",\"timeout\":1}"
  [ "$status" -eq 0 ]
  for c in "$CTR" "$DONE" "$CTR"; do
    run cri RuntimeService/RemoveContainer "{\"container_id\":\"$c\"}"
    [ "$status" -eq 0 ]
  done
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error NOT_FOUND"* ]]
  [ ! -d "$cgdir/$CTR" ]

  for i in 1 2; do
    run cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$SB\"}"
    [ "$status" -eq 0 ]
  done
  run cri RuntimeService/PodSandboxStatus "{\"pod_sandbox_id\":\"$SB\"}"
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_NOTREADY ]
  # The network was given back at the stop, the host port with it.
  run in_node nft list tables
  [[ "$output" != *podrun_hostports* ]]
  left=$(find "$ROOTS/ipam/podrun" -mindepth 1 ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null || true)
  [ -z "$left" ]
  for i in 1 2; do
    run cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}"
    [ "$status" -eq 0 ]
  done
  run cri RuntimeService/ListPodSandbox '{}'
  [ "$(jq -r '.items | length' <<<"$output")" = 0 ]
  assert_no_sandboxes
}

@test "cri-pods: a RunPodSandbox whose CNI ADD fails leaves nothing; bad requests are refused by name" {
  # A plugin that fails its ADD (and does its DEL), after podrun-bridge: the bridge's ADD has
  # run and must be undone.
  mkdir -p "$BATS_TEST_TMPDIR/cnibin"
  cat > "$BATS_TEST_TMPDIR/cnibin/fail-add" <<'SH'
#!/bin/sh
cat > /dev/null
[ "$CNI_COMMAND" = ADD ] || exit 0
echo '{"cniVersion": "1.0.0", "code": 11, "msg": "fail-add refuses every ADD"}'
exit 1
SH
  chmod +x "$BATS_TEST_TMPDIR/cnibin/fail-add"
  SERVE_GLOBALS=(--cni-bin-dir "$PODRUN_BUILD/cni:$BATS_TEST_TMPDIR/cnibin")
  start_serve
  # The default network configuration, written by a first sandbox.
  run_sandbox first
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" >/dev/null
  jq '.plugins += [{type: "fail-add"}]' \
    "$ROOTS/cni/10-podrun.conflist" > "$BATS_TEST_TMPDIR/bad.conflist"
  mv "$BATS_TEST_TMPDIR/bad.conflist" "$ROOTS/cni/10-podrun.conflist"
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config web)" '{config: $c}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error"*"fail-add refuses every ADD"* ]]
  run cri RuntimeService/ListPodSandbox '{}'
  [ "$(jq -r '.items | length' <<<"$output")" = 0 ]
  assert_no_sandboxes
  # A systemd slice as the parent, a runtime handler, a host port twice: refused, nothing made.
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config web)" '{config: ($c | .linux.cgroup_parent = "kubepods-burstable.slice")}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT"*"systemd slice"*"runs the cgroupfs cgroup driver"* ]]
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config web)" '{config: $c, runtime_handler: "kata"}')"
  [[ "$output" == *"INVALID_ARGUMENT"*"kata"* ]]
  run cri RuntimeService/RunPodSandbox "$(jq -nc --argjson c "$(sandbox_config web)" '{config: ($c | .port_mappings = [{container_port: 80, host_port: 8080}, {container_port: 81, host_port: 8080}])}')"
  [[ "$output" == *"INVALID_ARGUMENT"*"host port 8080/TCP is also in port_mappings[0]"* ]]
  # Ids that are no sandbox's.
  run cri RuntimeService/PodSandboxStatus '{"pod_sandbox_id": "../../etc"}'
  [[ "$output" == *"grpc-error NOT_FOUND"* ]]
  run cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$(printf '%064d' 0)\"}"
  [[ "$output" == *"grpc-error NOT_FOUND"* ]]
  run cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$(printf '%064d' 0)\"}"
  [ "$status" -eq 0 ]
  assert_no_sandboxes
}

@test "cri-pods: kill -9 of podrun serve under 20 running pods: the next one lists them the same, running" {
  start_serve
  run "$PY" "$TOP/tests/lib/cri-pods.py" "$SOCK" up 20 --image busybox --logs "$LOGS" \
    --cgroup-parent "$PODS_CG_ROOT/kubepods" -- sleep 1000
  [ "$status" -eq 0 ]
  [ "$(jq -r '.sandboxes | length' <<<"$output")" = 20 ]
  one=$(jq -r '.containers[0]' <<<"$output")
  lists() {
    cri RuntimeService/ListPodSandbox '{}' | jq -c '[.items[] | {id, state, created_at, metadata, labels}] | sort_by(.id)'
    cri RuntimeService/ListContainers '{}' | jq -c '[.containers[] | {id, pod_sandbox_id, state, created_at, metadata}] | sort_by(.id)'
  }
  before=$(lists)
  [ "$(jq -s '.[1] | map(select(.state == "CONTAINER_RUNNING")) | length' <<<"$before")" = 20 ]
  shims=$(shim_pids | sort)
  kill -9 "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null || true
  SERVE_PID=
  start_serve
  [ "$(lists)" = "$before" ]
  # The same shims, the containers still running and answering.
  [ "$(shim_pids | sort)" = "$shims" ]
  run cri RuntimeService/ExecSync "{\"container_id\":\"$one\",\"cmd\":[\"echo\",\"still here\"],\"timeout\":10}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<<"$output" | base64 -d)" = "still here" ]
  run "$PY" "$TOP/tests/lib/cri-pods.py" "$SOCK" down
  [ "$status" -eq 0 ]
  assert_no_sandboxes
}

# subscribe FILE: a GetContainerEvents stream whose events go to FILE, one JSON line each; its
# pid in EV_PID (and EV_PIDS, for teardown).
subscribe() {
  cri RuntimeService/GetContainerEvents --stream --timeout 120 > "$1" 2> "$1.err" &
  EV_PID=$!
  EV_PIDS+=("$EV_PID")
  wait_for grep -qx subscribed "$1"
}

ctr_is() { [ "$(ctr_state "$1")" = "$2" ]; }

# events_of FILE ID: the event types for container ID in FILE, space-separated, in order.
events_of() {
  grep -v '^subscribed$' "$1" | jq -r --arg c "$2" 'select(.container_id == $c) | .container_event_type' | tr '\n' ' '
}

@test "cri-pods: GetContainerEvents streams CREATED, STARTED, STOPPED (an exit of its own) and DELETED; a client that leaves does not stop the server" {
  start_serve
  subscribe "$BATS_TEST_TMPDIR/ev1"
  # A second subscriber that goes away (killed: the connection drops mid-stream).
  subscribe "$BATS_TEST_TMPDIR/gone"
  kill -9 "$EV_PID"
  run_sandbox ev
  create_container "$SB" quick sh -c 'sleep 1; exit 3'
  run cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  wait_for ctr_is "$CTR" CONTAINER_EXITED
  wait_for grep -q CONTAINER_STOPPED_EVENT "$BATS_TEST_TMPDIR/ev1"
  run cri RuntimeService/RemoveContainer "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  wait_for grep -q CONTAINER_DELETED_EVENT "$BATS_TEST_TMPDIR/ev1"
  [ "$(events_of "$BATS_TEST_TMPDIR/ev1" "$CTR")" = "CONTAINER_CREATED_EVENT CONTAINER_STARTED_EVENT CONTAINER_STOPPED_EVENT CONTAINER_DELETED_EVENT " ]
  # Each with the sandbox's status and its containers' as they were then, as containerd sends
  # them: the stopped one exited with its code; once deleted it is no longer among them.
  ev() { grep -v '^subscribed$' "$BATS_TEST_TMPDIR/ev1" | jq -c --arg c "$CTR" --arg t "$1" 'select(.container_id == $c and .container_event_type == $t)'; }
  [ "$(ev CONTAINER_STARTED_EVENT | jq -r '.pod_sandbox_status.id, .pod_sandbox_status.state, .pod_sandbox_status.metadata.name' | tr '\n' ' ')" = "$SB SANDBOX_READY ev " ]
  [ "$(ev CONTAINER_STOPPED_EVENT | jq -r --arg c "$CTR" '.containers_statuses[] | select(.id == $c) | "\(.state) \(.exit_code)"')" = "CONTAINER_EXITED 3" ]
  [ "$(ev CONTAINER_DELETED_EVENT | jq -r '.pod_sandbox_status.id')" = "$SB" ]
  [ "$(ev CONTAINER_DELETED_EVENT | jq -r '.containers_statuses | length')" = 0 ]
  # Removing it again (idempotent) and a StopContainer of what is gone change nothing: no event.
  run cri RuntimeService/RemoveContainer "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  run cri RuntimeService/StopContainer "{\"container_id\":\"$CTR\",\"timeout\":1}"
  # created_at: nanoseconds, now-ish, in order.
  now=$(date +%s%N)
  run bash -c "grep -v '^subscribed\$' '$BATS_TEST_TMPDIR/ev1' | jq -r '.created_at'"
  [ "$status" -eq 0 ]
  prev=0
  for t in $output; do
    [ "$t" -ge "$prev" ]
    [ $(( (now - t) / 1000000000 )) -lt 120 ]
    prev=$t
  done
  # The server still serves: a call, and a new subscriber that sees a new container's events.
  run cri RuntimeService/Version '{}'
  [ "$status" -eq 0 ]
  subscribe "$BATS_TEST_TMPDIR/ev2"
  [ "$(events_of "$BATS_TEST_TMPDIR/ev1" "$CTR")" = "CONTAINER_CREATED_EVENT CONTAINER_STARTED_EVENT CONTAINER_STOPPED_EVENT CONTAINER_DELETED_EVENT " ]
  create_container "$SB" again sh -c 'exit 0'
  wait_for grep -q "$CTR" "$BATS_TEST_TMPDIR/ev2"
  run cri RuntimeService/RemoveContainer "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  wait_for grep -q CONTAINER_DELETED_EVENT "$BATS_TEST_TMPDIR/ev2"
  [ "$(events_of "$BATS_TEST_TMPDIR/ev2" "$CTR")" = "CONTAINER_CREATED_EVENT CONTAINER_DELETED_EVENT " ]
  # A container that RemovePodSandbox removes with its sandbox is DELETED too, as containerd
  # tells it (and the server keeps nothing of it).
  create_container "$SB" left sleep 1000
  local left=$CTR
  run cri RuntimeService/StartContainer "{\"container_id\":\"$left\"}"
  [ "$status" -eq 0 ]
  for c in StopPodSandbox RemovePodSandbox; do
    run cri RuntimeService/$c "{\"pod_sandbox_id\":\"$SB\"}"
    [ "$status" -eq 0 ]
  done
  left_deleted() { [[ "$(events_of "$BATS_TEST_TMPDIR/ev2" "$left")" == "CONTAINER_CREATED_EVENT CONTAINER_STARTED_EVENT "*"CONTAINER_DELETED_EVENT " ]]; }
  wait_for left_deleted
  # A stopping server ends the streams with status OK (trailers), then exits.
  kill -TERM "$SERVE_PID"
  rc=0
  wait "$EV_PID" || rc=$?
  [ "$rc" -eq 0 ]
  wait "$SERVE_PID" || rc=$?
  [ "$rc" -eq 0 ]
  SERVE_PID=
  assert_no_sandboxes
}

# The v2 directory of a running container (the unified hierarchy on a hybrid host), from its pid.
ctr_v2_dir() {
  local pid rel
  pid=$(cri RuntimeService/ContainerStatus "{\"container_id\":\"$1\",\"verbose\":true}" | jq -r .info.info | jq -r .pid)
  rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then echo "/sys/fs/cgroup$rel"; else echo "/sys/fs/cgroup/unified$rel"; fi
}

@test "cri-pods: linux.resources.unified (the kubelet's memory.oom.group on v2) is written on create and on update; bad keys are refused" {
  start_serve
  run_sandbox web
  # A file every cgroup2 directory has, so that this holds on hybrid and pure v2 hosts alike.
  CTR_UNIFIED='{"cgroup.max.descendants": "7"}' create_container "$SB" app sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  local dir
  dir=$(ctr_v2_dir "$CTR")
  [ "$(cat "$dir/cgroup.max.descendants")" = 7 ]
  run cri RuntimeService/UpdateContainerResources "$(jq -nc --arg c "$CTR" '{container_id: $c, linux: {unified: {"cgroup.max.descendants": "9"}}}')"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$dir/cgroup.max.descendants")" = 9 ]

  # What a kubelet since 1.32 sends on cgroup v2: written where the memory controller is in the
  # unified hierarchy, and named in the error where it is not (a hybrid host, as runc does).
  local out
  CTR_UNIFIED='{"memory.oom.group": "1"}' create_container "$SB" oom sleep 300
  run cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}"
  echo "$output"
  if grep -qw memory "$(dirname "$dir")/cgroup.controllers"; then
    [ "$status" -eq 0 ]
    [ "$(cat "$(ctr_v2_dir "$CTR")/memory.oom.group")" = 1 ]
  else
    [ "$status" -eq 3 ]
    [[ "$output" == *"linux.resources.unified.memory.oom.group: the memory controller is not in the unified hierarchy on this hybrid host (it has: "*")"* ]]
  fi

  # Only cgroup file names reach a path; at most 64 entries.
  CTR_UNIFIED='{"../../cgroup.procs": "1"}' run create_container "$SB" bad1 true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"INVALID_ARGUMENT"*'unified resource "../../cgroup.procs" is not a cgroup v2 file name'* ]]
  CTR_UNIFIED="$(jq -nc '[range(65) | {key: "x.f\(.)", value: "1"}] | from_entries')" run create_container "$SB" bad2 true
  [ "$status" -eq 1 ]
  [[ "$output" == *"65 unified resources, more than the 64 podrun takes"* ]]
  run cri RuntimeService/UpdateContainerResources "$(jq -nc --arg c "$CTR" '{container_id: $c, linux: {unified: {"memory.high": "1\n2"}}}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"unified resource memory.high: the value is longer than 4096 bytes or holds control characters"* ]]

  cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  assert_no_sandboxes
}

@test "cri-pods: a Localhost seccomp profile is read from the path the kubelet resolved (localhost_ref and the older localhost/PATH); a missing, relative or FIFO one is refused before anything is made" {
  start_serve
  run_sandbox web
  local prof=$BATS_TEST_TMPDIR/no-mkdir.json
  echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}' > "$prof"
  CTR_SECCOMP="$(jq -nc --arg p "$prof" '{seccomp: {profile_type: "Localhost", localhost_ref: $p}}')" create_container "$SB" app sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["mkdir", "/tmp/d"], timeout: 10}')"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r .exit_code <<<"$output")" = 1 ]
  [[ "$(jq -r .stderr <<<"$output" | base64 -d)" == *"Operation not permitted"* ]]
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["touch", "/tmp/f"], timeout: 10}')"
  [ "$(jq -r .exit_code <<<"$output")" = 0 ]

  # The deprecated field, as older kubelets send it.
  CTR_SECCOMP="$(jq -nc --arg p "localhost/$prof" '{seccomp_profile_path: $p}')" create_container "$SB" old sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["mkdir", "/tmp/d"], timeout: 10}')"
  [ "$(jq -r .exit_code <<<"$output")" = 1 ]

  local before
  before=$(find "$ROOTS" -path '*containers*' | sort)
  CTR_SECCOMP="$(jq -nc --arg p "$BATS_TEST_TMPDIR/none.json" '{seccomp: {profile_type: "Localhost", localhost_ref: $p}}')" run create_container "$SB" bad1 true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"seccomp profile \`$BATS_TEST_TMPDIR/none.json\`"*"No such file"* ]]
  CTR_SECCOMP='{"seccomp": {"profile_type": "Localhost", "localhost_ref": "profiles/x.json"}}' run create_container "$SB" bad2 true
  [ "$status" -eq 1 ]
  [[ "$output" == *'INVALID_ARGUMENT: CreateContainer: seccomp profile Localhost "profiles/x.json": needs an absolute path'* ]]
  mkfifo "$BATS_TEST_TMPDIR/fifo.json"
  # Opened without blocking, so a FIFO cannot hang the call before it is refused.
  CTR_SECCOMP="$(jq -nc --arg p "$BATS_TEST_TMPDIR/fifo.json" '{seccomp: {profile_type: "Localhost", localhost_ref: $p}}')" run create_container "$SB" bad3 true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"fifo.json\`: not a regular file"* ]]
  echo '{"syscalls": []}' > "$BATS_TEST_TMPDIR/nodefault.json"
  CTR_SECCOMP="$(jq -nc --arg p "$BATS_TEST_TMPDIR/nodefault.json" '{seccomp: {profile_type: "Localhost", localhost_ref: $p}}')" run create_container "$SB" bad4 true
  [ "$status" -eq 1 ]
  [[ "$output" == *"not a seccomp profile (an object with a defaultAction)"* ]]
  # Refused before anything was made for them.
  [ "$(find "$ROOTS" -path '*containers*' | sort)" = "$before" ]

  cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  assert_no_sandboxes
}

@test "cri-pods: a sandbox with namespace_options.pid POD shares one PID namespace among its containers, its init held by the shim and gone with the sandbox, even after the shim was killed" {
  start_serve
  SB_PID=POD run_sandbox shared
  local shared=$SB
  run cri RuntimeService/PodSandboxStatus "{\"pod_sandbox_id\":\"$shared\"}"
  [ "$(jq -r .status.linux.namespaces.options.pid <<<"$output")" = POD ]
  CTR_PID=POD create_container "$shared" one sleep 300
  local one=$CTR
  CTR_PID=POD create_container "$shared" two sleep 301
  local two=$CTR
  cri RuntimeService/StartContainer "{\"container_id\":\"$one\"}" > /dev/null
  cri RuntimeService/StartContainer "{\"container_id\":\"$two\"}" > /dev/null
  # Each sees the other's process; pid 1 is neither (the holder, as the pause container is).
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$two" '{container_id: $c, cmd: ["sh", "-c", "ps -o pid,args; echo; cat /proc/1/cmdline | tr \"\\0\" \" \""], timeout: 10}')"
  echo "$output"
  local ps
  ps=$(jq -r .stdout <<<"$output" | base64 -d)
  echo "$ps"
  [[ "$ps" == *"sleep 300"* ]]
  [[ "$ps" == *"sleep 301"* ]]
  [[ "$(tail -1 <<<"$ps")" == *"--hold-pid-namespace"* ]]

  # Without a shared namespace in its sandbox, asking for the pod's is refused.
  run_sandbox alone
  CTR_PID=POD run create_container "$SB" lost sleep 300
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"INVALID_ARGUMENT"*"sandbox $SB was not made with one (namespace_options.pid POD)"* ]]
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null

  # The shim killed: its holder is left running until the sandbox goes, and goes with it.
  local pidfile holder shim
  pidfile=$(find "$ROOTS/run/sandboxes" -name pidns.pid | head -1)
  holder=$(cat "$pidfile")
  kill -0 "$holder"
  shim=$(pgrep -f -- "--pod-dir $(dirname "$pidfile")\$" || pgrep -f -- "--pod-dir $(dirname "$pidfile")")
  [ -n "$shim" ]
  kill -9 $shim
  run cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$shared\"}"
  echo "$output"
  [ "$status" -eq 0 ]
  run cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$shared\"}"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_for bash -c "! kill -0 $holder 2>/dev/null"
  assert_no_sandboxes
}

@test "cri-pods: a sandbox's sysctls are set in the pod's namespaces, not the host's; a name out of shape is refused, one the pod's namespaces do not scope named" {
  local host_ping host_shm
  host_ping=$(cat /proc/sys/net/ipv4/ping_group_range)
  host_shm=$(cat /proc/sys/kernel/shm_rmid_forced)
  start_serve
  SB_SYSCTLS='{"net.ipv4.ping_group_range": "0 2147483647", "kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "1000"}' run_sandbox tuned
  create_container "$SB" app sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["cat", "/proc/sys/net/ipv4/ping_group_range", "/proc/sys/kernel/shm_rmid_forced", "/proc/sys/net/ipv4/ip_unprivileged_port_start"], timeout: 10}')"
  echo "$output"
  [ "$(jq -r .stdout <<<"$output" | base64 -d | tr -s '\t ' ' ')" = "$(printf '0 2147483647\n1\n1000')" ]
  [ "$(cat /proc/sys/net/ipv4/ping_group_range)" = "$host_ping" ]
  [ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$host_shm" ]
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null

  SB_SYSCTLS='{"../../sysrq": "1"}' run run_sandbox bad
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'INVALID_ARGUMENT: RunPodSandbox: sysctl "../../sysrq" is not a sysctl name in dotted form'* ]]
  # Not scoped by any of the pod's namespaces: the runtime names it when the container starts.
  SB_SYSCTLS='{"vm.swappiness": "10"}' run_sandbox host
  create_container "$SB" app sleep 300
  run cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}"
  echo "$output"
  [ "$status" -eq 3 ]
  [[ "$output" == *'linux.sysctl: \"vm.swappiness\" is not namespaced; setting it would change the host'* ]]
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  assert_no_sandboxes
}

@test "cri-pods: mount propagation HostToContainer and Bidirectional (privileged) as the kubelet asks them; a source on a private mount and Bidirectional unprivileged are refused" {
  local host=$BATS_TEST_TMPDIR/vol
  mkdir -p "$host"
  start_serve
  run_sandbox web
  CTR_MOUNTS="$(jq -nc --arg h "$host" '[{container_path: "/v", host_path: $h, propagation: "PROPAGATION_HOST_TO_CONTAINER"}]')" run create_container "$SB" h2c sleep 300
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.mounts[0]: mountPropagation HostToContainer: \`$host\` is on the mount"*"which is neither shared nor slave"* ]]
  CTR_MOUNTS="$(jq -nc --arg h "$host" '[{container_path: "/v", host_path: $h, propagation: "PROPAGATION_BIDIRECTIONAL"}]')" run create_container "$SB" bidi sleep 300
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.mounts[0]: Bidirectional propagation needs a privileged container"* ]]

  mount --bind "$host" "$host"
  mount --make-shared "$host"
  CTR_MOUNTS="$(jq -nc --arg h "$host" '[{container_path: "/v", host_path: $h, propagation: "PROPAGATION_HOST_TO_CONTAINER"}]')" create_container "$SB" h2c sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  mkdir -p "$host/late"
  mount -t tmpfs tmpfs "$host/late"
  echo seen > "$host/late/f"
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["cat", "/v/late/f"], timeout: 10}')"
  umount "$host/late"
  [ "$(jq -r .stdout <<<"$output" | base64 -d)" = seen ]

  CTR_PRIV=1 CTR_MOUNTS="$(jq -nc --arg h "$host" '[{container_path: "/v", host_path: $h, propagation: "PROPAGATION_BIDIRECTIONAL"}]')" create_container "$SB" bidi sh -c 'mkdir -p /v/out && mount -t tmpfs none /v/out && echo both > /v/out/g && sleep 300'
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  wait_for test -e "$host/out/g"
  [ "$(cat "$host/out/g")" = both ]
  cri RuntimeService/StopPodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  umount "$host/out"
  umount "$host"
  assert_no_sandboxes
}

@test "cri-pods: UpdateRuntimeConfig compares the pod CIDR with the subnet of the network in use, whatever its file is called (host-local's ranges too)" {
  mkdir -p "$ROOTS/cni"
  # The lexically first configuration is the one in use, as libcni picks it.
  jq -n '{cniVersion: "1.0.0", name: "mine", plugins: [{type: "podrun-bridge", bridge: "prm0", isGateway: true,
          ipam: {type: "host-local", ranges: [[{subnet: "10.77.3.0/24"}]]}}]}' > "$ROOTS/cni/05-mine.conflist"
  start_serve
  run cri RuntimeService/UpdateRuntimeConfig '{"runtime_config": {"network_config": {"pod_cidr": "10.77.3.0/24"}}}'
  echo "$output"
  [ "$status" -eq 0 ]
  run cri RuntimeService/UpdateRuntimeConfig '{"runtime_config": {"network_config": {"pod_cidr": "10.88.0.0/16"}}}'
  echo "$output"
  [ "$status" -eq 3 ]
  [[ "$output" == *"FAILED_PRECONDITION"*"10.88.0.0/16 differs from the node's (10.77.3.0/24)"* ]]
}

# The directory of a running container in the hierarchy that has hugetlb (v1's, or the unified one).
ctr_hugetlb_dir() {
  local pid rel
  pid=$(cri RuntimeService/ContainerStatus "{\"container_id\":\"$1\",\"verbose\":true}" | jq -r .info.info | jq -r .pid)
  rel=$(awk -F: '$2 ~ /(^|,)hugetlb(,|$)/ {print $3}' "/proc/$pid/cgroup")
  if [ -n "$rel" ]; then echo "/sys/fs/cgroup/hugetlb$rel"; return; fi
  rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then echo "/sys/fs/cgroup$rel"; else echo "/sys/fs/cgroup/unified$rel"; fi
}

@test "cri-pods: hugepage limits as the kubelet sends them (one per page size, 0 where the pod asked for none) are applied on create and on update; a bad page size is refused" {
  [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "the kernel has no 2 MiB huge pages"
  start_serve
  run_sandbox web
  CTR_HUGE='[{"page_size": "2MB", "limit": 4194304}]' create_container "$SB" app sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  local dir f
  dir=$(ctr_hugetlb_dir "$CTR")
  f=$dir/hugetlb.2MB.max
  [ -e "$f" ] || f=$dir/hugetlb.2MB.limit_in_bytes
  [ "$(cat "$f")" = 4194304 ]
  run cri RuntimeService/UpdateContainerResources "$(jq -nc --arg c "$CTR" '{container_id: $c, linux: {hugepage_limits: [{page_size: "2MB", limit: 0}]}}')"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$f")" = 0 ]
  CTR_HUGE='[{"page_size": "2Mi", "limit": 1}]' run create_container "$SB" bad true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'INVALID_ARGUMENT: CreateContainer: hugepage limit 0: page size "2Mi" is not like "2MB" or "1GB"'* ]]
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  assert_no_sandboxes
}

@test "cri-pods: cpuset_cpus (the kubelet's static CPU manager) is applied on create and on update; a list out of shape is refused" {
  start_serve
  run_sandbox web
  CTR_CPUS=0 create_container "$SB" app sleep 300
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
  # What the container's processes may run on, as the kernel applies it.
  run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"], timeout: 10}')"
  [[ "$(jq -r .stdout <<<"$output" | base64 -d)" == *$'\t0' ]]
  if [ "$(nproc --all)" -ge 2 ]; then
    run cri RuntimeService/UpdateContainerResources "$(jq -nc --arg c "$CTR" '{container_id: $c, linux: {cpuset_cpus: "0-1"}}')"
    echo "$output"
    [ "$status" -eq 0 ]
    run cri RuntimeService/ExecSync "$(jq -nc --arg c "$CTR" '{container_id: $c, cmd: ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"], timeout: 10}')"
    [[ "$(jq -r .stdout <<<"$output" | base64 -d)" == *$'\t0-1' ]]
  fi
  CTR_CPUS='0;rm' run create_container "$SB" bad true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'INVALID_ARGUMENT: CreateContainer: cpuset_cpus "0;rm" is not a CPU/node list like "0-2,4" of at most 1024 bytes'* ]]
  cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null
  assert_no_sandboxes
}

@test "cri-pods: a layer missing from the store when a container's root is mounted is unpacked again, in podrun-fetch" {
  start_serve
  run_sandbox lone
  # The server only looks whether a layer is there (it maps no libarchive); the child
  # unpacks it from its blob.
  rm -rf "$IMAGES_ROOT/layers/"*
  create_container "$SB" app sleep 1000
  run cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}"
  [ "$status" -eq 0 ]
  [ -n "$(ls -A "$IMAGES_ROOT/layers")" ]
  [ -z "$(ls -A "$IMAGES_ROOT/tmp" 2>/dev/null)" ]
  run grep -E 'lib(archive|curl)' "/proc/$SERVE_PID/maps"
  [ "$status" -eq 1 ]
  for c in StopPodSandbox RemovePodSandbox; do
    run cri RuntimeService/$c "{\"pod_sandbox_id\":\"$SB\"}"
    [ "$status" -eq 0 ]
  done
  assert_no_sandboxes
}
