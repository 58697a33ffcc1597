#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Regression tests for known runtime escapes (mount-target escapes live in
# runtime-escapes-mounts.bats).

load ../lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle
}

teardown() {
  standard_teardown
}

# CVE-2024-21626: no fd of the runtime may reach the container, and a cwd that goes through
# /proc/self/fd must not land outside the root.
@test "no runtime fd leaks into the container" {
  update_config '.process.args = ["sh", "-c", "ls /proc/self/fd"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  # 0 1 2 and the fd ls itself opened to read the directory
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
}

@test "no runtime fd leaks into an exec'd process" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  run rt exec "$CTR_PREFIX" ls /proc/self/fd
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
}

@test "a cwd through /proc/self/fd never reaches the host" {
  touch "$BUNDLE/rootfs/inside-marker"
  for fd in 3 4 5 6 7 8 9 10; do
    update_config ".process.cwd = \"/proc/self/fd/$fd\" | .process.args = [\"sh\", \"-c\", \"ls -a ..\"]"
    run rt run --bundle "$BUNDLE" "$CTR_PREFIX-$fd"
    echo "fd $fd: status $status: $output"
    # Refused, or it ran inside the container's own root
    if [ "$status" -eq 0 ]; then
      [[ "$output" == *inside-marker* ]]
    else
      [[ "$output" == *"process.cwd"* ]] || [[ "$output" == *"/proc/self/fd/$fd"* ]]
    fi
    [ ! -e "$STATE_ROOT/$CTR_PREFIX-$fd" ]
  done
}

# CVE-2019-5736: the container must not be able to write the runtime's binary through
# /proc/PID/exe. A startContainer hook (it runs in the container, as a child of the runtime's
# container process) keeps /proc/$PPID/exe open and writes to it once every runtime process
# has exited, when nothing would keep a host binary busy any more.
@test "the runtime binary cannot be overwritten through /proc/PID/exe" {
  cp "$RUNTIME" "$BATS_TEST_TMPDIR/podrun-runtime"
  before=$(sha256sum < "$BATS_TEST_TMPDIR/podrun-runtime")
  cat > "$BUNDLE/rootfs/bin/evilhook" <<'EOF'
#!/bin/sh
exec 3</proc/$PPID/exe
readlink /proc/$PPID/exe > /tmp/exe-link
( sleep 1
  if echo -n PWNED >> /proc/self/fd/3; then echo WROTE; else echo DENIED; fi > /tmp/result 2>&1
) </dev/null >/dev/null 2>&1 &
EOF
  chmod +x "$BUNDLE/rootfs/bin/evilhook"
  update_config '.root.readonly = false | .process.args = ["sleep", "3"] | .hooks = {"startContainer": [{"path": "/bin/evilhook"}]}'
  "$BATS_TEST_TMPDIR/podrun-runtime" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$CTR_PREFIX"
  "$BATS_TEST_TMPDIR/podrun-runtime" --root "$STATE_ROOT" start "$CTR_PREFIX"
  for i in $(seq 40); do [ -s "$BUNDLE/rootfs/tmp/result" ] && break; sleep 0.1; done
  cat "$BUNDLE/rootfs/tmp/exe-link" "$BUNDLE/rootfs/tmp/result" >&2
  grep -q DENIED "$BUNDLE/rootfs/tmp/result"
  [ "$(sha256sum < "$BATS_TEST_TMPDIR/podrun-runtime")" = "$before" ]
  grep -q memfd "$BUNDLE/rootfs/tmp/exe-link"
}

# A container with no hooks, in a new pid namespace, ends with the init stub instead (cloned-binary.h):
# from the moment it is created, its init is the sealed stub, so a process exec'd into it
# before start finds only the stub behind /proc/1/exe, and a program written as
# #!/proc/self/exe runs the stub again (which refuses such arguments), never the runtime.
@test "a created container's init is the sealed init stub, and #!/proc/self/exe reaches only that" {
  local R="$BATS_TEST_TMPDIR/podrun-runtime"
  cp "$RUNTIME" "$R"
  before=$(sha256sum < "$R")
  printf '#!/proc/self/exe\n' > "$BUNDLE/rootfs/bin/evil"
  chmod +x "$BUNDLE/rootfs/bin/evil"
  update_config '.root.readonly = false | .process.args = ["sleep", "3"]'
  "$R" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$CTR_PREFIX"
  "$R" --root "$STATE_ROOT" exec "$CTR_PREFIX" sh -c '
    readlink /proc/1/exe > /tmp/exe-link
    exec 3</proc/1/exe
    ( sleep 1
      if echo -n PWNED >> /proc/self/fd/3; then echo WROTE; else echo DENIED; fi > /tmp/result 2>&1
    ) </dev/null >/dev/null 2>&1 &'
  "$R" --root "$STATE_ROOT" start "$CTR_PREFIX"
  for i in $(seq 40); do [ -s "$BUNDLE/rootfs/tmp/result" ] && break; sleep 0.1; done
  cat "$BUNDLE/rootfs/tmp/exe-link" "$BUNDLE/rootfs/tmp/result" >&2
  grep -q 'memfd:podrun-init' "$BUNDLE/rootfs/tmp/exe-link"
  grep -q DENIED "$BUNDLE/rootfs/tmp/result"
  "$R" --root "$STATE_ROOT" delete --force "$CTR_PREFIX"

  update_config '.process.args = ["/bin/evil"]'
  run -127 "$R" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$CTR_PREFIX-2"
  echo "$output"
  [ "$status" -eq 127 ]
  [[ "$output" == *"init stub: usage"* ]]
  [ "$(sha256sum < "$R")" = "$before" ]
}
