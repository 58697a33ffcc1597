# SPDX-License-Identifier: Apache-2.0
# For the pods tests that look at pods' cgroups: each test gives podrun a cgroup root of its own
# (--cgroup-root), and the teardown removes whatever is left below it in every hierarchy.

# v2 when /sys/fs/cgroup is cgroup2 itself (a pure v2 host), else v1 (legacy or hybrid).
cg_v2() {
  [ -f /sys/fs/cgroup/cgroup.controllers ]
}

cg_setup() {
  CG_ROOT="/podrun-t$$-${BATS_TEST_NUMBER}"
  PRN_EXTRA+=(--cgroup-root "$CG_ROOT")
}

# cg_dir CONTROLLER PATH: the directory of PATH in the hierarchy that holds CONTROLLER.
cg_dir() {
  if cg_v2; then
    echo "/sys/fs/cgroup$2"
    return
  fi
  local m
  m=$(awk -v c="$1" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
  echo "$m$2"
}

# Every mounted hierarchy's directory for PATH.
cg_all_dirs() {
  if cg_v2; then
    echo "/sys/fs/cgroup$1"
    return
  fi
  awk -v p="$1" '$9 == "cgroup" || $9 == "cgroup2" { print $5 p }' /proc/self/mountinfo | sort -u
}

cg_teardown() {
  local d
  [ -n "${CG_ROOT:-}" ] || return 0
  for d in $(cg_all_dirs "$CG_ROOT"); do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}
