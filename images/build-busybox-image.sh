#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the busybox image podrun ships, from Debian's busybox-static, with no network:
#   DEST/busybox-oci/   an OCI image layout (one gzip layer)
#   DEST/busybox.tar    the same as an oci-archive
# Deterministic: fixed times, owners and entry order, gzip without a name or time, so the same
# busybox package always gives the same digests.
# usage: build-busybox-image.sh DEST
set -euo pipefail
dest=$1
top=$(cd "$(dirname "$0")/.." && pwd)
epoch=${SOURCE_DATE_EPOCH:-1700000000}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

mkdir -p "$dest"
work=$(mktemp -d "$dest/.busybox-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$top/tests/lib/busybox-rootfs.sh" "$work/rootfs"
find "$work/rootfs" -exec touch -h -d "@$epoch" {} +

tarflags=(--sort=name --format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
  --mtime="@$epoch" --owner=0 --group=0 --numeric-owner)
tar "${tarflags[@]}" -C "$work/rootfs" -cf "$work/layer.tar" .
gzip -n -9 -c "$work/layer.tar" > "$work/layer.tar.gz"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
diff_id=$(sha "$work/layer.tar")
layer=$(sha "$work/layer.tar.gz")

oci=$work/busybox-oci
mkdir -p "$oci/blobs/sha256"
mv "$work/layer.tar.gz" "$oci/blobs/sha256/$layer"
printf '%s' "{\"created\":\"$created\",\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\",\"Labels\":{\"org.opencontainers.image.title\":\"busybox\",\"org.opencontainers.image.source\":\"debian busybox-static\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$diff_id\"]},\"history\":[{\"created\":\"$created\",\"created_by\":\"podrun images/build-busybox-image.sh\"}]}" > "$work/config.json"
config=$(sha "$work/config.json")
config_size=$(size "$work/config.json")
mv "$work/config.json" "$oci/blobs/sha256/$config"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config\",\"size\":$config_size},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$layer\",\"size\":$(size "$oci/blobs/sha256/$layer")}]}" > "$work/manifest.json"
manifest=$(sha "$work/manifest.json")
manifest_size=$(size "$work/manifest.json")
mv "$work/manifest.json" "$oci/blobs/sha256/$manifest"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest\",\"size\":$manifest_size,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/busybox:latest\",\"org.opencontainers.image.ref.name\":\"latest\"}}]}" > "$oci/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
find "$oci" -exec touch -h -d "@$epoch" {} +
chmod -R u=rwX,go=rX "$oci"
tar "${tarflags[@]}" -C "$oci" -cf "$work/busybox.tar" oci-layout index.json blobs

rm -rf "$dest/busybox-oci"
mv "$oci" "$dest/busybox-oci"
mv "$work/busybox.tar" "$dest/busybox.tar"
