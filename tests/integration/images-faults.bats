#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (fault sweeps time each step)
# Faults in `podrun load` and `podrun pull` (from tests/lib/images-fake-registry.py on
# 127.0.0.1): tests/lib/fault-syscall fails the Nth call of a group of system calls (EIO,
# ENOSPC, ENOMEM, EMFILE, taking turns) or SIGKILLs the caller there. After each: `podrun images`
# works, every blob and layer an image of the store refers to is there, every blob hashes to its
# name and every layer has its diff_id record (nothing half-written in place), a failed command
# says why and leaves nothing in tmp/, and the same command again works, leaves the store whole
# and removes the staging files a killed one left in tmp/.

load ../lib/helpers
load ../lib/images-helpers

FAULT=$PODRUN_BUILD/tests/lib/fault-syscall
# In an ASan build, LeakSanitizer starts its checker with clone after main returns, where an
# injected fault would fail a command that had finished: the faulted commands run without leak
# checking (ASan's other checks stay on; the rest of the suite checks leaks).
NO_LSAN="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ERRNOS=(EIO ENOSPC ENOMEM EMFILE)

setup_file() {
  busybox_image
  local dir=$BATS_FILE_TMPDIR/fake
  mkdir -p "$dir"
  cp -r "$BUSYBOX_OCI" "$dir/layout"
  echo ok >"$dir/mode"
  # Background services close bats' fd 3, or bats would wait for them.
  python3 "$TOP/tests/lib/images-fake-registry.py" "$dir/layout" "$dir/port" "$dir/log" \
    >"$dir/out" 2>&1 3>&- &
  echo $! >"$dir/pid"
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$dir/port" ] && break; sleep 0.1; done
  export FAKE=127.0.0.1:$(cat "$dir/port")
}

teardown_file() {
  [ -f "$BATS_FILE_TMPDIR/fake/pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/fake/pid")" 2>/dev/null || true
}

setup() {
  images_setup
  export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf
  : >"$CONTAINERS_REGISTRIES_CONF"
  export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
  OP=(load -i "$BUSYBOX_TAR")
  NAME=docker.io/library/busybox:latest
}

# The sweeps below run OP, the command under test, and expect NAME in the store after it.
use_pull() {
  OP=(pull "$FAKE/busybox:latest")
  NAME=$FAKE/busybox:latest
}

teardown() {
  local p
  for p in $(cat "$BATS_TEST_TMPDIR/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  for p in $(cat "$BATS_TEST_TMPDIR/mounts" 2>/dev/null); do umount -l "$p" 2>/dev/null || true; done
  standard_teardown
}

# Whether someone holds the flock of $1.
lock_held() {
  if flock -n "$1" true; then return 1; fi
  return 0
}

op_under() {
  status=0
  env "$NO_LSAN" timeout 60 "$FAULT" -r "$BATS_TEST_TMPDIR/report" "$1" "$2" "$3" \
    "$PODRUN" --images-root "$IMAGES_ROOT" "${OP[@]}" \
    </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
  output=$(cat "$BATS_TEST_TMPDIR/out")
}

# Blobs that do not hash to their name, layers without their diff_id record: something
# half-written in place of a whole one.
torn() {
  local f
  for f in "$IMAGES_ROOT"/blobs/sha256/*; do
    [ -f "$f" ] || continue
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*/}" ] || echo "torn blob ${f##*/}"
  done
  for f in "$IMAGES_ROOT"/layers/*; do
    [ -d "$f" ] || continue
    [ -f "$IMAGES_ROOT/diffids/${f##*/}" ] || echo "layer ${f##*/} without diffids record"
  done
}

# Every digest images.json refers to, one a line, and whether it is in the store.
missing_refs() {
  [ -f "$IMAGES_ROOT/images.json" ] || return 0
  local d
  for d in $(jq -r '.images[] | .manifest, .config, .layers[]' "$IMAGES_ROOT/images.json"); do
    [ -f "$IMAGES_ROOT/blobs/sha256/${d#sha256:}" ] || echo "blob $d"
  done
  for d in $(jq -r '.images[] | .layers[]' "$IMAGES_ROOT/images.json"); do
    [ -d "$IMAGES_ROOT/layers/${d#sha256:}" ] || echo "layer $d"
  done
}

sweep() {
  local group=$1 stride=${2:-1} calls n act i=0 problems= m
  op_under "$group" 0 EIO
  [ "$status" -eq 0 ] || { echo "clean ${OP[0]} failed: $output" >&2; return 1; }
  calls=$(sed -n 's/^calls=\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/report")
  [ "$calls" -gt 0 ]
  echo "# ${OP[0]} $group: $calls calls" >&3
  for ((n = 1; n <= calls; n += stride)); do
    for act in "${ERRNOS[i++ % ${#ERRNOS[@]}]}" kill; do
      rm -rf "$IMAGES_ROOT"
      local t0=$SECONDS
      op_under "$group" "$n" "$act"
      local done=$status out=$output
      ((SECONDS - t0 < 10)) || problems+="$group#$n $act: ${OP[0]} took $((SECONDS - t0)) s"$'\n'
      # (How many network calls a transfer makes depends on timing: the last may not come.)
      grep -q 'faulted=1' "$BATS_TEST_TMPDIR/report" || [ -n "${CALLS_VARY:-}" ] ||
        problems+="$group#$n $act: the call never came"$'\n'
      if [ "$act" != kill ] && [ "$done" -ne 0 ]; then
        [ "$done" -eq 1 ] && [ -n "$out" ] || problems+="$group#$n $act: ${OP[0]} exited $done: $out"$'\n'
        m=$(ls -A "$IMAGES_ROOT/tmp" 2>/dev/null || true)
        [ -z "$m" ] || problems+="$group#$n $act: a failed ${OP[0]} left in tmp/: $m"$'\n'
      fi
      m=$(torn)
      [ -z "$m" ] || problems+="$group#$n $act: $m"$'\n'
      run pr images
      [ "$status" -eq 0 ] || problems+="$group#$n $act: images exited $status: $output"$'\n'
      m=$(missing_refs)
      [ -z "$m" ] || problems+="$group#$n $act: referenced but missing: $m"$'\n'
      # The same command again repairs.
      run pr "${OP[@]}"
      [ "$status" -eq 0 ] || problems+="$group#$n $act: ${OP[0]} again exited $status: $output"$'\n'
      run pr images --format json
      [ "$(jq -r '.[0].Names[0]' <<<"$output")" = "$NAME" ] ||
        problems+="$group#$n $act: images after ${OP[0]} again: $output"$'\n'
      m=$(missing_refs)
      [ -z "$m" ] || problems+="$group#$n $act: referenced but missing after ${OP[0]} again: $m"$'\n'
      m=$(torn)
      [ -z "$m" ] || problems+="$group#$n $act: after ${OP[0]} again: $m"$'\n'
      # It removes the staging of a killed one too (its writer is dead).
      m=$(ls -A "$IMAGES_ROOT/tmp" 2>/dev/null || true)
      [ -z "$m" ] || problems+="$group#$n $act: left in tmp/ after ${OP[0]} again: $m"$'\n'
    done
  done
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    return 1
  fi
}

@test "faults-images: load cut at each rename and link" {
  sweep rename,renameat,renameat2,link,linkat
}

@test "faults-images: load cut at every 2nd write" {
  sweep write,pwrite64,writev 2
}

@test "faults-images: load cut at every 2nd mkdir" {
  sweep mkdir,mkdirat 2
}

@test "faults-images: load cut at every 5th open" {
  sweep openat,openat2 5
}

@test "faults-images: pull cut at each rename and link" {
  use_pull
  sweep rename,renameat,renameat2,link,linkat
}

@test "faults-images: pull cut at every 5th write" {
  use_pull
  sweep write,pwrite64,writev 5
}

@test "faults-images: pull cut at every 3rd mkdir" {
  use_pull
  sweep mkdir,mkdirat 3
}

@test "faults-images: pull cut at every 7th open" {
  use_pull
  sweep openat,openat2 7
}

@test "faults-images: pull cut at its network calls" {
  use_pull
  CALLS_VARY=1 sweep socket,connect,sendto,recvfrom,poll,ppoll 7
}

@test "faults-images: a load removes the staging of dead writers only" {
  pr load -i "$BUSYBOX_TAR" >/dev/null
  local tmp=$IMAGES_ROOT/tmp dead
  # A dead writer's (a pid that is gone, its lock free): removed, file or directory.
  sh -c 'exit 0' &
  dead=$!
  wait "$dead" || true
  echo junk >"$tmp/blob-$dead-0000dead"
  mkdir -p "$tmp/layer-$dead-0123456789ab-XXXXXX/etc"
  # A live writer's in our pid namespace, not locked yet: kept.
  sleep 300 &
  local live=$!
  echo "$live" >>"$BATS_TEST_TMPDIR/pids"
  echo junk >"$tmp/blob-$live-0000a11e"
  # A writer whose pid we cannot see (another pid namespace) but which holds its lock: kept.
  echo junk >"$tmp/blob-$dead-0000face"
  (exec 9<"$tmp/blob-$dead-0000face" && flock 9 && exec sleep 300) &
  echo "$!" >>"$BATS_TEST_TMPDIR/pids"
  wait_for lock_held "$tmp/blob-$dead-0000face"
  run pr load -i "$BUSYBOX_TAR"
  [ "$status" -eq 0 ]
  [ ! -e "$tmp/blob-$dead-0000dead" ]
  [ ! -e "$tmp/layer-$dead-0123456789ab-XXXXXX" ]
  [ -f "$tmp/blob-$live-0000a11e" ]
  [ -f "$tmp/blob-$dead-0000face" ]
  # prune (the store held exclusive: no writer can run) clears tmp/ whole.
  kill "$live"
  run pr image prune
  [ "$status" -eq 0 ]
  [ -z "$(ls -A "$tmp")" ]
}

@test "faults-images: a full store (small tmpfs) fails load and pull with ENOSPC named and loses nothing" {
  mkdir "$BATS_TEST_TMPDIR/small"
  mount -t tmpfs -o size=1m tmpfs "$BATS_TEST_TMPDIR/small"
  echo "$BATS_TEST_TMPDIR/small" >"$BATS_TEST_TMPDIR/mounts"
  IMAGES_ROOT=$BATS_TEST_TMPDIR/small/images
  mklayer "$BATS_TEST_TMPDIR/l.tar" 'reg("hello", b"hi\n")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/tiny" --name localhost/tiny:1 "$BATS_TEST_TMPDIR/l.tar"
  run pr load -i "$BATS_TEST_TMPDIR/tiny"
  [ "$status" -eq 0 ]
  local before
  before=$(cat "$IMAGES_ROOT/images.json")
  # busybox does not fit in what is left.
  run pr load -i "$BUSYBOX_TAR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"No space left on device"* ]]
  [ "$(cat "$IMAGES_ROOT/images.json")" = "$before" ]
  [ -z "$(torn)" ] && [ -z "$(missing_refs)" ]
  [ -z "$(ls -A "$IMAGES_ROOT/tmp")" ]
  run pr pull "$FAKE/busybox:latest"
  [ "$status" -eq 1 ]
  [[ "$output" == *"No space left on device"* ]]
  [ "$(cat "$IMAGES_ROOT/images.json")" = "$before" ]
  [ -z "$(torn)" ] && [ -z "$(missing_refs)" ]
  [ -z "$(ls -A "$IMAGES_ROOT/tmp")" ]
  run pr images --format json
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[].Names[0]' <<<"$output")" = localhost/tiny:1 ]
  # With room again, the same commands work.
  mount -o remount,size=16m "$BATS_TEST_TMPDIR/small"
  run pr pull "$FAKE/busybox:latest"
  [ "$status" -eq 0 ]
  [ -z "$(torn)" ] && [ -z "$(missing_refs)" ]
}
