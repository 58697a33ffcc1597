# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The runtime leaves the parent of its default cgroup paths (/podrun in every hierarchy) after
# deleting a container, as runc leaves its parents. A script that runs containers sources this,
# calls podrun_parents_note before its first container and podrun_parents_remove when it is
# done: the parents go if the script made them, and stay if they were there before.

podrun_parents_note() {
  podrun_parents_before=$(ls -d /sys/fs/cgroup/podrun /sys/fs/cgroup/*/podrun 2>/dev/null || true)
}

podrun_parents_remove() {
  [ -z "${podrun_parents_before-x}" ] || return 0
  local d i left
  # Supervisors that clean up after their containers (podman's conmon, our shim) may still be
  # removing the last container cgroups for a moment.
  for ((i = 0; i < 100; i++)); do
    left=
    for d in /sys/fs/cgroup/podrun /sys/fs/cgroup/*/podrun; do
      [ -d "$d" ] && ! rmdir "$d" 2>/dev/null && left=1
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || echo "# left behind: $(ls -d /sys/fs/cgroup/*/podrun/* 2>/dev/null | head -3)" >&2
  return 0
}
