#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The suite must not be able to hide a failure. Runs tests/run-all.sh on fake bats files and
# fake unit programs (tests/harness/fake) that fail in the ways a real test can fail quietly, and
# checks its closing line: a bats file killed part-way, a unit program missing from the build or
# crashing half-way, a sanitizer report behind an expected failure or on a unit test's stderr,
# a bare `! cmd` line. Also checks that a clean run is green and counts skips as skips.
# Prints TAP; exits 1 when a check failed. Run as root (run-all.sh refuses otherwise).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
fake=$here/fake
work=$(mktemp -d "${TMPDIR:-/tmp}/podrun-harness.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HARNESS_BIN=$work/bin
mkdir -p "$HARNESS_BIN"

n=0 bad=0
ok() {
  n=$((n + 1))
  echo "ok $n - $1"
}
not_ok() {
  n=$((n + 1))
  bad=1
  echo "not ok $n - $1"
  [ -z "${2:-}" ] || sed 's/^/# /' "$2"
}

cc=${CC:-cc}
if ! $cc -O0 -g -I"$top" -o "$HARNESS_BIN/fake-unit" "$fake/fake-unit.c" 2>"$work/cc.err" ||
  ! $cc -O0 -g -fsanitize=address -o "$HARNESS_BIN/asan-victim" "$fake/asan-victim.c" 2>>"$work/cc.err"; then
  not_ok "the fake programs build" "$work/cc.err"
  echo "1..$n"
  exit 1
fi

# suite NAME "UNIT SOURCES" "UNITS BUILT" BATS_FILE...: runs run-all.sh on a fake build of its
# own that defines the unit programs UNIT SOURCES (PART/tests/test-NAME, each made a .c file in
# a fake source tree) and holds UNITS BUILT (the same paths in the fake build), and on the fake
# bats files. Leaves its output in $work/NAME.out and its closing line in $summary.
suite() {
  local name=$1 sources=$2 built=$3 u f files=
  shift 3
  mkdir -p "$work/$name/src" "$work/$name/fake" "$work/$name/logs"
  for u in $sources; do
    mkdir -p "$work/$name/src/${u%/*}"
    : >"$work/$name/src/$u.c"
  done
  for u in $built; do
    mkdir -p "$work/$name/fake/${u%/*}"
    ln -s "$HARNESS_BIN/fake-unit" "$work/$name/fake/$u"
  done
  for f in "$@"; do files+=" $fake/$f"; done
  # shellcheck disable=SC2086
  PODRUN_SUITE_SELFTEST=1 PODRUN_SKIP_V2_LANE=1 PODRUN_BUILDS=$work/$name/fake \
    PODRUN_UNIT_SOURCES=$work/$name/src PODRUN_BATS_FILES=$files PODRUN_LINT_FILES=$files \
    PODRUN_TEST_LOGS=$work/$name/logs \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
    "$top/tests/run-all.sh" >"$work/$name.out" 2>&1
  suite_rc=$?
  summary=$(tail -n 1 "$work/$name.out")
}

# expect WHAT SUMMARY RC [LINE]: the last suite() closed with SUMMARY and RC, and printed a line
# that contains LINE.
expect() {
  local what=$1 want=$2 want_rc=$3 line=${4:-}
  if [ "$summary" != "$want" ] || [ "$suite_rc" -ne "$want_rc" ]; then
    not_ok "$what: closing line '$summary' (status $suite_rc), want '$want' (status $want_rc)" "$work/$name.out"
  elif [ -n "$line" ] && ! grep -qF -- "$line" "$work/$name.out"; then
    not_ok "$what: no line with '$line'" "$work/$name.out"
  else
    ok "$what"
  fi
}

# Every run has the lint's "ok" (1 pass) unless the lint is what fails.
name=green
suite green "common/tests/test-pass" "common/tests/test-pass" pass.bats
expect "a clean run is green and counts skips (bats and unit SKIP) as skipped" \
  "4 passed, 0 failed, 2 skipped" 0 "ok 2 [fake] test-pass: - skips # SKIP the harness checks"

name=killed
suite killed "common/tests/test-pass" "common/tests/test-pass" pass.bats killed.bats
expect "a bats file killed part-way is a failure" "6 passed, 1 failed, 2 skipped" 1 \
  "not ok - [fake] killed.bats exited with status 1 and printed 2 results, its plan announced 3"

name=missing
suite missing "common/tests/test-pass agent/pods/tests/test-gone" "common/tests/test-pass" \
  pass.bats
expect "a unit program missing from the build is a failure" "4 passed, 1 failed, 2 skipped" 1 \
  "not ok - [fake] test-gone is missing from $work/missing/fake (agent/pods/tests/test-gone.c defines it)"

name=nounits
suite nounits "common/tests/test-pass" "" pass.bats
expect "a build without any unit program is a failure" "3 passed, 1 failed, 1 skipped" 1 \
  "not ok - [fake] test-pass is missing from"

name=crash
suite crash "runtime/tests/test-crash" "runtime/tests/test-crash" pass.bats
expect "a unit program that dies half-way is a failure" "4 passed, 1 failed, 1 skipped" 1 \
  "not ok - [fake] test-crash exited with status 137 and printed no TAP plan"

name=noisy
suite noisy "runtime/tests/test-noisy" "runtime/tests/test-noisy" pass.bats
expect "a sanitizer report on a passing unit program's stderr is a failure" \
  "4 passed, 1 failed, 1 skipped" 1 "not ok - [fake] test-noisy: sanitizer report in"

name=sanitizer
suite sanitizer "common/tests/test-pass" "common/tests/test-pass" sanitizer.bats
expect "a sanitizer report behind a passing expected-failure test is a failure" \
  "3 passed, 1 failed, 1 skipped" 1 "not ok - [fake] sanitizer.bats: sanitizer report in"
if grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$work/sanitizer.out"; then
  ok "the sanitizer report is shown"
else
  not_ok "the sanitizer report is shown" "$work/sanitizer.out"
fi

name=bang
suite bang "common/tests/test-pass" "common/tests/test-pass" bang.bats
expect "a bare '! cmd' line is a failure, reported with file:line" \
  "2 passed, 1 failed, 1 skipped" 1 "fake/bang.bats:6:   ! true"

# The include-boundary check fails a file that includes across a boundary DESIGN.md does not
# draw, and passes the same tree once the table draws it.
tree=$work/includes
mkdir -p "$tree/common" "$tree/cni" "$tree/shim"
printf '#include "util.h"\n' >"$tree/common/util.c"
: >"$tree/common/util.h"
: >"$tree/cni/cni.h"
printf '#include "util.h"\n#include "cni/cni.h"\n' >"$tree/shim/probe.c"
design() {
  printf '# design\n## Include boundaries\n| folder | may include headers of |\n|---|---|\n'
  printf '| `common` | nothing |\n| `cni` | `common` |\n| `shim` | %s |\n## Next\n' "$1"
}
design '`common`' >"$tree/DESIGN.md"
(cd "$tree" && git init -q && git add -A) >/dev/null 2>&1
"$top/tests/lib/check-includes.sh" "$tree" >"$work/includes.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF 'shim/probe.c:2 includes "cni/cni.h" from cni/' "$work/includes.out"; then
  ok "an include across a boundary DESIGN.md does not draw is a failure, named by file:line"
else
  not_ok "an include across a boundary is a failure (status $rc)" "$work/includes.out"
fi
design '`common`, `cni`' >"$tree/DESIGN.md"
if "$top/tests/lib/check-includes.sh" "$tree" >"$work/includes.out" 2>&1; then
  ok "the same include passes once DESIGN.md draws the arrow"
else
  not_ok "an include DESIGN.md draws passes" "$work/includes.out"
fi

# A row that names one header of a folder (as the agent's rows name images/images.h) allows that
# header and no other of the folder.
: >"$tree/cni/internal.h"
printf '#include "util.h"\n#include "cni/cni.h"\n#include "cni/internal.h"\n' >"$tree/shim/probe.c"
design '`common`, `cni/cni.h`' >"$tree/DESIGN.md"
(cd "$tree" && git add -A) >/dev/null 2>&1
"$top/tests/lib/check-includes.sh" "$tree" >"$work/includes.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qF 'shim/probe.c:3 includes "cni/internal.h" from cni/' "$work/includes.out" &&
  ! grep -qF 'probe.c:2' "$work/includes.out"; then
  ok "a row naming one header allows that header and fails another of its folder"
else
  not_ok "a row naming one header allows only that header (status $rc)" "$work/includes.out"
fi

echo "1..$n"
exit "$bad"
