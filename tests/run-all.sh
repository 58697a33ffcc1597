#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole suite against the build in $PODRUN_BUILD (default build/): the C unit tests,
# the bats integration tests (as root), and the pure cgroup v2 and systemd lanes in QEMU
# guests. Prints every TAP line, then one closing line: "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PODRUN_BUILD=${PODRUN_BUILD:-$top/build}
logdir=${PODRUN_TEST_LOGS:-$top/tests/build/logs}
mkdir -p "$logdir"
passed=0 failed=0 skipped=0
# count_tap, run_units, run_bats_file, check_run: the counting (tests/harness checks it).
. "$top/tests/lib/count.bash"
# The unit programs every build must have: one per PART/tests/test-*.c, beside each part.
unit_sources=${PODRUN_UNIT_SOURCES:-$top}
# PODRUN_BATS_FILES: the bats files to run (default: all of tests/integration).
files=${PODRUN_BATS_FILES:-$(ls "$top"/tests/integration/*.bats)}

if [ "$(id -u)" -ne 0 ]; then
  echo "the suite runs as root (namespaces, cgroups, mounts)" >&2
  exit 1
fi

if [ -z "${PODRUN_SUITE_SELFTEST:-}" ]; then
  . "$top/tests/lib/cgroup-parents.bash"
  podrun_parents_note
  trap podrun_parents_remove EXIT
fi

# A bare `! cmd` line never fails a bats test: reject it in every bats file and helper.
echo "# bare '!' lines"
# shellcheck disable=SC2086,SC2046,SC2012
lint_files=${PODRUN_LINT_FILES:-$(ls $files $(for f in $files; do dirname "$f"; done | sort -u |
  sed 's|$|/*.bash|') "$top"/tests/lib/*.bash "$top"/tests/qemu/*.bats 2>/dev/null | sort -u)}
# shellcheck disable=SC2086
"$top/tests/lib/lint-bang.sh" $lint_files >"$logdir/lint-bang.tap"
rc=$?
cat "$logdir/lint-bang.tap"
count_tap "$logdir/lint-bang.tap"
check_run "lint-bang.sh" "$rc" "$logdir/lint-bang.tap"

# The layout DESIGN.md draws: a file may include another folder's header only along an arrow
# of its "Include boundaries" table.
if [ -z "${PODRUN_SUITE_SELFTEST:-}" ]; then
  echo "# include boundaries (DESIGN.md)"
  "$top/tests/lib/check-includes.sh" "$top" >"$logdir/includes.tap" 2>"$logdir/includes.err"
  rc=$?
  cat "$logdir/includes.tap"
  count_tap "$logdir/includes.tap"
  check_run "tests/lib/check-includes.sh" "$rc" "$logdir/includes.tap" "$logdir/includes.err"
fi

# Every source file names its licence (LICENSE) in an SPDX line.
if [ -z "${PODRUN_SUITE_SELFTEST:-}" ]; then
  echo "# SPDX lines"
  "$top/tests/lib/check-spdx.sh" "$top" >"$logdir/spdx.tap" 2>"$logdir/spdx.err"
  rc=$?
  cat "$logdir/spdx.tap"
  count_tap "$logdir/spdx.tap"
  check_run "tests/lib/check-spdx.sh" "$rc" "$logdir/spdx.tap" "$logdir/spdx.err"
fi

# The counting itself: fake bats files and unit programs that fail in every way a real one can
# must turn the summary red.
if [ -z "${PODRUN_SUITE_SELFTEST:-}" ]; then
  echo "# the suite's own counting (tests/harness)"
  "$top/tests/harness/selftest.sh" >"$logdir/harness.tap" 2>"$logdir/harness.err"
  rc=$?
  sed "s/^\(not \)\?ok \([0-9]*\) /&[harness] /" "$logdir/harness.tap"
  count_tap "$logdir/harness.tap"
  check_run "tests/harness/selftest.sh" "$rc" "$logdir/harness.tap" "$logdir/harness.err"
fi

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
  # ASan and UBSan fail the process that has an error or a leak; run_bats_file also sends their
  # reports to files, so that a report fails the file even where a test expected a failure.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

  echo "# unit tests ($tag)"
  run_units "$build" "$tag" "$unit_sources" "$logdir"

  # One bats run per file, so that each file's exit status is known: a run killed part-way
  # ("Executed 2 instead of expected 3 tests") or one that never started is a failure. Files
  # run PODRUN_TEST_JOBS at a time (default 3: most of a pods test is waiting on processes and
  # namespaces, not on a CPU); those marked `# suite: alone` run by themselves afterwards.
  echo "# integration tests ($tag)"
  # shellcheck disable=SC2086
  run_bats_files "$tag" "$logdir" "${PODRUN_TEST_JOBS:-3}" $files
done
export PODRUN_BUILD=${builds%% *}

# The fuzz targets over their corpus and a fixed number of mutations: a parser that regressed on
# an input the corpus holds fails here (tests/fuzz/README.md runs them longer).
fuzz_build=${PODRUN_FUZZ_BUILD:-}
if [ -z "$fuzz_build" ] && [ -z "${PODRUN_SUITE_SELFTEST:-}" ] && [ -z "${PODRUN_BUILDS:-}" ] &&
  [ -d "$top/build-fuzz/tests/fuzz" ]; then
  fuzz_build=$top/build-fuzz
fi
if [ -n "$fuzz_build" ]; then
  echo "# fuzz targets ($(basename "$fuzz_build"))"
  PODRUN_FUZZ_BUILD=$fuzz_build "$top/tests/fuzz/run-all.sh" >"$logdir/fuzz.tap" 2>"$logdir/fuzz.err"
  rc=$?
  sed "s/^\(not \)\?ok \([0-9]*\) /&[fuzz] /" "$logdir/fuzz.tap"
  count_tap "$logdir/fuzz.tap"
  check_run "tests/fuzz/run-all.sh" "$rc" "$logdir/fuzz.tap" "$logdir/fuzz.err"
fi

if [ -z "${PODRUN_SKIP_V2_LANE:-}" ] && [ -x "$top/tests/qemu/run-v2-lane.sh" ]; then
  # The lane's own health check first: a broken lane must not look like a cgroup failure.
  echo "# the QEMU lane itself (tests/qemu/smoke.bats)"
  run_bats_file "$top/tests/qemu/smoke.bats" qemu "$logdir"
  echo "# pure cgroup v2 lane (QEMU guest)"
  "$top/tests/qemu/run-v2-lane.sh" 2>&1 | tee "$logdir/v2-lane.tap"
  rc=${PIPESTATUS[0]}
  count_tap "$logdir/v2-lane.tap"
  check_run "the cgroup v2 lane" "$rc" "$logdir/v2-lane.tap"
  # This host's kernel lacks bridge VLAN filtering; the guest's Debian kernel has it, so the
  # CNI bridge's vlan path runs there.
  echo "# CNI bridge vlan in the QEMU guest"
  PODRUN_REQUIRE_VLAN=1 "$top/tests/qemu/run-v2-lane.sh" bats -f vlan \
    tests/integration/cni-bridge.bats 2>&1 | tee "$logdir/vlan-lane.tap"
  rc=${PIPESTATUS[0]}
  count_tap "$logdir/vlan-lane.tap"
  check_run "the vlan lane" "$rc" "$logdir/vlan-lane.tap"
  # Pods' cgroups under their QoS classes with cgroup2's files (cpu.weight, cpu.max,
  # memory.max), which this hybrid host cannot show.
  echo "# pods' QoS cgroups in the QEMU guest"
  "$top/tests/qemu/run-v2-lane.sh" bats tests/integration/pods-qos.bats 2>&1 |
    tee "$logdir/qos-lane.tap"
  rc=${PIPESTATUS[0]}
  count_tap "$logdir/qos-lane.tap"
  check_run "the QoS lane" "$rc" "$logdir/qos-lane.tap"
  # systemd as PID 1 (the host's, in the guest): the runtime's --systemd-cgroup scopes and the
  # CRI's systemd cgroup driver, which a host without systemd cannot show.
  echo "# systemd lane (QEMU guest, systemd as PID 1)"
  "$top/tests/qemu/run-v2-lane.sh" --systemd 2>&1 | tee "$logdir/systemd-lane.tap"
  rc=${PIPESTATUS[0]}
  count_tap "$logdir/systemd-lane.tap"
  check_run "the systemd lane" "$rc" "$logdir/systemd-lane.tap"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
