#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzes one target for longer: tests/fuzz/run.sh TARGET SECONDS [libFuzzer options...]
# (TARGET as in tests/fuzz/corpus/TARGET, e.g. layer-unpack). The build is $PODRUN_FUZZ_BUILD
# (configured with --enable-fuzzing), default build-fuzz/ in the source tree. Inputs that find
# new coverage are kept in BUILD/tests/fuzz/work/TARGET (the repository's corpus is only read);
# a crash is written to BUILD/tests/fuzz/artifacts/: minimize it (-minimize_crash=1), fix the
# bug, and add the input to tests/fuzz/corpus/TARGET as a regression input.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODRUN_FUZZ_BUILD:-$src/build-fuzz}
if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET SECONDS [libFuzzer options...]" >&2
  exit 2
fi
t=$1 secs=$2
shift 2
bin=$build/tests/fuzz/fuzz-$t
if [ ! -x "$bin" ]; then
  echo "$0: $bin is missing: configure a build with --enable-fuzzing (PODRUN_FUZZ_BUILD)" >&2
  exit 2
fi
[ -d "$src/tests/fuzz/corpus/$t" ] || { echo "$0: no corpus tests/fuzz/corpus/$t" >&2; exit 2; }
work=$build/tests/fuzz/work/$t
art=$build/tests/fuzz/artifacts
mkdir -p "$work" "$art"
dict=()
[ -f "$src/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$src/tests/fuzz/dict/$t.dict")
# Scratch on tmpfs when there is one: the image store targets fsync every blob they write.
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
scratch=$(mktemp -d "$tmp/podrun-fuzz-$t.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
exec_rc=0
TMPDIR=$scratch "$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$art/$t-" "${dict[@]}" "$@" "$work" "$src/tests/fuzz/corpus/$t" || exec_rc=$?
exit "$exec_rc"
