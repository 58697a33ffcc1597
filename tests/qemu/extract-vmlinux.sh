#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Extracts the uncompressed ELF kernel from a bzImage: qemu boots it directly through its PVH
# entry point, which under TCG saves the seconds the in-guest decompressor would take.
# usage: extract-vmlinux.sh BZIMAGE OUT   (exit 1 when no payload decompresses to an ELF)
set -euo pipefail
image=$1 out=$2

is_elf() {
    [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

# try MAGIC DECOMPRESSOR...: each offset where MAGIC occurs may start the payload.
try() {
    local magic=$1 offset
    shift
    command -v "$1" >/dev/null || return 1
    for offset in $(LC_ALL=C grep -obUaP "$magic" "$image" | cut -d: -f1); do
        # Decompressors complain about the bytes after the payload; the ELF check decides.
        tail -c +$((offset + 1)) "$image" | "$@" >"$out.tmp" 2>/dev/null || true
        if [ -s "$out.tmp" ] && is_elf "$out.tmp"; then
            mv "$out.tmp" "$out"
            return 0
        fi
    done
    rm -f "$out.tmp"
    return 1
}

try '\xfd7zXZ\x00' xz -dc --single-stream ||
    try '\x28\xb5\x2f\xfd' zstd -dcq ||
    try '\x1f\x8b\x08' gzip -dc ||
    try '\x02\x21\x4c\x18' lz4 -dc ||
    try 'BZh' bzip2 -dc ||
    { echo "extract-vmlinux: no ELF payload found in $image" >&2; exit 1; }
