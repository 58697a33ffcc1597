#!/usr/bin/env bash
# Runs the whole suite against the build in $PODRUN_BUILD (default build/): the C unit tests,
# the bats integration tests (as root), and the pure cgroup v2 lane in a QEMU guest. Prints
# every TAP line, then one closing line: "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PODRUN_BUILD=${PODRUN_BUILD:-$top/build}
logdir=${PODRUN_TEST_LOGS:-$top/tests/build/logs}
mkdir -p "$logdir"
passed=0 failed=0 skipped=0

# Counts TAP result lines from a file into the totals.
count_tap() {
  local p f s
  p=$(grep -cE '^ok [0-9]+' "$1" || true)
  s=$(grep -ciE '^ok [0-9]+.*# skip' "$1" || true)
  f=$(grep -cE '^not ok [0-9]+' "$1" || true)
  passed=$((passed + p - s))
  skipped=$((skipped + s))
  failed=$((failed + f))
}

if [ "$(id -u)" -ne 0 ]; then
  echo "the suite runs as root (namespaces, cgroups, mounts)" >&2
  exit 1
fi

. "$top/tests/lib/cgroup-parents.bash"
podrun_parents_note
trap podrun_parents_remove EXIT

# Every build given runs the unit and bats tests: the plain one and, when present, the
# ASan+UBSan one (an --enable-asan build must pass the suite too).
builds=${PODRUN_BUILDS:-$PODRUN_BUILD}
if [ -z "${PODRUN_BUILDS:-}" ] && [ -x "$top/build-asan/runtime/podrun-runtime" ] &&
  [ "$PODRUN_BUILD" = "$top/build" ]; then
  builds="$top/build $top/build-asan"
fi

for build in $builds; do
  tag=$(basename "$build")
  export PODRUN_BUILD=$build
  # ASan reports leaks and errors on stderr and fails the process: that fails the test.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

  echo "# unit tests ($tag)"
  for t in "$build"/tests/unit/test-*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    "$t" > "$logdir/$tag-$name.tap" 2> "$logdir/$tag-$name.err"
    rc=$?
    sed "s/^\(not \)\?ok \([0-9]*\) /&[$tag] $name: /" "$logdir/$tag-$name.tap"
    count_tap "$logdir/$tag-$name.tap"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' "$logdir/$tag-$name.tap"; then
      echo "not ok - [$tag] $name exited with status $rc"; cat "$logdir/$tag-$name.err"
      failed=$((failed + 1))
    fi
  done

  echo "# integration tests ($tag)"
  files=${PODRUN_BATS_FILES:-$(ls "$top"/tests/integration/*.bats)}
  # shellcheck disable=SC2086
  bats --tap $files 2>&1 | sed "s/^\(not \)\?ok \([0-9]*\) /&[$tag] /" | tee "$logdir/$tag-bats.tap"
  count_tap "$logdir/$tag-bats.tap"
done
export PODRUN_BUILD=${builds%% *}

if [ -z "${PODRUN_SKIP_V2_LANE:-}" ] && [ -x "$top/tests/qemu/run-v2-lane.sh" ]; then
  echo "# pure cgroup v2 lane (QEMU guest)"
  "$top/tests/qemu/run-v2-lane.sh" 2>&1 | tee "$logdir/v2-lane.tap"
  rc=${PIPESTATUS[0]}
  count_tap "$logdir/v2-lane.tap"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$logdir/v2-lane.tap"; then
    echo "not ok - the cgroup v2 lane failed to run (status $rc)"
    failed=$((failed + 1))
  fi
  # This host's kernel lacks bridge VLAN filtering; the guest's Debian kernel has it, so the
  # CNI bridge's vlan path runs there.
  echo "# CNI bridge vlan in the QEMU guest"
  PODRUN_REQUIRE_VLAN=1 "$top/tests/qemu/run-v2-lane.sh" bats -f vlan \
    tests/integration/cni-bridge.bats 2>&1 | tee "$logdir/vlan-lane.tap"
  rc=${PIPESTATUS[0]}
  count_tap "$logdir/vlan-lane.tap"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$logdir/vlan-lane.tap"; then
    echo "not ok - the vlan lane failed to run (status $rc)"
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
