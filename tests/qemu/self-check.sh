#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Health check of the pure cgroup v2 lane, run inside the guest by `run-v2-lane.sh --self-check`:
# proves the guest really is a pure v2 host (no v1 hierarchy anywhere, the controllers podrun
# uses are there and enforce limits) and that containers can pivot_root. Prints TAP; exits 1 when
# a check fails.
set -uo pipefail

CG=/sys/fs/cgroup
n=0
failed=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
    shift
    printf '%s\n' "$@" | sed 's/^/# /'
}
# check NAME COMMAND...: one TAP line; a failure shows what the command printed.
check() {
    local name=$1 out
    shift
    local t0=$EPOCHREALTIME
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
    [ -z "${SELF_CHECK_TIMES:-}" ] || echo "# $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
}

controllers_listed() {
    local want have
    have=" $(cat $CG/cgroup.controllers) "
    for want in memory pids cpu io; do
        [[ $have == *" $want "* ]] || { echo "$want missing from:$have"; return 1; }
    done
    echo "$have"
}

controllers_enabled_at_root() {
    local want have
    have=" $(cat $CG/cgroup.subtree_control) "
    for want in memory pids cpu io; do
        [[ $have == *" $want "* ]] || { echo "$want not in subtree_control:$have"; return 1; }
    done
}

only_cgroup2_mounted() {
    # mountinfo: the filesystem type follows the " - " separator.
    local v1 v2
    v1=$(awk '{ for (i = 1; $i != "-"; i++); if ($(i + 1) == "cgroup") print }' /proc/self/mountinfo)
    v2=$(awk '{ for (i = 1; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo)
    [ -z "$v1" ] || { echo "v1 mounts: $v1"; return 1; }
    [ "$v2" = $CG ] || { echo "cgroup2 mounted at: ${v2:-nowhere}"; return 1; }
}

no_v1_hierarchy_possible() {
    # cgroup_no_v1=all: mounting a v1 hierarchy must fail even when asked for.
    local d
    d=$(mktemp -d)
    if mount -t cgroup -o memory cgroup "$d" 2>/dev/null; then
        umount "$d"
        rmdir "$d"
        echo "a v1 memory hierarchy could be mounted"
        return 1
    fi
    rmdir "$d"
}

in_leaf_cgroup() {
    grep -qx '0::/lane.scope' /proc/self/cgroup || { cat /proc/self/cgroup; return 1; }
}

# with_cgroup NAME: creates $CG/NAME with memory and pids enabled in its parent; sets $cg.
make_cgroup() {
    cg=$CG/selfcheck-$$-$1
    mkdir "$cg"
}

memory_max_enforced() {
    local cg rc=0
    make_cgroup mem || return 1
    echo 32M >"$cg/memory.max" && echo 0 >"$cg/memory.swap.max" 2>/dev/null
    # dd fills a 64 MiB buffer: twice the limit, so the OOM killer must stop it.
    sh -c "echo \$\$ > $cg/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=64M count=1" \
        >/dev/null 2>&1 || rc=$?
    local kills
    kills=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")
    rmdir "$cg"
    [ "$rc" = 137 ] && [ "${kills:-0}" -ge 1 ] || { echo "dd exit $rc, oom_kill ${kills:-?}"; return 1; }
}

memory_max_allows_below_limit() {
    local cg rc=0
    make_cgroup mem-ok || return 1
    echo 64M >"$cg/memory.max"
    sh -c "echo \$\$ > $cg/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=16M count=1" \
        >/dev/null 2>&1 || rc=$?
    rmdir "$cg"
    [ "$rc" = 0 ] || { echo "dd exit $rc under a 64M limit"; return 1; }
}

pids_max_enforced() {
    local cg out events
    make_cgroup pids || return 1
    echo 4 >"$cg/pids.max"
    out=$(sh -c "echo \$\$ > $cg/cgroup.procs; for i in 1 2 3 4 5 6 7 8; do sleep 60 >/dev/null 2>&1 & done" 2>&1)
    events=$(awk '$1 == "max" { print $2 }' "$cg/pids.events")
    echo 1 >"$cg/cgroup.kill"
    while [ -s "$cg/cgroup.procs" ]; do sleep 0.05; done
    rmdir "$cg"
    [ "${events:-0}" -ge 1 ] || { echo "pids.events max=${events:-?}: $out"; return 1; }
}

cpu_and_io_files_writable() {
    local cg rc=0
    make_cgroup cpu || return 1
    echo "50000 100000" >"$cg/cpu.max" && echo 200 >"$cg/cpu.weight" &&
        echo 200 >"$cg/io.weight" && grep -qx '50000 100000' "$cg/cpu.max" || rc=1
    rmdir "$cg"
    return $rc
}

nested_delegation_works() {
    local cg rc=0
    make_cgroup nest || return 1
    echo "+memory +pids +cpu +io" >"$cg/cgroup.subtree_control" && mkdir "$cg/child" &&
        [ -f "$cg/child/memory.max" ] && [ -f "$cg/child/pids.max" ] && [ -f "$cg/child/io.max" ] ||
        rc=1
    rmdir "$cg/child" 2>/dev/null
    rmdir "$cg"
    return $rc
}

cgroupns_root_is_own_cgroup() {
    [ "$(unshare -C cat /proc/self/cgroup)" = "0::/" ]
}

pivot_root_in_container_works() {
    # What a runtime does to enter a container's rootfs: needs the guest's / to be a real mount.
    local r
    r=$(mktemp -d)
    unshare -m --propagation private sh -c "
        mount -t tmpfs tmpfs $r && cp /bin/busybox $r/ && mkdir $r/old && cd $r &&
        pivot_root . old && exec /busybox sh -c 'umount -l /old && /busybox test ! -e /old/etc/passwd'"
    local rc=$?
    rmdir "$r"
    return $rc
}

check "cgroup.controllers lists memory pids cpu io" controllers_listed
check "root subtree_control enables memory pids cpu io" controllers_enabled_at_root
check "only cgroup2 is mounted, at $CG (no v1 in mountinfo)" only_cgroup2_mounted
if [ $failed = 1 ]; then
    # Not a pure v2 host: the checks below would make directories in whatever is mounted there.
    echo "Bail out! not a pure cgroup v2 host"
    exit 1
fi
check "no v1 hierarchy can be mounted (cgroup_no_v1=all)" no_v1_hierarchy_possible
check "the command runs in the leaf cgroup /lane.scope" in_leaf_cgroup
check "memory.max: a process over the limit is OOM-killed" memory_max_enforced
check "memory.max: a process under the limit runs" memory_max_allows_below_limit
check "pids.max: forks beyond the limit fail" pids_max_enforced
check "cpu.max, cpu.weight and io.weight are writable" cpu_and_io_files_writable
check "controllers can be delegated to a nested cgroup" nested_delegation_works
check "a new cgroup namespace sees its cgroup as /" cgroupns_root_is_own_cgroup
check "pivot_root into a tmpfs rootfs works" pivot_root_in_container_works
echo "1..$n"
exit $failed
