#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# PID 1 of the pure cgroup v2 lane's guest (busybox ash). run-v2-lane.sh puts it into the
# initramfs as /init, next to busybox, a few kernel modules and /lane/ (run.env: settings,
# modules.load: insmod order, cmd: the bash script to run).
#
# Stage 1 (initramfs): load modules, mount the host's / read-only over 9p, put a tmpfs overlay
# on top so tests can write anywhere without touching the host, mount only cgroup2, and
# switch_root into that overlay. The root must be a real mount, not the initramfs: pivot_root
# (which every container start does) refuses to work while / is the initramfs.
# Stage 2 (PID 1 in the overlay): run the command with stdout on ttyS1 and stderr on ttyS2 (the
# host wires them to its own stdout and stderr), then print the exit marker on the console
# (ttyS0) and power off. The guest cannot set qemu's exit status; the marker carries it.

LANE=/run/podrun-lane
MARKER=PODRUN-V2-LANE-EXIT
LANE_CGROUP=lane.scope

log() {
    echo "podrun-v2-lane: $*" >/dev/console
}

die() {
    log "FATAL: $*"
    echo "$MARKER 125" >/dev/console
    poweroff -f
    sleep 3600
}

load_modules() {
    local m
    while read -r m; do
        [ -n "$m" ] || continue
        # "File exists" means built in or already loaded; other failures (crc32c-intel without
        # SSE4.2) are not fatal: the mount that needs a missing module will say so.
        if ! insmod "/lib/modules/$LANE_KVER/$m" 2>/dev/null && [ -n "$LANE_VERBOSE" ]; then
            log "insmod $m failed (ignored)"
        fi
    done </lane/modules.load
}

# mount_tmpfs_keeping DIR MODE: a fresh tmpfs on DIR in the new root, except that the paths in
# LANE_KEEP below DIR (a build dir in /tmp, say) stay visible from the overlay underneath.
mount_tmpfs_keeping() {
    local dir=$1 mode=$2 p n=0 kept=
    for p in $LANE_KEEP; do
        case "$p/" in "$dir"/?*) ;; *) continue ;; esac
        [ -d "/newroot$p" ] || continue
        n=$((n + 1))
        mkdir -p "/keep/$n" && mount --bind "/newroot$p" "/keep/$n" || die "cannot keep $p"
        kept="$kept $n:$p"
    done
    mount -t tmpfs -o "mode=$mode,nosuid,nodev" tmpfs "/newroot$dir" || die "tmpfs on $dir"
    for p in $kept; do
        n=${p%%:*}
        p=${p#*:}
        mkdir -p "/newroot$p" && mount --move "/keep/$n" "/newroot$p" || die "cannot keep $p"
        rmdir "/keep/$n"
    done
}

mount_v2_only() {
    mount -t cgroup2 -o nsdelegate,nosuid,nodev,noexec cgroup2 /newroot/sys/fs/cgroup ||
        die "cannot mount cgroup2"
    local c
    for c in $(cat /newroot/sys/fs/cgroup/cgroup.controllers); do
        echo "+$c" >/newroot/sys/fs/cgroup/cgroup.subtree_control ||
            log "cannot enable controller $c"
    done
}

stage1() {
    export PATH=/bin
    mount -t devtmpfs devtmpfs /dev
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    . /lane/run.env
    load_modules

    mkdir -p /host /rw /newroot /keep
    mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=262144 hostroot /host ||
        die "cannot mount the host's root over 9p"
    mount -t tmpfs -o mode=755 rw /rw && mkdir -p /rw/upper /rw/work && chmod 755 /rw/upper ||
        die "tmpfs for the overlay"
    mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
        die "cannot mount the overlay over the host's root"

    mount_tmpfs_keeping /tmp 1777
    mount_tmpfs_keeping /var/tmp 1777
    mount_tmpfs_keeping /run 755

    # The host's /lib/modules has no modules for this kernel: ship ours so modprobe (and the
    # kernel's request_module, e.g. for veth) works after switch_root.
    rm -rf "/newroot/lib/modules/$LANE_KVER"
    mkdir -p /newroot/lib/modules && cp -a "/lib/modules/$LANE_KVER" /newroot/lib/modules/

    mkdir -p "/newroot$LANE"
    cp /bin/busybox /init /lane/* "/newroot$LANE/"

    for d in dev proc sys; do
        mount --move "/$d" "/newroot/$d" || die "cannot move /$d"
    done
    mkdir -p /newroot/dev/pts /newroot/dev/shm /newroot/dev/mqueue
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /newroot/dev/pts
    # What udev would add: bash's process substitution needs /dev/fd.
    ln -sfn pts/ptmx /newroot/dev/ptmx
    ln -sfn /proc/self/fd /newroot/dev/fd
    ln -sfn /proc/self/fd/0 /newroot/dev/stdin
    ln -sfn /proc/self/fd/1 /newroot/dev/stdout
    ln -sfn /proc/self/fd/2 /newroot/dev/stderr
    ln -sfn /proc/kcore /newroot/dev/core
    mount -t tmpfs -o mode=1777,nosuid,nodev shm /newroot/dev/shm
    mount -t mqueue mqueue /newroot/dev/mqueue

    if [ -n "$LANE_SYSTEMD" ]; then
        # systemd mounts cgroup2 itself and runs the command from a unit (write_systemd_units).
        write_systemd_units
        hostname podrun-systemd-lane
        exec switch_root /newroot /lib/systemd/systemd --unit=podrun-lane.target
        die "switch_root to /lib/systemd/systemd failed"
    fi
    mount_v2_only

    hostname podrun-v2-lane
    exec switch_root /newroot "$LANE/busybox" sh "$LANE/init" stage2
    die "switch_root failed"
}

# The systemd lane: systemd (the host's, over 9p) is PID 1 and starts only podrun-lane.target
# (systemd.unit= on the kernel's command line; not default.target, whose .wants the host fills):
# the system bus and the unit running the command, with no default dependencies, so that boot
# does not wait for udev, the journal or the host's own units. Written into the overlay's upper
# layer: the host's /etc is not touched.
write_systemd_units() {
    local d=/newroot/etc/systemd/system u
    [ -x /newroot/lib/systemd/systemd ] || die "the host has no /lib/systemd/systemd"
    mkdir -p "$d"
    cat >"$d/podrun-lane.target" <<EOT
[Unit]
Description=podrun systemd lane
Requires=podrun-lane.service
After=podrun-lane.service
EOT
    cat >"$d/podrun-lane.service" <<EOT
[Unit]
Description=podrun lane command
DefaultDependencies=no
Requires=dbus.socket
After=dbus.socket dbus.service
Wants=dbus.service
[Service]
Type=simple
ExecStart=$LANE/busybox sh $LANE/init unit
EOT
    for u in dbus.service dbus.socket; do
        mkdir -p "$d/$u.d"
        printf '[Unit]\nDefaultDependencies=no\n' >"$d/$u.d/podrun-lane.conf"
    done
    # An empty machine-id: systemd makes a transient one (the host's would be shared).
    : >/newroot/etc/machine-id
    # A host that is itself a container (/.dockerenv) would make systemd think it runs in one:
    # then it ignores the kernel's command line and skips what a booted machine does.
    rm -f /newroot/.dockerenv /newroot/run/.containerenv
}

# Kills every process but PID 1 and the given ones: leftovers of the command would otherwise
# keep the output pipes open (and the guest up) forever.
kill_leftovers() {
    local p keep=" 1 $$ $* "
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        case "$keep" in *" $p "*) continue ;; esac
        kill -9 "$p" 2>/dev/null
    done
}

stage2() {
    # Nothing holds the console open, so each write's close waits until the UART sent it: the
    # marker cannot be lost by the poweroff that follows.
    exec </dev/null >/dev/null 2>&1
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    . "$LANE/run.env"

    # The command lives in a populated leaf cgroup, as a login shell does in its session scope on
    # a systemd host: code that would enable controllers in its own cgroup fails here as there.
    mkdir "/sys/fs/cgroup/$LANE_CGROUP" && echo $$ >"/sys/fs/cgroup/$LANE_CGROUP/cgroup.procs" ||
        die "cannot create /sys/fs/cgroup/$LANE_CGROUP"
    run_command
}

# The systemd lane's podrun-lane.service: systemd already put it in a cgroup of its own.
unit() {
    exec </dev/null >/dev/null 2>&1
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    . "$LANE/run.env"
    run_command
}

run_command() {
    local bb="$LANE/busybox"
    "$bb" ip link set lo up
    [ -n "$LANE_VERBOSE" ] && log "up $(cut -d' ' -f1 /proc/uptime) s"

    "$bb" stty -F /dev/ttyS1 raw -echo && "$bb" stty -F /dev/ttyS2 raw -echo ||
        die "cannot set up ttyS1/ttyS2"
    "$bb" mkfifo "$LANE/out" "$LANE/err"
    "$bb" cat "$LANE/out" >/dev/ttyS1 &
    local cat_out=$!
    "$bb" cat "$LANE/err" >/dev/ttyS2 &
    local cat_err=$!

    [ -n "$LANE_VERBOSE" ] && log "running $LANE/cmd"
    bash "$LANE/cmd" </dev/null >"$LANE/out" 2>"$LANE/err" &
    local cmd=$!
    wait "$cmd"
    local status=$?

    kill_leftovers "$cat_out" "$cat_err"
    wait "$cat_out" "$cat_err"
    echo "$MARKER $status" >/dev/console
    "$bb" poweroff -f
}

case "$1" in
stage2) stage2 ;;
unit) unit ;;
*) stage1 ;;
esac
