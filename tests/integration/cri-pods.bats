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
  jq -nc --arg n "$1" --arg u "$uid" --arg logs "$LOGS/default_$1_$uid" \
    --arg cg "$PODS_CG_ROOT/kubepods/pod$uid" \
    '{metadata: {name: $n, namespace: "default", uid: $u, attempt: 0}, hostname: $n,
      log_directory: $logs, dns_config: {servers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"]},
      labels: {app: $n, "io.kubernetes.pod.name": $n}, annotations: {note: "kept as given"},
      linux: {cgroup_parent: $cg, security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}}
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
  req=$(jq -nc --arg sb "$sb" --arg n "$name" --argjson sc "$(sandbox_config web)" --arg mem "${CTR_MEM:-}" --arg user "${CTR_USER:-}" --arg groups "${CTR_GROUPS:-}" \
    '{pod_sandbox_id: $sb, sandbox_config: $sc,
      config: {metadata: {name: $n, attempt: 0}, image: {image: "busybox"},
               command: $ARGS.positional, log_path: ($n + "/0.log"), labels: {tier: $n},
               envs: [{key: "GREETING", value: "hello"}],
               linux: {resources: ({cpu_shares: 2, oom_score_adj: 1000} +
                                   (if $mem != "" then {memory_limit_in_bytes: ($mem | tonumber)} else {} end)),
                       security_context: ({namespace_options: {pid: "CONTAINER"}} +
                                          (if $user != "" then {run_as_username: $user} else {} end) +
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
  run cri RuntimeService/UpdateContainerResources "{\"container_id\":\"$CTR\",\"linux\":{\"cpuset_cpus\":\"0\"}}"
  [[ "$output" == *"UNIMPLEMENTED"*"cpuset"* ]]
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
  # A stopping server ends the streams with status OK (trailers), then exits.
  for c in StopPodSandbox RemovePodSandbox; do
    run cri RuntimeService/$c "{\"pod_sandbox_id\":\"$SB\"}"
    [ "$status" -eq 0 ]
  done
  kill -TERM "$SERVE_PID"
  rc=0
  wait "$EV_PID" || rc=$?
  [ "$rc" -eq 0 ]
  wait "$SERVE_PID" || rc=$?
  [ "$rc" -eq 0 ]
  SERVE_PID=
  assert_no_sandboxes
}
