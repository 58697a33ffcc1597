#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Image pull and unpack speed against the peers (a benchmark, never part of the suite):
#   1. a 200 MB image of 5 gzip layers (many small files and a few large ones) is pushed to a
#      local docker-registry;
#   2. `podrun pull` (download + verify + unpack) against `skopeo copy` + `umoci unpack`;
#   3. our unpack of the 5 layers alone against `tar -xzf` of the same layers.
# Each timing is the best of $RUNS runs (default 3). The last line reads
# `pull_ratio=P unpack_ratio=U` (ours / peers': lower is better; goals 0.5 and 1.3).
# usage: tests/bench/images.sh   (as root; PODRUN_BUILD=DIR selects the build, default build/)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODRUN_BUILD:-$top/build}
podrun=$build/agent/podrun
helper=$build/tests/lib/images-rootfs
runs=${RUNS:-3}
size_mb=${SIZE_MB:-200}
for tool in skopeo umoci docker-registry python3; do
  command -v "$tool" > /dev/null || { echo "needs $tool" >&2; exit 1; }
done
[ -x "$podrun" ] && [ -x "$helper" ] || { echo "build first: $podrun, $helper" >&2; exit 1; }

work=$(mktemp -d /var/tmp/podrun-bench-images.XXXXXX)
reg_pid=
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "# generating a ${size_mb} MB, 5-layer image in $work" >&2
python3 - "$work" "$size_mb" <<'PY'
import io, os, random, sys, tarfile
work, total = sys.argv[1], int(sys.argv[2]) << 20
rnd = random.Random(42)
per_layer = total // 5
for n in range(5):
    t = tarfile.open(f"{work}/layer{n}.tar", "w", format=tarfile.PAX_FORMAT)
    written, i = 0, 0
    def add(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    for d in range(20):
        ti = tarfile.TarInfo(f"l{n}/d{d}"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
    # Half in a few big files (half random, half text-like), half in many small ones.
    while written < per_layer // 2:
        size = 8 << 20
        data = os.urandom(size // 2) + (b"podrun benchmark line %d\n" % i) * (size // 2 // 28)
        add(f"l{n}/big{i}", data); written += len(data); i += 1
    while written < per_layer:
        size = rnd.randint(512, 64 << 10)
        data = os.urandom(size // 2) + b"x" * (size - size // 2)
        add(f"l{n}/d{i % 20}/f{i}", data); written += len(data); i += 1
    t.close()
PY
python3 "$top/tests/lib/images-mkimage.py" "$work/oci" --name localhost/big:1 "$work"/layer{0,1,2,3,4}.tar

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<CFG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
CFG
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$work/oci" "docker://127.0.0.1:$port/big:1"
ref=127.0.0.1:$port/big:1

# best_of CMD...: the smallest wall time in seconds over $runs runs; $prepare runs before each.
best_of() {
  local best= t0 t1 dt
  for _ in $(seq "$runs"); do
    eval "$prepare"
    sync
    t0=$(date +%s.%N)
    "$@" > /dev/null
    t1=$(date +%s.%N)
    dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$dt < $best" | bc -l)" = 1 ]; then best=$dt; fi
  done
  echo "$best"
}

prepare="rm -rf '$work/store'"
ours_pull=$(best_of "$podrun" --images-root "$work/store" pull -q "$ref")
peer_pull_cmd() {
  skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$work/skopeo:big" &&
    umoci unpack --image "$work/skopeo:big" "$work/bundle" > /dev/null
}
prepare="rm -rf '$work/skopeo' '$work/bundle'"
peer_pull=$(best_of peer_pull_cmd)

layers=()
for d in $(jq -r '.layers[].digest' "$work/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$work/oci/index.json" | cut -d: -f2)"); do
  layers+=("$work/oci/blobs/sha256/${d#sha256:}")
done
ours_unpack_cmd() {
  local i=0 l
  for l in "${layers[@]}"; do mkdir "$work/u/$i" && "$helper" x unpack "$l" "$work/u/$i"; i=$((i + 1)); done
}
tar_unpack_cmd() {
  local i=0 l
  for l in "${layers[@]}"; do mkdir "$work/u/$i" && tar -xzf "$l" -C "$work/u/$i"; i=$((i + 1)); done
}
prepare="rm -rf '$work/u'; mkdir '$work/u'"
ours_unpack=$(best_of ours_unpack_cmd)
tar_unpack=$(best_of tar_unpack_cmd)

printf '# pull+unpack: podrun %.2fs, skopeo copy + umoci unpack %.2fs\n' "$ours_pull" "$peer_pull"
printf '# unpack of the 5 layers: podrun %.2fs, tar -xzf %.2fs\n' "$ours_unpack" "$tar_unpack"
printf 'pull_ratio=%.2f unpack_ratio=%.2f\n' "$(echo "$ours_pull / $peer_pull" | bc -l)" \
  "$(echo "$ours_unpack / $tar_unpack" | bc -l)"
