#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun pull: from Debian's docker-registry (our busybox image pushed with skopeo), through
# registries.conf (mirrors, short names, aliases), and from a fake registry that misbehaves.

load ../lib/helpers
load ../lib/images-helpers

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port_file() {
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

setup_file() {
  busybox_image
  export BUSYBOX_TAR BUSYBOX_OCI
  local dir=$BATS_FILE_TMPDIR
  REG_PORT=$(free_port)
  mkdir -p "$dir/registry"
  cat > "$dir/registry/config.yml" <<CFG
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/registry/data
http:
  addr: 127.0.0.1:$REG_PORT
CFG
  # Background services close bats' fd 3, or bats would wait for them.
  /usr/bin/docker-registry serve "$dir/registry/config.yml" > "$dir/registry/log" 2>&1 3>&- &
  echo $! > "$dir/registry/pid"
  local i
  for ((i = 0; i < 100; i++)); do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "http://127.0.0.1:$REG_PORT/v2/" 2> /dev/null && break
    sleep 0.1
  done
  skopeo copy -q --dest-tls-verify=false "oci-archive:$BUSYBOX_TAR" "docker://127.0.0.1:$REG_PORT/busybox:latest"
  skopeo copy -q --format v2s2 --dest-tls-verify=false "oci-archive:$BUSYBOX_TAR" "docker://127.0.0.1:$REG_PORT/busybox-v2s2:latest"
  # A two-platform index next to it, and one with no linux/amd64 image.
  python3 - "$dir/l.tar" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("hello"); i.size = 3; t.addfile(i, io.BytesIO(b"hi\n")); t.close()
PY
  python3 "$TOP/tests/lib/images-mkimage.py" "$dir/multi" --platforms linux/arm64,linux/amd64 "$dir/l.tar"
  skopeo copy -q --all --dest-tls-verify=false "oci:$dir/multi" "docker://127.0.0.1:$REG_PORT/multi:1"
  skopeo copy -q --all --format v2s2 --dest-tls-verify=false "oci:$dir/multi" "docker://127.0.0.1:$REG_PORT/multi-v2s2:1"
  python3 "$TOP/tests/lib/images-mkimage.py" "$dir/arm" --platforms linux/arm64,linux/ppc64le "$dir/l.tar"
  skopeo copy -q --all --dest-tls-verify=false "oci:$dir/arm" "docker://127.0.0.1:$REG_PORT/arm:1"
  export REG_PORT REG_LOG=$dir/registry/log

  mkdir -p "$dir/fake"
  cp -r "$BUSYBOX_OCI" "$dir/fake/layout"
  echo ok > "$dir/fake/mode"
  python3 "$TOP/tests/lib/images-fake-registry.py" "$dir/fake/layout" "$dir/fake/port" "$dir/fake/log" \
    > "$dir/fake/out" 2>&1 3>&- &
  echo $! > "$dir/fake/pid"
  python3 "$TOP/tests/lib/images-fake-registry.py" "$dir/fake/layout" "$dir/fake/port2" "$dir/fake/log" \
    127.0.0.2 > "$dir/fake/out2" 2>&1 3>&- &
  echo $! > "$dir/fake/pid2"
  wait_port_file "$dir/fake/port"
  wait_port_file "$dir/fake/port2"
  export FAKE=127.0.0.1:$(cat "$dir/fake/port") FAKE2=127.0.0.2:$(cat "$dir/fake/port2")
  export FAKE_MODE=$dir/fake/mode FAKE_LOG=$dir/fake/log
}

teardown_file() {
  local p
  for p in "$BATS_FILE_TMPDIR/registry/pid" "$BATS_FILE_TMPDIR/fake/pid" "$BATS_FILE_TMPDIR/fake/pid2"; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
  done
}

setup() {
  images_setup
  echo ok > "$FAKE_MODE"
  : > "$FAKE_LOG"
  export CONTAINERS_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf
  : > "$CONTAINERS_REGISTRIES_CONF"
  export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
}

teardown() {
  standard_teardown
  rm -rf "$IMAGES_ROOT"
}

blob_gets() {
  grep -c 'GET /v2/[^ ]*/blobs/sha256' "$REG_LOG" || true
}

@test "pull: our busybox image from docker-registry; pulling it again downloads nothing" {
  run pr pull "127.0.0.1:$REG_PORT/busybox:latest"
  [ "$status" -eq 0 ]
  [ "$(pr images --format json | jq -r '.[0].Names[0]')" = "127.0.0.1:$REG_PORT/busybox:latest" ]
  # The same manifest as the archive it was pushed from.
  [ "$(pr image inspect "127.0.0.1:$REG_PORT/busybox" | jq -r '.[0].Id')" = "sha256:$(jq -r .config.digest "$BUSYBOX_OCI/blobs/sha256/$(jq -r '.manifests[0].digest' "$BUSYBOX_OCI/index.json" | cut -d: -f2)" | cut -d: -f2)" ]
  [ -x "$(pr image inspect "127.0.0.1:$REG_PORT/busybox" | jq -r '.[0].LayerDirs[0]')/bin/busybox" ]
  before=$(blob_gets)
  run pr pull "127.0.0.1:$REG_PORT/busybox"
  [ "$status" -eq 0 ]
  [ "$(blob_gets)" = "$before" ]
  assert_store_clean_tmp
}

@test "pull: Docker schema 2 manifests and manifest lists" {
  run pr pull "127.0.0.1:$REG_PORT/busybox-v2s2"
  [ "$status" -eq 0 ]
  [ "$(pr image inspect "127.0.0.1:$REG_PORT/busybox-v2s2" | jq -r '.[0].Manifest.mediaType')" = application/vnd.docker.distribution.manifest.v2+json ]
  [ -x "$(pr image inspect "127.0.0.1:$REG_PORT/busybox-v2s2" | jq -r '.[0].LayerDirs[0]')/bin/busybox" ]
  run pr pull "127.0.0.1:$REG_PORT/multi-v2s2:1"
  [ "$status" -eq 0 ]
  [ "$(pr image inspect "127.0.0.1:$REG_PORT/multi-v2s2:1" | jq -r '.[0].Architecture')" = amd64 ]
  idx=$(jq -r '.images[] | select(.names[0] == "127.0.0.1:'"$REG_PORT"'/multi-v2s2:1") | .index' "$IMAGES_ROOT/images.json")
  [ "$(jq -r .mediaType "$IMAGES_ROOT/blobs/sha256/${idx#sha256:}")" = application/vnd.docker.distribution.manifest.list.v2+json ]
}

@test "pull: an index picks linux/amd64; an index without it is a clear error" {
  run pr pull "127.0.0.1:$REG_PORT/multi:1"
  [ "$status" -eq 0 ]
  [ "$(pr image inspect "127.0.0.1:$REG_PORT/multi:1" | jq -r '.[0].Architecture')" = amd64 ]
  run pr pull "127.0.0.1:$REG_PORT/arm:1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"no image for this platform (linux/amd64) in the index; it has: linux/arm64, linux/ppc64le"* ]]
}

@test "pull: registries.conf mirrors a registry under its own names" {
  cat > "$CONTAINERS_REGISTRIES_CONF" <<CONF
# registry.k8s.io served from the local registry
[[registry]]
prefix = "registry.k8s.io"
location = "registry.k8s.io"

[[registry.mirror]]
location = "127.0.0.1:$REG_PORT"
insecure = true
CONF
  run pr pull registry.k8s.io/busybox:latest
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(pr images --format json | jq -r '.[0].Names[0]')" = registry.k8s.io/busybox:latest ]
}

@test "pull: registries.conf location rewrite, short-name search and aliases" {
  cat > "$CONTAINERS_REGISTRIES_CONF" <<CONF
unqualified-search-registries = ["example.invalid", "127.0.0.1:$REG_PORT"]

[[registry]]
prefix = "example.invalid"
blocked = true

[[registry]]
prefix = "quay.example/tools"
location = "127.0.0.1:$REG_PORT"

[aliases]
"bb" = "127.0.0.1:$REG_PORT/busybox"
CONF
  run pr pull quay.example/tools/busybox
  [ "$status" -eq 0 ]
  pr image inspect quay.example/tools/busybox:latest > /dev/null
  run pr pull busybox
  echo "$output"
  [ "$status" -eq 0 ]
  pr image inspect "127.0.0.1:$REG_PORT/busybox:latest" > /dev/null
  pr rmi "127.0.0.1:$REG_PORT/busybox:latest"
  run pr pull bb
  [ "$status" -eq 0 ]
  pr image inspect "127.0.0.1:$REG_PORT/busybox:latest" > /dev/null
  run pr pull example.invalid/x
  [ "$status" -eq 1 ]
  [[ "$output" == *"registry \`example.invalid\` is blocked"* ]]
  run pr pull "127.0.0.1:$REG_PORT/nosuch:1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"manifest unknown"* ]]
}

@test "pull: plain HTTP only for insecure registries" {
  run pr pull "$FAKE2/busybox"
  [ "$status" -eq 1 ]
  [[ "$output" == *"https://$FAKE2/v2/busybox/manifests/latest"* ]]
  run pr pull --tls-verify=false "$FAKE2/busybox"
  [ "$status" -eq 0 ]
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$FAKE2" > "$CONTAINERS_REGISTRIES_CONF"
  pr rmi "$FAKE2/busybox"
  run pr pull "$FAKE2/busybox"
  [ "$status" -eq 0 ]
}

@test "pull: a blob with the wrong digest is refused and nothing is kept" {
  echo wrong-digest > "$FAKE_MODE"
  run pr pull "$FAKE/busybox"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"digest mismatch: the data hashes to"* ]]
  [ -z "$(pr images -q)" ]
  layer=$(jq -r '.layers[0].digest' "$BUSYBOX_OCI/blobs/sha256/$(jq -r '.manifests[0].digest' "$BUSYBOX_OCI/index.json" | cut -d: -f2)")
  [ ! -e "$IMAGES_ROOT/blobs/sha256/${layer#sha256:}" ]
  assert_store_empty
}

@test "pull: a manifest whose Docker-Content-Digest does not match is refused" {
  echo bad-manifest-digest > "$FAKE_MODE"
  run pr pull "$FAKE/busybox"
  [ "$status" -eq 1 ]
  [[ "$output" == *"manifest latest: digest mismatch: the registry says sha256:0000"* ]]
  [ -z "$(pr images -q)" ]
}

@test "pull: a blob truncated on every try is a clear error; one dropped once is resumed" {
  echo truncated > "$FAKE_MODE"
  run pr pull "$FAKE/busybox"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"download failed after 4 attempts"* ]]
  assert_store_empty
  [ -z "$(pr images -q)" ]
  echo drop-once > "$FAKE_MODE"
  : > "$FAKE_LOG"
  run pr pull "$FAKE/busybox"
  [ "$status" -eq 0 ]
  grep -q 'range=bytes=[1-9][0-9]*-' "$FAKE_LOG"
  [ -x "$(pr image inspect "$FAKE/busybox" | jq -r '.[0].LayerDirs[0]')/bin/busybox" ]
}

@test "pull: 401 is a clear error; a bearer token is fetched with the auth file's credentials" {
  echo 401 > "$FAKE_MODE"
  run pr pull "$FAKE/busybox"
  [ "$status" -eq 1 ]
  [[ "$output" == *"401 Unauthorized"*"auth file has none"* ]]
  echo bearer > "$FAKE_MODE"
  run pr pull "$FAKE/busybox"
  [ "$status" -eq 1 ]
  [[ "$output" == *"token server"*"HTTP 401"* ]]
  printf '{"auths":{"%s":{"auth":"%s"}}}' "$FAKE" "$(printf user:secret | base64)" > "$REGISTRY_AUTH_FILE"
  run pr pull "$FAKE/busybox"
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q 'GET /token' "$FAKE_LOG"
  # Basic auth, with the credentials in docker's config file instead.
  pr rmi "$FAKE/busybox"
  echo basic > "$FAKE_MODE"
  mkdir -p "$BATS_TEST_TMPDIR/home/.docker"
  mv "$REGISTRY_AUTH_FILE" "$BATS_TEST_TMPDIR/home/.docker/config.json"
  run env -u REGISTRY_AUTH_FILE -u XDG_RUNTIME_DIR HOME="$BATS_TEST_TMPDIR/home" "$PODRUN" --images-root "$IMAGES_ROOT" pull "$FAKE/busybox"
  echo "$output"
  [ "$status" -eq 0 ]
  run env -u REGISTRY_AUTH_FILE -u XDG_RUNTIME_DIR HOME="$BATS_TEST_TMPDIR/nohome" "$PODRUN" --images-root "$IMAGES_ROOT" pull "$FAKE/busybox"
  [ "$status" -eq 1 ]
  [[ "$output" == *"401 Unauthorized"* ]]
}

@test "pull: usage and reference errors" {
  run pr pull
  [ "$status" -eq 1 ]
  [[ "$output" == *"usage: podrun pull"* ]]
  run pr pull 'bad//ref'
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid image reference"* ]]
}

# Libraries are quiet (DESIGN.md): the images library reports progress through a callback and
# the CLI draws it, as bars on a terminal and as plain lines anywhere else.
@test "pull: progress when stderr is not a terminal is plain lines, one per blob start and end" {
  pr pull "127.0.0.1:$REG_PORT/busybox:latest" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err"
  cat "$BATS_TEST_TMPDIR/err"
  m=$(jq -r '.manifests[0].digest' "$BUSYBOX_OCI/index.json")
  layer=$(jq -r '.layers[0].digest' "$BUSYBOX_OCI/blobs/sha256/${m#sha256:}")
  config=$(jq -r '.config.digest' "$BUSYBOX_OCI/blobs/sha256/${m#sha256:}")
  # No escape sequence, no carriage return: a log reads top to bottom.
  [ "$(tr -dc '\033\r' < "$BATS_TEST_TMPDIR/err" | wc -c)" -eq 0 ]
  grep -qx "Copying blob ${config:7:12}" "$BATS_TEST_TMPDIR/err"
  grep -qx "Copying blob ${config:7:12} done (.*)" "$BATS_TEST_TMPDIR/err"
  grep -qx "Copying blob ${layer:7:12}" "$BATS_TEST_TMPDIR/err"
  grep -qx "Copying blob ${layer:7:12} done (.*)" "$BATS_TEST_TMPDIR/err"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/err")" -eq 4 ]
  # -q: nothing at all.
  pr rmi "127.0.0.1:$REG_PORT/busybox:latest" > /dev/null
  pr pull -q "127.0.0.1:$REG_PORT/busybox:latest" > /dev/null 2> "$BATS_TEST_TMPDIR/err"
  [ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "pull: on a terminal the CLI draws bars; the images library draws nothing itself" {
  script -qefc "$(printf '%q ' "$PODRUN" --images-root "$IMAGES_ROOT" pull "127.0.0.1:$REG_PORT/busybox:latest")" \
    /dev/null > "$BATS_TEST_TMPDIR/tty" < /dev/null
  grep -q $'\033\\[2KCopying blob .* done' "$BATS_TEST_TMPDIR/tty"
  # The library links no way to reach a terminal: no stdio streams, no printf family.
  run bash -c "nm -u '$PODRUN_BUILD/images/libimages.a' | grep -Ew '(stderr|stdout|printf|fprintf|vfprintf|dprintf|puts|fputs|putchar|fputc|perror)'"
  echo "$output"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
}

@test "pull: the manifest and config it verified are committed as they are, not read back" {
  m=$(jq -r '.manifests[0].digest' "$BUSYBOX_OCI/index.json")
  config=$(jq -r '.config.digest' "$BUSYBOX_OCI/blobs/sha256/${m#sha256:}")
  # LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks in the other tests.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=openat -o "$BATS_TEST_TMPDIR/trace" \
    "$PODRUN" --images-root "$IMAGES_ROOT" pull -q "127.0.0.1:$REG_PORT/busybox:latest" > /dev/null
  [ "$(pr images --format json | jq -r 'length')" = 1 ]
  # Reads of stored blobs (O_RDONLY opens of blobs/sha256/HEX): the config once, to learn its
  # diff_ids before the layers come; the manifest, parsed from the response, never.
  [ "$(grep -c "blobs/sha256/${config#sha256:}\", O_RDONLY" "$BATS_TEST_TMPDIR/trace")" -eq 1 ]
  [ "$(grep -c "blobs/sha256/${m#sha256:}\", O_RDONLY" "$BATS_TEST_TMPDIR/trace")" -eq 0 ]
}
