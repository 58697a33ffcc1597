#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (it looks for a hook's sleep host-wide)
# OCI hooks: when each kind runs, in which namespace, with the state on stdin; failures.

load ../lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle
  HOOKLOG=$BATS_TEST_TMPDIR/hooks.log
  # A hook on the host: records its kind, its mount namespace and the state it got.
  cat > "$BATS_TEST_TMPDIR/hook.sh" <<EOF
#!/bin/sh
state=\$(cat)
echo "\$1 \$(readlink /proc/self/ns/mnt) \$state" >> "$HOOKLOG"
EOF
  chmod +x "$BATS_TEST_TMPDIR/hook.sh"
}

teardown() {
  standard_teardown
}

host_hook() {
  echo "{\"path\": \"$BATS_TEST_TMPDIR/hook.sh\", \"args\": [\"hook.sh\", \"$1\"]}"
}

@test "hooks run in order with the state on stdin" {
  # startContainer runs inside the container: its path resolves there
  cat > "$BUNDLE/rootfs/bin/inhook" <<'EOF'
#!/bin/sh
cat > /tmp/startContainer.state
hostname > /tmp/startContainer.hostname
EOF
  chmod +x "$BUNDLE/rootfs/bin/inhook"
  update_config ".root.readonly = false | .process.args = [\"sleep\", \"100\"]
    | .hooks = {
      \"prestart\": [$(host_hook prestart)],
      \"createRuntime\": [$(host_hook createRuntime)],
      \"createContainer\": [$(host_hook createContainer)],
      \"startContainer\": [{\"path\": \"/bin/inhook\"}],
      \"poststart\": [$(host_hook poststart)],
      \"poststop\": [$(host_hook poststop)]}"
  rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  run awk '{print $1}' "$HOOKLOG"
  [ "${lines[*]}" = "prestart createRuntime createContainer" ]
  # prestart and createRuntime run in the runtime's mount namespace, createContainer in the
  # container's
  hostmnt=$(readlink /proc/self/ns/mnt)
  ctrmnt=$(readlink /proc/$pid/ns/mnt)
  [ "$(awk '$1=="createRuntime"{print $2}' "$HOOKLOG")" = "$hostmnt" ]
  [ "$(awk '$1=="createContainer"{print $2}' "$HOOKLOG")" = "$ctrmnt" ]
  # the state names the container and its pid
  state=$(awk '$1=="createRuntime"{$1="";$2=""; print}' "$HOOKLOG")
  [ "$(jq -r .id <<<"$state")" = "$CTR_PREFIX" ]
  [ "$(jq -r .pid <<<"$state")" = "$pid" ]
  [ "$(jq -r .bundle <<<"$state")" = "$BUNDLE" ]
  # startContainer has not run before start
  [ ! -e "$BUNDLE/rootfs/tmp/startContainer.state" ]

  rt start "$CTR_PREFIX"
  wait_for_state "$CTR_PREFIX" running
  [ "$(awk '{print $1}' "$HOOKLOG" | tail -1)" = poststart ]
  [ "$(jq -r .id "$BUNDLE/rootfs/tmp/startContainer.state")" = "$CTR_PREFIX" ]
  [ "$(cat "$BUNDLE/rootfs/tmp/startContainer.hostname")" = podrun ]

  rt delete --force "$CTR_PREFIX"
  [ "$(awk '{print $1}' "$HOOKLOG" | tail -1)" = poststop ]
  [ "$(awk '$1=="poststop"{$1="";$2=""; print}' "$HOOKLOG" | jq -r .status)" = stopped ]
}

@test "a failing createRuntime hook fails create and leaves nothing behind" {
  update_config '.hooks = {"createRuntime": [{"path": "/bin/false"}]}'
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"hooks.createRuntime[0]"*"/bin/false"*"exit status 1"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "a hook that outlives its timeout is killed and fails create" {
  update_config '.hooks = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
  start=$(date +%s)
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"timed out"* ]]
  [ $(($(date +%s) - start)) -lt 10 ]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  ! pgrep -x -f "sleep 30" >/dev/null || false
}

@test "hook env and args are passed as given" {
  cat > "$BATS_TEST_TMPDIR/envhook.sh" <<EOF
#!/bin/sh
echo "\$1 \$FOO" > "$BATS_TEST_TMPDIR/envhook.out"
EOF
  chmod +x "$BATS_TEST_TMPDIR/envhook.sh"
  update_config ".process.args = [\"true\"] | .hooks = {\"createRuntime\": [{\"path\": \"$BATS_TEST_TMPDIR/envhook.sh\", \"args\": [\"myhook\", \"arg1\"], \"env\": [\"FOO=bar\"]}]}"
  rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$(cat "$BATS_TEST_TMPDIR/envhook.out")" = "arg1 bar" ]
}


@test "a hook without env gets the runtime's environment (as runc and crun)" {
  cat > "$BATS_TEST_TMPDIR/envhook.sh" <<EOF
#!/bin/sh
echo "\${PODRUN_HOOK_PROBE:-unset}" > "$BATS_TEST_TMPDIR/envhook.out"
EOF
  chmod +x "$BATS_TEST_TMPDIR/envhook.sh"
  update_config ".process.args = [\"true\"] | .hooks = {\"createRuntime\": [{\"path\": \"$BATS_TEST_TMPDIR/envhook.sh\"}]}"
  PODRUN_HOOK_PROBE=from-runtime rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$(cat "$BATS_TEST_TMPDIR/envhook.out")" = from-runtime ]
  # an explicit empty env stays empty
  update_config ".hooks.createRuntime[0].env = []"
  PODRUN_HOOK_PROBE=from-runtime rt run --bundle "$BUNDLE" "$CTR_PREFIX-2"
  [ "$(cat "$BATS_TEST_TMPDIR/envhook.out")" = unset ]
}

@test "a failing poststart hook fails start and stops the container" {
  update_config '.process.args = ["sleep", "100"] | .hooks = {"poststart": [{"path": "/bin/false"}]}'
  rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  run rt start "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"hooks.poststart[0] \`/bin/false\` failed with exit status 1"* ]]
  [ "$(rt state "$CTR_PREFIX" | jq -r .status)" = stopped ]
  # dead: gone, or a zombie its new parent has not reaped yet
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  [ -z "$st" ] || [ "$st" = Z ]
}

@test "run fails when a poststart hook fails, and leaves nothing behind" {
  update_config '.process.args = ["sleep", "100"] | .hooks = {"poststart": [{"path": "/bin/false"}]}'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"hooks.poststart[0]"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  for d in /sys/fs/cgroup/*/podrun/"$CTR_PREFIX" /sys/fs/cgroup/podrun/"$CTR_PREFIX"; do
    [ ! -e "$d" ]
  done
}
