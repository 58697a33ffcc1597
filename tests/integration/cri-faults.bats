#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Faults in `podrun serve`'s RunPodSandbox, CreateContainer and StopPodSandbox +
# RemovePodSandbox: the server runs under tests/lib/fault-syscall armed by signal (-a), so
# that only the calls made from the request on are counted (the server's and those of every
# program it runs: CNI plugins, the shim, the runtime); the Nth of a group fails with EIO,
# ENOSPC, ENOMEM or EMFILE, taking turns, or the server is SIGKILLed there (kill-main: what it
# started goes on). A failed call answers with a gRPC error that says why, and a failed
# RunPodSandbox or CreateContainer left nothing of itself. Then the server is killed and started
# again, plain, and the kubelet's next calls repair: RunPodSandbox with the same metadata
# succeeds, or names the half-made sandbox, which is listed and whose StopPodSandbox and
# RemovePodSandbox succeed (then the retry does; every other time a container is started in
# it); CreateContainer likewise; a repeated StopPodSandbox + RemovePodSandbox succeeds. After
# each case nothing is left: no sandbox state dir, mount (pinned namespace, rootfs), pod or
# container cgroup, veth, IP allocation, nftables table, shim, runtime state, image store
# reference or half-written file. The step boundaries of each group are sampled evenly (at
# most SAMPLES of them), so that a sweep stays within a few minutes per build.

load ../lib/helpers
load ../lib/pods-helpers

FAULT=$PODRUN_BUILD/tests/lib/fault-syscall
# See runtime-faults.bats: the faulted server runs without LeakSanitizer.
NO_LSAN="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ERRNOS=(EIO ENOSPC ENOMEM EMFILE)
PY=/usr/bin/python3
SAMPLES=${PODRUN_CRI_FAULT_SAMPLES:-6}

setup() {
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  LOGS=$BATS_TEST_TMPDIR/podlogs
  REPORT=$BATS_TEST_TMPDIR/report
  SUP='' SERVE_PID=''
  TAG="podrun-cri-fault-$$-$BATS_TEST_NUMBER"
  node_address
  # A sandbox as a kubelet asks for one: a host port (an nftables rule), podrun's own pod
  # cgroup (no cgroup_parent: a leak shows under this test's cgroup root).
  CONFIG=$(jq -nc --arg logs "$LOGS/default_web_uid-web" \
    '{metadata: {name: "web", namespace: "default", uid: "uid-web", attempt: 0}, hostname: "web",
      log_directory: $logs, port_mappings: [{protocol: "TCP", container_port: 80, host_port: 18096}],
      linux: {security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}}')
}

teardown() {
  stop_server
  pods_teardown
}

# The node's own address, for the host port (as cri-pods.bats).
node_address() {
  in_node ip link add prdummy type bridge
  in_node ip addr add 10.123.0.1/24 dev prdummy
  in_node ip link set prdummy up
}

cri() { "$PY" "$TOP/tests/lib/cri-faults.py" "$SOCK" "$@"; }

# The server's command line, in SERVE.
serve_cmd() {
  SERVE=(nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT"
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log"
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" serve --listen "unix://$SOCK")
}

# serve_faulted GROUP N ACTION CASE: the server under fault-syscall, disarmed; everything it
# starts carries PODRUN_FAULT_TAG=CASE.
serve_faulted() {
  rm -f "$SOCK" "$REPORT"
  serve_cmd
  env "$NO_LSAN" PODRUN_FAULT_TAG="$4" "$FAULT" -a -k -r "$REPORT" "$1" "$2" "$3" "${SERVE[@]}" \
    >"$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SUP=$!
  wait_for test -S "$SOCK" || { cat "$BATS_TEST_TMPDIR/serve.log" >&2; return 1; }
  SERVE_PID=$(pgrep -P "$SUP" | head -1)
}

serve_plain() {
  rm -f "$SOCK"
  serve_cmd
  "${SERVE[@]}" >"$BATS_TEST_TMPDIR/serve-plain.log" 2>&1 3>&- &
  SERVE_PID=$! SUP=''
  wait_for test -S "$SOCK" || { cat "$BATS_TEST_TMPDIR/serve-plain.log" >&2; return 1; }
}

# The server killed (-9), and the fault-syscall over it gone.
stop_server() {
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null || true
  [ -n "$SERVE_PID" ] && [ -z "$SUP" ] && wait "$SERVE_PID" 2>/dev/null || true
  [ -n "$SUP" ] && wait "$SUP" 2>/dev/null || true
  SERVE_PID='' SUP=''
  return 0
}

# The calls since the arming (fault-syscall's report on SIGUSR2).
calls_now() {
  rm -f "$REPORT"
  kill -USR2 "$SUP"
  wait_for test -s "$REPORT"
  sed -n 's/^calls=\([0-9]*\) .*/\1/p' "$REPORT"
}

# Waits until what the killed server started has finished: of the processes carrying the
# case's tag, only one shim per pod directory (its daemon) is left, as a kubelet's next call
# comes seconds later.
settle() {
  local tag=$1 i p busy
  for ((i = 0; i < 300; i++)); do
    busy=
    declare -A shims=()
    for p in $(grep -lsz "^PODRUN_FAULT_TAG=$tag\$" /proc/[0-9]*/environ | cut -d/ -f3); do
      [ "$p" = "$SUP" ] && continue
      local comm args
      comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
      args=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
      [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
      if [ "$comm" = podrun-shim ] && [[ "$args" != *--request* ]]; then
        [ -n "${shims[$args]:-}" ] && busy+=" $p"
        shims[$args]=1
      elif [ "$comm" != fault-syscall ]; then
        busy+=" $p"
      fi
    done
    unset shims
    [ -z "$busy" ] && return 0
    sleep 0.05
  done
  echo "still running after the kill:$busy" >&2
  return 1
}

# What is left, one line each; nothing when all is clean.
leftovers() {
  assert_no_pods 2>&1 >/dev/null | head -5 || true
  find "$ROOTS/run/sandboxes" "$ROOTS/lib/sandboxes" -mindepth 1 -maxdepth 1 2>/dev/null |
    sed 's/^/sandbox state /'
  find /sys/fs/cgroup"$PODS_CG_ROOT" /sys/fs/cgroup/*"$PODS_CG_ROOT" -mindepth 1 -type d -name 'pod*' \
    2>/dev/null | sed 's/^/cgroup /'
  ls -A "$ROOTS/run/runtime" 2>/dev/null | sed 's/^/runtime state /'
  find "$ROOTS" "$IMAGES_ROOT" -name '*.tmp*' 2>/dev/null | sed 's/^/half-written /'
  in_node nft list table inet podrun_hostports >/dev/null 2>&1 && echo "nftables table podrun_hostports"
  return 0
}

# What is left of a container whose CreateContainer failed (its sandbox stays).
container_leftovers() {
  ls -A "$ROOTS/run/runtime" 2>/dev/null | sed 's/^/runtime state /'
  ls "$IMAGES_ROOT/containers" 2>/dev/null | sed 's/^/image store reference /'
  find "$ROOTS"/run/sandboxes/*/containers "$ROOTS"/lib/sandboxes/*/containers -mindepth 1 \
    2>/dev/null | sed 's/^/container state /'
  grep -o " $ROOTS/lib/sandboxes/[^ ]*/containers/[^ ]*" /proc/self/mountinfo | sed 's/^/mount /'
  find "$ROOTS" "$IMAGES_ROOT" -name '*.tmp*' 2>/dev/null | sed 's/^/half-written /'
  return 0
}

# After a leak: everything removed by force, the node as setup() made it, for the next case.
force_clean() {
  stop_server
  pods_teardown >/dev/null 2>&1 || true
  rm -rf "$ROOTS/run/sandboxes" "$ROOTS/lib/sandboxes"
  ip netns add "$NODE" 2>/dev/null || true
  ip -n "$NODE" link set lo up 2>/dev/null || true
  node_address 2>/dev/null || true
}

# prepare OP: what the call under test needs, made before the arming; sets SB.
prepare() {
  SB=
  case $1 in
  create) SB=$(cri run "$CONFIG") ;;
  remove) SB=$(cri up "$CONFIG") ;;
  esac
}

# call OP: the call under test; sets status and output.
call() {
  status=0
  case $1 in
  run) output=$(cri run "$CONFIG" 2>&1) || status=$? ;;
  create) output=$(cri create "$SB" "$CONFIG" 2>&1) || status=$? ;;
  remove) output=$(cri remove "$SB" 2>&1) || status=$? ;;
  esac
}

# repair OP K: the kubelet's next calls on a plain server; sets status and output.
repair() {
  status=0
  case $1 in
  run)
    local extra=()
    (($2 % 2 == 0)) && extra=(--container)
    output=$(cri repair-run "$CONFIG" ${extra[@]+"${extra[@]}"} 2>&1) || status=$?
    ;;
  create) output=$(cri repair-create "$SB" "$CONFIG" 2>&1) || status=$? ;;
  remove) output=$(cri remove "$SB" 2>&1) || status=$? ;;
  esac
}

# one_case OP GROUP N ACTION K
one_case() {
  local op=$1 group=$2 n=$3 act=$4 k=$5 left
  local what="$op $group#$n $act" tag="$TAG-$k"
  serve_faulted "$group" "$n" "$act" "$tag" || { problems+="$what: the server did not start"$'\n'; return 0; }
  prepare "$op" || problems+="$what: preparing failed"$'\n'
  kill -USR1 "$SUP"
  call "$op"
  [ -z "${PODRUN_CRI_FAULT_VERBOSE:-}" ] || echo "# $what: $status ${output:0:150}" >&3
  if [ "$act" != kill-main ] && [ "$status" -ne 0 ]; then
    [ "$status" -eq 3 ] && [[ "$output" =~ grpc-error\ [A-Z_]+:\ .+ ]] ||
      problems+="$what: the call exited $status: $output"$'\n'
    case $op in
    run) left=$(leftovers) ;;
    create) left=$(container_leftovers) ;;
    *) left= ;;
    esac
    [ -z "$left" ] || problems+="$what: the failed call left: $left ($output)"$'\n'
  fi
  stop_server
  settle "$tag" || problems+="$what: what the server started did not finish"$'\n'
  serve_plain || { problems+="$what: the server did not start again"$'\n'; return 0; }
  repair "$op" "$k"
  [ -z "${PODRUN_CRI_FAULT_VERBOSE:-}" ] || echo "#   repair: $status ${output:0:300}" >&3
  [ "$status" -eq 0 ] || problems+="$what: repair exited $status: $output"$'\n'
  stop_server
  left=$(leftovers)
  if [ -n "$left" ]; then
    problems+="$what: left: $left"$'\n'
    force_clean
  fi
}

# sweep OP GROUP: the calls of GROUP that OP makes are counted, then SAMPLES of them (evenly
# spread, the first and the last among them) each failed with an errno and cut by a kill.
sweep() {
  local op=$1 group=$2 calls n i=0 k=0 act
  problems=
  serve_faulted "$group" 0 EIO "$TAG-count"
  prepare "$op"
  kill -USR1 "$SUP"
  call "$op"
  [ "$status" -eq 0 ] || { echo "a clean $op failed: $output" >&2; return 1; }
  calls=$(calls_now)
  [ "$op" = run ] && SB=$output
  [ "$op" = remove ] || cri remove "$SB"
  stop_server
  settle "$TAG-count"
  [ -z "$(leftovers)" ] || { echo "a clean $op left: $(leftovers)" >&2; return 1; }
  echo "# $op $group: $calls calls" >&3
  [ "$calls" -gt 0 ]
  local points
  points=$(awk -v c="$calls" -v s="$SAMPLES" 'BEGIN {
    if (c <= s) { for (i = 1; i <= c; i++) print i; exit }
    for (j = 0; j < s; j++) print 1 + int(j * (c - 1) / (s - 1) + 0.5) }' | uniq)
  for n in $points; do
    for act in "${ERRNOS[i++ % ${#ERRNOS[@]}]}" kill-main; do
      one_case "$op" "$group" "$n" "$act" $((k++))
    done
  done
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    return 1
  fi
}

@test "cri-faults: RunPodSandbox cut at the programs it runs" {
  sweep run execve,execveat
}

@test "cri-faults: RunPodSandbox cut at renames (every state file written)" {
  sweep run rename,renameat,renameat2
}

@test "cri-faults: RunPodSandbox cut at mount and namespace calls" {
  sweep run mount,umount2,unshare,setns
}

@test "cri-faults: RunPodSandbox cut at mkdir" {
  sweep run mkdir,mkdirat
}

@test "cri-faults: CreateContainer cut at the programs it runs" {
  sweep create execve,execveat
}

@test "cri-faults: CreateContainer cut at renames and mounts" {
  sweep create rename,renameat,renameat2,mount
}

@test "cri-faults: CreateContainer cut at mkdir and unlink" {
  sweep create mkdir,mkdirat,unlink,unlinkat
}

@test "cri-faults: StopPodSandbox + RemovePodSandbox cut at the programs they run" {
  sweep remove execve,execveat
}

@test "cri-faults: StopPodSandbox + RemovePodSandbox cut at unmount, rmdir and unlink" {
  sweep remove umount2,rmdir,unlink,unlinkat
}
