#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The image CLI given hostile input: save -o onto what is not a plain file, image
# mount/unmount on directories and ids they do not own, names outside the reference grammar.

load ../lib/helpers
load ../lib/images-helpers

bats_require_minimum_version 1.5.0

setup() {
  images_setup
  CTR_PREFIX="podrun-imgh-$$-${BATS_TEST_NUMBER}"
  pr load -q "$BUSYBOX_TAR"
}

teardown() {
  standard_teardown
  for d in "$BATS_TEST_TMPDIR"/ctr*; do
    while mountpoint -q "$d/rootfs" 2>/dev/null; do umount -l "$d/rootfs"; done
  done
  if mountpoint -q "$BATS_TEST_TMPDIR/bind" 2>/dev/null; then umount -l "$BATS_TEST_TMPDIR/bind"; fi
  rm -rf "$IMAGES_ROOT"
}

@test "save: -o refuses a character device, a FIFO, a symlink and a directory, and leaves them" {
  out=$BATS_TEST_TMPDIR/out
  mkdir "$out"
  mknod "$out/null" c 1 3
  run pr save -o "$out/null" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"$out/null"*"character device"*"refusing"* ]]
  [ -c "$out/null" ]
  mkfifo "$out/fifo"
  run pr save -o "$out/fifo" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"FIFO"* ]]
  [ -p "$out/fifo" ]
  echo target > "$out/target"
  ln -s target "$out/link"
  run pr save -o "$out/link" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"symbolic link"* ]]
  [ -L "$out/link" ] && [ "$(cat "$out/target")" = target ]
  mkdir "$out/dir"
  run pr save -o "$out/dir" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"directory"* ]]
  # Nothing else was created: no temp file left beside them.
  [ "$(ls -A "$out" | sort | tr '\n' ' ')" = "dir fifo link null target " ]
}

@test "save: -o writes a new file and replaces an existing regular file" {
  run pr save -o "$BATS_TEST_TMPDIR/new.tar" busybox
  [ "$status" -eq 0 ]
  tar -tf "$BATS_TEST_TMPDIR/new.tar" | grep -qx index.json
  echo old > "$BATS_TEST_TMPDIR/old.tar"
  run pr save -o "$BATS_TEST_TMPDIR/old.tar" busybox
  [ "$status" -eq 0 ]
  tar -tf "$BATS_TEST_TMPDIR/old.tar" | grep -qx index.json
}

@test "save: -o refuses paths inside the image store, through a symlink or a bind mount too" {
  cp "$IMAGES_ROOT/images.json" "$BATS_TEST_TMPDIR/images.json.before"
  run pr save -o "$IMAGES_ROOT/images.json" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"inside the image store"* ]]
  ln -s "$IMAGES_ROOT/tmp" "$BATS_TEST_TMPDIR/sneaky"
  run pr save -o "$BATS_TEST_TMPDIR/sneaky/x.tar" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"inside the image store"* ]]
  # A bind mount of the store is the store too.
  mkdir "$BATS_TEST_TMPDIR/bind"
  mount --bind "$IMAGES_ROOT" "$BATS_TEST_TMPDIR/bind"
  run pr save -o "$BATS_TEST_TMPDIR/bind/images.json" busybox
  umount "$BATS_TEST_TMPDIR/bind"
  [ "$status" -eq 1 ]
  [[ "$output" == *"inside the image store"* ]]
  cmp "$IMAGES_ROOT/images.json" "$BATS_TEST_TMPDIR/images.json.before"
  [ -z "$(ls -A "$IMAGES_ROOT/tmp")" ]
  run pr images
  [ "$status" -eq 0 ]
}

@test "image unmount: refuses an id that has no mount, and leaves the directory's rootfs" {
  bundle=$BATS_TEST_TMPDIR/ctr-bundle
  mkdir -p "$bundle/rootfs/data"
  echo precious > "$bundle/rootfs/data/file"
  mkdir "$bundle/upper"
  echo mine > "$bundle/upper/file"
  run pr image unmount whatever "$bundle"
  [ "$status" -eq 1 ]
  [[ "$output" == *"container \`whatever\` has no image mount"* ]]
  [ "$(cat "$bundle/rootfs/data/file")" = precious ]
  [ "$(cat "$bundle/upper/file")" = mine ]
}

@test "image unmount: refuses another directory than the id's, which stays mounted and referenced" {
  a=$BATS_TEST_TMPDIR/ctr-a
  other=$BATS_TEST_TMPDIR/ctr-other
  mkdir -p "$other/rootfs"
  echo keep > "$other/rootfs/file"
  pr image mount busybox "$CTR_PREFIX" "$a" > /dev/null
  for d in /nonexistent "$other"; do
    run pr image unmount "$CTR_PREFIX" "$d"
    [ "$status" -eq 1 ]
    [[ "$output" == *"is not where container \`$CTR_PREFIX\`'s root is mounted"* ]]
  done
  [ "$(cat "$other/rootfs/file")" = keep ]
  [ -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
  mountpoint -q "$a/rootfs"
  # The record still keeps the layer through rmi and prune.
  layer=$(pr image inspect busybox | jq -r '.[0].LayerDirs[0]')
  pr rmi busybox
  pr image prune
  [ -x "$layer/bin/busybox" ]
  [ -x "$a/rootfs/bin/busybox" ]
  # The owner unmounts it, through another spelling of the same directory.
  run pr image unmount "$CTR_PREFIX" "$a/../ctr-a/"
  [ "$status" -eq 0 ]
  run ! mountpoint -q "$a/rootfs"
  [ ! -e "$a/upper" ] && [ ! -e "$a/rootfs" ]
  [ ! -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
}

@test "image unmount: refuses a rootfs on which something else is mounted" {
  a=$BATS_TEST_TMPDIR/ctr-a
  pr image mount busybox "$CTR_PREFIX" "$a" > /dev/null
  mkdir "$BATS_TEST_TMPDIR/src"
  mount --bind "$BATS_TEST_TMPDIR/src" "$a/rootfs"
  run pr image unmount "$CTR_PREFIX" "$a"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not container \`$CTR_PREFIX\`'s overlay"* ]]
  umount "$a/rootfs"
  run pr image unmount "$CTR_PREFIX" "$a"
  [ "$status" -eq 0 ]
  run ! mountpoint -q "$a/rootfs"
}

@test "image mount: refuses an existing upper, work or non-empty rootfs, and an id in use" {
  a=$BATS_TEST_TMPDIR/ctr-a
  mkdir -p "$a/upper"
  echo mine > "$a/upper/file"
  run pr image mount busybox "$CTR_PREFIX" "$a"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$a/upper"*"already exists"* ]]
  [ "$(cat "$a/upper/file")" = mine ]
  [ ! -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
  [ ! -e "$a/work" ] && [ ! -e "$a/rootfs" ]
  b=$BATS_TEST_TMPDIR/ctr-b
  mkdir -p "$b/rootfs"
  echo mine > "$b/rootfs/file"
  run pr image mount busybox "$CTR_PREFIX" "$b"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not empty"* ]]
  [ ! -e "$b/upper" ] && [ ! -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
  # An id in use keeps its mount; the second directory is left as it was.
  c=$BATS_TEST_TMPDIR/ctr-c
  d=$BATS_TEST_TMPDIR/ctr-d
  pr image mount busybox "$CTR_PREFIX" "$c" > /dev/null
  run pr image mount busybox "$CTR_PREFIX" "$d"
  [ "$status" -eq 1 ]
  [[ "$output" == *"already has an image mount at \`$c\`"* ]]
  [ ! -e "$d/upper" ] && [ ! -e "$d/rootfs" ]
  mountpoint -q "$c/rootfs"
  pr image unmount "$CTR_PREFIX" "$c"
  for id in "" ".x" "a b" "$(printf 'a\nb')" "$(head -c 201 /dev/zero | tr '\0' a)"; do
    run pr image mount busybox "$id" "$d"
    [ "$status" -eq 1 ]
    [[ "$output" == *"invalid container id"* ]]
  done
}

@test "image unmount: after the overlay went away (crash), the owner still cleans up" {
  a=$BATS_TEST_TMPDIR/ctr-a
  pr image mount busybox "$CTR_PREFIX" "$a" > /dev/null
  umount "$a/rootfs"
  run pr image unmount "$CTR_PREFIX" "$a"
  [ "$status" -eq 0 ]
  [ ! -e "$a/upper" ] && [ ! -e "$a/work" ] && [ ! -e "$a/rootfs" ]
  [ ! -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
}

# Names outside docker/distribution's reference grammar, each refused by tag.
bad_names() {
  printf '%s\n' '../../etc' 'a/../b' '-x' 'x-' 'a..b' 'reg istry.io/a' 'a b' \
    'registry.io:99999/a' 'registry.io:0/a' '-reg.io/a' 'a:.tag' \
    "$(head -c 300 /dev/zero | tr '\0' a)" "a:$(head -c 129 /dev/zero | tr '\0' t)"
}

@test "tag: names outside the reference grammar are refused; the store is unchanged" {
  cp "$IMAGES_ROOT/images.json" "$BATS_TEST_TMPDIR/before"
  while IFS= read -r name; do
    run pr tag busybox "$name"
    echo "$name: $output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"invalid image reference"* ]]
  done < <(bad_names)
  run pr tag busybox "$(printf 'x\nfake 1 2 3')"
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid image reference \`x?fake 1 2 3\`"* ]]
  cmp "$IMAGES_ROOT/images.json" "$BATS_TEST_TMPDIR/before"
  # The grammar's edges that are names: separators, a port, a 255-byte name, a 128-byte tag.
  long=$(head -c 237 /dev/zero | tr '\0' a)
  tag=$(head -c 128 /dev/zero | tr '\0' t)
  for name in x/a.b_c__d---e "Reg.Example.com:65535/a/b" "$long" "a:$tag" "a:_x.y-z"; do
    run pr tag busybox "$name"
    echo "$name: $output"
    [ "$status" -eq 0 ]
  done
  run pr tag busybox "a$long"
  [ "$status" -eq 1 ]
  [[ "$output" == *"longer than 255"* ]]
}

@test "load: an archive whose names are outside the grammar loads with none of them" {
  mklayer "$BATS_TEST_TMPDIR/l.tar" "reg('f', b'x')"
  for name in "localhost/../../etc:1" "$(printf 'localhost/x:1\nfake')" "localhost:99999/x:1"; do
    rm -rf "$BATS_TEST_TMPDIR/i"
    python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/i" --name "$name" "$BATS_TEST_TMPDIR/l.tar"
    run pr load "$BATS_TEST_TMPDIR/i"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"ignoring the unusable image name"* ]]
  done
  [ "$(pr images --format json | jq -r '[.[].Names[]] | sort | join(" ")')" = docker.io/library/busybox:latest ]
  [ "$(pr images | wc -l)" -eq 3 ]
}

@test "save and images: names outside the grammar are refused, and never printed as rows" {
  run pr save -o "$BATS_TEST_TMPDIR/out.tar" '../../etc'
  [ "$status" -eq 1 ]
  [ ! -e "$BATS_TEST_TMPDIR/out.tar" ]
  # An index edited by hand (or by an older podrun) with a name carrying a newline.
  jq '.images[0].names += ["docker.io/library/x:1\nfake/row 1 2"]' "$IMAGES_ROOT/images.json" > "$BATS_TEST_TMPDIR/i.json"
  cp "$BATS_TEST_TMPDIR/i.json" "$IMAGES_ROOT/images.json"
  run pr images
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [[ "${lines[2]}" == "<invalid> "* ]]
  [[ "$output" != *"fake/row"* ]]
}
