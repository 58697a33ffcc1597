#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target of a fuzzing build over its corpus for a fixed number of runs, so
# that a regression of an input the corpus holds (or one the first mutations find) fails CI.
# Output is TAP, one result per target.
#
#   PODRUN_FUZZ_BUILD=DIR tests/fuzz/run-all.sh      DIR configured with --enable-fuzzing
#   PODRUN_FUZZ_RUNS=N    mutations after the corpus (default 2000, fixed seed)
#
# The repository's corpus is only read: new inputs go to a temporary directory, as do the
# targets' scratch directories (TMPDIR) and crash artifacts, removed at the end.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODRUN_FUZZ_BUILD:-${1:-}}
runs=${PODRUN_FUZZ_RUNS:-2000}
if [ -z "$build" ] || [ ! -d "$build/tests/fuzz" ]; then
  echo "usage: PODRUN_FUZZ_BUILD=DIR $0 (DIR: a build configured with --enable-fuzzing)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
targets=()
for d in "$src"/tests/fuzz/corpus/*/; do
  targets+=("$(basename "$d")")
done
# Scratch on tmpfs when there is one: the image store targets fsync every blob they write.
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
work=$(mktemp -d "$tmp/podrun-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "1..${#targets[@]}"
n=0 failed=0
for t in "${targets[@]}"; do
  n=$((n + 1))
  bin=$build/tests/fuzz/fuzz-$t
  if [ ! -x "$bin" ]; then
    echo "not ok $n fuzz-$t: $bin is missing (configure with --enable-fuzzing)"
    failed=$((failed + 1))
    continue
  fi
  mkdir -p "$work/$t/new" "$work/$t/tmp"
  dict=()
  [ -f "$src/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$src/tests/fuzz/dict/$t.dict")
  log=$work/$t/log
  start=$SECONDS
  TMPDIR=$work/$t/tmp timeout 600 "$bin" -runs="$runs" -seed=1 -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/$t/" "${dict[@]}" \
    "$work/$t/new" "$src/tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$')
  if [ "$rc" -eq 0 ]; then
    echo "ok $n fuzz-$t: ${execs:-?} executions, ${cov:-cov: ?} edges, $((SECONDS - start)) s"
  else
    failed=$((failed + 1))
    echo "not ok $n fuzz-$t: exit status $rc"
    grep -E 'ERROR|SUMMARY|fuzz:|Test unit written|#[0-9]+ +in ' "$log" | head -20 | sed 's/^/# /'
    for a in "$work/$t"/crash-* "$work/$t"/leak-* "$work/$t"/timeout-* "$work/$t"/oom-*; do
      [ -f "$a" ] || continue
      echo "# input (base64) of $(basename "$a"):"
      base64 -w 76 "$a" | head -40 | sed 's/^/#   /'
    done
  fi
done
[ "$failed" -eq 0 ]
