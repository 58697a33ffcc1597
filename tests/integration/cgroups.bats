#!/usr/bin/env bats
# cgroups: resources are written and enforced, pause/resume, update, events --stats, kill --all,
# delete removes every directory. Runs on v1/hybrid hosts and on pure cgroup v2 (the QEMU
# lane): cg_file picks the file each host mode has.

load helpers

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

oom_kills() {
  if [ "$CG_MODE" = v2 ]; then
    awk '$1 == "oom_kill" { print $2 }' "$(cg_dir "" "/podrun/$ID")/memory.events"
  else
    awk '$1 == "oom_kill" { print $2 }' "$(cg_dir memory "/podrun/$ID")/memory.oom_control"
  fi
}

@test "memory limit is enforced: going past it gets the process OOM-killed and counted" {
  # 32 MiB without swap; a subshell tries to hold 100 MB in a variable.
  update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}
    | .process.args = ["sh", "-c", "(x=$(head -c 100000000 /dev/zero | tr \"\\\\0\" a); echo survived); echo alloc-status=$?; sleep 100"]'
  rt run -d --bundle "$BUNDLE" "$ID" > "$BATS_TEST_TMPDIR/out" 2>&1
  wait_for_state "$ID" running
  [ "$(cg_read memory memory.limit_in_bytes memory.max)" = 33554432 ]
  for _ in $(seq 100); do
    grep -q alloc-status "$BATS_TEST_TMPDIR/out" && break
    sleep 0.1
  done
  cat "$BATS_TEST_TMPDIR/out"
  grep -q 'alloc-status=137' "$BATS_TEST_TMPDIR/out"
  ! grep -q survived "$BATS_TEST_TMPDIR/out"
  [ "$(oom_kills)" -ge 1 ]
}

@test "pids limit refuses forks past it" {
  update_config '.linux.resources.pids = {"limit": 5}
    | .process.args = ["sh", "-c", "i=0; while [ $i -lt 10 ]; do sleep 3 & i=$((i+1)); done; echo forked-all"]'
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
  [[ "$output" == *"Cpus_allowed_list:"*"0" ]]
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

@test "pause and resume flip the state and really stop the processes" {
  update_config '.root.readonly = false | .process.args = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  wait_for_state "$ID" running
  sleep 0.3
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
  sleep 0.5
  c=$(cat "$BUNDLE/rootfs/tmp/count")
  [ "$c" -gt "$b" ]
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
  [ "$status" -ne 0 ]
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

@test "ps lists every process of the container, children too" {
  update_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  wait_for_state "$ID" running
  for _ in $(seq 50); do
    [ "$(rt ps --format json "$ID" | jq length)" -ge 3 ] && break
    sleep 0.1
  done
  [ "$(rt ps --format json "$ID" | jq length)" -eq 3 ]
}

@test "kill --all signals every process in the cgroup" {
  update_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
  rt run -d --bundle "$BUNDLE" "$ID"
  wait_for_state "$ID" running
  pids=$(cat "$(cg_dir pids "/podrun/$ID")/cgroup.procs")
  [ -n "$pids" ]
  rt kill --all "$ID" KILL
  for _ in $(seq 50); do
    [ -z "$(cat "$(cg_dir pids "/podrun/$ID")/cgroup.procs")" ] && break
    sleep 0.1
  done
  [ -z "$(cat "$(cg_dir pids "/podrun/$ID")/cgroup.procs")" ]
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

@test "a relative cgroupsPath is placed below the runtime's own cgroup" {
  local rel="podrun-rel-$$-$BATS_TEST_NUMBER"
  update_config ".linux.cgroupsPath = \"$rel\" | .process.args = [\"sleep\", \"100\"]"
  rt run -d --bundle "$BUNDLE" "$ID"
  local own
  if [ "$CG_MODE" = v2 ]; then
    own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
  else
    own=$(awk -F: '$2 == "pids" { print $3 }' /proc/self/cgroup)
  fi
  own=${own%/}
  [ -d "$(cg_dir pids "$own/$rel")" ]
  rt delete --force "$ID"
  [ ! -e "$(cg_dir pids "$own/$rel")" ]
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
    [ "$(cg_read memory - memory.high)" = 50000000 ]
  else
    run rt run -d --bundle "$BUNDLE" "$ID"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"linux.resources.unified.memory.high"* ]]
  fi
}
