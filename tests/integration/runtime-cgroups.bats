#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# cgroups: resources are written and enforced, pause/resume, update, events --stats, kill --all,
# delete removes every directory. Runs on v1/hybrid hosts and on pure cgroup v2 (the QEMU
# lane): cg_file picks the file each host mode has.

load ../lib/helpers

setup() {
  setup_bundle
  ID="$CTR_PREFIX"
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    CG_MODE=v2
  else
    CG_MODE=v1
  fi
}

teardown() {
  standard_teardown
  # Whatever a failed test left: the container's directories in every hierarchy.
  local d
  for d in $(cg_all_dirs "/podrun/$ID"); do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  # The relative-path test's directories sit below the runtime's own cgroup in each hierarchy.
  find /sys/fs/cgroup -maxdepth 5 -depth -type d -name "podrun-rel-$$-*" -exec rmdir {} \; 2>/dev/null
  return 0
}

# cg_dir CONTROLLER PATH: the directory of PATH for that controller on this host.
cg_dir() {
  if [ "$CG_MODE" = v2 ]; then
    echo "/sys/fs/cgroup$2"
  else
    echo "/sys/fs/cgroup/$1$2"
  fi
}

# Every directory PATH has (or would have) on this host: each v1 hierarchy and cgroup2.
cg_all_dirs() {
  if [ "$CG_MODE" = v2 ]; then
    echo "/sys/fs/cgroup$1"
    return
  fi
  local m
  for m in $(sed -n 's/^[0-9]* [0-9]* [^ ]* [^ ]* \([^ ]*\) .* - cgroup2\{0,1\} .*/\1/p' /proc/self/mountinfo); do
    echo "$m$1"
  done
}

# cg_read V1CTRL V1FILE V2FILE: the container's file for this host mode.
cg_read() {
  if [ "$CG_MODE" = v2 ]; then
    cat "$(cg_dir "" "/podrun/$ID")/$3"
  else
    cat "$(cg_dir "$1" "/podrun/$ID")/$2"
  fi
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds, for at most SECONDS.
# The limits are generous on purpose: in the v2 lane's emulated guest a process start costs 20-50
# times more than on the host, and the suite must not flake there; a pass returns at once.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

oom_kills() {
  if [ "$CG_MODE" = v2 ]; then
    awk '$1 == "oom_kill" { print $2 }' "$(cg_dir "" "/podrun/$ID")/memory.events"
  else
    awk '$1 == "oom_kill" { print $2 }' "$(cg_dir memory "/podrun/$ID")/memory.oom_control"
  fi
}

@test "memory limit is enforced: going past it gets the process OOM-killed and counted" {
  # 32 MiB without swap; a subshell tries to hold 100 MB in a variable. It and its children get
  # the highest oom_score_adj: after the subshell's kill, the memory it held is uncharged a moment
  # late, and the kernel may pick a second victim meanwhile; that must not be the reporting init.
  update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}
    | .process.args = ["sh", "-c", "(echo 1000 > /proc/self/oom_score_adj; x=$(head -c 100000000 /dev/zero | tr \"\\\\0\" a); echo survived); echo alloc-status=$?; sleep 100"]'
  rt run -d --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1
  wait_for_state "$ID" running
  [ "$(cg_read memory memory.limit_in_bytes memory.max)" = 33554432 ]
  wait_until 60 grep -q alloc-status "$BATS_TEST_TMPDIR/out" || true
  cat "$BATS_TEST_TMPDIR/out"
  grep -q 'alloc-status=137' "$BATS_TEST_TMPDIR/out"
  ! grep -q survived "$BATS_TEST_TMPDIR/out" || false
  [ "$(oom_kills)" -ge 1 ]
}

@test "pids limit refuses forks past it" {
  update_config '.linux.resources.pids = {"limit": 5}
    | .process.args = ["sh", "-c", "i=0; while [ $i -lt 10 ]; do sleep 30 & i=$((i+1)); done; echo forked-all"]'
  run rt run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [[ "$output" == *"can't fork"* ]]
}

@test "pids limit file holds the value" {
  update_config '.linux.resources.pids = {"limit": 17} | .process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  [ "$(cg_read pids pids.max pids.max)" = 17 ]
}

@test "cpu shares, quota and period land in the right files" {
  update_config '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}
    | .process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  if [ "$CG_MODE" = v2 ]; then
    [ "$(cg_read cpu - cpu.weight)" = 20 ] # 1 + (512-2)*9999/262142
    [ "$(cg_read cpu - cpu.max)" = "50000 100000" ]
  else
    [ "$(cg_read cpu cpu.shares -)" = 512 ]
    [ "$(cg_read cpu cpu.cfs_quota_us -)" = 50000 ]
    [ "$(cg_read cpu cpu.cfs_period_us -)" = 100000 ]
  fi
}

@test "cpuset confines the container to the cpus given" {
  update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}
    | .process.args = ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"]'
  run rt run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  # exactly cpu 0 (a suffix match would accept 0-10 or 10 on a host with 11+ cpus)
  [[ "$output" =~ (^|$'\n')Cpus_allowed_list:[[:space:]]+0$ ]]
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  [ "$(cg_read cpuset cpuset.cpus cpuset.cpus)" = 0 ]
}

@test "a device rule denies /dev/null while the default devices stay usable" {
  update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
      {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]
    | .process.args = ["sh", "-c", "head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo null-writable"]'
  run rt run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [[ "$output" == *"3"* ]]
  [[ "$output" == *"/dev/null"*"not permitted"* ]]
  [[ "$output" != *"null-writable"* ]]
}

@test "without a deny rule /dev/null works" {
  update_config '.process.args = ["sh", "-c", "echo x > /dev/null && echo null-writable"]'
  run rt run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [[ "$output" == *"null-writable"* ]]
}

# count_above N: the paused test's counter has gone past N.
count_above() {
  local now
  now=$(cat "$BUNDLE/rootfs/tmp/count" 2>/dev/null)
  [ "${now:-0}" -gt "${1:-0}" ]
}

@test "pause and resume flip the state and really stop the processes" {
  update_config '.root.readonly = false | .process.args = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  wait_for_state "$ID" running
  wait_until 30 count_above 2
  rt pause "$ID"
  [ "$(rt state "$ID" | jq -r .status)" = paused ]
  if [ "$CG_MODE" = v2 ]; then
    grep -qx 'frozen 1' "$(cg_dir "" "/podrun/$ID")/cgroup.events"
  else
    [ "$(cat "$(cg_dir freezer "/podrun/$ID")/freezer.state")" = FROZEN ]
  fi
  a=$(cat "$BUNDLE/rootfs/tmp/count")
  sleep 0.5
  b=$(cat "$BUNDLE/rootfs/tmp/count")
  [ "$a" = "$b" ]
  rt resume "$ID"
  [ "$(rt state "$ID" | jq -r .status)" = running ]
  wait_until 30 count_above "$b"
}

@test "update --memory changes the limit of a running container" {
  update_config '.linux.resources.memory = {"limit": 33554432} | .process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  [ "$(cg_read memory memory.limit_in_bytes memory.max)" = 33554432 ]
  rt update --memory 67108864 "$ID"
  [ "$(cg_read memory memory.limit_in_bytes memory.max)" = 67108864 ]
  rt update --pids-limit 33 "$ID"
  [ "$(cg_read pids pids.max pids.max)" = 33 ]
}

@test "update refuses a bad value and names it" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  run rt update -r - "$ID" <<< '{"memory": {"limit": 33554432, "swap": 1000}}'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"memory.swap"* ]]
}

@test "events --stats shows memory usage, pids and cpu" {
  update_config '.linux.resources.memory = {"limit": 67108864} | .process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  run rt events --stats "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r .type <<< "$output")" = stats ]
  [ "$(jq -r .id <<< "$output")" = "$ID" ]
  [ "$(jq -r .data.memory.usage.usage <<< "$output")" -gt 0 ]
  [ "$(jq -r .data.memory.usage.limit <<< "$output")" = 67108864 ]
  [ "$(jq -r .data.pids.current <<< "$output")" -ge 1 ]
  jq -e '.data.cpu.usage | has("kernel") and has("user")' <<< "$output"
}

ps_count_at_least() {
  [ "$(rt ps --format json "$ID" | jq length)" -ge "$1" ]
}

cgroup_empty() {
  [ -z "$(cat "$1/cgroup.procs")" ]
}

@test "ps lists every process of the container, children too" {
  update_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  wait_for_state "$ID" running
  wait_until 30 ps_count_at_least 3 || true
  [ "$(rt ps --format json "$ID" | jq length)" -eq 3 ]
}

@test "kill --all signals every process in the cgroup" {
  update_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  wait_for_state "$ID" running
  pids=$(cat "$(cg_dir pids "/podrun/$ID")/cgroup.procs")
  [ -n "$pids" ]
  rt kill --all "$ID" KILL
  wait_until 30 cgroup_empty "$(cg_dir pids "/podrun/$ID")"
}

# in_container_cgroup PID: every hierarchy of PID (as the host sees it) places it in /podrun/$ID.
in_container_cgroup() {
  local lines
  lines=$(cat "/proc/$1/cgroup")
  echo "$lines" >&2
  [ -n "$lines" ] && [ -z "$(awk -F: -v p="/podrun/$ID" '$3 != p' <<< "$lines")" ]
}

# The container's init and exec'd processes are born in cgroup2 (clone3 CLONE_INTO_CGROUP) and
# join each v1 hierarchy themselves; where the kernel has no clone3 the runtime writes their pids.
@test "the container's and exec'd processes are in its cgroup everywhere, with or without clone3" {
  update_config '.process.args = ["sleep", "100"]'
  local how pid
  for how in "" "$PODRUN_BUILD/tests/lib/deny-syscall clone3"; do
    # shellcheck disable=SC2086 # $how is a command prefix or nothing
    $how "$RUNTIME" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" "$ID"
    pid=$(rt state "$ID" | jq -r .pid)
    in_container_cgroup "$pid"
    # shellcheck disable=SC2086
    $how "$RUNTIME" --root "$STATE_ROOT" exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$ID" sleep 100
    in_container_cgroup "$(cat "$BATS_TEST_TMPDIR/exec.pid")"
    rt delete --force "$ID"
  done
}

@test "delete removes the container's directory in every hierarchy" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  local d n=0
  for d in $(cg_all_dirs "/podrun/$ID"); do
    [ -d "$d" ]
    n=$((n + 1))
  done
  [ "$n" -ge 1 ]
  rt delete --force "$ID"
  for d in $(cg_all_dirs "/podrun/$ID"); do
    [ ! -e "$d" ]
  done
}

# runc's placement: below the runtime's own cgroup on v1; on cgroup2 below its parent, because
# the runtime's own cgroup holds processes (the runtime, a login shell in session-N.scope) and
# the no-internal-process rule keeps such a cgroup from passing controllers on.
@test "a relative cgroupsPath is placed below the runtime's own cgroup (its parent on v2)" {
  local rel="podrun-rel-$$-$BATS_TEST_NUMBER" own base own_dir
  if [ "$CG_MODE" = v2 ]; then
    own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
    base=$(dirname "$own")
  else
    own=$(awk -F: '$2 == "pids" { print $3 }' /proc/self/cgroup)
    base=$own
  fi
  base=${base%/}
  own_dir=$(cg_dir pids "${own%/}")
  local type_before sub_before
  type_before=$(cat "$own_dir/cgroup.type" 2>/dev/null || echo root)
  sub_before=$(cat "$own_dir/cgroup.subtree_control" 2>/dev/null || echo v1)
  update_config ".linux.cgroupsPath = \"$rel\" | .process.args = [\"sleep\", \"100\"]"
  rt run -d --bundle "$BUNDLE" "$ID"
  local dir
  dir=$(cg_dir pids "$base/$rel")
  [ -d "$dir" ]
  # The container's process is in it, and the runtime's own cgroup is as it was (on v2: still a
  # plain domain with no controllers enabled for children).
  [ "$(cat "$dir/cgroup.procs")" = "$(rt state "$ID" | jq -r .pid)" ]
  [ "$(cat "$own_dir/cgroup.type" 2>/dev/null || echo root)" = "$type_before" ]
  [ "$(cat "$own_dir/cgroup.subtree_control" 2>/dev/null || echo v1)" = "$sub_before" ]
  rt delete --force "$ID"
  [ ! -e "$dir" ]
}

@test "exec works when the container's init handed the container's cgroup to children (v2)" {
  [ "$CG_MODE" = v2 ] || skip "needs cgroup v2 (its no-internal-process rule)"
  grep -qw memory /sys/fs/cgroup/cgroup.subtree_control || skip "needs the memory controller"
  # As systemd does in a container: move itself into a child cgroup, then enable a domain
  # controller for the children. The container's own cgroup then refuses new processes (EBUSY).
  update_config '(.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) |= map(select(. != "ro"))
    | .process.args = ["sh", "-c", "mkdir /sys/fs/cgroup/init && echo $$ > /sys/fs/cgroup/init/cgroup.procs && echo +memory > /sys/fs/cgroup/cgroup.subtree_control && exec sleep 100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  local dir
  dir=$(cg_dir "" "/podrun/$ID")
  wait_until 30 grep -qw memory "$dir/cgroup.subtree_control"
  run rt exec "$ID" cat /proc/self/cgroup
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "0::/init" ]
  # Still the container's: kill --all and delete reach it.
  rt delete --force "$ID"
  [ ! -e "$dir" ]
}

@test "invalid resources fail before anything is made, naming the field" {
  update_config '.linux.resources.memory = {"limit": 33554432, "swap": 1000}'
  run rt run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.resources.memory.swap"* ]]
  [ ! -e "$STATE_ROOT/$ID" ]
  for d in $(cg_all_dirs "/podrun/$ID"); do
    [ ! -e "$d" ]
  done
}

@test "a wrong type in resources is an error naming the field" {
  update_config '.linux.resources.cpu = {"shares": "many"}'
  run rt run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"linux.resources.cpu.shares"* ]]
}

@test "--systemd-cgroup needs a slice:prefix:name path" {
  update_config '.linux.cgroupsPath = "/not/systemd"'
  run rt --systemd-cgroup run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"slice:prefix:name"* ]]
  [ ! -e "$STATE_ROOT/$ID" ]
}

@test "--systemd-cgroup fails clearly where systemd does not run" {
  [ ! -d /run/systemd/system ] || skip "systemd runs on this host"
  update_config ".linux.cgroupsPath = \"system.slice:podrun:$ID\""
  run rt --systemd-cgroup run --bundle "$BUNDLE" "$ID"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"systemd is not running"* ]]
  [ ! -e "$STATE_ROOT/$ID" ]
  for d in $(cg_all_dirs "/system.slice/podrun-$ID.scope"); do
    [ ! -e "$d" ]
  done
}

@test "unified keys are written on v2 and refused where the unified hierarchy lacks them" {
  update_config '.linux.resources.unified = {"memory.high": "50000000"} | .process.args = ["sleep", "100"]'
  if [ "$CG_MODE" = v2 ]; then
    rt run -d --bundle "$BUNDLE" "$ID"
    # The kernel keeps memory limits in whole pages and reads them back so.
    local page
    page=$(getconf PAGESIZE)
    [ "$(cg_read memory - memory.high)" = $((50000000 / page * page)) ]
  else
    run rt run -d --bundle "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"linux.resources.unified.memory.high"* ]]
  fi
}

# The unit tests' real-cgroup2 cases (populated parents, exec into a cgroup with controllers
# enabled for its children, the device filter, freeze, cgroup.kill) meet real v2 controllers only
# on a pure v2 host; elsewhere tests/run-all.sh runs them directly against the unified hierarchy.
@test "the cgroup unit tests pass against the real cgroup2 controllers" {
  [ "$CG_MODE" = v2 ] || skip "needs a pure cgroup v2 host (run-all.sh runs them directly)"
  local t="$PODRUN_BUILD/runtime/tests/test-cgroup"
  # A lane without them must fail: a skip here would hide that they never ran on real v2.
  if [ ! -x "$t" ]; then
    echo "$t is not built (scripts/build.sh builds it)"
    return 1
  fi
  run "$t"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *"not ok"* ]]
  [[ "$output" == *"ok "*" - test_real_v2_exec_joins_busy_cgroup"* ]]
  [[ "$output" != *"test_real_v2_exec_joins_busy_cgroup # SKIP"* ]]
}

# v1 only: cgroup2 has no real-time bandwidth files, and the runtime refuses realtimeRuntime
# there (so in the QEMU v2 lane these skip).
require_rt_group_sched() {
  [ "$CG_MODE" = v1 ] || skip "cgroup v2 has no real-time bandwidth (cpu.rt_runtime_us)"
  [ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] ||
    skip "the kernel has no CONFIG_RT_GROUP_SCHED: /sys/fs/cgroup/cpu/cpu.rt_runtime_us does not exist"
}

@test "realtimeRuntime works below the default /podrun parent: the parent gets the budget" {
  require_rt_group_sched
  update_config '.linux.resources.cpu = {"realtimeRuntime": 20000, "realtimePeriod": 1000000}
    | .process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  [ "$(cat "$(cg_dir cpu "/podrun/$ID")/cpu.rt_runtime_us")" = 20000 ]
  [ "$(cat "$(cg_dir cpu /podrun)/cpu.rt_runtime_us")" -ge 20000 ]
}

@test "SCHED_FIFO works below the default /podrun parent with a real-time budget" {
  require_rt_group_sched
  update_config '.linux.resources.cpu = {"realtimeRuntime": 10000, "realtimePeriod": 1000000}
    | .process.scheduler = {"policy": "SCHED_FIFO", "priority": 10}
    | .process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  pid=$(rt state "$ID" | jq -r .pid)
  # /proc/PID/stat field 41 is the policy (SCHED_FIFO is 1), 40 the rt priority
  [ "$(awk '{print $41, $40}' "/proc/$pid/stat")" = "1 10" ]
  run rt exec "$ID" true
  [ "$status" -eq 0 ]
}

@test "exec --cgroup runs the process in an existing sub-cgroup of the container (v1 and v2)" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  for d in $(cg_all_dirs "/podrun/$ID"); do
    [ -d "$d" ] || continue
    mkdir "$d/sub"
    # a new v1 cpuset has no cpus and mems: nothing could join it
    if [ -e "$d/sub/cpuset.cpus" ] && [ "$CG_MODE" = v1 ]; then
      cat "$d/cpuset.cpus" > "$d/sub/cpuset.cpus"
      cat "$d/cpuset.mems" > "$d/sub/cpuset.mems"
    fi
  done
  rt exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" --cgroup sub "$ID" sleep 100
  pid=$(cat "$BATS_TEST_TMPDIR/exec.pid")
  # every hierarchy the container has: the exec'd process is in its sub-cgroup
  n=$(grep -c "/podrun/$ID\(/sub\)\?$" "/proc/$pid/cgroup")
  [ "$n" -ge 1 ]
  [ "$(grep -c "/podrun/$ID/sub$" "/proc/$pid/cgroup")" -eq "$n" ]
  # a missing sub-cgroup, or one outside the container, is an error and runs nothing
  run rt exec --cgroup nosuch "$ID" true
  [ "$status" -eq 1 ]
  [[ "$output" == *'--cgroup "nosuch": sub-cgroup'* ]]
  run rt exec --cgroup ../.. "$ID" true
  [ "$status" -eq 1 ]
  [[ "$output" == *'must not contain ".."'* ]]
  rt delete --force "$ID"
  for d in $(cg_all_dirs "/podrun/$ID"); do [ ! -e "$d" ]; done
}

@test "exec --cgroup CONTROLLER:PATH picks the v1 hierarchy (as runc)" {
  [ "$CG_MODE" = v1 ] || skip "CONTROLLER:PATH names cgroup v1 hierarchies"
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  mkdir "$(cg_dir memory "/podrun/$ID")/sub"
  rt exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" --cgroup memory:sub "$ID" sleep 100
  pid=$(cat "$BATS_TEST_TMPDIR/exec.pid")
  [ "$(grep ':memory:' "/proc/$pid/cgroup")" = "$(grep ':memory:' "/proc/$pid/cgroup" | grep "/podrun/$ID/sub$")" ]
  [ "$(grep -c "/podrun/$ID/sub$" "/proc/$pid/cgroup")" -eq 1 ]
  run rt exec --cgroup nosuchctl:sub "$ID" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"no cgroup v1 hierarchy with the nosuchctl controller"* ]]
}
