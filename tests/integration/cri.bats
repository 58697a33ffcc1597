#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (it times deadlines and concurrent calls)
# podrun serve: CRI v1 over gRPC on a unix socket, driven by an independent client (Debian's
# python3-grpcio with messages protoc compiles from agent/cri/api.proto) and by raw HTTP/2
# (python3-h2) for what a gRPC library never sends. Pulls come from the fake registry on
# loopback (tests/lib/images-fake-registry.py).

load ../lib/helpers
load ../lib/images-helpers

PY=/usr/bin/python3

wait_port_file() {
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

setup_file() {
  busybox_image
  local dir=$BATS_FILE_TMPDIR
  mkdir -p "$dir/fake"
  cp -r "$BUSYBOX_OCI" "$dir/fake/layout"
  echo ok > "$dir/fake/mode"
  "$PY" "$TOP/tests/lib/images-fake-registry.py" "$dir/fake/layout" "$dir/fake/port" "$dir/fake/log" \
    > "$dir/fake/out" 2>&1 3>&- &
  echo $! > "$dir/fake/pid"
  wait_port_file "$dir/fake/port"
  export FAKE=127.0.0.1:$(cat "$dir/fake/port") FAKE_MODE=$dir/fake/mode
}

teardown_file() {
  [ -f "$BATS_FILE_TMPDIR/fake/pid" ] && kill "$(cat "$BATS_FILE_TMPDIR/fake/pid")" 2>/dev/null || true
}

setup() {
  images_setup
  D=$BATS_TEST_TMPDIR
  RUN=$D/run CNI_CONF=$D/cni SOCK=$D/run/podrun.sock
  mkdir -p "$CNI_CONF"
  echo ok > "$FAKE_MODE"
  export CONTAINERS_REGISTRIES_CONF=$D/registries.conf
  printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$FAKE" > "$CONTAINERS_REGISTRIES_CONF"
  export REGISTRY_AUTH_FILE=$D/auth.json
  SERVE_PID=
}

teardown() {
  local p
  for p in $SERVE_PID ${EXTRA_PIDS:-}; do
    kill -9 "$p" 2>/dev/null || true
  done
  [ -n "$SERVE_PID" ] && wait "$SERVE_PID" 2>/dev/null || true
  # The server's own sanitizer reports go to its log, not to a `run`'s output.
  if [ -f "$D/serve.log" ] && grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$D/serve.log" >&2; then
    return 1
  fi
}

cri() { "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" "$@"; }
raw() { "$PY" "$TOP/tests/lib/cri-raw.py" "$SOCK" "$@"; }

# start_serve [SERVE ARGS]: podrun serve on the test's roots, waiting for its socket.
start_serve() {
  "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$RUN" --cni-conf-dir "$CNI_CONF" \
    serve "$@" > "$D/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "${LISTEN_PATH:-$SOCK}"
}

# stop_serve: SIGTERM, and the server's exit status in SERVE_STATUS.
stop_serve() {
  kill -TERM "$SERVE_PID"
  SERVE_STATUS=0
  wait "$SERVE_PID" || SERVE_STATUS=$?
  SERVE_PID=
}

@test "cri: Version, RuntimeConfig and Status" {
  start_serve
  run cri RuntimeService/Version '{"version":"0.1.0"}'
  [ "$status" -eq 0 ]
  [ "$(jq -r .runtime_name <<< "$output")" = podrun ]
  [ "$(jq -r .runtime_api_version <<< "$output")" = v1 ]
  [ "$(jq -r .runtime_version <<< "$output")" = "$("$PODRUN" --version | awk '{print $3}')" ]
  [ "$(jq -r .version <<< "$output")" = 0.1.0 ]

  # Without --cgroup-driver: systemd's where systemd is PID 1.
  local driver=cgroupfs
  [ ! -d /run/systemd/system ] || driver=systemd
  run cri RuntimeService/RuntimeConfig
  [ "$status" -eq 0 ]
  [ "$(jq -r .linux.cgroup_driver <<< "$output")" = "${driver^^}" ]

  run cri RuntimeService/Status '{"verbose":true}'
  [ "$status" -eq 0 ]
  [ "$(jq -r '.status.conditions[] | select(.type == "RuntimeReady") | .status' <<< "$output")" = true ]
  [ "$(jq -r '.status.conditions[] | select(.type == "NetworkReady") | .status' <<< "$output")" = true ]
  [ "$(jq -r '.info.config | fromjson | .cgroupDriver' <<< "$output")" = "$driver" ]
  run cri RuntimeService/Status
  [ "$status" -eq 0 ]
  [ "$(jq -r '.info | length' <<< "$output")" = 0 ]
}

@test "cri: --cgroup-driver is systemd or cgroupfs, and systemd only where systemd runs" {
  run "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$RUN" serve --cgroup-driver cgroupv2
  [ "$status" -eq 1 ]
  [[ "$output" == *"--cgroup-driver \`cgroupv2\`: expected systemd or cgroupfs"* ]]
  [ ! -e "$SOCK" ]
  if [ ! -d /run/systemd/system ]; then
    run "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$RUN" serve --cgroup-driver systemd
    [ "$status" -eq 1 ]
    [[ "$output" == *"systemd is not running on this node"* ]]
    [ ! -e "$SOCK" ]
  fi
  # Chosen by hand, cgroupfs is what RuntimeConfig says.
  start_serve --cgroup-driver cgroupfs
  run cri RuntimeService/RuntimeConfig
  [ "$status" -eq 0 ]
  [ "$(jq -r .linux.cgroup_driver <<< "$output")" = CGROUPFS ]
}

@test "cri: Status: NetworkReady is false, with a reason, while the CNI configuration is unusable" {
  start_serve
  echo '{ not json' > "$CNI_CONF/10-broken.conflist"
  run cri RuntimeService/Status
  [ "$status" -eq 0 ]
  local net='.status.conditions[] | select(.type == "NetworkReady")'
  [ "$(jq -r "$net | .status" <<< "$output")" = false ]
  [ "$(jq -r "$net | .reason" <<< "$output")" = NetworkPluginNotReady ]
  [[ "$(jq -r "$net | .message" <<< "$output")" == *10-broken.conflist* ]]
  [ "$(jq -r '.status.conditions[] | select(.type == "RuntimeReady") | .status' <<< "$output")" = true ]

  printf '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"no-such-plugin"}]}' > "$CNI_CONF/10-broken.conflist"
  run cri RuntimeService/Status
  [ "$(jq -r "$net | .status" <<< "$output")" = false ]
  [[ "$(jq -r "$net | .message" <<< "$output")" == *"plugin \`no-such-plugin\` not found"* ]]

  # Fixed on disk: ready again, with no restart.
  printf '{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"podrun-bridge"}]}' > "$CNI_CONF/10-broken.conflist"
  run cri RuntimeService/Status
  [ "$(jq -r "$net | .status" <<< "$output")" = true ]
}

# (Exec, Attach and PortForward: cri-stream.bats.)
@test "cri: every CRI method not implemented yet answers UNIMPLEMENTED, as do unknown ones" {
  start_serve
  local m
  # The sandbox and container calls are served (cri-pods.bats); Exec, Attach and PortForward
  # too (cri-stream.bats).
  for m in StreamPodSandboxes StreamContainers StreamContainerStats StreamPodSandboxStats \
    CheckpointContainer \
    CheckpointPod RestorePod ListMetricDescriptors ListPodSandboxMetrics \
    StreamPodSandboxMetrics UpdatePodSandboxResources; do
    run cri "/runtime.v1.RuntimeService/$m" --raw ''
    [ "$status" -eq 3 ]
    [ "$output" = "grpc-error UNIMPLEMENTED: podrun does not implement runtime.v1.RuntimeService/$m yet" ]
  done
  run cri /runtime.v1.ImageService/StreamImages --raw ''
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error UNIMPLEMENTED: "* ]]
  for m in /runtime.v1.RuntimeService/Nope /runtime.v1alpha2.RuntimeService/Version /x /; do
    run cri "$m" --raw ''
    [ "$status" -eq 3 ]
    [ "$output" = "grpc-error UNIMPLEMENTED: unknown method $m" ]
  done
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
}

@test "cri: PullImage, ListImages (filter), ImageStatus (verbose), ImageFsInfo, RemoveImage" {
  start_serve
  run cri ImageService/ImageFsInfo
  [ "$status" -eq 0 ]
  local used0
  used0=$(jq -r '.image_filesystems[0].used_bytes.value' <<< "$output")
  [ "$(jq -r '.image_filesystems[0].fs_id.mountpoint' <<< "$output")" = "$IMAGES_ROOT" ]

  run cri ImageService/ImageStatus '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 0 ]
  [ "$(jq -r '.image' <<< "$output")" = null ]

  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 0 ]
  local id
  id=$(jq -r .image_ref <<< "$output")
  [[ "$id" == sha256:* ]]
  [ "$("$PODRUN" --images-root "$IMAGES_ROOT" images --format json | jq -r '.[0].Id')" = "${id#sha256:}" ]

  run cri ImageService/ListImages
  [ "$status" -eq 0 ]
  [ "$(jq -r '.images | length' <<< "$output")" = 1 ]
  [ "$(jq -r '.images[0].id' <<< "$output")" = "$id" ]
  [ "$(jq -r '.images[0].repo_tags[0]' <<< "$output")" = "$FAKE/busybox:1" ]
  [[ "$(jq -r '.images[0].repo_digests[0]' <<< "$output")" == "$FAKE/busybox@sha256:"* ]]
  [ "$(jq -r '.images[0].size' <<< "$output")" -gt 0 ]
  local repodigest
  repodigest=$(jq -r '.images[0].repo_digests[0]' <<< "$output")

  run cri ImageService/ListImages '{"filter":{"image":{"image":"'"$FAKE"'/busybox:1"}}}'
  [ "$(jq -r '.images | length' <<< "$output")" = 1 ]
  run cri ImageService/ListImages '{"filter":{"image":{"image":"'"$FAKE"'/other:1"}}}'
  [ "$status" -eq 0 ]
  [ "$(jq -r '.images | length' <<< "$output")" = 0 ]

  # By name, by ID and by repo digest; verbose adds the inspect object.
  local ref
  for ref in "$FAKE/busybox:1" "$id" "$repodigest"; do
    run cri ImageService/ImageStatus '{"image":{"image":"'"$ref"'"}}'
    [ "$status" -eq 0 ]
    [ "$(jq -r '.image.id' <<< "$output")" = "$id" ]
    [ "$(jq -r '.info | length' <<< "$output")" = 0 ]
  done
  # Pulled by digest: a repo digest, not a tag.
  run cri ImageService/PullImage '{"image":{"image":"'"${repodigest/busybox@/bydigest@}"'"}}'
  [ "$status" -eq 0 ]
  [ "$(jq -r .image_ref <<< "$output")" = "$id" ]
  run cri ImageService/ImageStatus '{"image":{"image":"'"$id"'"}}'
  [ "$(jq -c '.image.repo_tags' <<< "$output")" = "[\"$FAKE/busybox:1\"]" ]
  jq -e --arg d "${repodigest/busybox@/bydigest@}" '.image.repo_digests | index($d)' <<< "$output"
  run cri ImageService/ImageStatus '{"image":{"image":"'"$FAKE"'/busybox:1"},"verbose":true}'
  [ "$(jq -r '.info.info | fromjson | .Id' <<< "$output")" = "$id" ]

  run cri ImageService/ImageFsInfo
  [ "$(jq -r '.image_filesystems[0].used_bytes.value' <<< "$output")" -gt "$used0" ]
  [ "$(jq -r '.image_filesystems[0].inodes_used.value' <<< "$output")" -gt 10 ]

  run cri ImageService/RemoveImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 0 ]
  run cri ImageService/ListImages
  [ "$(jq -r '.images | length' <<< "$output")" = 0 ]
  # Its content went too (the kubelet removes images to free the disk).
  [ -z "$(ls -A "$IMAGES_ROOT/blobs/sha256")" ]
  # Removing what is not there succeeds, as the CRI asks; no image at all is an error.
  run cri ImageService/RemoveImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 0 ]
  run cri ImageService/RemoveImage '{"image":{"image":""}}'
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error INVALID_ARGUMENT: "* ]]

  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/missing:latest"}}'
  [ "$status" -eq 0 ] # the fake registry serves its one image under any name
  echo bad-manifest-digest > "$FAKE_MODE"
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:2"}}'
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error UNKNOWN: pull \`$FAKE/busybox:2\`: "*digest* ]]
}

@test "cri: the server (podrun-cri) maps no libcurl, TLS or libarchive: pulls run in podrun-fetch" {
  start_serve
  # podrun serve execs podrun-cri in its own process.
  [ "$(cat "/proc/$SERVE_PID/comm")" = podrun-cri ]
  run grep -E 'lib(curl|archive|ssl|gnutls|xml2|krb5|ldap)' "/proc/$SERVE_PID/maps"
  [ "$status" -eq 1 ]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 0 ]
  [[ "$(jq -r .image_ref <<< "$output")" == sha256:* ]]
  # The pull's libraries came and went with its child.
  run grep -E 'lib(curl|archive)' "/proc/$SERVE_PID/maps"
  [ "$status" -eq 1 ]
  run pgrep -P "$SERVE_PID"
  [ "$status" -eq 1 ]
}

@test "cri: a PullImage whose deadline passes kills its child, which leaves no staging behind" {
  start_serve
  echo stall > "$FAKE_MODE"
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}' --timeout 2
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error DEADLINE_EXCEEDED: "* ]]
  # The child is gone at once (not 20 s later, when the registry would have gone on), and
  # the half-written blob with it.
  no_fetch() { ! pgrep -f "podrun-fetch pull $IMAGES_ROOT"; }
  no_staging() { [ -z "$(ls -A "$IMAGES_ROOT/tmp")" ]; }
  wait_for no_fetch
  wait_for no_staging
  echo ok > "$FAKE_MODE"
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 0 ]
  run cri ImageService/ListImages
  [ "$(jq -r '.images | length' <<< "$output")" = 1 ]
}

@test "cri: PullImage passes the AuthConfig to the registry" {
  start_serve
  echo basic > "$FAKE_MODE"
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"}}'
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error UNKNOWN: pull \`$FAKE/busybox:1\`: "*"401 Unauthorized"* ]]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"},"auth":{"username":"user","password":"wrong"}}'
  [ "$status" -eq 3 ]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:1"},"auth":{"username":"user","password":"secret"}}'
  [ "$status" -eq 0 ]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:2"},"auth":{"auth":"'"$(printf user:secret | base64)"'"}}'
  [ "$status" -eq 0 ]

  echo bearer > "$FAKE_MODE"
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:3"},"auth":{"username":"user","password":"secret"}}'
  [ "$status" -eq 0 ]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:4"},"auth":{"registry_token":"good-token"}}'
  [ "$status" -eq 0 ]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:5"},"auth":{"registry_token":"bad\r\nX-Evil: 1"}}'
  [ "$status" -eq 3 ]
  [ "$output" = "grpc-error INVALID_ARGUMENT: pull: the auth config holds a control character" ]
  run cri ImageService/PullImage '{"image":{"image":"'"$FAKE"'/busybox:5"},"auth":{"identity_token":"refresh"}}'
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error INVALID_ARGUMENT: pull: auth.identity_token"*"not supported"* ]]
  run cri ImageService/ListImages
  [ "$(jq -r '.images[0].repo_tags | length' <<< "$output")" = 4 ]
}

@test "cri: malformed requests get gRPC errors and the server keeps serving" {
  start_serve
  run raw content-type
  [ "$output" = "stream 1: http=415 grpc-status=13 grpc-message=the content-type is not application/grpc" ]
  run raw get
  [ "$output" = "stream 1: http=405 grpc-status=13 grpc-message=gRPC requests are POSTs" ]
  run raw bad-proto
  [ "$output" = "stream 1: http=200 grpc-status=13 grpc-message=runtime.v1.RuntimeService/Version: the request is not a valid runtime.v1.VersionRequest message" ]
  run raw compressed
  [ "$output" = "stream 1: http=200 grpc-status=12 grpc-message=compressed messages are not accepted" ]
  run raw two-messages
  [ "$output" = "stream 1: http=200 grpc-status=12 grpc-message=more than one request message on a unary call" ]
  run raw no-message
  [ "$output" = "stream 1: http=200 grpc-status=12 grpc-message=the request has no message" ]
  run raw cut-message
  [ "$output" = "stream 1: http=200 grpc-status=13 grpc-message=the request ended inside a message" ]
  run raw bad-timeout
  [ "$output" = "stream 1: http=200 grpc-status=13 grpc-message=malformed grpc-timeout" ]
  # A request that never ends is answered at its deadline.
  run raw deadline
  [ "$output" = "stream 1: http=200 grpc-status=4 grpc-message=the call's grpc-timeout passed" ]
  # A stream reset halfway leaves its connection serving.
  run raw reset
  [ "$status" -eq 0 ]
  [ "$output" = "stream 3: http=200 grpc-status=0 grpc-message=None" ]
  # Bad bytes through a real gRPC client, too; a message field of the wrong type.
  run cri RuntimeService/Status --raw 'ffffffff'
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error INTERNAL: runtime.v1.RuntimeService/Status: the request is not a valid"* ]]
  run cri ImageService/ImageStatus --raw '0a03616263'
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error INTERNAL: "* ]]
  # A garbage connection (not HTTP/2) is closed without harm to the others.
  "$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"GET / HTTP/1.1\r\n\r\n" * 100); s.recv(100)' "$SOCK"
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
  kill -0 "$SERVE_PID"
}

@test "cri: a message over 16 MiB is refused with RESOURCE_EXHAUSTED before it is read" {
  start_serve
  run raw oversize
  [ "$status" -eq 0 ]
  [ "$output" = "stream 1: http=200 grpc-status=8 grpc-message=the request message (17825792 bytes) is larger than the server's limit of 16777216 bytes" ]
  # Through grpcio: a whole 17 MiB request (the client is told it may send it).
  run "$PY" - "$SOCK" <<'PY'
import grpc, sys
ch = grpc.insecure_channel("unix://" + sys.argv[1], options=[("grpc.max_send_message_length", 64 << 20)])
call = ch.unary_unary("/runtime.v1.ImageService/ListImages")
try:
    call(b"\x0a\x84\x80\x80\x08" + b"\0" * (17 << 20), timeout=30)
except grpc.RpcError as e:
    print(e.code().name)
PY
  [ "$output" = RESOURCE_EXHAUSTED ]
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
}

@test "cri: many concurrent streams, on one connection and on many" {
  start_serve
  run cri RuntimeService/Version --concurrent 500
  [ "$status" -eq 0 ]
  [ "$output" = ok=500 ]
  run cri ImageService/ListImages --concurrent 200
  [ "$output" = ok=200 ]
  local i pids=()
  for ((i = 0; i < 8; i++)); do
    cri RuntimeService/Status --concurrent 50 > "$D/c$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  for ((i = 0; i < 8; i++)); do [ "$(cat "$D/c$i")" = ok=50 ]; done
}

@test "cri: a client that never reads does not hold up the others" {
  start_serve
  "$PY" "$TOP/tests/lib/cri-raw.py" "$SOCK" never-read > "$D/never" 2>&1 3>&- &
  EXTRA_PIDS=$!
  wait_for grep -q sent "$D/never"
  run timeout 20 "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" RuntimeService/Version --repeat 200
  [ "$status" -eq 0 ]
  [[ "$output" == latency_us=* ]]
  run cri ImageService/ListImages
  [ "$status" -eq 0 ]
  kill "$EXTRA_PIDS"
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
}

@test "cri: GetContainerEvents: a stream the client cancels or whose deadline passes ends; the connection and the server go on" {
  start_serve
  run "$PY" "$TOP/tests/lib/cri-raw.py" "$SOCK" events-cancel
  [ "$status" -eq 0 ]
  [ "$output" = "stream 3: http=200 grpc-status=0 grpc-message=None" ]
  run "$PY" "$TOP/tests/lib/cri-raw.py" "$SOCK" events-deadline
  [ "$status" -eq 0 ]
  [ "$output" = "stream 1: http=200 grpc-status=4 grpc-message=None" ]
  # A request that is no GetEventsRequest is refused, as a unary call's would be.
  run cri RuntimeService/GetContainerEvents --raw ffffffff
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error INTERNAL: "*"not a valid runtime.v1.GetEventsRequest message" ]]
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
}

@test "cri: a call over its deadline gets DEADLINE_EXCEEDED" {
  start_serve
  # The image store's lock held by another process: ListImages waits for it.
  mkdir -p "$IMAGES_ROOT"
  flock -x "$IMAGES_ROOT/store.lock" sleep 3 3>&- &
  EXTRA_PIDS=$!
  sleep 0.2
  run cri ImageService/ListImages --timeout 0.5
  [ "$status" -eq 3 ]
  [[ "$output" == "grpc-error DEADLINE_EXCEEDED: "* ]]
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
  wait "$EXTRA_PIDS"
  run cri ImageService/ListImages
  [ "$status" -eq 0 ]
}

@test "cri: the socket is 0660 root:root; a live socket or a non-socket is not taken over" {
  start_serve
  [ "$(stat -c '%a %U %G %F' "$SOCK")" = "660 root root socket" ]
  [ "$(stat -c %a "$RUN")" != "" ]
  # A second server on the same path refuses, and the first keeps serving.
  run "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$RUN" serve
  [ "$status" -eq 1 ]
  [[ "$output" == *"\`$SOCK\`: a server is listening on it"* ]]
  run cri RuntimeService/Version
  [ "$status" -eq 0 ]
  stop_serve
  [ "$SERVE_STATUS" -eq 0 ]
  [ ! -e "$SOCK" ]

  echo keep > "$D/file"
  run "$PODRUN" --images-root "$IMAGES_ROOT" serve --listen "unix://$D/file"
  [ "$status" -eq 1 ]
  [[ "$output" == *"\`$D/file\` exists and is not a socket"* ]]
  [ "$(cat "$D/file")" = keep ]
  run "$PODRUN" serve --listen "tcp://127.0.0.1:1"
  [ "$status" -eq 1 ]
  [[ "$output" == *"only unix:// sockets are served"* ]]
  run "$PODRUN" serve --listen "relative.sock"
  [ "$status" -eq 1 ]
  [[ "$output" == *"the socket path must be absolute"* ]]
  run "$PODRUN" serve --listen "$D/$(printf 'x%.0s' {1..120}).sock"
  [ "$status" -eq 1 ]
  [[ "$output" == *"is longer than 107 bytes"* ]]

  # A stale socket (its server gone) is replaced.
  "$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$D/stale.sock"
  LISTEN_PATH=$D/stale.sock start_serve --listen "$D/stale.sock"
  SOCK=$D/stale.sock run cri RuntimeService/Version
  [ "$status" -eq 0 ]
}

@test "cri: SIGTERM drains the calls in flight, then the server exits and leaves nothing" {
  start_serve
  mkdir -p "$IMAGES_ROOT"
  flock -x "$IMAGES_ROOT/store.lock" sleep 2 3>&- &
  EXTRA_PIDS=$!
  sleep 0.2
  cri ImageService/ListImages > "$D/inflight" 2>&1 &
  local client=$!
  sleep 0.5
  kill -TERM "$SERVE_PID"
  # Draining: no new connections (the socket is gone at once), the call still in flight.
  wait_for test ! -e "$SOCK"
  kill -0 "$SERVE_PID"
  wait "$client"
  [ "$(jq -r '.images | length' "$D/inflight")" = 0 ]
  SERVE_STATUS=0
  wait "$SERVE_PID" || SERVE_STATUS=$?
  SERVE_PID=
  [ "$SERVE_STATUS" -eq 0 ]
  [ -z "$(ls -A "$RUN" | grep -v '^pods.lock$' || true)" ]
  run pgrep -f "serve.*$D" # no process of ours is left
  [ "$status" -eq 1 ]
}

@test "cri: systemd socket activation and readiness notification" {
  # READY=1 on NOTIFY_SOCKET once the socket listens.
  "$PY" - "$D/notify" > "$D/notified" 3>&- <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(20)
print(s.recv(4096).decode(), flush=True)
PY
  EXTRA_PIDS=$!
  wait_for test -S "$D/notify"
  NOTIFY_SOCKET=$D/notify start_serve
  wait_for grep -q READY=1 "$D/notified"
  stop_serve
  [ "$SERVE_STATUS" -eq 0 ]

  # A socket systemd made and passes (LISTEN_FDS): served, and not removed at exit.
  systemd-socket-activate -l "$D/act.sock" "$PODRUN" --images-root "$IMAGES_ROOT" --run-root "$RUN" serve \
    > "$D/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$D/act.sock"
  SOCK=$D/act.sock run cri RuntimeService/Version
  [ "$status" -eq 0 ]
  [ "$(jq -r .runtime_name <<< "$output")" = podrun ]
  [ ! -e "$RUN/podrun.sock" ]
  stop_serve
  [ "$SERVE_STATUS" -eq 0 ]
  [ -S "$D/act.sock" ] # systemd's, left to systemd

  # A passed socket that is not a unix stream socket is refused.
  local port
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  systemd-socket-activate -l "127.0.0.1:$port" "$PODRUN" --run-root "$RUN" serve > "$D/tcp.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port"
  SERVE_STATUS=0
  wait "$SERVE_PID" || SERVE_STATUS=$?
  SERVE_PID=
  [ "$SERVE_STATUS" -eq 1 ]
  grep -q "is not a listening unix stream socket" "$D/tcp.log"
}
