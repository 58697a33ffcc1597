#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The container's root filesystem: config.mounts (bind, tmpfs, proc, sysfs, cgroup), devices,
# maskedPaths, readonlyPaths, root.readonly, rootfsPropagation and --no-pivot.

load ../lib/helpers
bats_require_minimum_version 1.5.0

setup() {
  setup_bundle
  HOSTDIR=$BATS_TEST_TMPDIR/host
  mkdir -p "$HOSTDIR"
}

teardown() {
  standard_teardown
  # Mounts the tests made on the host themselves (sources with submounts).
  local m
  for m in $(awk -v d="$BATS_TEST_TMPDIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  # Nothing of the container may remain mounted on the host.
  if [ -n "${BUNDLE:-}" ] && grep -q " $BUNDLE" /proc/self/mountinfo; then
    grep " $BUNDLE" /proc/self/mountinfo >&2
    echo "mounts of the bundle left on the host" >&2
    return 1
  fi
}

# ctr SCRIPT: runs sh -c SCRIPT in the container; stdout in $output and $lines, stderr in $stderr
# (printed, so a failing test shows it).
ctr() {
  update_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
  run --separate-stderr rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$stderr" >&2
}

add_mount() {
  update_config ".mounts += [$1]"
}

# mount_line DEST: the container's mountinfo line for DEST, from $output of `cat mountinfo`.
mount_line() {
  awk -v d="$1" '$5 == d' <<<"$output" | tail -1
}

@test "bind mount rw: writes reach the host" {
  echo from-host > "$HOSTDIR/in"
  add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\", \"rw\"]}"
  ctr 'cat /data/in && echo from-ctr > /data/out'
  [ "$status" -eq 0 ]
  [ "$output" = from-host ]
  [ "$(cat "$HOSTDIR/out")" = from-ctr ]
}

@test "bind mount ro: readable, writes refused, and the host source stays writable" {
  echo x > "$HOSTDIR/in"
  add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\", \"ro\"]}"
  ctr 'cat /data/in; if touch /data/new 2>/dev/null; then echo wrote; fi; grep " /data " /proc/self/mountinfo'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = x ]
  [[ "$output" != *wrote* ]]
  [[ "${lines[1]}" == *" /data ro,"* ]]
  [ ! -e "$HOSTDIR/new" ]
  # the remount affected the container's bind only
  touch "$HOSTDIR/host-still-writable"
}

@test "bind mount flags: nosuid,nodev,noexec applied, and the source's nosuid/nodev kept on ro" {
  mkdir -p "$HOSTDIR/src"
  mount -t tmpfs -o nosuid,nodev tmpfs "$HOSTDIR/src"
  # busybox picks its applet by name: call the copy "true"
  cp "$BUNDLE/rootfs/bin/busybox" "$HOSTDIR/src/true"
  add_mount "{\"destination\": \"/a\", \"type\": \"bind\", \"source\": \"$HOSTDIR/src\", \"options\": [\"bind\", \"noexec\"]}"
  add_mount "{\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"$HOSTDIR/src\", \"options\": [\"bind\", \"ro\"]}"
  ctr 'grep -E " /(a|b) " /proc/self/mountinfo; /a/true 2>/dev/null && echo exec-a; /b/true && echo exec-b'
  [ "$status" -eq 0 ]
  [[ "$(awk '$5 == "/a"' <<<"$output")" == *"rw,nosuid,nodev,noexec"* ]]
  [[ "$(awk '$5 == "/b"' <<<"$output")" == *"ro,nosuid,nodev"* ]]
  [[ "$output" != *exec-a* ]]
  [[ "$output" == *exec-b* ]]
}

@test "rbind carries submounts, bind does not" {
  mkdir -p "$HOSTDIR/sub"
  mount -t tmpfs tmpfs "$HOSTDIR/sub"
  echo in-submount > "$HOSTDIR/sub/f"
  add_mount "{\"destination\": \"/r\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\"]}"
  add_mount "{\"destination\": \"/nr\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"bind\"]}"
  ctr 'cat /r/sub/f; ls /nr/sub | wc -l'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = in-submount ]
  [ "${lines[1]}" = 0 ]
}

@test "bind mount of a single file, creating the destination file" {
  echo single > "$HOSTDIR/file"
  add_mount "{\"destination\": \"/etc/new/dir/file.conf\", \"type\": \"bind\", \"source\": \"$HOSTDIR/file\", \"options\": [\"rbind\", \"ro\"]}"
  ctr 'cat /etc/new/dir/file.conf; [ -f /etc/new/dir/file.conf ] && echo is-file'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = single ]
  [ "${lines[1]}" = is-file ]
  # the destination was created in the rootfs, as an empty file
  [ -f "$BUNDLE/rootfs/etc/new/dir/file.conf" ]
  [ ! -s "$BUNDLE/rootfs/etc/new/dir/file.conf" ]
}

@test "bind mount source relative to the bundle" {
  mkdir -p "$BUNDLE/volume"
  echo relative > "$BUNDLE/volume/f"
  add_mount '{"destination": "/vol", "type": "bind", "source": "volume", "options": ["rbind"]}'
  cd /
  ctr 'cat /vol/f'
  [ "$status" -eq 0 ]
  [ "$output" = relative ]
}

@test "tmpfs with size= and mode=: the limit is enforced" {
  add_mount '{"destination": "/small", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "nosuid"]}'
  ctr 'grep " /small " /proc/self/mountinfo; stat -c %a /small; dd if=/dev/zero of=/small/f bs=1024 count=2048 2>/dev/null && echo fit; true'
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"size=1024k"* ]]
  [[ "${lines[0]}" == *"nosuid"* ]]
  [ "${lines[1]}" = 700 ]
  [[ "$output" != *fit* ]]
}

@test "proc and sysfs: the container's pid namespace and a read-only /sys" {
  ctr 'cat /proc/1/cmdline | tr "\0" " "; echo; ls /sys/kernel >/dev/null && echo sys-ok; awk "\$5 == \"/sys\"" /proc/self/mountinfo; touch /sys/x 2>/dev/null || echo sys-ro'
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "sh -c "* ]]
  [ "${lines[1]}" = sys-ok ]
  [[ "${lines[2]}" == *" /sys ro,nosuid,nodev,noexec"*"- sysfs "* ]]
  [ "${lines[3]}" = sys-ro ]
}

@test "devpts, shm, mqueue and the default devices" {
  ctr 'for m in /dev /dev/pts /dev/shm /dev/mqueue; do awk -v d=$m "\$5 == d {print \$5, \$(NF-2)}" /proc/self/mountinfo; done
       for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done
       for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done'
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev tmpfs"* ]]
  [[ "$output" == *"/dev/pts devpts"* ]]
  [[ "$output" == *"/dev/shm tmpfs"* ]]
  [[ "$output" == *"/dev/mqueue mqueue"* ]]
  [[ "$output" == *"/dev/null character special file 1:3 666"* ]]
  [[ "$output" == *"/dev/zero character special file 1:5 666"* ]]
  [[ "$output" == *"/dev/full character special file 1:7 666"* ]]
  [[ "$output" == *"/dev/random character special file 1:8 666"* ]]
  [[ "$output" == *"/dev/urandom character special file 1:9 666"* ]]
  [[ "$output" == *"/dev/tty character special file 5:0 666"* ]]
  [[ "$output" == *"fd -> /proc/self/fd"* ]]
  [[ "$output" == *"stdin -> /proc/self/fd/0"* ]]
  [[ "$output" == *"stdout -> /proc/self/fd/1"* ]]
  [[ "$output" == *"stderr -> /proc/self/fd/2"* ]]
  [[ "$output" == *"ptmx -> pts/ptmx"* ]]
}

@test "linux.devices: node type, numbers, mode and owner" {
  update_config '.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5, "fileMode": 384, "uid": 1, "gid": 2}]
                 | .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]'
  ctr 'stat -c "%F %t:%T %a %u %g" /dev/mydev'
  [ "$status" -eq 0 ]
  [ "$output" = "character special file 1:5 600 1 2" ]
}

@test "without a /dev mount the rootfs's own /dev gets the devices" {
  update_config '.mounts |= map(select(.destination | startswith("/dev") | not))'
  ctr 'stat -c "%F %t:%T" /dev/null; readlink /dev/fd'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "character special file 1:3" ]
  [ "${lines[1]}" = /proc/self/fd ]
}

@test "cgroup mount in a cgroup namespace shows the container's own cgroup as the root" {
  ctr 'ls /sys/fs/cgroup; cat /proc/self/cgroup; grep " /sys/fs/cgroup" /proc/self/mountinfo | head -1; touch /sys/fs/cgroup/x 2>/dev/null || echo ro'
  [ "$status" -eq 0 ]
  if stat -f -c %T /sys/fs/cgroup | grep -q cgroup2; then
    [[ "$output" == *cgroup.procs* ]]
  else
    [[ "$output" == *memory* ]]
    [[ "$output" == *pids* ]]
  fi
  # every hierarchy's path is / inside the namespace
  ! grep -E '^[0-9]+:[^:]*:/.+' <<<"$output" || false
  [ "${lines[-1]}" = ro ]
}

@test "cgroup mount without a cgroup namespace binds the container's own directory" {
  update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
  if stat -f -c %T /sys/fs/cgroup | grep -q cgroup2; then
    ctr 'cat /sys/fs/cgroup/cgroup.procs'
  else
    ctr 'cat /sys/fs/cgroup/pids/cgroup.procs'
  fi
  [ "$status" -eq 0 ]
  # only the container's processes: pid 1 (sh) and cat
  [ "${#lines[@]}" -le 2 ]
  [ "${lines[0]}" = 1 ]
}

@test "maskedPaths: files read as empty, directories as empty, missing paths ignored" {
  update_config '.linux.maskedPaths = ["/proc/timer_list", "/proc/kcore", "/sys/firmware", "/does/not/exist"]'
  ctr 'wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l; if [ -e /proc/kcore ]; then wc -c < /proc/kcore; else echo 0; fi'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = 0 ]
  # the control: unmasked, the same file has content
  update_config '.linux.maskedPaths = []'
  ctr 'wc -c < /proc/timer_list'
  [ "$status" -eq 0 ]
  [ "$output" -gt 0 ]
}

@test "readonlyPaths: /proc/sys is read-only, and writable without the entry" {
  update_config '.hostname = "before"'
  ctr 'echo after > /proc/sys/kernel/hostname 2>/dev/null && echo wrote; hostname; grep " /proc/sys " /proc/self/mountinfo'
  [ "$status" -eq 0 ]
  [[ "$output" != *wrote* ]]
  [[ "$output" == *before* ]]
  # read-only, and the flags of /proc (rw,relatime in runc's spec) otherwise kept
  [[ "$(mount_line /proc/sys)" == *" /proc/sys ro,relatime "* ]]

  update_config '.linux.readonlyPaths = []'
  ctr 'echo after > /proc/sys/kernel/hostname && echo wrote; hostname'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = wrote ]
  [ "${lines[1]}" = after ]
}

@test "root.readonly makes / read-only and leaves the tmpfs mounts writable" {
  update_config '.root.readonly = true'
  ctr 'touch /x 2>/dev/null && echo wrote-root; touch /dev/shm/x && echo wrote-shm'
  [ "$status" -eq 0 ]
  [ "$output" = wrote-shm ]
  update_config '.root.readonly = false'
  ctr 'touch /x && echo wrote-root'
  [ "$status" -eq 0 ]
  [ "$output" = wrote-root ]
  [ -e "$BUNDLE/rootfs/x" ]
}

@test "rootfsPropagation: shared, private and unbindable show on /" {
  update_config '.linux.rootfsPropagation = "shared"'
  ctr 'cat /proc/self/mountinfo'
  [ "$status" -eq 0 ]
  [[ "$(mount_line /)" == *" shared:"* ]]

  update_config '.linux.rootfsPropagation = "private"'
  ctr 'cat /proc/self/mountinfo'
  [ "$status" -eq 0 ]
  [[ "$(mount_line /)" != *"shared:"* ]]
  [[ "$(mount_line /)" != *"master:"* ]]

  update_config '.linux.rootfsPropagation = "unbindable"'
  ctr 'cat /proc/self/mountinfo'
  [ "$status" -eq 0 ]
  [[ "$(mount_line /)" == *" unbindable "* ]]
}

@test "rootfsPropagation slave receives host mounts, private does not" {
  # make the rootfs a shared mount on the host so there is something to propagate from
  mount --bind "$BUNDLE/rootfs" "$BUNDLE/rootfs"
  mount --make-shared "$BUNDLE/rootfs"
  mkdir -p "$BUNDLE/rootfs/mnt/late"
  for prop in rslave private; do
    update_config ".linux.rootfsPropagation = \"$prop\" | .process.args = [\"sh\", \"-c\", \"while [ ! -e /tmp/go ]; do sleep 0.1; done; ls /mnt/late\"]"
    rm -f "$BUNDLE/rootfs/tmp/go"
    rt run -d --bundle "$BUNDLE" "$CTR_PREFIX-$prop" 2>/dev/null
    wait_for_state "$CTR_PREFIX-$prop" running
    pid=$(rt state "$CTR_PREFIX-$prop" | jq -r .pid)
    mount -t tmpfs tmpfs "$BUNDLE/rootfs/mnt/late"
    touch "$BUNDLE/rootfs/mnt/late/propagated"
    # what the container sees, through its own mount namespace
    seen=$(ls "/proc/$pid/root/mnt/late")
    umount "$BUNDLE/rootfs/mnt/late"
    touch "$BUNDLE/rootfs/tmp/go"
    wait_for_state "$CTR_PREFIX-$prop" stopped
    rt delete "$CTR_PREFIX-$prop"
    if [ "$prop" = rslave ]; then
      [ "$seen" = propagated ]
    else
      [ -z "$seen" ]
    fi
  done
}

@test "rootfsPropagation rshared with an rshared bind of a shared host dir: the container's mounts there reach the host, as with runc (a Bidirectional volume)" {
  mount --bind "$HOSTDIR" "$HOSTDIR"
  mount --make-shared "$HOSTDIR"
  add_mount "{\"destination\": \"/vol\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\", \"rw\", \"rshared\"]}"
  update_config '.linux.rootfsPropagation = "rshared" | .process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
  local rts=(rt) name
  command -v runc > /dev/null && rts+=(runc_rt)
  runc_rt() { runc --root "$BATS_TEST_TMPDIR/runc-state" "$@"; }
  for name in "${rts[@]}"; do
    update_config ".process.args = [\"sh\", \"-c\", \"mkdir -p /vol/$name && mount -t tmpfs none /vol/$name && echo from-$name > /vol/$name/f\"]"
    run "$name" run --bundle "$BUNDLE" "$CTR_PREFIX-$name"
    echo "$name: $output"
    [ "$status" -eq 0 ]
    [ "$(cat "$HOSTDIR/$name/f")" = "from-$name" ]
    umount "$HOSTDIR/$name"
    "$name" delete "$CTR_PREFIX-$name" 2>/dev/null || true
  done
  # The container's own root and its mounts did not leak to the host.
  [ -z "$(awk -v b="$BUNDLE" 'index($5, b) == 1' /proc/self/mountinfo)" ]
}

@test "--no-pivot: the container runs in its rootfs without pivot_root" {
  # A file only the host has: the container must not see it.
  touch "$HOSTDIR/host-only"
  ctr_no_pivot() {
    update_config '.process.args = ["sh", "-c", "ls /bin/busybox; [ -e '"$HOSTDIR/host-only"' ] || echo no-host; grep -c . /proc/self/mountinfo"]'
    rt run --no-pivot --bundle "$BUNDLE" "$CTR_PREFIX" 2>"$BATS_TEST_TMPDIR/err"
  }
  run ctr_no_pivot
  cat "$BATS_TEST_TMPDIR/err" >&2
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = /bin/busybox ]
  [ "${lines[1]}" = no-host ]
}

@test "invalid mounts are refused before anything is made" {
  cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/config.orig"
  n=$(jq '.mounts | length' "$BUNDLE/config.json")
  for bad in '{"destination": "relative", "type": "tmpfs", "source": "tmpfs"}|.destination' \
             '{"destination": "/x", "type": "bind", "source": "/nonexistent/podrun", "options": ["rbind"]}|.source' \
             '{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["rbind", "rxw"]}|.options: unknown option "rxw"' \
             '{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}|not supported'; do
    cp "$BATS_TEST_TMPDIR/config.orig" "$BUNDLE/config.json"
    add_mount "${bad%%|*}"
    run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
    [ "$status" -eq 1 ]
    [[ "$output" == *"mounts[$n]${bad#*|}"* || "${bad#*|}" = "not supported" ]]
    [[ "$output" == *"${bad#*|}"* ]]
    [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  done
  cp "$BATS_TEST_TMPDIR/config.orig" "$BUNDLE/config.json"
  update_config '.linux.rootfsPropagation = "sideways"'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *linux.rootfsPropagation* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "bind mounts ignore filesystem data options (mode=, size=) as runc does, and say so in --debug" {
  echo x > "$HOSTDIR/in"
  add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\", \"ro\", \"mode=755\", \"size=65536k\"]}"
  update_config '.process.args = ["sh", "-c", "cat /data/in; grep \" /data \" /proc/self/mountinfo"]'
  run --separate-stderr rt --debug run --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$stderr" >&2
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = x ]
  [[ "$(awk '{print $6}' <<<"${lines[1]}")" == ro,* ]]
  [[ "$stderr" == *'ignoring "mode=755,size=65536k": filesystem data a bind mount of `/data` cannot take'* ]]
  if command -v runc >/dev/null; then
    run runc --root "$BATS_TEST_TMPDIR/runc-state" run --bundle "$BUNDLE" "$CTR_PREFIX-runc"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = x ]
  fi
}

@test "bind mounts still refuse options that are no option at all" {
  add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\", \"nosiud\"]}"
  n=$(($(jq '.mounts | length' "$BUNDLE/config.json") - 1))
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"mounts[$n].options: unknown option \"nosiud\""* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}
