#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Health check of the pure cgroup v2 lane (tests/run-all.sh runs it before the lane's tests):
# the guest is really pure v2, and run-v2-lane.sh hands back the command's output and status
# without touching the host.

LANE=$BATS_TEST_DIRNAME/run-v2-lane.sh
TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
    command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64"
    # Fetch and build the kernel and initramfs once, outside every test's timing.
    "$LANE" --prepare
}

setup() {
    command -v qemu-system-x86_64 >/dev/null || skip "needs qemu-system-x86_64"
    # run-v2-lane.sh makes its temp dir here, so leftovers are easy to find.
    export TMPDIR=$BATS_TEST_TMPDIR
}

teardown() {
    # Whatever a failed test left: qemu (its command line names the temp dir), then files.
    local pid
    for pid in $(pgrep -f "$BATS_TEST_TMPDIR/podrun-v2-lane"); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -f "$TOP/tests/qemu/.guest-write"
}

no_lane_leftovers() {
    if pgrep -af "$BATS_TEST_TMPDIR/podrun-v2-lane"; then
        echo "qemu still running"
        return 1
    fi
    if compgen -G "$BATS_TEST_TMPDIR/podrun-v2-lane.*" >/dev/null; then
        echo "temp dir left behind: $(ls -d "$BATS_TEST_TMPDIR"/podrun-v2-lane.*)"
        return 1
    fi
}

@test "self-check: the guest is a pure cgroup v2 host" {
    run "$LANE" --self-check
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"ok 1 - cgroup.controllers lists memory pids cpu io"* ]]
    [[ "$output" == *"only cgroup2 is mounted"* ]]
    [[ "$output" != *"not ok"* ]]
    no_lane_leftovers
}

@test "the guest lists memory pids cpu io and mounts no v1 cgroup" {
    run "$LANE" sh -c 'cat /sys/fs/cgroup/cgroup.controllers; grep -c " - cgroup " /proc/self/mountinfo || true'
    echo "$output"
    [ "$status" -eq 0 ]
    for c in memory pids cpu io; do
        [[ " ${lines[0]} " == *" $c "* ]]
    done
    [ "${lines[1]}" = 0 ]
}

@test "the command's stdout, stderr and exit status come back unchanged" {
    "$LANE" sh -c 'printf "one\ntwo\n\tthree"; echo to-stderr >&2; exit 7' \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
    [ "${rc:-0}" -eq 7 ]
    printf 'one\ntwo\n\tthree' | cmp - "$BATS_TEST_TMPDIR/out"
    grep -qx to-stderr "$BATS_TEST_TMPDIR/err"
    no_lane_leftovers
}

@test "the command runs in the caller's directory with PODRUN_ variables passed" {
    mkdir "$BATS_TEST_TMPDIR/work"
    echo built >"$BATS_TEST_TMPDIR/work/stamp"
    cd "$BATS_TEST_TMPDIR/work"
    PODRUN_BUILD=$BATS_TEST_TMPDIR/work run "$LANE" -e EXTRA=a_b sh -c 'pwd; cat stamp; echo "$PODRUN_BUILD $EXTRA"'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$BATS_TEST_TMPDIR/work" ]
    [ "${lines[1]}" = built ]
    [ "${lines[2]}" = "$BATS_TEST_TMPDIR/work a_b" ]
}

@test "the guest's writes do not reach the host" {
    local mounts_before
    mounts_before=$(wc -l </proc/self/mountinfo)
    mkdir "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
    run "$LANE" sh -c "echo x >$TOP/tests/qemu/.guest-write && echo y >$BATS_TEST_TMPDIR/work/new &&
        echo z >/var/tmp/podrun-lane-probe && cat $TOP/tests/qemu/.guest-write"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = x ]
    [ ! -e "$TOP/tests/qemu/.guest-write" ]
    [ ! -e "$BATS_TEST_TMPDIR/work/new" ]
    [ ! -e /var/tmp/podrun-lane-probe ]
    [ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]
}

@test "a hung guest is stopped by the timeout and leaves nothing behind" {
    run "$LANE" --timeout 8 sleep 600
    echo "$output"
    [ "$status" -eq 124 ]
    [[ "$output" == *"did not finish within 8 s"* ]]
    no_lane_leftovers
}

@test "SIGTERM to the lane stops the guest and leaves nothing behind" {
    "$LANE" sleep 600 >/dev/null 2>&1 &
    local pid=$! i
    for ((i = 0; i < 100; i++)); do
        pgrep -f "$BATS_TEST_TMPDIR/podrun-v2-lane" >/dev/null && break
        sleep 0.1
    done
    sleep 1
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    [ "${rc:-0}" -eq 143 ]
    no_lane_leftovers
}
