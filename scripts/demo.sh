#!/usr/bin/env bash
# The main job: install what is needed, build, and run a container from a busybox bundle made
# here from Debian's busybox-static (no network needed), printing its output.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
runtime=$PWD/build/runtime/podrun-runtime
work=$(mktemp -d /tmp/podrun-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
tests/lib/busybox-rootfs.sh "$work/rootfs"
cd "$work"
"$runtime" spec
jq '.process.terminal = false
  | .process.args = ["sh", "-c", "echo \"hello from a podrun container: $(hostname), pid $$, $(id -un)\"; uname -sr; ls /"]' \
  config.json > config.json.new && mv config.json.new config.json
"$runtime" --root "$work/state" run "podrun-demo-$$"
