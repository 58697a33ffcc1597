# Shared by every bats file: paths to the built binaries, a fresh busybox bundle per test, a
# private --root per test, and a teardown that removes whatever a test made, even on failure.

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
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
