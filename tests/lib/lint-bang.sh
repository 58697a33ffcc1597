#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# usage: lint-bang.sh FILE...
# Rejects a bare `! cmd` line in bats files and the .bash helpers they load. bats runs tests
# with `set -e`, which ignores the status of a command negated with `!`: such a line never fails
# its test unless it happens to be the test's last line. Write `run ! cmd` or `! cmd || false`.
# Prints TAP: one "not ok" per offending line (FILE:LINE and the line), or one "ok".
set -uo pipefail

bad=0
for f in "$@"; do
  # Join continuation lines, so that `! a \` followed by `  || false` counts as one.
  awk -v file="$f" '
    # A line that starts with `! cmd`, or whose last command in a && / || list is `! cmd`.
    function check(text, at) {
      if (text ~ /\|\|[ \t]*(false|return|exit|fail)/)
        return
      if (text ~ /^[ \t]*![ \t]/ || text ~ /(\|\||&&)[ \t]*![ \t]([^&|]|\|[^|]|&[^&])*$/)
        printf "%s:%d: %s\n", file, at, text
    }
    {
      if (pending != "") { line = pending " " $0 } else { line = $0; start = NR }
      if (line ~ /\\$/) { sub(/\\$/, "", line); pending = line; next }
      pending = ""
      check(line, start)
    }
    END { if (pending != "") check(pending, start) }
  ' "$f"
done >"${TMPDIR:-/tmp}/lint-bang.$$"

n=0
while IFS= read -r hit; do
  n=$((n + 1))
  echo "not ok $n - bare '!' line never fails its test (use 'run !' or '! cmd || false'): $hit"
  bad=1
done <"${TMPDIR:-/tmp}/lint-bang.$$"
rm -f "${TMPDIR:-/tmp}/lint-bang.$$"

if [ "$bad" -eq 0 ]; then
  echo "1..1"
  echo "ok 1 - no bare '!' line in $# bats and helper files"
else
  echo "1..$n"
fi
exit "$bad"
