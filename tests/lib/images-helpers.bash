# SPDX-License-Identifier: Apache-2.0
# Shared by the images-*.bats files: the podrun CLI on a private image store per test, the
# busybox image `make` builds, and python-built layers.
PODRUN=${PODRUN_CLI:-$PODRUN_BUILD/agent/podrun}
MKIMAGE=$TOP/tests/lib/images-mkimage.py

# The shipped busybox image (build/images/busybox.tar); built here if this build lacks it.
busybox_image() {
  BUSYBOX_TAR=$PODRUN_BUILD/images/busybox.tar
  BUSYBOX_OCI=$PODRUN_BUILD/images/busybox-oci
  if [ ! -f "$BUSYBOX_TAR" ]; then
    BUSYBOX_TAR=$BATS_FILE_TMPDIR/bb/busybox.tar
    BUSYBOX_OCI=$BATS_FILE_TMPDIR/bb/busybox-oci
    [ -f "$BUSYBOX_TAR" ] || "$TOP/images/build-busybox-image.sh" "$BATS_FILE_TMPDIR/bb"
  fi
}

images_setup() {
  IMAGES_ROOT=$BATS_TEST_TMPDIR/images
  busybox_image
}

pr() {
  "$PODRUN" --images-root "$IMAGES_ROOT" "$@"
}

# Nothing half-made may be left in the store after a failure.
assert_store_clean_tmp() {
  local left
  left=$(ls -A "$IMAGES_ROOT/tmp" 2>/dev/null || true)
  [ -z "$left" ] || { echo "left in tmp/: $left" >&2; return 1; }
}

# A failed import alone on the store leaves no blob and no layer behind.
assert_store_empty() {
  assert_store_clean_tmp
  local left
  left=$(ls -A "$IMAGES_ROOT/blobs/sha256" "$IMAGES_ROOT/layers" 2>/dev/null | grep -v '^/\|^$' || true)
  [ -z "$left" ] || { echo "left in the store: $left" >&2; return 1; }
}

# mklayer OUT.tar PYTHON: runs PYTHON with `t` an open tarfile writing OUT.tar and helpers
# reg(name, data, **attrs), d(name, **attrs), sym(name, target), hard(name, target).
mklayer() {
  python3 - "$1" <<PY
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def _info(name, kind, **kw):
    i = tarfile.TarInfo(name); i.type = kind; i.mtime = kw.pop("mtime", 1600000000)
    i.mode = kw.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    for k, v in kw.items(): setattr(i, k, v)
    return i
def reg(name, data=b"", **kw):
    i = _info(name, tarfile.REGTYPE, **kw); i.size = len(data); t.addfile(i, io.BytesIO(data))
def d(name, **kw): t.addfile(_info(name, tarfile.DIRTYPE, **kw))
def sym(name, target, **kw): t.addfile(_info(name, tarfile.SYMTYPE, linkname=target, mode=0o777, **kw))
def hard(name, target, **kw): t.addfile(_info(name, tarfile.LNKTYPE, linkname=target, **kw))
def node(name, kind, major=0, minor=0, **kw): t.addfile(_info(name, kind, devmajor=major, devminor=minor, **kw))
$2
t.close()
PY
}

# xattr_get PATH NAME: the value, or failure when it is not set (getfattr may be missing).
xattr_get() {
  python3 -c 'import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())' "$1" "$2" 2>/dev/null
}
