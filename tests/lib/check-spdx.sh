#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every source, script, build and manual file in the tree carries its licence as an SPDX line
# within its first three lines (LICENSE holds the text). Prints TAP: one result for the tree, the
# files without one listed under a failure.
set -uo pipefail
top=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$top" || exit 1
missing=$(git ls-files -- '*.c' '*.h' '*.sh' '*.bats' '*.bash' '*.py' '*.am' '*.inc' '*.mk' \
  '*.ac' '*.m4' '*.1' '*.8' '.ci/run' | grep -v '^tests/fuzz/corpus/' |
  while read -r f; do
    head -n 3 "$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' || echo "$f"
  done)
if [ -n "$missing" ]; then
  echo "not ok 1 - every source file has an SPDX line"
  printf '%s\n' "$missing" | sed 's/^/#   no SPDX line: /'
  echo "1..1"
  exit 1
fi
echo "ok 1 - every source file has an SPDX line"
echo "1..1"
