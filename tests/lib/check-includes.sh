#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a source file includes a header across a boundary that DESIGN.md does not draw.
# The rules are DESIGN.md's "Include boundaries" table: each row names a folder and the folders
# whose headers it may include (its own always), or single headers (`images/images.h`) where
# only that one of a folder's headers may be included. A header is found as the compiler finds it:
# a path with a folder from the top of the tree or from any folder that ends with it, a bare name
# in the including file's folder, then common/, then any other part's folder. Headers found
# nowhere (system, generated) pass.
# Prints TAP: one result per folder.
set -uo pipefail
top=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$top" || exit 1

declare -A allowed
while IFS='|' read -r _ dir may _; do
  dir=$(echo "$dir" | tr -d ' `')
  may=$(echo "$may" | tr -d '`,' | sed 's/—//; s/nothing//')
  [ -n "$dir" ] && allowed[$dir]=$(echo $may)
done < <(awk '/^## Include boundaries/{on=1; next} on && /^## /{on=0} on && /^\| *`/' DESIGN.md)

if [ ${#allowed[@]} -eq 0 ]; then
  echo "not ok 1 - include boundaries: DESIGN.md has no \"Include boundaries\" table"
  exit 1
fi

# Tests are exempt: the suite's own folder (tests/) and each part's unit tests (PART/tests/).
not_tests() { grep -vE '(^|/)tests/'; }
dirs=$(git ls-files '*.c' '*.h' | not_tests | xargs -n1 dirname | sort -u)
n=0 bad=0
for d in $dirs; do
  n=$((n + 1))
  if [ -z "${allowed[$d]+set}" ]; then
    echo "not ok $n - include boundaries: \`$d\` is not in DESIGN.md's table"
    bad=1
    continue
  fi
  errs=""
  while IFS=: read -r file line inc; do
    inc=${inc#*\"}
    inc=${inc%%\"*}
    if [[ $inc == */* ]]; then
      # A path with a folder, from any include directory (the top, a part, agent/).
      hdr=$(git ls-files | not_tests | grep -xF -e "$inc" -e "$d/$inc" | head -n1)
      [ -n "$hdr" ] || hdr=$(git ls-files | not_tests | grep -F "/$inc" |
        awk -v i="/$inc" 'substr($0, length($0) - length(i) + 1) == i' | head -n1)
      [ -n "$hdr" ] || continue
    elif [ -f "$d/$inc" ]; then
      continue
    elif [ -f "common/$inc" ]; then
      hdr=common/$inc
    else
      hdr=$(git ls-files "*/$inc" | not_tests | head -n1)
      [ -n "$hdr" ] || continue
    fi
    target=$(dirname "$hdr")
    [ "$target" = "$d" ] && continue
    # The row may name the folder (any of its headers) or this one header.
    case " ${allowed[$d]} " in *" $target "* | *" $hdr "*) continue ;; esac
    errs+="#   $file:$line includes \"$inc\" from $target/ (allowed: ${allowed[$d]:-none})"$'\n'
  done < <(git grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' -- "$d/*.c" "$d/*.h" |
    awk -F: -v d="$d" '{f=$1; sub(/\/[^\/]*$/, "", f); if (f == d) print}')
  if [ -n "$errs" ]; then
    echo "not ok $n - include boundaries: $d/"
    printf '%s' "$errs"
    bad=1
  else
    echo "ok $n - include boundaries: $d/"
  fi
done
echo "1..$n"
exit $bad
