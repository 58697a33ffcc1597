#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Overlay roots: a container from the busybox image, run by podrun-runtime on an overlay of the
# image's layers, with the image config turned into the runtime config; cleaned up after.

load ../lib/helpers
load ../lib/images-helpers
load ../lib/limits-helpers

ROOTFS_TOOL=$PODRUN_BUILD/tests/lib/images-rootfs

setup() {
  images_setup
  CTR_DIR=$BATS_TEST_TMPDIR/ctr
  STATE_ROOT=$BATS_TEST_TMPDIR/state
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  CTR_PREFIX="podrun-img-$$-${BATS_TEST_NUMBER}"
  mkdir -p "$STATE_ROOT" "$BUNDLE"
  pr load -q "$BUSYBOX_TAR"
}

teardown() {
  standard_teardown
  pr image unmount "$CTR_PREFIX" "$CTR_DIR" 2>/dev/null || true
  if mountpoint -q "$CTR_DIR/rootfs" 2>/dev/null; then umount -l "$CTR_DIR/rootfs"; fi
  rm -rf "$IMAGES_ROOT"
}

# bundle_from_image IMAGE: `image mount` makes $CTR_DIR a bundle (rootfs and config.json).
bundle_from_image() {
  run pr image mount "$1" "$CTR_PREFIX" "$CTR_DIR"
  [ "$status" -eq 0 ]
  [ "$output" = "$CTR_DIR" ]
  BUNDLE=$CTR_DIR
}

@test "run: a container from the busybox image on an overlay root" {
  bundle_from_image busybox
  [ "$(jq -r '.process.args | join(" ")' "$BUNDLE/config.json")" = sh ]
  [ "$(jq -r '.process.cwd' "$BUNDLE/config.json")" = / ]
  jq -e '.process.env | index("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")' "$BUNDLE/config.json"
  [ "$(jq -r '.annotations["org.opencontainers.image.title"]' "$BUNDLE/config.json")" = busybox ]
  [ "$(findmnt -n -o FSTYPE "$CTR_DIR/rootfs")" = overlay ]
  update_config '.process.args = ["sh", "-c", "echo hello from $(cat /etc/hostname 2>/dev/null || echo image); id -u; echo new > /created; rm /bin/true; ls /bin/busybox"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"hello from"* ]]
  [[ "${lines[1]}" == 0 ]]
  # Writes go to this container's upper dir; the shared layer is untouched.
  [ "$(cat "$CTR_DIR/upper/created")" = new ]
  [ "$(stat -c '%F %t:%T' "$CTR_DIR/upper/bin/true")" = "character special file 0:0" ]
  layer=$(pr image inspect busybox | jq -r '.[0].LayerDirs[0]')
  [ -L "$layer/bin/true" ] && [ ! -e "$layer/created" ]
  # run (not detached) deletes the container when its process exits, as runc does.
  run rt state "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  pr image unmount "$CTR_PREFIX" "$CTR_DIR"
  ! grep -q "$CTR_DIR" /proc/self/mountinfo || false
  [ ! -e "$CTR_DIR/upper" ] && [ ! -e "$CTR_DIR/work" ] && [ ! -e "$CTR_DIR/rootfs" ]
  [ ! -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
}

@test "run: a mounted container keeps its layers through rmi and prune" {
  bundle_from_image busybox
  layer=$(pr image inspect busybox | jq -r '.[0].LayerDirs[0]')
  pr rmi busybox
  pr image prune
  [ -x "$layer/bin/busybox" ]
  update_config '.process.args = ["busybox", "true"]'
  rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  pr image unmount "$CTR_PREFIX" "$CTR_DIR"
  pr image prune
  [ ! -e "$layer" ]
}

@test "config: Entrypoint, Cmd, Env, WorkingDir, User, ports, volumes, stop signal, labels" {
  mklayer "$BATS_TEST_TMPDIR/l.tar" '
d("etc"); d("srv", uid=1000)
reg("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
reg("etc/group", b"root:x:0:\napp:x:1000:\nwheel:x:10:app,other\naudio:x:29:app\nstaff:x:50:\n")'
  python3 "$MKIMAGE" "$BATS_TEST_TMPDIR/img" --name localhost/cfg:1 "$BATS_TEST_TMPDIR/l.tar"
  # Put a richer config in place (the helper writes a minimal one).
  python3 - "$BATS_TEST_TMPDIR/img" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
idx = json.load(open(f"{d}/index.json"))
mdig = idx["manifests"][0]["digest"].split(":")[1]
m = json.load(open(f"{d}/blobs/sha256/{mdig}"))
c = json.load(open(f"{d}/blobs/sha256/{m['config']['digest'].split(':')[1]}"))
c["config"] = {"Entrypoint": ["/bin/app", "--serve"], "Cmd": ["--port", "80"], "Env": ["A=1"],
               "WorkingDir": "/srv", "User": "app:staff", "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
               "Volumes": {"/data": {}}, "StopSignal": "SIGQUIT", "Labels": {"tier": "web"}}
def put(obj):
    b = json.dumps(obj).encode(); h = hashlib.sha256(b).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(b); return {"digest": "sha256:" + h, "size": len(b)}
m["config"].update(put(c))
idx["manifests"][0].update(put(m))
json.dump(idx, open(f"{d}/index.json", "w"))
PY
  pr load "$BATS_TEST_TMPDIR/img"
  pr image mount localhost/cfg:1 "$CTR_PREFIX" "$CTR_DIR"
  p=$CTR_DIR/config.json
  [ "$(jq -c .process.args "$p")" = '["/bin/app","--serve","--port","80"]' ]
  [ "$(jq -c .process.env "$p")" = '["A=1","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","HOME=/home/app"]' ]
  [ "$(jq -r .process.cwd "$p")" = /srv ]
  [ "$(jq -c .process.user "$p")" = '{"uid":1000,"gid":50,"additionalGids":[10,29]}' ]
  [ "$(jq -r '.annotations["org.opencontainers.image.exposedPorts"]' "$p")" = "80/tcp,53/udp" ]
  [ "$(jq -r '.annotations["org.opencontainers.image.volumes"]' "$p")" = /data ]
  [ "$(jq -r '.annotations["org.opencontainers.image.stopSignal"]' "$p")" = SIGQUIT ]
  [ "$(jq -r '.annotations.tier' "$p")" = web ]
  [ "$(jq -r '.root.path' "$p")" = "$CTR_DIR/rootfs" ]
  # The other User forms, resolved in the mounted root.
  r=$CTR_DIR/rootfs
  [ "$("$ROOTFS_TOOL" x user "$r" app)" = "1000 1000 10 29" ]
  [ "$("$ROOTFS_TOOL" x user "$r" 1000)" = "1000 1000 10 29" ]
  [ "$("$ROOTFS_TOOL" x user "$r" 4242)" = "4242 0" ]
  [ "$("$ROOTFS_TOOL" x user "$r" 4242:77)" = "4242 77" ]
  [ "$("$ROOTFS_TOOL" x user "$r" root:wheel)" = "0 10" ]
  [ "$("$ROOTFS_TOOL" x user "$r" "")" = "0 0" ]
  run "$ROOTFS_TOOL" x user "$r" nobody
  [ "$status" -eq 1 ]
  [[ "$output" == *"user \`nobody\` is not in the image's /etc/passwd"* ]]
  run "$ROOTFS_TOOL" x user "$r" app:nogroup
  [[ "$output" == *"group \`nogroup\` is not in the image's /etc/group"* ]]
}

@test "mount: DIR is a bundle that runs as made; -- ARGs replace the image's Cmd; unmount takes config.json" {
  run pr image mount busybox "$CTR_PREFIX" "$CTR_DIR" -- sh -c 'echo args replaced; id -u'
  [ "$status" -eq 0 ]
  cfg=$CTR_DIR/config.json
  [ "$(jq -c .process.args "$cfg")" = '["sh","-c","echo args replaced; id -u"]' ]
  [ "$(jq -r .root.path "$cfg")" = "$CTR_DIR/rootfs" ]
  [ "$(jq -r .process.terminal "$cfg")" = false ]
  # The pod manager's defaults (containerd's capability set), not runc's interactive `spec`.
  [ "$(jq '.process.capabilities.bounding | length' "$cfg")" -eq 14 ]
  run rt run --bundle "$CTR_DIR" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "args replaced" ] && [ "${lines[1]}" = 0 ]
  pr image unmount "$CTR_PREFIX" "$CTR_DIR"
  [ ! -e "$cfg" ] && [ ! -e "$CTR_DIR/rootfs" ]
}

@test "mount: a directory that already holds a config.json is refused and left as it was" {
  mkdir -p "$CTR_DIR"
  echo mine > "$CTR_DIR/config.json"
  run pr image mount busybox "$CTR_PREFIX" "$CTR_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"config.json\` already exists"* ]]
  [ "$(cat "$CTR_DIR/config.json")" = mine ]
  run grep -c " $CTR_DIR/" /proc/self/mountinfo
  [ "$output" = 0 ]
  [ ! -e "$CTR_DIR/rootfs" ] && [ ! -e "$IMAGES_ROOT/containers/$CTR_PREFIX" ]
}

# Limits (DESIGN.md, "Limits"): the image made its /etc/passwd and /etc/group, so a FIFO must
# not hang the lookup and a device must not be read without end; either counts as no file.
@test "config: an image's /etc/passwd that is a FIFO or /dev/zero is no passwd file" {
  r=$BATS_TEST_TMPDIR/root
  mkdir -p "$r/etc"
  mkfifo "$r/etc/passwd"
  mknod "$r/etc/group" c 1 5
  run bounded "$ROOTFS_TOOL" x user "$r" app
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"user \`app\` is not in the image's /etc/passwd"* ]]
  rm "$r/etc/passwd"
  mknod "$r/etc/passwd" c 1 5
  run bounded "$ROOTFS_TOOL" x user "$r" 4242:staff
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"group \`staff\` is not in the image's /etc/group"* ]]
}
