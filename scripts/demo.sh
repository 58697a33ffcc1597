#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install what is needed, build, load the busybox image podrun builds from
# Debian's busybox-static (no network needed) into an image store, run a container from it on an
# overlay root with podrun-runtime, then apply the manifests in examples/hello/ (a busybox httpd
# pod behind a readiness probe, serving a ConfigMap), show `podrun get pods -o wide` and fetch the
# page from the pod's IP.
# Everything lives in a temp dir, and the pod network in a network namespace made here (the
# "node"), so the host's own network, /run/podrun and /var/lib/podrun are not touched; all of it
# is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
build=$PWD/build
work=$(mktemp -d /tmp/podrun-demo.XXXXXX)
id=podrun-demo-$$
node=podrun-demo-$$
podrun() {
  nsenter --net="/run/netns/$node" "$build/agent/podrun" --images-root "$work/images" \
    --run-root "$work/run" --lib-root "$work/lib" --log-root "$work/log" \
    --cni-conf-dir "$work/cni" --ipam-data-dir "$work/ipam" "$@"
}
. tests/lib/cgroup-parents.bash
podrun_parents_note
cleanup() {
  if [ -e "/run/netns/$node" ]; then
    "$build/runtime/podrun-runtime" --root "$work/state" delete --force "$id" 2>/dev/null || true
    podrun image unmount "$id" "$work/bundle" 2>/dev/null || true
    podrun delete -f examples/hello/ --ignore-not-found >/dev/null 2>&1 || true
    ip netns del "$node"
  fi
  rm -rf "$work"
  podrun_parents_remove
}
trap cleanup EXIT
ip netns add "$node"
ip -n "$node" link set lo up

podrun load "$build/images/busybox.tar"
podrun images
# The bundle (an overlay root and its config.json) comes from the image; our own command
# replaces the image's.
podrun image mount busybox:latest "$id" "$work/bundle" -- \
  sh -c 'echo "hello from a podrun container: $(hostname), pid $$, $(id -un)"; uname -sr; ls /'
"$build/runtime/podrun-runtime" --root "$work/state" run --bundle "$work/bundle" "$id"

echo
echo "--- a pod from examples/hello/ ---"
podrun apply -f examples/hello/
for ((i = 0; i < 300; i++)); do
  ready=$(podrun get pod hello -o json | jq -r '.status.conditions[]? | select(.type == "Ready") | .status')
  [ "$ready" = True ] && break
  sleep 0.1
done
podrun get pods -o wide
[ "$ready" = True ] || { echo "demo: the pod hello never became Ready" >&2; exit 1; }
ip=$(podrun get pod hello -o json | jq -r .status.podIP)
echo "--- curl http://$ip/ ---"
nsenter --net="/run/netns/$node" curl -sS --max-time 10 "http://$ip/"
podrun delete -f examples/hello/
