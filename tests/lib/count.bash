# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The suite's counting, sourced by tests/run-all.sh (and exercised by tests/harness/selftest.sh on
# fake bats files and fake unit programs). It keeps the totals in $passed, $failed and $skipped.
# The rule: anything that did not prove it passed is a failure. A run that exits non-zero, prints
# fewer results than its plan announced, is missing, or left a sanitizer report fails, even when
# every TAP line it printed says "ok".

passed=${passed:-0} failed=${failed:-0} skipped=${skipped:-0}

# What a sanitizer prints when it finds something (ASan, LSan, UBSan, and their fatal errors).
SANITIZER_PATTERN='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer|ERROR: Can.t open file'

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

# count_failure MESSAGE [DETAILS_FILE]: one more failure, reported as a TAP line (details as
# comments) so that a reader of the log sees why the total is red.
count_failure() {
  echo "not ok - $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    sed -n '1,60s/^/# /p' "$2"
  fi
  failed=$((failed + 1))
}

# check_run NAME RC TAP [ERR]: the run NAME that exited with RC and wrote TAP must have exited 0,
# printed its plan and as many results as the plan says. One failure for all of it: a run whose
# own "not ok" lines already made the total red needs no second one.
check_run() {
  local name=$1 rc=$2 tap=$3 err=${4:-} plan results why=
  plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tap" | head -n 1)
  results=$(grep -cE '^(not )?ok [0-9]+' "$tap" || true)
  if [ -z "$plan" ]; then
    why="printed no TAP plan"
  elif [ "$results" -ne "$plan" ]; then
    why="printed $results results, its plan announced $plan"
  elif [ "$rc" -ne 0 ] && grep -qE '^not ok [0-9]+' "$tap"; then
    return 0
  fi
  if [ "$rc" -ne 0 ]; then
    why="exited with status $rc${why:+ and $why}"
  fi
  [ -z "$why" ] || count_failure "$name $why" "$err"
}

# check_sanitizer_reports NAME FILE...: a sanitizer report in any of FILE fails NAME, even if
# the test that provoked it expected a failure and passed.
check_sanitizer_reports() {
  local name=$1 hits
  shift
  hits=$(grep -lE "$SANITIZER_PATTERN" "$@" 2>/dev/null || true)
  [ -n "$hits" ] || return 0
  # shellcheck disable=SC2086
  grep -hE -B2 -A20 "$SANITIZER_PATTERN" $hits | head -n 60 >"${TMPDIR:-/tmp}/podrun-sanitizer.$$"
  count_failure "$name: sanitizer report in ${hits//$'\n'/ }" "${TMPDIR:-/tmp}/podrun-sanitizer.$$"
  rm -f "${TMPDIR:-/tmp}/podrun-sanitizer.$$"
}

# expected_units SRCDIR: the unit programs the source tree defines, one a line, as paths from
# the top: PART/tests/test-NAME for every SRCDIR/PART/tests/test-NAME.c, where PART is a part's
# folder (common, runtime, ...) or a library inside one (agent/pods, ...).
expected_units() {
  local c
  for c in "$1"/*/tests/test-*.c "$1"/*/*/tests/test-*.c; do
    [ -e "$c" ] || continue
    c=${c#"$1"/}
    echo "${c%.c}"
  done
}

# run_units BUILD TAG SRCDIR LOGDIR: runs every unit program SRCDIR defines, from the same path
# under BUILD; a missing or non-executable one is a failure, not a silent zero.
run_units() {
  local build=$1 tag=$2 src=$3 logdir=$4 unit name log t rc n=0
  for unit in $(expected_units "$src"); do
    n=$((n + 1))
    name=${unit##*/}
    log=$logdir/$tag-${unit//\//-}
    t=$build/$unit
    if [ ! -x "$t" ]; then
      count_failure "[$tag] $name is missing from $build (${unit}.c defines it)"
      continue
    fi
    "$t" >"$log.tap" 2>"$log.err"
    rc=$?
    sed "s/^\(not \)\?ok \([0-9]*\) /&[$tag] $name: /" "$log.tap"
    count_tap "$log.tap"
    check_run "[$tag] $name" "$rc" "$log.tap" "$log.err"
    check_sanitizer_reports "[$tag] $name" "$log.tap" "$log.err"
  done
  [ "$n" -gt 0 ] || count_failure "[$tag] no unit test sources (PART/tests/test-*.c) in $src"
}

# bats_file_job FILE TAG LOGDIR: runs one bats file with sanitizer reports sent to files of their
# own (so that a report from a daemon whose stderr nobody reads, or from a command whose failure
# a test expected, is still seen); its TAP goes to LOGDIR/TAG-BASE.raw and its exit status to
# LOGDIR/TAG-BASE.rc. It prints nothing, so that several can run at once.
bats_file_job() {
  local file=$1 tag=$2 logdir=$3 base san
  base=$(basename "$file" .bats)
  san=$logdir/$tag-$base.sanitizer
  rm -rf "$san" "$logdir/$tag-$base.rc"
  mkdir -p "$san"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$san/asan" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$san/ubsan" \
    bats --tap "$file" >"$logdir/$tag-$base.raw" 2>&1
  echo $? >"$logdir/$tag-$base.rc"
}

# report_bats_file FILE TAG LOGDIR: prints a finished file's TAP lines prefixed with [TAG] FILE
# and counts them; a file with no exit status recorded (its job died) is a failure.
report_bats_file() {
  local file=$1 tag=$2 logdir=$3 base rc san
  base=$(basename "$file" .bats)
  san=$logdir/$tag-$base.sanitizer
  sed "s/^\(not \)\?ok \([0-9]*\) /&[$tag] $base: /" "$logdir/$tag-$base.raw" 2>/dev/null |
    tee "$logdir/$tag-$base.tap"
  rc=$(cat "$logdir/$tag-$base.rc" 2>/dev/null || echo 125)
  count_tap "$logdir/$tag-$base.tap"
  check_run "[$tag] $base.bats" "$rc" "$logdir/$tag-$base.tap"
  if compgen -G "$san/*" >/dev/null; then
    check_sanitizer_reports "[$tag] $base.bats" "$san"/*
  fi
  rmdir "$san" 2>/dev/null || true
}

# run_bats_file FILE TAG LOGDIR: one file, run and counted.
run_bats_file() {
  bats_file_job "$@"
  report_bats_file "$@"
}

# run_bats_files TAG LOGDIR JOBS FILE...: every file, JOBS at a time, then the files marked
# `# suite: alone` (they measure time or CPU, or look for processes host-wide) one by one. The
# results are printed and counted in the order of the files given, each file once it is done.
run_bats_files() {
  local tag=$1 logdir=$2 jobs=$3 f running=0 shared=() alone=()
  shift 3
  for f in "$@"; do
    if [ "$jobs" -le 1 ] || grep -q '^# suite: alone' "$f"; then
      alone+=("$f")
    else
      shared+=("$f")
    fi
  done
  for f in ${shared[@]+"${shared[@]}"}; do
    if [ "$running" -ge "$jobs" ]; then
      wait -n
      running=$((running - 1))
    fi
    bats_file_job "$f" "$tag" "$logdir" &
    running=$((running + 1))
  done
  wait
  for f in ${shared[@]+"${shared[@]}"}; do
    report_bats_file "$f" "$tag" "$logdir"
  done
  for f in ${alone[@]+"${alone[@]}"}; do
    run_bats_file "$f" "$tag" "$logdir"
  done
}
