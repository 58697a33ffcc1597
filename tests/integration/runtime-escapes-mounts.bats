#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Mount destinations cannot leave the rootfs (CVE-2021-30465 and relatives): symlinks in the
# image, absolute or full of "..", and ".." in the destination itself all resolve inside the
# rootfs, and nothing of the container is ever mounted or created on the host.

load ../lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle
  # A host directory the image's symlinks aim at; it must stay empty and unmounted.
  OUTSIDE=$(mktemp -d /tmp/podrun-outside.XXXXXX)
  HOSTSRC=$BATS_TEST_TMPDIR/src
  mkdir -p "$HOSTSRC"
  echo marker > "$HOSTSRC/marker"
}

teardown() {
  standard_teardown
  local leaked=0
  if grep -q -e " $BUNDLE" -e " $OUTSIDE" /proc/self/mountinfo; then
    grep -e " $BUNDLE" -e " $OUTSIDE" /proc/self/mountinfo >&2
    awk -v o="$OUTSIDE" 'index($5, o) == 1 {print $5}' /proc/self/mountinfo | sort -r |
      while read -r m; do umount -l "$m"; done
    leaked=1
  fi
  rm -rf "$OUTSIDE"
  [ "$leaked" -eq 0 ]
}

ctr() {
  update_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$stderr" >&2
}

add_mount() {
  update_config ".mounts += [$1]"
}

# The host saw nothing: $OUTSIDE is empty and nothing is mounted there or at HOSTPATH.
assert_host_untouched() {
  [ -z "$(ls -A "$OUTSIDE")" ]
  ! grep -q " $OUTSIDE" /proc/self/mountinfo || false
  local p
  for p in "$@"; do
    [ ! -e "$p" ]
    ! grep -q " $p " /proc/self/mountinfo || false
  done
}

@test "symlink to / in the image: /evil/x lands on the rootfs's /x" {
  ln -s / "$BUNDLE/rootfs/evil"
  add_mount '{"destination": "/evil/podrun-escape-x", "type": "tmpfs", "source": "tmpfs"}'
  ctr 'awk "\$5 == \"/podrun-escape-x\" {print \$9}" /proc/self/mountinfo'
  [ "$status" -eq 0 ]
  [ "$output" = tmpfs ]
  [ -d "$BUNDLE/rootfs/podrun-escape-x" ]
  assert_host_untouched /podrun-escape-x
}

@test "symlink with ../ to a host path: the bind mount stays inside the rootfs" {
  ln -s "/../../../../..$OUTSIDE" "$BUNDLE/rootfs/evil"
  add_mount "{\"destination\": \"/evil/x\", \"type\": \"bind\", \"source\": \"$HOSTSRC\", \"options\": [\"rbind\"]}"
  ctr "cat $OUTSIDE/x/marker"
  [ "$status" -eq 0 ]
  [ "$output" = marker ]
  # created as a directory of the rootfs, never the host's
  [ -d "$BUNDLE/rootfs$OUTSIDE/x" ]
  assert_host_untouched
}

@test "relative symlink climbing out of the rootfs stays inside" {
  mkdir -p "$BUNDLE/rootfs/a/b"
  ln -s "../../../../../../../..$OUTSIDE" "$BUNDLE/rootfs/a/b/up"
  add_mount "{\"destination\": \"/a/b/up/y\", \"type\": \"bind\", \"source\": \"$HOSTSRC\", \"options\": [\"rbind\", \"ro\"]}"
  ctr "cat $OUTSIDE/y/marker"
  [ "$status" -eq 0 ]
  [ "$output" = marker ]
  assert_host_untouched
}

@test "the destination itself is a symlink pointing out of the rootfs" {
  mkdir -p "$BUNDLE/rootfs$OUTSIDE"
  ln -s "$OUTSIDE" "$BUNDLE/rootfs/etc/target"
  add_mount '{"destination": "/etc/target", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
  ctr "awk -v d=$OUTSIDE '\$5 == d {print \$9}' /proc/self/mountinfo"
  [ "$status" -eq 0 ]
  [ "$output" = tmpfs ]
  assert_host_untouched
}

@test "a destination full of .. cannot leave the rootfs" {
  add_mount "{\"destination\": \"/../../../../..$OUTSIDE/z\", \"type\": \"bind\", \"source\": \"$HOSTSRC\", \"options\": [\"rbind\"]}"
  add_mount '{"destination": "/tmp/../../../podrun-dotdot", "type": "tmpfs", "source": "tmpfs"}'
  ctr "cat $OUTSIDE/z/marker; awk '\$5 == \"/podrun-dotdot\" {print \$9}' /proc/self/mountinfo"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = marker ]
  [ "${lines[1]}" = tmpfs ]
  [ -d "$BUNDLE/rootfs$OUTSIDE/z" ]
  assert_host_untouched /podrun-dotdot
}

@test "a symlink loop in a destination fails cleanly" {
  ln -s loop "$BUNDLE/rootfs/loop"
  add_mount '{"destination": "/loop/x", "type": "tmpfs", "source": "tmpfs"}'
  ctr 'true'
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"loop"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  assert_host_untouched
}

@test "maskedPaths and readonlyPaths through symlinks stay inside the container" {
  ln -s "$OUTSIDE" "$BUNDLE/rootfs/masklink"
  mkdir -p "$BUNDLE/rootfs$OUTSIDE"
  echo secret > "$BUNDLE/rootfs$OUTSIDE/f"
  update_config ".linux.maskedPaths += [\"/masklink/f\"] | .linux.readonlyPaths += [\"/masklink\"]"
  ctr "wc -c < $OUTSIDE/f; touch $OUTSIDE/new 2>/dev/null || echo ro"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = ro ]
  assert_host_untouched
}
