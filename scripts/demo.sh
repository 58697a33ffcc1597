#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install what is needed, build, load the busybox image podrun builds from
# Debian's busybox-static (no network needed) into an image store, and run a container from it
# on an overlay root with podrun-runtime, printing its output.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build=$PWD/build
work=$(mktemp -d /tmp/podrun-demo.XXXXXX)
id=podrun-demo-$$
podrun() { "$build/agent/podrun" --images-root "$work/images" "$@"; }
. tests/lib/cgroup-parents.bash
podrun_parents_note
cleanup() {
  "$build/runtime/podrun-runtime" --root "$work/state" delete --force "$id" 2>/dev/null || true
  podrun image unmount "$id" "$work/bundle" 2>/dev/null || true
  rm -rf "$work"
  podrun_parents_remove
}
trap cleanup EXIT

podrun load "$build/images/busybox.tar"
podrun images
# The bundle (an overlay root and its config.json) comes from the image; our own command
# replaces the image's.
podrun image mount busybox:latest "$id" "$work/bundle" -- \
  sh -c 'echo "hello from a podrun container: $(hostname), pid $$, $(id -un)"; uname -sr; ls /'
"$build/runtime/podrun-runtime" --root "$work/state" run --bundle "$work/bundle" "$id"
