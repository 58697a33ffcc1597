#!/usr/bin/env bats
# The image CLI given hostile input: save -o onto what is not a plain file, image
# mount/unmount on directories and ids they do not own, names outside the reference grammar.

load helpers
load ../lib/images-helpers

setup() {
  images_setup
  CTR_PREFIX="podrun-imgh-$$-${BATS_TEST_NUMBER}"
  pr load -q "$BUSYBOX_TAR"
}

teardown() {
  standard_teardown
  for d in "$BATS_TEST_TMPDIR"/ctr*; do
    if mountpoint -q "$d/rootfs" 2>/dev/null; then umount -l "$d/rootfs"; fi
  done
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

@test "save: -o refuses paths inside the image store, through a symlinked directory too" {
  cp "$IMAGES_ROOT/images.json" "$BATS_TEST_TMPDIR/images.json.before"
  run pr save -o "$IMAGES_ROOT/images.json" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"inside the image store"* ]]
  ln -s "$IMAGES_ROOT/tmp" "$BATS_TEST_TMPDIR/sneaky"
  run pr save -o "$BATS_TEST_TMPDIR/sneaky/x.tar" busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"inside the image store"* ]]
  cmp "$IMAGES_ROOT/images.json" "$BATS_TEST_TMPDIR/images.json.before"
  [ -z "$(ls -A "$IMAGES_ROOT/tmp")" ]
  run pr images
  [ "$status" -eq 0 ]
}
