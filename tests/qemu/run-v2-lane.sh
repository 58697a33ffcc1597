#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pure cgroup v2 lane: runs a command in a QEMU guest whose kernel was booted with
# cgroup_no_v1=all and which mounts only cgroup2 at /sys/fs/cgroup, so podrun's cgroup v2 code
# meets real v2 controllers even on a hybrid host. The guest sees the host's / read-only over 9p
# with a tmpfs overlay on top (writes stay in the guest), so the same binaries, bats, jq and the
# podrun build tree are used; /tmp, /var/tmp and /run are fresh tmpfs.
#
# usage: run-v2-lane.sh [OPTIONS] [--] [COMMAND [ARG...]]
#   default COMMAND: bats tests/integration/runtime-cgroups.bats (run from the source tree)
#   -s, --self-check   run tests/qemu/self-check.sh in the guest (lane health check)
#   --systemd          the systemd lane: the host's systemd is the guest's PID 1 (with the
#                      system bus) and runs the command from a unit (PODRUN_QEMU_SYSTEMD=1);
#                      default COMMAND: bats tests/integration/{runtime,cri}-systemd.bats
#   --prepare          only fetch and build what the lane needs into the cache, then exit
#   -e, --env VAR=VAL  set VAR in the guest (PODRUN_* variables are passed through anyway)
#   -k, --keep DIR     show the host's DIR in the guest although it is below /tmp, /var/tmp or
#                      /run (the working dir, the source tree and PODRUN_BUILD always are)
#   -t, --timeout SEC  kill the guest after SEC seconds (default 900, PODRUN_QEMU_TIMEOUT)
#   -m, --mem MIB      guest memory (default 1536, PODRUN_QEMU_MEM)
#   -c, --cpus N       guest vCPUs (default 2, PODRUN_QEMU_CPUS)
#   --accel kvm|tcg    default: kvm when the CPU has vmx/svm, /dev/kvm is writable and a probe
#                      boot works; tcg otherwise (PODRUN_QEMU_ACCEL)
#   -v, --verbose      show the guest console (kernel log level 6) and the run time on stderr
#                      once the guest is off (PODRUN_QEMU_VERBOSE=1)
# More knobs: PODRUN_QEMU_KERNEL_PKG (a linux-image-6.1.0-N-amd64 other than the newest),
# PODRUN_QEMU_MODULES (more modules to load at boot), PODRUN_QEMU_CPU (tcg CPU model, default max),
# PODRUN_QEMU_APPEND (more kernel parameters).
# The command runs as root in the guest, in the caller's working directory (the source tree for
# the default command), in the populated leaf cgroup /lane.scope (like a login shell on a systemd
# host: not the root cgroup, and no controllers below it). Its stdout and stderr reach this
# script's stdout and stderr unchanged, and this script exits with its exit status (125 when the
# lane itself failed, 124 on timeout).
# Cache: tests/build/qemu (PODRUN_QEMU_CACHE): the Debian kernel package, its extracted vmlinux
# and the initramfs; everything is rebuilt from Debian packages when missing.
# Paths given to the guest (working dir, PODRUN_BUILD) must not contain spaces.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${PODRUN_QEMU_CACHE:-$top/tests/build/qemu}
timeout_s=${PODRUN_QEMU_TIMEOUT:-900}
mem=${PODRUN_QEMU_MEM:-1536}
cpus=${PODRUN_QEMU_CPUS:-2}
accel=${PODRUN_QEMU_ACCEL:-}
verbose=${PODRUN_QEMU_VERBOSE:-}
systemd=${PODRUN_QEMU_SYSTEMD:-}
marker=PODRUN-V2-LANE-EXIT

# Loaded by the guest's init: the 9p root, the overlay on it, and what containers use.
BOOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay veth bridge)
# Shipped too, loaded on demand by modprobe or the kernel's request_module in the guest.
DEMAND_MODULES=(br_netfilter nf_tables nft_chain_nat nft_masq nft_nat nft_ct nft_compat
    nft_fib_inet nft_reject_inet nf_conntrack nf_nat xt_MASQUERADE xt_conntrack xt_comment
    xt_addrtype xt_mark xt_nat iptable_nat iptable_filter iptable_mangle ip6table_nat
    ip6table_filter ip6table_mangle tun dummy loop sch_netem)
read -r -a extra_modules <<<"${PODRUN_QEMU_MODULES:-}"
BOOT_MODULES+=("${extra_modules[@]}")

say() { echo "podrun-v2-lane: $*" >&2; }
die() {
    say "$*"
    exit 125
}

usage() {
    sed -n '/^# usage:/,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || die "$c is missing (scripts/install-deps.sh installs it)"
    done
}

# The newest linux-image-6.1.0-N-amd64 apt knows (the generic flavour: the cloud one lacks 9p).
pick_kernel_package() {
    apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | cut -d' ' -f1 |
        sort -t- -k5,5n | tail -n 1
}

# Sets kdir (vmlinux, vmlinuz, the .deb) and kver; downloads and unpacks what is missing.
prepare_kernel() {
    local pkg=${PODRUN_QEMU_KERNEL_PKG:-} d
    if [ -z "$pkg" ]; then
        # A kernel already in the cache wins: reruns need neither apt nor a network.
        for d in $(printf '%s\n' "$cache"/kernel-* | sort -V -r); do
            [ -f "$d/ready" ] && { kdir=$d && kver=${d##*/kernel-} && return 0; }
        done
        pkg=$(pick_kernel_package)
        if [ -z "$pkg" ]; then
            # A fresh machine (a CI container) may have no package lists yet.
            say "apt knows no linux-image-6.1.0-*-amd64: running apt-get update"
            apt-get update -qq >&2 || true
            pkg=$(pick_kernel_package)
        fi
        [ -n "$pkg" ] || die "apt offers no linux-image-6.1.0-*-amd64 (a Debian 12 source is needed)"
    fi
    kver=${pkg#linux-image-}
    kdir=$cache/kernel-$kver
    [ -f "$kdir/ready" ] && return 0

    say "fetching $pkg"
    rm -rf "$kdir" && mkdir -p "$kdir"
    # apt's sandbox user may not be able to write here; that only costs a warning.
    (cd "$kdir" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
        true
    local debs=("$kdir"/linux-image-*.deb)
    [ -f "${debs[0]}" ] || die "apt-get download $pkg failed"
    mv "${debs[0]}" "$kdir/kernel.deb"
    local x
    x=$(mktemp -d "$cache/unpack.XXXXXX")
    dpkg-deb --fsys-tarfile "$kdir/kernel.deb" | tar -x -C "$x" ./boot
    cp "$x/boot/vmlinuz-$kver" "$kdir/vmlinuz"
    cp "$x/boot/config-$kver" "$kdir/config"
    rm -rf "$x"
    if ! "$here/extract-vmlinux.sh" "$kdir/vmlinuz" "$kdir/vmlinux"; then
        say "booting the bzImage instead (slower: it decompresses itself in the guest)"
    fi
    touch "$kdir/ready"
}

# module_paths DIR NAME...: the .ko files (relative to lib/modules/KVER) that loading NAMEs
# needs, dependencies and soft pre-dependencies (crc32c before libcrc32c) first.
module_paths() {
    local root=$1 m line
    shift
    for m in "$@"; do
        modprobe -d "$root" -S "$kver" --show-depends "$m" ||
            die "kernel $kver has no module $m"
    done | while read -r line; do
        case "$line" in
        insmod\ *)
            line=${line#insmod }
            line=${line%% *}
            echo "${line#"$root/lib/modules/$kver/"}"
            ;;
        esac
    done | awk '!seen[$0]++'
}

# Sets initramfs: busybox, guest-init.sh as /init and the modules, rebuilt when an input changes.
prepare_initramfs() {
    local key
    key=$({
        echo "$kver ${BOOT_MODULES[*]} / ${DEMAND_MODULES[*]}"
        sha256sum "$here/guest-init.sh" /bin/busybox
    } | sha256sum | cut -c1-16)
    initramfs=$cache/initramfs-$key.cpio
    [ -f "$initramfs" ] && return 0

    say "building the initramfs"
    local stage full
    stage=$(mktemp -d "$cache/stage.XXXXXX")
    full=$(mktemp -d "$cache/modules.XXXXXX")
    dpkg-deb --fsys-tarfile "$kdir/kernel.deb" | tar -x -C "$full" "./lib/modules/$kver"
    depmod -b "$full" "$kver"

    mkdir -p "$stage"/{bin,dev,proc,sys,lane,"lib/modules/$kver"}
    cp /bin/busybox "$stage/bin/busybox"
    local applet
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
    done
    cp "$here/guest-init.sh" "$stage/init"
    chmod 755 "$stage/init"

    module_paths "$full" "${BOOT_MODULES[@]}" >"$stage/lane/modules.load"
    local m src=$full/lib/modules/$kver dst=$stage/lib/modules/$kver
    for m in $(cat "$stage/lane/modules.load"; module_paths "$full" "${DEMAND_MODULES[@]}"); do
        mkdir -p "$dst/$(dirname "$m")"
        cp "$src/$m" "$dst/$m"
    done
    cp "$src"/modules.{order,builtin,builtin.modinfo} "$dst/"
    depmod -b "$stage" "$kver"
    rm -rf "$full"

    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initramfs.tmp"
    rm -rf "$stage"
    rm -f "$cache"/initramfs-*.cpio
    mv "$initramfs.tmp" "$initramfs"
}

prepare() {
    need qemu-system-x86_64 apt-get dpkg-deb depmod modprobe cpio timeout flock mkfifo realpath
    [ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root ||
        die "/bin/busybox (busybox-static) is missing"
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    prepare_kernel
    prepare_initramfs
    kernel=$kdir/vmlinux
    [ -f "$kernel" ] || kernel=$kdir/vmlinuz
    exec 9>&-
}

qemu_base_args() {
    echo -nodefaults -no-user-config -display none -no-reboot -machine pc -nic none
}

# kvm only where it can really run this kernel: hardware virtualization, a writable /dev/kvm, and
# a probe boot that reaches the kernel's panic (no initramfs) within seconds. Cached per CPU.
choose_accel() {
    [ -n "$accel" ] && return 0
    accel=tcg
    grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ] || return 0
    local id probe log
    id=$({ uname -r; grep -m1 'model name' /proc/cpuinfo; echo "$kernel"; } | sha256sum | cut -c1-16)
    probe=$cache/kvm-probe-$id
    if [ ! -f "$probe" ]; then
        log=$(mktemp)
        # shellcheck disable=SC2046
        timeout -k 5 20 qemu-system-x86_64 $(qemu_base_args) -accel kvm -cpu host -m 256 \
            -kernel "$kernel" -append "console=ttyS0 panic=-1 rdinit=/none" \
            -serial "file:$log" </dev/null >/dev/null 2>&1 || true
        if grep -q 'Kernel panic' "$log"; then echo kvm >"$probe"; else echo tcg >"$probe"; fi
        rm -f "$log"
    fi
    accel=$(cat "$probe")
}

accel_args() {
    case "$accel" in
    kvm) echo -accel kvm -cpu host ;;
    tcg) echo -accel tcg,thread=multi -cpu "${PODRUN_QEMU_CPU:-max}" ;;
    *) die "unknown accelerator $accel (kvm or tcg)" ;;
    esac
}

# The per-run part of the initramfs: /lane/run.env and /lane/cmd (a bash script).
write_run_files() {
    local dir=$1 cwd=$2
    shift 2
    mkdir -p "$dir/lane"
    local keep=() p v
    for p in "$cwd" "$top" "${PODRUN_BUILD:-}" "$(dirname "${PODRUN_RUNTIME:-/}")" "${keep_dirs[@]}"; do
        [ -n "$p" ] && [ -d "$p" ] || continue
        p=$(realpath "$p")
        case "$p" in *[[:space:]]*) die "path with whitespace cannot reach the guest: $p" ;; esac
        keep+=("$p")
    done
    {
        printf 'LANE_KVER=%q\n' "$kver"
        printf 'LANE_KEEP=%q\n' "${keep[*]}"
        printf 'LANE_VERBOSE=%q\n' "$verbose"
        printf 'LANE_SYSTEMD=%q\n' "$systemd"
    } >"$dir/lane/run.env"
    {
        echo '#!/bin/bash'
        echo 'export LANG=C.UTF-8 PODRUN_V2_LANE=1'
        # The systemd lane's tests fail, not skip, when systemd is not there after all.
        [ -z "$systemd" ] || echo 'export PODRUN_SYSTEMD_LANE=1'
        for v in $(compgen -e | grep '^PODRUN_' | grep -v '^PODRUN_QEMU_'); do
            printf 'export %s=%q\n' "$v" "${!v}"
        done
        for v in "${guest_env[@]}"; do
            printf 'export %q\n' "$v"
        done
        printf 'cd %q || exit 125\n' "$cwd"
        printf 'exec'
        printf ' %q' "$@"
        echo
    } >"$dir/lane/cmd"
    (cd "$dir" && find lane | cpio -o -H newc -R 0:0 --quiet)
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    if [ -n "${qemu_pid:-}" ]; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    # The copies block in open() when qemu never opened its end of the fifos.
    local p
    for p in ${cat_out:-} ${cat_err:-}; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [ -n "${tmp:-}" ] && rm -rf "$tmp"
}

run_guest() {
    local cwd=$1
    shift
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/podrun-v2-lane.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    write_run_files "$tmp/run" "$cwd" "$@" >"$tmp/run.cpio"
    cat "$initramfs" "$tmp/run.cpio" >"$tmp/initrd"
    local loglevel=3 sd_args=
    [ -n "$verbose" ] && loglevel=6
    # systemd's status lines and its own log stay off the console unless asked for.
    if [ -n "$systemd" ]; then
        sd_args="systemd.unit=podrun-lane.target systemd.show_status=0 systemd.log_target=console"
        sd_args+=" systemd.log_level=$([ -n "$verbose" ] && echo info || echo warning)"
    fi

    # qemu writes the guest's stdout and stderr into fifos that cat copies to ours: qemu opening
    # /dev/stdout itself would make a second open file description and, when that is a regular
    # file, overwrite what this script writes there.
    mkfifo "$tmp"/{out,err}.{in,out}
    cat "$tmp/out.out" &
    cat_out=$!
    cat "$tmp/err.out" >&2 &
    cat_err=$!

    local start end rc=0
    start=$(date +%s.%N)
    # ttyS0: console and exit marker; ttyS1: the command's stdout; ttyS2: its stderr.
    # shellcheck disable=SC2046
    timeout -k 10 "$timeout_s" qemu-system-x86_64 $(qemu_base_args) $(accel_args) \
        -smp "$cpus" -m "$mem" \
        -kernel "$kernel" -initrd "$tmp/initrd" \
        -append "console=ttyS0 quiet loglevel=$loglevel panic=-1 cgroup_no_v1=all rdinit=/init $sd_args ${PODRUN_QEMU_APPEND:-}" \
        -chardev "file,id=con,path=$tmp/console.log" -serial chardev:con \
        -chardev "pipe,id=out,path=$tmp/out" -serial chardev:out \
        -chardev "pipe,id=err,path=$tmp/err" -serial chardev:err \
        -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
        -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
        </dev/null &
    qemu_pid=$!
    wait "$qemu_pid" || rc=$?
    qemu_pid=
    end=$(date +%s.%N)
    wait "$cat_out" "$cat_err" || true
    cat_out= cat_err=

    [ -n "$verbose" ] && { sed "s/\r$//; s/^/guest: /" "$tmp/console.log" >&2 || true; }
    [ -n "$verbose" ] && say "$(awk -v s="$start" -v e="$end" -v a="$accel" 'BEGIN { printf "qemu ran %.1f s (%s)", e - s, a }')"
    if [ "$rc" = 124 ]; then
        say "the guest did not finish within $timeout_s s; console:"
        tail -n 40 "$tmp/console.log" | sed 's/\r$//' >&2
        return 124
    fi
    local status
    touch "$tmp/console.log"
    status=$(tr -d '\r' <"$tmp/console.log" | sed -n "s/^$marker \([0-9]*\)\$/\1/p" | tail -n 1)
    if [ -z "$status" ]; then
        say "the guest stopped without reporting a result (qemu exit $rc); console:"
        tail -n 40 "$tmp/console.log" | sed 's/\r$//' >&2
        return 125
    fi
    return "$status"
}

main() {
    local mode=run
    guest_env=()
    keep_dirs=()
    while [ $# -gt 0 ]; do
        case "$1" in
        -s | --self-check) mode=self-check ;;
        --systemd) systemd=1 ;;
        --prepare) mode=prepare ;;
        -e | --env)
            [[ "${2:-}" == ?*=* ]] || die "--env needs VAR=VALUE"
            guest_env+=("$2")
            shift
            ;;
        -k | --keep)
            [ -d "${2:-}" ] || die "--keep needs a directory"
            keep_dirs+=("$2")
            shift
            ;;
        -t | --timeout) timeout_s=$2 && shift ;;
        -m | --mem) mem=$2 && shift ;;
        -c | --cpus) cpus=$2 && shift ;;
        --accel) accel=$2 && shift ;;
        -v | --verbose) verbose=1 ;;
        -h | --help) usage && exit 0 ;;
        --) shift && break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
        esac
        shift
    done
    prepare
    [ "$mode" = prepare ] && exit 0
    choose_accel

    local cwd=$PWD
    if [ "$mode" = self-check ]; then
        set -- bash "$here/self-check.sh"
    elif [ $# -eq 0 ] && [ -n "$systemd" ]; then
        cwd=$top
        export PODRUN_BUILD=${PODRUN_BUILD:-$top/build}
        set -- bats tests/integration/runtime-systemd.bats tests/integration/cri-systemd.bats
    elif [ $# -eq 0 ]; then
        cwd=$top
        export PODRUN_BUILD=${PODRUN_BUILD:-$top/build}
        set -- bats tests/integration/runtime-cgroups.bats
    fi
    local rc=0
    run_guest "$cwd" "$@" || rc=$?
    exit "$rc"
}

main "$@"
