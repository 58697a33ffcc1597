#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds a minimal root filesystem from Debian's busybox-static: the image every test and the
# README's demo run, made locally because there is no network for images.
# usage: busybox-rootfs.sh DEST
set -euo pipefail
dest=$1
bb=/bin/busybox
[ -x "$bb" ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "${dest%/}.XXXXXX")
chmod 755 "$tmp" # mktemp makes it 0700: no other uid could enter the root
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,etc,dev,proc,sys,tmp,root,home,var/www,usr/bin,usr/sbin,run}
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$tmp/bin/$applet"
done
cat > "$tmp/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$tmp/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
echo "hosts: files" > "$tmp/etc/nsswitch.conf"
: > "$tmp/etc/hosts"
: > "$tmp/etc/resolv.conf"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
