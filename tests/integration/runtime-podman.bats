#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (podman's own state is host-wide)
# A real client: Debian's podman drives podrun-runtime through `--runtime`, as it drives runc.
# podman talks to the runtime in three ways: directly (create, start, kill, delete, pause, state),
# through conmon (create, exec with --process and --pid-file) and through its exit command
# (`podman container cleanup`), so these tests cover the runc contract as a client uses it.
#
# Everything podman keeps is private to this file: store, run root, tmp dir (exit files, attach
# sockets, events) and cgroup parent; the image is the tests' busybox rootfs, imported (no
# network). podman passes no --root to a rootful runtime, so our state lives under the default
# root, one dir per 64-hex container id.

load ../lib/helpers
bats_require_minimum_version 1.5.0

PM_RUNTIME_ROOT=/run/podrun/runtime

setup_file() {
  command -v podman >/dev/null || skip "podman is not installed"
  ensure_rootfs_cache
  # A short path: conmon's attach socket lives under --tmpdir, and unix socket paths are short.
  PM_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/podrun-pm.XXXXXX")
  PM_CGROUP_PARENT=/podrun-bats-podman-$$
  PM_IMAGE=localhost/podrun-busybox:test
  export PM_DIR PM_CGROUP_PARENT PM_IMAGE
  tar -C "$ROOTFS_CACHE" -cf "$PM_DIR/busybox.tar" .
  pm import "$PM_DIR/busybox.tar" "$PM_IMAGE" >/dev/null
}

teardown_file() {
  [ -n "${PM_DIR:-}" ] && [ -d "$PM_DIR" ] || return 0
  pm rm -af -t 0 >/dev/null 2>&1 || true
  pm rmi -af >/dev/null 2>&1 || true
  pm_kill_leftover_processes
  # podman mounts /dev/shm of each container under its store: unmount whatever is left
  local mp
  for mp in $(awk -v d="$PM_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$mp" || true
  done
  rm -rf "$PM_DIR"
  pm_remove_cgroup_parent
}

teardown() {
  standard_teardown
  [ -n "${PM_DIR:-}" ] || return 0
  local id
  for id in $(pm ps -aq --no-trunc 2>/dev/null); do
    pm rm -f -t 0 "$id" >/dev/null 2>&1 || true
    # a state dir podman failed to delete would leak a cgroup and maybe a process
    if [ -d "$PM_RUNTIME_ROOT/$id" ]; then
      echo "leftover runtime state for $id" >&2
      "$RUNTIME" delete --force "$id" >/dev/null 2>&1 || true
    fi
  done
}

# The podman command line every test uses; PM_RUNTIME picks another runtime (the runc control).
pm() {
  podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
    --runtime "${PM_RUNTIME:-$RUNTIME}" "$@"
}

# `podman run`/`create` options for every container. podman's default rlimits (nofile 1048576,
# nproc from its own raised limit) exceed the hard limits of a host where root lacks
# CAP_SYS_RESOURCE, which makes runc fail as well; explicit small ones work everywhere.
pm_run() {
  local cmd=$1
  shift
  pm "$cmd" --network none --cgroup-parent "$PM_CGROUP_PARENT" \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"
}

pm_id() {
  pm inspect --format '{{.Id}}' "$1"
}

# conmon and any container process left by a failed test: they are ours when their command line
# names this file's private dir; killed one by one by pid.
pm_kill_leftover_processes() {
  local pid
  for pid in $(pgrep -f -- "$PM_DIR" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

pm_remove_cgroup_parent() {
  local hier
  for hier in /sys/fs/cgroup /sys/fs/cgroup/*; do
    [ -d "$hier$PM_CGROUP_PARENT" ] || continue
    find "$hier$PM_CGROUP_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null ||
      echo "cannot remove cgroup $hier$PM_CGROUP_PARENT" >&2
  done
}

# pm_wait_status NAME STATUS [TRIES]
pm_wait_status() {
  local i
  for ((i = 0; i < ${3:-50}; i++)); do
    [ "$(pm inspect --format '{{.State.Status}}' "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "container $1 never reached $2 (now: $(pm inspect --format '{{.State.Status}}' "$1" 2>&1))" >&2
  return 1
}

# pm_cgroup_dirs ID: the container's cgroup in each hierarchy that exists
pm_cgroup_dirs() {
  ls -d /sys/fs/cgroup/*"$PM_CGROUP_PARENT/libpod-$1" /sys/fs/cgroup"$PM_CGROUP_PARENT/libpod-$1" \
    2>/dev/null || true
}

@test "podman with runc, the control, runs a container here" {
  command -v runc >/dev/null || skip "runc is not installed"
  PM_RUNTIME=runc run pm_run run --rm "$PM_IMAGE" sh -c 'echo control; exit 4'
  [ "$status" -eq 4 ]
  [ "$output" = control ]
}

@test "podman run prints the output and propagates the exit code" {
  run pm_run run --name ctr-out "$PM_IMAGE" sh -c 'echo "hello from $(hostname)"; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [ "${lines[0]}" = "hello from $(pm inspect --format '{{.Config.Hostname}}' ctr-out)" ]
  [ "${lines[1]}" = err ]
  # podman used our binary, not its default runtime
  [ "$(pm inspect --format '{{.OCIRuntime}}' ctr-out)" = "$RUNTIME" ]
  [ "$(pm inspect --format '{{.State.ExitCode}} {{.State.Status}}' ctr-out)" = "3 exited" ]
  run pm_run run --rm "$PM_IMAGE" true
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "podman run maps a missing binary to 127 and a non-executable one to 126" {
  run -127 pm_run run --rm "$PM_IMAGE" /no/such/binary
  [ "$status" -eq 127 ]
  [[ "$output" == *"/no/such/binary"* ]]
  run -127 pm_run run --rm "$PM_IMAGE" no-such-command-in-path
  [ "$status" -eq 127 ]
  run pm_run run --rm "$PM_IMAGE" /etc/passwd
  [ "$status" -eq 126 ]
  # a failed create leaves nothing: no container, no state, no cgroup
  [ -z "$(pm ps -aq)" ]
  [ -z "$(ls -d /sys/fs/cgroup/*"$PM_CGROUP_PARENT"/libpod-* 2>/dev/null)" ]
}

@test "podman run reports a container killed by a signal as 137" {
  pm_run run --name ctr-sig "$PM_IMAGE" sleep 1000 > "$BATS_TEST_TMPDIR/out" 2>&1 &
  job=$!
  pm_wait_status ctr-sig running
  pm kill -s KILL ctr-sig
  wait "$job" && st=0 || st=$?
  [ "$st" -eq 137 ]
  [ "$(pm inspect --format '{{.State.ExitCode}}' ctr-sig)" = 137 ]
}

@test "podman run -t gives the container a terminal through the console socket" {
  run pm_run run --rm -t "$PM_IMAGE" sh -c 'tty; echo TERM_OK' </dev/null
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == /dev/pts/0* ]]
  [[ "$output" == *TERM_OK* ]]
}

@test "podman run -d, then ps, inspect and our state agree, and logs show the output" {
  id=$(pm_run run -d --name ctr-d "$PM_IMAGE" sh -c 'echo line-one; echo line-two; exec sleep 1000')
  [ ${#id} -eq 64 ]
  pm_wait_status ctr-d running
  [[ "$(pm ps --format '{{.Names}} {{.Status}}')" == "ctr-d Up"* ]]
  # our runtime keeps the state podman reads back
  [ -f "$PM_RUNTIME_ROOT/$id/state.json" ]
  run "$RUNTIME" state "$id"
  [ "$status" -eq 0 ]
  [ "$(jq -r .status <<<"$output")" = running ]
  [ "$(jq -r .pid <<<"$output")" = "$(pm inspect --format '{{.State.Pid}}' ctr-d)" ]
  [ "$(jq -r .bundle <<<"$output")" = "$(pm inspect --format '{{.StaticDir}}' ctr-d)" ]
  for i in $(seq 30); do
    [ "$(pm logs ctr-d 2>&1 | wc -l)" -ge 2 ] && break
    sleep 0.1
  done
  run pm logs ctr-d
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = line-one ]
  [ "${lines[1]}" = line-two ]
  [ "${#lines[@]}" -eq 2 ]
}

@test "podman wait and logs of a detached container that exits" {
  pm_run run -d --name ctr-w "$PM_IMAGE" sh -c 'for i in 1 2 3; do echo n$i; done; exit 9' >/dev/null
  run pm wait ctr-w
  [ "$status" -eq 0 ]
  [ "$output" = 9 ]
  run pm logs ctr-w
  [ "$output" = "$(printf 'n1\nn2\nn3')" ]
}

@test "podman exec runs in the container with its output, exit code, env, cwd and user" {
  pm_run run -d --name ctr-e --hostname inside "$PM_IMAGE" sleep 1000 >/dev/null
  pm_wait_status ctr-e running
  run pm exec ctr-e hostname
  [ "$status" -eq 0 ]
  [ "$output" = inside ]
  run pm exec -e FOO=bar -w /tmp ctr-e sh -c 'echo $FOO $(pwd)'
  [ "$output" = "bar /tmp" ]
  run pm exec -u 1000:1000 ctr-e id -u
  [ "$output" = 1000 ]
  run pm exec ctr-e sh -c 'echo out; echo err >&2; exit 5'
  [ "$status" -eq 5 ]
  [[ "$output" == *out*err* ]]
  # the exec'd process is in the container's pid namespace: sleep is pid 1
  run pm exec ctr-e cat /proc/1/cmdline
  [[ "$output" == sleep* ]]
  run -127 pm exec ctr-e /no/such/binary
  [ "$status" -eq 127 ]
  run pm exec -t ctr-e tty </dev/null
  [[ "$output" == /dev/pts/* ]]
  # exec -d leaves a process running inside
  pm exec -d ctr-e sleep 777
  run pm exec ctr-e ps
  [[ "$output" == *"sleep 777"* ]]
}

@test "podman stop of a container that traps TERM stops it at once with its exit code" {
  pm_run run -d --name ctr-trap "$PM_IMAGE" \
    sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
  pm_wait_status ctr-trap running
  for i in $(seq 30); do pm logs ctr-trap | grep -q ready && break; sleep 0.1; done
  start=$(date +%s%N)
  run pm stop -t 30 ctr-trap
  [ "$status" -eq 0 ]
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  echo "stop took ${elapsed_ms} ms" >&3
  [ "$elapsed_ms" -lt 5000 ]
  [ "$(pm inspect --format '{{.State.ExitCode}} {{.State.Status}}' ctr-trap)" = "42 exited" ]
  [[ "$(pm logs ctr-trap)" == *got-term* ]]
}

@test "podman stop falls back to KILL after -t for a container that ignores TERM" {
  # pid 1 of a pid namespace without a handler ignores TERM
  pm_run run -d --name ctr-notrap "$PM_IMAGE" sleep 1000 >/dev/null
  pm_wait_status ctr-notrap running
  start=$(date +%s%N)
  run pm stop -t 2 ctr-notrap
  [ "$status" -eq 0 ]
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  echo "stop took ${elapsed_ms} ms" >&3
  [ "$elapsed_ms" -ge 1900 ]
  [ "$elapsed_ms" -lt 8000 ]
  [ "$(pm inspect --format '{{.State.ExitCode}} {{.State.Status}}' ctr-notrap)" = "137 exited" ]
}

@test "podman pause and unpause freeze and thaw the container" {
  pm_run run -d --name ctr-p "$PM_IMAGE" sh -c 'while :; do date +%s%N > /tmp/tick; sleep 0.05; done' >/dev/null
  pm_wait_status ctr-p running
  id=$(pm_id ctr-p)
  pm pause ctr-p
  [ "$(pm inspect --format '{{.State.Status}}' ctr-p)" = paused ]
  [ "$("$RUNTIME" state "$id" | jq -r .status)" = paused ]
  # the ticker writes nothing while frozen: read its file through pid 1's root
  pid=$(pm inspect --format '{{.State.Pid}}' ctr-p)
  a=$(cat "/proc/$pid/root/tmp/tick")
  sleep 0.3
  [ "$(cat "/proc/$pid/root/tmp/tick")" = "$a" ]
  pm unpause ctr-p
  [ "$(pm inspect --format '{{.State.Status}}' ctr-p)" = running ]
  # thawed: the ticker moves on (give a loaded machine time: in CI under ASan with three bats
  # files at once, 5 s were once not enough for a date and a sleep to run)
  for i in $(seq 200); do
    [ "$(cat "/proc/$pid/root/tmp/tick")" != "$a" ] && break
    sleep 0.1
  done
  [ "$(cat "/proc/$pid/root/tmp/tick")" != "$a" ] || {
    report_frozen_tasks "$id"
    false
  }
}

# For a failure report: the freezer state of container ID's cgroups (v1 freezer and cgroup2)
# and what each of their tasks is doing.
report_frozen_tasks() {
  local d t
  for d in $(pm_cgroup_dirs "$1"); do
    [ -f "$d/freezer.state" ] || [ -f "$d/cgroup.freeze" ] || continue
    echo "$d: $(cat "$d/freezer.state" "$d/cgroup.freeze" 2>/dev/null)"
    for t in $(cat "$d/tasks" "$d/cgroup.threads" 2>/dev/null | sort -u); do
      echo "  task $t: state $(cut -d' ' -f3 "/proc/$t/stat") wchan $(cat "/proc/$t/wchan") $(tr '\0' ' ' < "/proc/$t/cmdline")"
    done
  done
}

@test "podman rm removes the container, our state dir, its cgroup and conmon" {
  id=$(pm_run run -d --name ctr-rm "$PM_IMAGE" sleep 1000)
  pm_wait_status ctr-rm running
  pid=$(pm inspect --format '{{.State.Pid}}' ctr-rm)
  [ -d "$PM_RUNTIME_ROOT/$id" ]
  [ -n "$(pm_cgroup_dirs "$id")" ]
  pgrep -f -- "conmon.*-c $id" >/dev/null
  # a running container needs --force
  run pm rm ctr-rm
  [ "$status" -eq 2 ]
  run pm rm -f -t 0 ctr-rm
  [ "$status" -eq 0 ]
  [ -z "$(pm ps -aq)" ]
  [ ! -e "$PM_RUNTIME_ROOT/$id" ]
  [ -z "$(pm_cgroup_dirs "$id")" ]
  if [ -e "/proc/$pid" ]; then run ! grep -q sleep "/proc/$pid/cmdline"; fi
  for i in $(seq 20); do pgrep -f -- "conmon.*-c $id" >/dev/null || break; sleep 0.1; done
  run ! pgrep -f -- "conmon.*-c $id"

  # stop then rm: the exit command already deleted the runtime's container, rm finishes it
  id=$(pm_run run -d --name ctr-rm2 "$PM_IMAGE" sleep 1000)
  pm stop -t 0 ctr-rm2
  pm rm ctr-rm2
  [ -z "$(pm ps -aq)" ]
  [ ! -e "$PM_RUNTIME_ROOT/$id" ]
  [ -z "$(pm_cgroup_dirs "$id")" ]
}
