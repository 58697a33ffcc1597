# SPDX-License-Identifier: Apache-2.0
# Shared by every bats file: paths to the built binaries, a fresh busybox bundle per test, a
# private --root per test, and a teardown that removes whatever a test made, even on failure.

# The top of the tree, from this file's place (tests/lib/), wherever the bats file is.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PODRUN_BUILD=${PODRUN_BUILD:-$TOP/build}
RUNTIME=${PODRUN_RUNTIME:-$PODRUN_BUILD/runtime/podrun-runtime}
ROOTFS_CACHE=${PODRUN_ROOTFS_CACHE:-$TOP/tests/build/rootfs}

ensure_rootfs_cache() {
  if [ ! -x "$ROOTFS_CACHE/bin/busybox" ]; then
    mkdir -p "$(dirname "$ROOTFS_CACHE")"
    (flock 9; [ -x "$ROOTFS_CACHE/bin/busybox" ] || "$TOP/tests/lib/busybox-rootfs.sh" "$ROOTFS_CACHE") \
      9>"$(dirname "$ROOTFS_CACHE")/.rootfs.lock"
  fi
}

# Creates $BUNDLE with a copy of the busybox rootfs and the default config from `spec`.
setup_bundle() {
  ensure_rootfs_cache
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  STATE_ROOT=$BATS_TEST_TMPDIR/state
  mkdir -p "$BUNDLE" "$STATE_ROOT"
  cp -a "$ROOTFS_CACHE" "$BUNDLE/rootfs"
  (cd "$BUNDLE" && "$RUNTIME" spec)
  # Tests talk to containers through pipes, not a terminal.
  update_config '.process.terminal = false'
  CTR_PREFIX="podrun-test-$$-${BATS_TEST_NUMBER}"
}

# update_config JQ_EXPR [BUNDLE]
update_config() {
  local b=${2:-$BUNDLE}
  jq "$1" "$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

rt() {
  "$RUNTIME" --root "$STATE_ROOT" "$@"
}

# Removes every container under this test's --root, then the state dir; reports leaks.
cleanup_containers() {
  [ -n "${STATE_ROOT:-}" ] && [ -d "$STATE_ROOT" ] || return 0
  local id
  for id in $(ls -A "$STATE_ROOT" 2>/dev/null); do
    [ -d "$STATE_ROOT/$id" ] || continue
    "$RUNTIME" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1 || true
  done
}

standard_teardown() {
  cleanup_containers
  if [ -n "${BUNDLE:-}" ] && mountpoint -q "$BUNDLE/rootfs" 2>/dev/null; then
    umount -l "$BUNDLE/rootfs" || true
  fi
}

# bats' `run`, failing the test when the command's output holds a sanitizer report, even in a
# test that expected the command to fail (ASan and UBSan exit non-zero, and the expected message
# may be there too). tests/run-all.sh also sends every report to files of their own and fails the
# file on any; this catches them where bats runs a file directly.
if ! declare -F podrun_bats_run >/dev/null && declare -F run >/dev/null; then
  eval "$(declare -f run | sed '1s/^run /podrun_bats_run /')"
  run() {
    podrun_bats_run "$@"
    if [[ "$output" =~ ERROR:\ (AddressSanitizer|LeakSanitizer)|runtime\ error:|SUMMARY:\ [A-Za-z]+Sanitizer ]]; then
      echo "a sanitizer report in the output of: $*" >&2
      echo "$output" >&2
      return 1
    fi
  }
fi

# wait_for CMD...: retries a command for up to 10 s
wait_for() {
  local i
  for ((i = 0; i < 100; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "never true: $*" >&2
  return 1
}

# wait_for_state ID STATE [TRIES]
wait_for_state() {
  local i
  for ((i = 0; i < ${3:-50}; i++)); do
    [ "$(rt state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "container $1 never reached state $2 (now: $(rt state "$1" 2>&1))" >&2
  return 1
}

# wait_for_trap PID SIGNUM [SigCgt|SigIgn]: waits (at most 10 s) until process PID catches
# (SigCgt, the default) or ignores (SigIgn) signal SIGNUM, read from /proc/PID/status: a shell's
# `trap` is in place, so a signal sent now meets the handler and not the default action.
wait_for_trap() {
  local pid=$1 sig=$2 field=${3:-SigCgt} i mask
  for ((i = 0; i < 100; i++)); do
    mask=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null)
    if [ -n "$mask" ] && (((16#$mask >> (sig - 1)) & 1)); then
      return 0
    fi
    sleep 0.1
  done
  echo "process $pid never set up signal $sig in $field (now: ${mask:-no such process})" >&2
  return 1
}
