#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The image store: podrun load of every format, layer unpacking (whiteouts, metadata), hostile
# archives, digests, and the index commands (images, tag, rmi, save, image inspect/prune).

load ../lib/helpers
load ../lib/images-helpers
load ../lib/limits-helpers

setup() {
  images_setup
}

teardown() {
  standard_teardown
  if [ -n "${MERGED:-}" ] && mountpoint -q "$MERGED"; then umount "$MERGED"; fi
  rm -rf "$IMAGES_ROOT"
}

@test "load: the shipped busybox oci-archive, then listed by images (table and json)" {
  run pr load "$BUSYBOX_TAR"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: docker.io/library/busybox:latest"* ]]
  run pr images
  [ "$status" -eq 0 ]
  [[ "${lines[1]}" == "docker.io/library/busybox "*" latest "* ]]
  run pr images --format json
  [ "$(jq -r '.[0].Names[0]' <<<"$output")" = docker.io/library/busybox:latest ]
  [ "$(jq -r 'length' <<<"$output")" = 1 ]
  # The layer is unpacked once, into layers/<digest>, with busybox in it.
  layer=$(jq -r '.[0].Layers[0]' < <(pr image inspect busybox))
  [ -x "$IMAGES_ROOT/layers/${layer#sha256:}/bin/busybox" ]
  [ -L "$IMAGES_ROOT/layers/${layer#sha256:}/bin/sh" ]
  assert_store_clean_tmp
}

@test "load: an archive on standard input" {
  run pr load < "$BUSYBOX_TAR"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: docker.io/library/busybox:latest"* ]]
  id1=$(pr images --format json | jq -r '.[0].Id')
  [ -n "$id1" ]
  [ "$id1" != null ]
  # The gzip load goes into a fresh store, so a load that does nothing cannot pass.
  gzip -c "$BUSYBOX_TAR" > "$BATS_TEST_TMPDIR/bb.tar.gz"
  IMAGES_ROOT=$BATS_TEST_TMPDIR/images-gz
  run pr load - < "$BATS_TEST_TMPDIR/bb.tar.gz"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: docker.io/library/busybox:latest"* ]]
  [ "$(pr images --format json | jq -r 'length')" = 1 ]
  [ "$(pr images --format json | jq -r '.[0].Id')" = "$id1" ]
  rm -rf "$IMAGES_ROOT"
}

@test "load: the OCI layout directory gives the same image as the archive" {
  pr load "$BUSYBOX_TAR"
  id1=$(pr images --format json | jq -r '.[0].Id')
  [ -n "$id1" ]
  [ "$id1" != null ]
  # A fresh store, so a load that does nothing cannot pass.
  IMAGES_ROOT=$BATS_TEST_TMPDIR/images-oci
  run pr load "$BUSYBOX_OCI"
  [ "$status" -eq 0 ]
  [ "$(pr images --format json | jq -r 'length')" = 1 ]
  [ "$(pr images --format json | jq -r '.[0].Id')" = "$id1" ]
  rm -rf "$IMAGES_ROOT"
}

@test "load: the unpacked layer matches tar -x of the same layer, metadata included" {
  pr load "$BUSYBOX_TAR"
  layer=$(pr image inspect busybox | jq -r '.[0].Layers[0]')
  mkdir "$BATS_TEST_TMPDIR/x"
  tar -xzf "$IMAGES_ROOT/blobs/sha256/${layer#sha256:}" -C "$BATS_TEST_TMPDIR/x" --numeric-owner
  (cd "$IMAGES_ROOT/layers/${layer#sha256:}" && find . -printf '%p %m %U %G %T@ %l %s\n' | sort) > "$BATS_TEST_TMPDIR/ours"
  (cd "$BATS_TEST_TMPDIR/x" && find . -printf '%p %m %U %G %T@ %l %s\n' | sort) > "$BATS_TEST_TMPDIR/tar"
  diff "$BATS_TEST_TMPDIR/ours" "$BATS_TEST_TMPDIR/tar"
}

@test "load: docker-archive (docker save shape) made by skopeo" {
  skopeo copy -q "oci-archive:$BUSYBOX_TAR" "docker-archive:$BATS_TEST_TMPDIR/d.tar:example.com/bb:v1"
  tar -tf "$BATS_TEST_TMPDIR/d.tar" | grep -qx manifest.json
  run pr load "$BATS_TEST_TMPDIR/d.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: example.com/bb:v1"* ]]
  layer=$(pr image inspect example.com/bb:v1 | jq -r '.[0].Layers[0]')
  [ -x "$IMAGES_ROOT/layers/${layer#sha256:}/bin/busybox" ]
}

@test "load: layers as plain tar, gzip and zstd" {
  mklayer "$BATS_TEST_TMPDIR/l.tar" 'd("etc"); reg("etc/hello", b"hi\n")'
  for c in none gzip zstd; do
    python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/$c" --compress $c --name "localhost/c-$c:latest" \
      --archive "$BATS_TEST_TMPDIR/$c.tar" "$BATS_TEST_TMPDIR/l.tar"
    run pr load "$BATS_TEST_TMPDIR/$c.tar"
    [ "$status" -eq 0 ]
    dir=$(pr image inspect "localhost/c-$c" | jq -r '.[0].LayerDirs[0]')
    [ "$(cat "$dir/etc/hello")" = hi ]
  done
  [ "$(pr image inspect localhost/c-zstd | jq -r '.[0].Manifest.layers[0].mediaType')" = application/vnd.oci.image.layer.v1.tar+zstd ]
}

@test "load: an index with several platforms picks linux/amd64; none matching is a clear error" {
  mklayer "$BATS_TEST_TMPDIR/l.tar" 'reg("f", b"x")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/multi" --platforms linux/arm64,linux/amd64,linux/s390x "$BATS_TEST_TMPDIR/l.tar"
  run pr load "$BATS_TEST_TMPDIR/multi"
  [ "$status" -eq 0 ]
  [ "$(pr image inspect localhost/test | jq -r '.[0].Architecture')" = amd64 ]
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/arm" --platforms linux/arm64,linux/arm/v7 --name localhost/arm:1 "$BATS_TEST_TMPDIR/l.tar"
  run pr load "$BATS_TEST_TMPDIR/arm"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no image for this platform (linux/amd64)"*"linux/arm64"* ]]
  run pr image inspect localhost/arm:1
  [ "$status" -eq 1 ]
}

@test "unpack: OCI whiteouts become overlayfs whiteouts and the layers stack" {
  mklayer "$BATS_TEST_TMPDIR/1.tar" 'd("a"); reg("a/old", b"1"); reg("gone", b"2"); reg("keep", b"3")'
  mklayer "$BATS_TEST_TMPDIR/2.tar" 'd("a"); reg("a/.wh..wh..opq"); reg("a/new", b"4"); reg(".wh.gone")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/wh" --archive "$BATS_TEST_TMPDIR/wh.tar" "$BATS_TEST_TMPDIR/1.tar" "$BATS_TEST_TMPDIR/2.tar"
  pr load "$BATS_TEST_TMPDIR/wh.tar"
  l1=$(pr image inspect localhost/test | jq -r '.[0].LayerDirs[0]')
  l2=$(pr image inspect localhost/test | jq -r '.[0].LayerDirs[1]')
  [ "$(stat -c '%F %t:%T' "$l2/gone")" = "character special file 0:0" ]
  [ "$(xattr_get "$l2/a" trusted.overlay.opaque)" = y ]
  [ ! -e "$l2/.wh.gone" ] && [ ! -e "$l2/a/.wh..wh..opq" ]
  MERGED=$BATS_TEST_TMPDIR/merged
  mkdir "$MERGED"
  mount -t overlay overlay -o "lowerdir=$l2:$l1" "$MERGED"
  [ "$(ls "$MERGED/a")" = new ]
  [ ! -e "$MERGED/gone" ]
  [ "$(cat "$MERGED/keep")" = 3 ]
}

@test "unpack: a later entry replaces an earlier one of the same name, whatever their types" {
  mklayer "$BATS_TEST_TMPDIR/r.tar" '
reg("a", b"file"); d("a"); reg("a/in", b"1")
d("b"); reg("b/x", b"2"); reg("b", b"now a file")
reg("c", b"3"); reg(".wh.c")
reg("e", b"old"); reg("e", b"new")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/r" "$BATS_TEST_TMPDIR/r.tar"
  pr load "$BATS_TEST_TMPDIR/r"
  l=$(pr image inspect localhost/test | jq -r '.[0].LayerDirs[0]')
  [ -d "$l/a" ] && [ "$(cat "$l/a/in")" = 1 ]
  [ -f "$l/b" ] && [ "$(cat "$l/b")" = "now a file" ]
  [ "$(stat -c '%F %t:%T' "$l/c")" = "character special file 0:0" ]
  [ "$(cat "$l/e")" = new ]
}

@test "unpack: ownership, modes, setuid, xattrs, hard links, symlinks, devices and mtimes are kept" {
  mklayer "$BATS_TEST_TMPDIR/m.tar" '
d("d", mode=0o700, uid=12, gid=34, mtime=1500000000)
reg("d/suid", b"#!/bin/sh\n", mode=0o4755, uid=1234, gid=5678, mtime=1400000000)
i = tarfile.TarInfo("x"); i.size = 1; i.pax_headers = {"SCHILY.xattr.user.color": "blue"}; t.addfile(i, io.BytesIO(b"x"))
hard("d/hl", "d/suid")
sym("link", "/d/suid", uid=7, gid=8)
node("null", tarfile.CHRTYPE, 1, 3, mode=0o666)
node("fifo", tarfile.FIFOTYPE)
reg("sparse", b"\0" * 100000 + b"end")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/m" --archive "$BATS_TEST_TMPDIR/m.tar.oci" "$BATS_TEST_TMPDIR/m.tar"
  pr load "$BATS_TEST_TMPDIR/m.tar.oci"
  l=$(pr image inspect localhost/test | jq -r '.[0].LayerDirs[0]')
  [ "$(stat -c '%a %u %g %Y' "$l/d")" = "700 12 34 1500000000" ]
  [ "$(stat -c '%a %u %g %Y' "$l/d/suid")" = "4755 1234 5678 1400000000" ]
  [ "$(stat -c '%i %h' "$l/d/suid")" = "$(stat -c '%i %h' "$l/d/hl")" ]
  [ "$(stat -c '%h' "$l/d/hl")" = 2 ]
  [ "$(xattr_get "$l/x" user.color)" = blue ]
  [ "$(readlink "$l/link")" = /d/suid ]
  [ "$(stat -c '%u %g' "$l/link")" = "7 8" ]
  [ "$(stat -c '%F %t:%T %a' "$l/null")" = "character special file 1:3 666" ]
  [ "$(stat -c '%F' "$l/fifo")" = fifo ]
  [ "$(stat -c '%s' "$l/sparse")" = 100003 ]
}

# Each hostile layer: load fails naming the entry, nothing is written outside, nothing is left.
hostile() {
  local layer=$BATS_TEST_TMPDIR/evil.tar
  mklayer "$layer" "$1"
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/evil" --name localhost/evil:1 --archive "$BATS_TEST_TMPDIR/evil.oci" "$layer"
  run pr load "$BATS_TEST_TMPDIR/evil.oci"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$2"* ]]
  run pr image inspect localhost/evil:1
  [ "$status" -eq 1 ]
  assert_store_empty
}

@test "hostile: ../ paths are refused" {
  hostile 'reg("../../../../tmp/podrun-evil-'$$'", b"x")' "entry \`../../../../tmp/podrun-evil-$$\`: \`..\` in the path"
  [ ! -e /tmp/podrun-evil-$$ ]
  hostile 'd("a"); reg("a/../../escape", b"x")' "entry \`a/../../escape\`: \`..\` in the path"
}

@test "hostile: absolute paths are refused" {
  hostile 'reg("/tmp/podrun-evil-abs-'$$'", b"x")' "entry \`/tmp/podrun-evil-abs-$$\`: absolute path"
  [ ! -e /tmp/podrun-evil-abs-$$ ]
}

@test "hostile: a symlink then a write through it is refused" {
  out=$BATS_TEST_TMPDIR/outside
  mkdir "$out"
  hostile 'sym("evil", "'"$out"'"); reg("evil/planted", b"x")' "entry \`evil/planted\`: its path goes through a symlink"
  [ ! -e "$out/planted" ]
  hostile 'sym("rel", "../../../../../../.."); reg("rel/tmp/planted2", b"x")' "entry \`rel/tmp/planted2\`: its path goes through a symlink"
  [ ! -e /tmp/planted2 ]
}

@test "hostile: writing over a symlink, or a hard link to one, replaces it and never writes through" {
  victim=$BATS_TEST_TMPDIR/victim
  echo original > "$victim"
  mklayer "$BATS_TEST_TMPDIR/l.tar" 'sym("f", "'"$victim"'"); reg("f", b"pwned"); sym("l", "'"$victim"'"); hard("h", "l"); reg("h", b"pwned")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/i" --archive "$BATS_TEST_TMPDIR/i.tar" "$BATS_TEST_TMPDIR/l.tar"
  run pr load "$BATS_TEST_TMPDIR/i.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$victim")" = original ]
  l=$(pr image inspect localhost/test | jq -r '.[0].LayerDirs[0]')
  [ -f "$l/f" ] && [ ! -L "$l/f" ] && [ "$(cat "$l/f")" = pwned ]
  [ -f "$l/h" ] && [ ! -L "$l/h" ] && [ -L "$l/l" ]
}

@test "hostile: hard links to outside files are refused" {
  hostile 'hard("pw", "/etc/passwd")' "entry \`pw\`: absolute hard link target \`/etc/passwd\` refused"
  hostile 'hard("pw", "../../../../etc/passwd")' "entry \`pw\`: \`..\` in the hard link target"
  hostile 'sym("etc", "/etc"); hard("pw", "etc/passwd")' "entry \`pw\`: its path goes through a symlink"
}

@test "hostile: overlay xattrs from the archive are not applied" {
  mklayer "$BATS_TEST_TMPDIR/x.tar" 'i = tarfile.TarInfo("f"); i.pax_headers = {"SCHILY.xattr.trusted.overlay.redirect": "/etc"}; t.addfile(i)'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/x.tar"
  pr load "$BATS_TEST_TMPDIR/x"
  l=$(pr image inspect localhost/test | jq -r '.[0].LayerDirs[0]')
  run xattr_get "$l/f" trusted.overlay.redirect
  [ "$status" -eq 1 ]
}

@test "digest: a blob whose content does not match its digest is refused and not stored" {
  cp -r "$BUSYBOX_OCI" "$BATS_TEST_TMPDIR/bad"
  cfg=$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/bad/index.json")
  layer=$(jq -r '.layers[0].digest' "$BATS_TEST_TMPDIR/bad/blobs/sha256/${cfg#sha256:}")
  chmod u+w "$BATS_TEST_TMPDIR/bad/blobs/sha256/${layer#sha256:}"
  echo corrupt >> "$BATS_TEST_TMPDIR/bad/blobs/sha256/${layer#sha256:}"
  run pr load "$BATS_TEST_TMPDIR/bad"
  [ "$status" -eq 1 ]
  [[ "$output" == *"size mismatch"* || "$output" == *"digest mismatch"* ]]
  [ ! -e "$IMAGES_ROOT/blobs/sha256/${layer#sha256:}" ]
  assert_store_clean_tmp
  # Same in an archive: the blob's name promises its digest.
  tar -C "$BATS_TEST_TMPDIR/bad" -cf "$BATS_TEST_TMPDIR/bad.tar" oci-layout index.json blobs
  run pr load "$BATS_TEST_TMPDIR/bad.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"digest mismatch"* ]]
  [ ! -e "$IMAGES_ROOT/blobs/sha256/${layer#sha256:}" ]
  assert_store_clean_tmp
  run pr images -q
  [ -z "$output" ]
  assert_store_empty
}

@test "digest: a layer whose content does not match the config's diff_id is refused" {
  mklayer "$BATS_TEST_TMPDIR/l.tar" 'reg("f", b"x")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/lie" --bad-diff-id --archive "$BATS_TEST_TMPDIR/lie.tar" "$BATS_TEST_TMPDIR/l.tar"
  run pr load "$BATS_TEST_TMPDIR/lie.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"diff_id mismatch: the image config says sha256:"*", the uncompressed layer hashes to sha256:$(sha256sum < "$BATS_TEST_TMPDIR/l.tar" | cut -c1-64)"* ]]
  assert_store_empty
  # Also when the layer is already unpacked for an honest image.
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/honest" --name localhost/honest:1 "$BATS_TEST_TMPDIR/l.tar"
  pr load "$BATS_TEST_TMPDIR/honest"
  run pr load "$BATS_TEST_TMPDIR/lie.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"diff_id mismatch"* ]]
  # ... and when its diff_id record is gone (recomputed from the blob).
  rm "$IMAGES_ROOT"/diffids/*
  run pr load "$BATS_TEST_TMPDIR/lie.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"diff_id mismatch"* ]]
  [ "$(pr images --format json | jq -r '.[].Names[0]')" = localhost/honest:1 ]
}

@test "tag, rmi and image prune" {
  pr load "$BUSYBOX_TAR"
  pr tag busybox example.org/mine:1.0
  [ "$(pr images --format json | jq -r '.[0].Names | sort | join(",")')" = "docker.io/library/busybox:latest,example.org/mine:1.0" ]
  run pr rmi example.org/mine:1.0
  [ "$status" -eq 0 ]
  [[ "$output" == "Untagged: example.org/mine:1.0" ]]
  layer=$(pr image inspect busybox | jq -r '.[0].Layers[0]')
  run pr rmi busybox
  [[ "$output" == "Deleted: sha256:"* ]]
  [ -z "$(pr images -q)" ]
  # rmi collects what the image used.
  [ ! -e "$IMAGES_ROOT/layers/${layer#sha256:}" ]
  [ -z "$(ls -A "$IMAGES_ROOT/blobs/sha256")" ]
  run pr rmi busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"not in the store"* ]]
  # prune removes blobs no image references (a failed load's leftovers, here a stray blob).
  pr load "$BUSYBOX_TAR"
  echo stray > "$IMAGES_ROOT/blobs/sha256/$(printf stray | sha256sum | cut -c1-64)"
  run pr image prune
  [ "$status" -eq 0 ]
  [[ "$output" == "Removed 1 blobs and 0 layers"* ]]
  [ -x "$IMAGES_ROOT/layers/${layer#sha256:}/bin/busybox" ]
}

@test "save: an oci-archive that podrun and skopeo read back" {
  pr load "$BUSYBOX_TAR"
  digest=$(pr image inspect busybox | jq -r '.[0].Digest')
  run pr save -o "$BATS_TEST_TMPDIR/out.tar" busybox
  [ "$status" -eq 0 ]
  skopeo inspect "oci-archive:$BATS_TEST_TMPDIR/out.tar" | jq -e ".Digest == \"$digest\""
  IMAGES_ROOT=$BATS_TEST_TMPDIR/other
  run pr load "$BATS_TEST_TMPDIR/out.tar"
  [[ "$output" == *"Loaded image: docker.io/library/busybox:latest"* ]]
  [ "$(pr image inspect busybox | jq -r '.[0].Digest')" = "$digest" ]
  rm -rf "$BATS_TEST_TMPDIR/other"
}

@test "store: concurrent loads into one store keep every image" {
  for i in 1 2 3 4; do
    mklayer "$BATS_TEST_TMPDIR/l$i.tar" "reg('f$i', b'$i')"
    python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/i$i" --name "localhost/c$i:latest" "$BATS_TEST_TMPDIR/l$i.tar"
  done
  for i in 1 2 3 4; do pr load -q "$BATS_TEST_TMPDIR/i$i" & done
  pr load -q "$BUSYBOX_TAR" &
  wait
  [ "$(pr images --format json | jq -r 'length')" = 5 ]
  for i in 1 2 3 4; do pr image inspect "localhost/c$i" > /dev/null; done
}

@test "load: errors name the problem" {
  run pr load "$BATS_TEST_TMPDIR/nope.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"nope.tar"*"No such file"* ]]
  echo "not a tar" > "$BATS_TEST_TMPDIR/junk"
  run pr load "$BATS_TEST_TMPDIR/junk"
  [ "$status" -eq 1 ]
  [[ "$output" == *"junk"* ]]
  mkdir "$BATS_TEST_TMPDIR/empty"
  run pr load "$BATS_TEST_TMPDIR/empty"
  [[ "$output" == *"neither an OCI layout"* ]]
}

# Limits (DESIGN.md, "Limits"): index.json, manifest.json and manifests are read whole, so each
# has a size limit, and a manifest a layer count limit.
@test "load: an index.json over 4 MiB is refused, in a layout and in an archive" {
  cp -a "$BUSYBOX_OCI" "$BATS_TEST_TMPDIR/big"
  pad_json "$BATS_TEST_TMPDIR/big/index.json" $((4 << 20))
  run bounded "$PODRUN" --images-root "$IMAGES_ROOT" load "$BATS_TEST_TMPDIR/big"
  echo "$output" | head -c 1000
  [ "$status" -eq 1 ]
  [[ "$output" == *"big: \`index.json\` is larger than 4 MiB, the limit for it"* ]]
  [ "$(pr images --format json | jq -r 'length')" = 0 ]
  tar -C "$BATS_TEST_TMPDIR/big" -cf "$BATS_TEST_TMPDIR/big.tar" .
  run bounded "$PODRUN" --images-root "$IMAGES_ROOT" load "$BATS_TEST_TMPDIR/big.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"big.tar: \`"*"index.json\` is larger than 4 MiB, the limit for it"* ]]
  [ "$(pr images --format json | jq -r 'length')" = 0 ]
}

@test "load: an index.json that is a FIFO is refused without waiting on it" {
  cp -a "$BUSYBOX_OCI" "$BATS_TEST_TMPDIR/fifo"
  rm "$BATS_TEST_TMPDIR/fifo/index.json"
  mkfifo "$BATS_TEST_TMPDIR/fifo/index.json"
  run bounded "$PODRUN" --images-root "$IMAGES_ROOT" load "$BATS_TEST_TMPDIR/fifo"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"fifo: \`index.json\` is not a regular file"* ]]
}

@test "load: a manifest of more than 128 layers is refused before any layer is read" {
  local lay=$BATS_TEST_TMPDIR/many m d
  cp -a "$BUSYBOX_OCI" "$lay"
  m=$(jq -r '.manifests[0].digest' "$lay/index.json")
  jq -c '.layers = [range(129) as $i | .layers[0] | .digest = "sha256:" + ("\($i)" | ascii_downcase) + (64 * "0")[0:64 - ("\($i)" | length)]]' \
    "$lay/blobs/sha256/${m#sha256:}" > "$BATS_TEST_TMPDIR/manifest.json"
  [ "$(jq '.layers | length' "$BATS_TEST_TMPDIR/manifest.json")" -eq 129 ]
  d=$(sha256sum "$BATS_TEST_TMPDIR/manifest.json" | cut -d' ' -f1)
  cp "$BATS_TEST_TMPDIR/manifest.json" "$lay/blobs/sha256/$d"
  jq -c --arg d "sha256:$d" --argjson n "$(stat -c %s "$BATS_TEST_TMPDIR/manifest.json")" \
    '.manifests[0].digest = $d | .manifests[0].size = $n' "$lay/index.json" > "$lay/index.new"
  mv "$lay/index.new" "$lay/index.json"
  run pr load "$lay"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"129 layers, more than the limit of 128"* ]]
  [ "$(pr images --format json | jq -r 'length')" = 0 ]
}
