#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (it floods, forks and starts many containers: other files' timings would suffer)
# Resource limits under load (issue #18): a container flooding its stdout, 100 containers
# exiting at once, a container forking up to its pod's pids limit, and podrun answering while
# 20 pods start.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
}

teardown() {
  pods_teardown
}

# wait_secs SECONDS SHELL-TEXT: waits until the text, evaluated, succeeds.
wait_secs() {
  local n=$1 i
  shift
  for ((i = 0; i < n * 10; i++)); do
    eval "$*" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "never true in $n s: $*" >&2
  return 1
}

# vm_kib PID FIELD: VmRSS or VmHWM of a process, in KiB.
vm_kib() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

@test "pods-load: a container flooding stdout: the shim's memory stays flat, the log rotates at containerLogMaxSize" {
  mkdir -p "$ROOTS/lib"
  printf 'containerLogMaxSize: 256Ki\ncontainerLogMaxFiles: 3\n' >"$ROOTS/lib/node.yaml"
  cat >"$BATS_TEST_TMPDIR/m.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: flood}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: flood
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, "sleep 1; exec yes 'a line of output the shim must log, rotate and forget'"]
YAML
  # A bounded quarantine, so that ASan's keeping freed memory is not taken for growth.
  export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=1"
  prn apply -f "$BATS_TEST_TMPDIR/m.yaml"
  wait_running flood
  shim=$(shim_pids | head -1)
  [ -n "$shim" ]
  before=$(vm_kib "$shim" VmRSS)
  dir=$(dirname "$(find "$ROOTS/log" -name '*.log' | head -1)")
  # The writer runs at full speed for three seconds; by then it has rotated many times.
  sleep 3
  alive "$shim"
  after=$(vm_kib "$shim" VmHWM)
  echo "shim RSS before ${before} KiB, peak after ${after} KiB" >&3
  [ $((after - before)) -lt 2048 ]
  run ls "$dir"
  echo "$output"
  [ "${#lines[@]}" -eq 3 ]
  for f in "$dir"/*; do
    size=$(stat -c %s "$f")
    [ "$size" -le $((256 * 1024)) ]
  done
  # The rotated files are full: the writer was not held back to a trickle.
  [ "$(stat -c %s "$dir/$(ls "$dir" | grep '\.1$')")" -ge $((200 * 1024)) ]
  # Every line kept is a whole CRI record of the container's line.
  run awk '$2 != "stdout" || $3 != "F" || $4 != "a" { bad++ } END { exit bad > 0 }' "$dir"/*
  [ "$status" -eq 0 ]
  prn delete pod flood
  assert_no_pods
}

@test "pods-load: 100 containers exiting at once are all reaped and reported" {
  {
    cat <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: many}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  volumes: [{name: w, emptyDir: {}}]
  containers:
YAML
    for i in $(seq 0 99); do
      cat <<YAML
  - name: c$i
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sh, -c, "until [ -e /w/go ]; do sleep 0.2; done; exit $((i % 7 + 1))"]
    volumeMounts: [{name: w, mountPath: /w}]
YAML
    done
  } >"$BATS_TEST_TMPDIR/m.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/m.yaml"
  wait_secs 120 "prn get pod many -o json | jq -e '[.status.containerStatuses[] | select(.state.running)] | length == 100'"
  uid=$(pod_uid many)
  shim=$(shim_pids | head -1)
  # Go: every container sees the file within one 0.2 s turn of its loop.
  touch "$ROOTS/lib/pods/$uid/volumes/w/go"
  wait_secs 60 "prn get pod many -o json | jq -e '.status.phase == \"Failed\"'"
  run prn get pod many -o json
  [ "$status" -eq 0 ]
  [ "$(jq '[.status.containerStatuses[] | select(.state.terminated)] | length' <<<"$output")" -eq 100 ]
  # Each exit code reported is the one its container exited with.
  wrong=$(jq '[.status.containerStatuses[] | select(.state.terminated.exitCode != ((.name[1:] | tonumber) % 7 + 1))] | length' <<<"$output")
  [ "$wrong" -eq 0 ]
  # Nothing left unreaped under the shim.
  zombies=$(ps -o stat= --ppid "$shim" | grep -c '^Z' || true)
  [ "$zombies" -eq 0 ]
  prn delete pod many
  assert_no_pods
}

@test "pods-load: a container forking without end stops at the pod's pids limit; kubepods keeps the node's reserve" {
  mkdir -p "$ROOTS/lib"
  printf 'podPidsLimit: 40\nsystemReserved: {pid: "1000"}\n' >"$ROOTS/lib/node.yaml"
  cat >"$BATS_TEST_TMPDIR/m.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: forker}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: bomb
    image: busybox
    imagePullPolicy: IfNotPresent
    # The inner shell forks until a fork fails (fatal to it); its sleeps stay, the outer one
    # becomes a sleep too: the pod sits at its limit.
    command: [sh, -c, "sh -c 'while :; do sleep 600 & done' 2>/dev/null; exec sleep 600"]
YAML
  prn apply -f "$BATS_TEST_TMPDIR/m.yaml"
  wait_running forker
  uid=$(pod_uid forker)
  pids=$(awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5; exit }' /proc/self/mountinfo)
  if [ -z "$pids" ]; then pids=/sys/fs/cgroup; fi
  pod=$(find "$pids$PODS_CG_ROOT" -type d -name "pod$uid" | head -1)
  [ -n "$pod" ]
  [ "$(cat "$pod/pids.max")" = 40 ]
  # The forks past the limit were refused (counted in pids.events of the cgroup that asked,
  # the container's, or of the pod's where the kernel counts them there), the pod holds its
  # limit.
  wait_secs 30 "find '$pod' -name pids.events -exec cat {} + | awk '\$1 == \"max\" && \$2 > 0 { ok = 1 } END { exit !ok }'"
  current=$(cat "$pod/pids.current")
  echo "pids in the pod: $current" >&3
  [ "$current" -ge 38 ] && [ "$current" -le 40 ]
  wait_running forker
  # The node's own forks are not limited by the pod.
  run bash -c 'for i in $(seq 50); do /bin/true || exit 1; done'
  [ "$status" -eq 0 ]
  kubepods=$(cat "$pids$PODS_CG_ROOT/kubepods/pids.max")
  [ "$kubepods" -eq $(($(cat /proc/sys/kernel/pid_max) - 1000)) ]
  prn delete pod forker
  assert_no_pods
}

@test "pods-load: podrun get answers while 20 pods start at once" {
  for i in $(seq 0 19); do
    cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: p$i}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: idle
    image: busybox
    imagePullPolicy: IfNotPresent
    command: [sleep, "600"]
---
YAML
  done >"$BATS_TEST_TMPDIR/m.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/m.yaml" >"$BATS_TEST_TMPDIR/apply.out" 2>&1 &
  applier=$!
  worst=0
  answered=0
  while kill -0 "$applier" 2>/dev/null || [ "$answered" -lt 3 ]; do
    t0=$(date +%s%N)
    run timeout 10 nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
      --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
      --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" get pods
    [ "$status" -eq 0 ]
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$ms" -le "$worst" ] || worst=$ms
    answered=$((answered + 1))
  done
  wait "$applier"
  echo "get pods answered $answered times during the apply; slowest ${worst} ms" >&3
  # Reads take no lock: none waited for the whole apply.
  [ "$answered" -ge 3 ]
  [ "$worst" -lt 2000 ]
  for i in $(seq 0 19); do wait_running "p$i"; done
  run prn get pods
  [ "${#lines[@]}" -eq 21 ]
  prn delete -f "$BATS_TEST_TMPDIR/m.yaml"
  assert_no_pods
}
