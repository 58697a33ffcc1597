#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (fault sweeps time each step)
# Faults in `podrun apply` and `podrun delete` of a pod: tests/lib/fault-syscall fails the Nth
# call of a group of system calls made by podrun or anything it runs (CNI plugins, the runtime,
# the shim) with EIO, ENOSPC, ENOMEM or EMFILE, taking turns, or SIGKILLs podrun itself there
# (kill-main: its children go on, as they would after a kill -9 of podrun). After each: `podrun
# get pods` answers, a failed command said why, and the next command repairs: every other time a
# re-apply (the pod runs) then a delete, else a delete alone. Then nothing is left: no shim,
# mount, pinned namespace, state or log dir, veth, IP allocation, container (runtime state or
# cgroup), image store reference, record or half-written file.

load ../lib/helpers
load ../lib/pods-helpers

FAULT=$PODRUN_BUILD/tests/lib/fault-syscall
# See faults-runtime.bats: the faulted commands run without LeakSanitizer.
NO_LSAN="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ERRNOS=(EIO ENOSPC ENOMEM EMFILE)

setup() {
  pods_setup
  cat >"$BATS_TEST_TMPDIR/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
YAML
  # IfNotPresent: the steps swept are the pod's own; a pull's are images-faults' (and busybox's
  # default, Always, would pull on every one of the hundreds of applies here).
  UIDS=$BATS_TEST_TMPDIR/uids
  : >"$UIDS"
}

teardown() {
  note_uids
  pods_teardown
  return 0
}

# Every pod uid seen so far (records and pod dirs), to look for its cgroups later.
note_uids() {
  local f
  for f in "$ROOTS"/lib/objects/pods/*/*.json; do
    [ -f "$f" ] && jq -r .uid "$f" >>"$UIDS" 2>/dev/null
  done
  for f in "$ROOTS"/run/pods/*/ "$ROOTS"/lib/pods/*/; do
    [ -d "$f" ] && basename "$f" >>"$UIDS"
  done
  return 0
}

# OP_ARGS run under the fault: podrun inside the node; sets $status and $output.
under() {
  local group=$1 n=$2 act=$3
  shift 3
  status=0
  env "$NO_LSAN" timeout 120 nsenter --net="/run/netns/$NODE" \
    "$FAULT" -k -r "$BATS_TEST_TMPDIR/report" "$group" "$n" "$act" \
    "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" \
    --log-root "$ROOTS/log" --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" "$@" \
    </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
  output=$(cat "$BATS_TEST_TMPDIR/out")
  note_uids
}

# What is left of any pod, one line each; nothing when all is clean.
leftovers() {
  assert_no_pods 2>&1 >/dev/null | head -5 || true
  local u d
  # The pod's cgroup (kubepods/[QOS/]pod<uid>) and its containers' (<uid>-<name>), anywhere
  # under this test's cgroup root in any hierarchy.
  for u in $(sort -u "$UIDS"); do
    find /sys/fs/cgroup"$PODS_CG_ROOT" /sys/fs/cgroup/*"$PODS_CG_ROOT" -type d \
      \( -name "pod$u" -o -name "$u-*" \) 2>/dev/null | sed 's/^/cgroup /'
  done
  ls -A "$ROOTS/run/runtime" 2>/dev/null | sed 's/^/runtime state /'
  find "$ROOTS" "$IMAGES_ROOT" -name '*.tmp.*' 2>/dev/null | sed 's/^/half-written /'
  return 0
}

# Waits for the pod to run; a message on failure.
pod_runs() {
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(prn get pods web -o json 2>/dev/null | jq -r .status.phase)" = Running ] && return 0
    sleep 0.1
  done
  prn get pods web 2>&1
  return 1
}

# repair N: every other time re-apply (the pod must run) then delete, else delete alone.
repair() {
  local what=$1 n=$2
  if ((n % 2 == 1)); then
    run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
    [ "$status" -eq 0 ] || problems+="$what: apply again exited $status: $output"$'\n'
    pod_runs >/dev/null || problems+="$what: the pod does not run after apply again: $(pod_runs || true)"$'\n'
  fi
  run prn delete pod web
  if [ "$status" -ne 0 ] && ! { [ "$status" -eq 1 ] && [[ "$output" == *'"web" not found'* ]]; }; then
    problems+="$what: delete exited $status: $output"$'\n'
  fi
  note_uids
  local left
  left=$(leftovers)
  [ -z "$left" ] || problems+="$what: left: $left"$'\n'
  # Clean for the next case even when this one failed.
  [ -z "$left" ] || pods_teardown >/dev/null 2>&1 || true
  [ -z "$left" ] || ip netns add "$NODE" 2>/dev/null || true
}

# count OP...: the calls of GROUP a clean OP makes.
calls_of() {
  sed -n 's/^calls=\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/report"
}

# sweep_apply GROUP [STRIDE [FIRST]]
sweep_apply() {
  local group=$1 stride=${2:-1} first=${3:-1} calls n act i=0 k=0
  problems=
  under "$group" 0 EIO apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ] || { echo "clean apply failed: $output" >&2; return 1; }
  calls=$(calls_of)
  pod_runs
  run prn delete pod web
  [ "$status" -eq 0 ]
  echo "# apply $group: $calls calls" >&3
  for ((n = first; n <= calls; n += stride)); do
    for act in "${ERRNOS[i++ % ${#ERRNOS[@]}]}" kill-main; do
      under "$group" "$n" "$act" apply -f "$BATS_TEST_TMPDIR/pod.yaml"
      local done=$status out=$output what="apply $group#$n $act"
      if [ "$act" != kill-main ] && [ "$done" -ne 0 ]; then
        [ "$done" -eq 1 ] && [ -n "$out" ] || problems+="$what: apply exited $done: $out"$'\n'
        # A failed apply undid itself, unless it says what finishes it.
        if [[ "$out" != *"finishes it"* ]]; then
          local left
          left=$(leftovers)
          [ -z "$left" ] || problems+="$what: a failed apply left: $left ($out)"$'\n'
        fi
      fi
      run prn get pods
      [ "$status" -eq 0 ] || problems+="$what: get pods exited $status: $output"$'\n'
      repair "$what" $((k++))
    done
  done
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    return 1
  fi
}

sweep_delete() {
  local group=$1 stride=${2:-1} first=${3:-1} calls n act i=0 k=0
  problems=
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  pod_runs
  under "$group" 0 EIO delete pod web
  [ "$status" -eq 0 ] || { echo "clean delete failed: $output" >&2; return 1; }
  calls=$(calls_of)
  echo "# delete $group: $calls calls" >&3
  for ((n = first; n <= calls; n += stride)); do
    for act in "${ERRNOS[i++ % ${#ERRNOS[@]}]}" kill-main; do
      local what="delete $group#$n $act"
      run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
      [ "$status" -eq 0 ] || problems+="$what: apply before exited $status: $output"$'\n'
      pod_runs >/dev/null || problems+="$what: the pod does not run before"$'\n'
      under "$group" "$n" "$act" delete pod web
      local done=$status out=$output
      if [ "$act" != kill-main ] && [ "$done" -ne 0 ]; then
        [ "$done" -eq 1 ] && [ -n "$out" ] || problems+="$what: delete exited $done: $out"$'\n'
      fi
      run prn get pods
      [ "$status" -eq 0 ] || problems+="$what: get pods exited $status: $output"$'\n'
      # A delete that died after it began shows the pod Terminating.
      if [ "$act" = kill-main ] && [ -f "$ROOTS/lib/objects/pods/default/web.json" ]; then
        [ "$(awk 'NR == 2 { print $3 }' <<<"$output")" = Terminating ] ||
          problems+="$what: get pods after a killed delete: $output"$'\n'
      fi
      repair "$what" $((k++))
    done
  done
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    return 1
  fi
}

@test "faults-pods: apply cut at each program it runs" {
  # (The first is fault-syscall's own exec of podrun.)
  sweep_apply execve,execveat 1 2
}

@test "faults-pods: apply cut at each rename (every state file written)" {
  sweep_apply rename,renameat,renameat2
}

@test "faults-pods: apply cut at each mount call" {
  sweep_apply mount,umount2,unshare,setns
}

@test "faults-pods: apply cut at every 3rd mkdir" {
  sweep_apply mkdir,mkdirat 3
}

@test "faults-pods: delete cut at each program it runs" {
  sweep_delete execve,execveat 1 2
}

@test "faults-pods: delete cut at every 2nd unmount, rmdir and unlink" {
  sweep_delete umount2,rmdir,unlink,unlinkat 2
}

@test "faults-pods: a full log dir (small tmpfs): the shim runs on, what was written stays, logging resumes with space" {
  mkdir -p "$ROOTS/log"
  mount -t tmpfs -o size=256k tmpfs "$ROOTS/log"
  cat >"$BATS_TEST_TMPDIR/logger.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: logger
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "pad=$(head -c 900 /dev/zero | tr '\\0' x); i=0; while true; do echo \"line $i $pad\"; i=$((i+1)); sleep 0.005; done"]
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/logger.yaml"
  [ "$status" -eq 0 ]
  wait_running logger
  local shim
  shim=$(shim_pids)
  [ -n "$shim" ]
  # Full: nothing more fits.
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(df --output=avail -k "$ROOTS/log" | tail -1)" -lt 8 ] && break
    sleep 0.1
  done
  [ "$(df --output=avail -k "$ROOTS/log" | tail -1)" -lt 8 ]
  sleep 1
  alive "$shim"
  run prn get pods logger
  [ "$status" -eq 0 ]
  [ "$(awk 'NR == 2 { print $3 }' <<<"$output")" = Running ]
  # What was written stays, from the first line on.
  run prn logs logger
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "line 0 "* ]]
  local last
  last=$(tail -1 <<<"$output" | awk '{ print $2 }')
  [ -n "$last" ]
  # Space again: the lines the container writes from now on reach the log.
  mount -o remount,size=8m "$ROOTS/log"
  local now
  for ((i = 0; i < 100; i++)); do
    now=$(prn logs logger | tail -1 | awk '{ print $2 }')
    [ -n "$now" ] && [ "$now" -gt $((last + 50)) ] && break
    sleep 0.1
  done
  [ "$now" -gt $((last + 50)) ]
  alive "$shim"
  run prn delete pod logger
  [ "$status" -eq 0 ]
}
