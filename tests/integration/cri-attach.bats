#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The CRI's Attach to CRI containers (CreateContainer in a sandbox, as the kubelet makes them
# for `kubectl run -it` and `kubectl attach`): stdin, stdin_once and tty kept by the sandbox's
# shim, reached over both streaming protocols (WebSocket v5/v4.channel.k8s.io and SPDY/3.1)
# by the test clients (tests/lib/stream-client.py, spdy-client.py), driven through the gRPC
# client (tests/lib/cri-client.py).

load ../lib/helpers
load ../lib/pods-helpers

PY=/usr/bin/python3

setup() {
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  LOGS=$BATS_TEST_TMPDIR/podlogs
  SB=
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" \
    serve --listen "unix://$SOCK" > "$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$SOCK" || { cat "$BATS_TEST_TMPDIR/serve.log"; false; }
  local out
  out=$(cri RuntimeService/RunPodSandbox "$(jq -nc --arg logs "$LOGS" --arg cg "$PODS_CG_ROOT/kubepods/podattach" \
    '{config: {metadata: {name: "att", namespace: "default", uid: "uid-att", attempt: 0},
               hostname: "att", log_directory: $logs, linux: {cgroup_parent: $cg}}}')")
  SB=$(jq -r .pod_sandbox_id <<<"$out")
}

teardown() {
  local bad=0
  if [ -n "$SB" ]; then
    cri RuntimeService/RemovePodSandbox "{\"pod_sandbox_id\":\"$SB\"}" > /dev/null || bad=1
  fi
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  if grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$BATS_TEST_TMPDIR/serve.log" >&2; then
    bad=1
  fi
  pods_teardown || bad=1
  return "$bad"
}

cri() { "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" "$@"; }
sc() { in_node "$PY" "$TOP/tests/lib/stream-client.py" "$@"; }
spdy() { in_node "$PY" "$TOP/tests/lib/spdy-client.py" "$@"; }

# ctr NAME FLAGS CMD...: a container created with FLAGS ({stdin, stdin_once, tty}) and
# started; its id in CTR.
ctr() {
  local name=$1 flags=$2 out
  shift 2
  out=$(cri RuntimeService/CreateContainer "$(jq -nc --arg sb "$SB" --arg n "$name" --argjson f "$flags" \
    '{pod_sandbox_id: $sb,
      config: ({metadata: {name: $n, attempt: 0}, image: {image: "busybox"},
                command: $ARGS.positional, log_path: ($n + "/0.log")} + $f)}' --args -- "$@")") || return 1
  CTR=$(jq -r .container_id <<<"$out")
  cri RuntimeService/StartContainer "{\"container_id\":\"$CTR\"}" > /dev/null
}

state() { cri RuntimeService/ContainerStatus "{\"container_id\":\"$1\"}" | jq -r .status.state; }
exited() { [ "$(state "$1")" = CONTAINER_EXITED ]; }

# attach_url ID STDIN TTY: the URL of an Attach as the kubelet asks it (stderr unless tty).
attach_url() {
  cri RuntimeService/Attach "$(jq -nc --arg c "$1" --argjson in "$2" --argjson tty "$3" \
    '{container_id: $c, stdin: $in, stdout: true, stderr: ($tty | not), tty: $tty}')" | jq -r .url
}

log_of() { cat "$LOGS/$1/0.log"; }

@test "cri-attach: a shell with stdin and a terminal over WebSocket: a command, the resize stty sees, exit and its status" {
  ctr sh '{"stdin": true, "tty": true}' sh
  local id=$CTR u
  [ "$(state "$id")" = CONTAINER_RUNNING ]
  u=$(attach_url "$id" true true)
  [[ "$u" =~ ^http://127\.0\.0\.1:[0-9]+/attach/[0-9a-f]{32}$ ]]
  run sc "$u" exec --step $'send:echo hi-$((6*7))\r' --step expect:hi-42 \
    --step resize:91x17 --step $'send:stty size\r' --step 'expect:17 91' --step $'send:exit 3\r'
  [ "$status" -eq 0 ]
  [ "$(jq -r .protocol <<<"$output")" = v5.channel.k8s.io ]
  [ "$(jq -r .expected <<<"$output")" = null ]
  [ "$(jq -r .stderr <<<"$output")" = "" ]
  [ "$(jq -r .status.reason <<<"$output")" = NonZeroExitCode ]
  [ "$(jq -r '.status.details.causes[0].message' <<<"$output")" = 3 ]
  wait_for exited "$id"
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$id\"}"
  [ "$(jq -r .status.exit_code <<<"$output")" = 3 ]
  [ "$(jq -r .status.log_path <<<"$output")" = "$LOGS/sh/0.log" ]
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$id\",\"verbose\":true}"
  [ "$(jq -r .info.info <<<"$output" | jq -c '.record | [.stdin, .stdinOnce, .tty]')" = '[true,false,true]' ]
  # The terminal's output is logged as stdout, its lines without the terminal's "\r", as
  # containerd logs it; nothing as stderr.
  log_of sh | grep -q ' stdout F hi-42$'
  log_of sh | grep -q ' stdout F 17 91$'
  run grep -c $'\r$' "$LOGS/sh/0.log"
  [ "$output" = 0 ]
  run grep -c ' stderr ' "$LOGS/sh/0.log"
  [ "$output" = 0 ]
  # The bundle gave the process a terminal.
  [ "$(jq -r .process.terminal "$ROOTS"/lib/sandboxes/*/containers/"$id"/config.json)" = true ]
}

@test "cri-attach: a terminal over SPDY/3.1; a detach leaves the shell running for the next session" {
  ctr sh '{"stdin": true, "tty": true}' sh
  local id=$CTR u
  u=$(attach_url "$id" true true)
  run spdy "$u" exec --tty --step $'send:echo one-$((1+1))\r' --step expect:one-2 \
    --step resize:77x13 --step $'send:stty size\r' --step 'expect:13 77' --step detach
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<<"$output")" = true ]
  [ "$(jq -r .expected <<<"$output")" = null ]
  [ "$(state "$id")" = CONTAINER_RUNNING ]
  # Exec with a terminal into the same container still works beside it.
  u=$(cri RuntimeService/Exec "$(jq -nc --arg c "$id" '{container_id: $c, cmd: ["sh", "-c", "read x; stty size"], stdin: true, stdout: true, tty: true}')" | jq -r .url)
  run sc "$u" exec --resize 40x9 --stdin $'go\n'
  [[ "$(jq -r .stdout <<<"$output")" == *"9 40"* ]]
  [ "$(jq -r .status.status <<<"$output")" = Success ]
  # The shell's stdin was not closed (no stdin_once): a second session goes on, over v4.
  u=$(attach_url "$id" true true)
  run sc "$u" exec --proto v4.channel.k8s.io --step $'send:echo two-$((1+1))\r' --step expect:two-2 \
    --step $'send:exit 5\r'
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.reason <<<"$output")" = NonZeroExitCode ]
  [ "$(jq -r '.status.details.causes[0].message' <<<"$output")" = 5 ]
}

@test "cri-attach: stdin without a terminal: stdout and stderr apart, over WebSocket and SPDY; the client's end of input is not the container's" {
  ctr echo '{"stdin": true}' sh -c 'while read l; do echo "out $l"; echo "err $l" >&2; done; echo eof; exit 6'
  local id=$CTR u
  u=$(attach_url "$id" true false)
  run sc "$u" exec --step $'send:a\n' --step 'expect:out a' --step 'expect-stderr:err a' --step close-stdin --step detach
  [ "$status" -eq 0 ]
  [ "$(jq -r .expected <<<"$output")" = null ]
  [ "$(jq -r .stdout <<<"$output")" = 'out a' ]
  [ "$(jq -r .stderr <<<"$output")" = 'err a' ]
  u=$(attach_url "$id" true false)
  run spdy "$u" exec --step $'send:b\n' --step 'expect:out b' --step 'expect-stderr:err b' --step close-stdin --step detach
  [ "$status" -eq 0 ]
  [ "$(jq -r .expected <<<"$output")" = null ]
  # Without stdin_once, neither end closed the container's stdin.
  [ "$(state "$id")" = CONTAINER_RUNNING ]
  grep -q ' stdout F out a$' "$LOGS/echo/0.log"
  grep -q ' stderr F err b$' "$LOGS/echo/0.log"
  run grep -c ' eof$' "$LOGS/echo/0.log"
  [ "$output" = 0 ]
}

@test "cri-attach: stdin_once: the first session's end closes the container's stdin (a detach, or the end of input; a terminal gets its EOF character)" {
  ctr once '{"stdin": true, "stdin_once": true}' sh -c 'cat; echo "stdin closed"; exit 4'
  local once=$CTR u
  ctr once2 '{"stdin": true, "stdin_once": true}' sh -c 'cat; echo "stdin closed"; exit 4'
  local once2=$CTR
  # The first session detaches: cat reads EOF, the container ends.
  u=$(attach_url "$once" true false)
  run sc "$u" exec --step $'send:first\n' --step expect:first --step detach
  [ "$status" -eq 0 ]
  [ "$(jq -r .expected <<<"$output")" = null ]
  wait_for exited "$once"
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$once\"}"
  [ "$(jq -r .status.exit_code <<<"$output")" = 4 ]
  grep -q ' stdout F first$' "$LOGS/once/0.log"
  grep -q ' stdout F stdin closed$' "$LOGS/once/0.log"
  # Over SPDY, the end of input (FIN) ends it; the session sees the rest and the exit.
  u=$(attach_url "$once2" true false)
  run spdy "$u" exec --stdin $'x\n'
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<<"$output")" = $'x\nstdin closed' ]
  [ "$(jq -r '.status.details.causes[0].message' <<<"$output")" = 4 ]

  # What `kubectl run -it` asks (stdin, stdin_once, tty): a terminal cannot be half-closed, so
  # the first session's end sends it the EOF character and takes no more input; the shell ends.
  ctr it '{"stdin": true, "stdin_once": true, "tty": true}' sh
  local it=$CTR
  u=$(attach_url "$it" true true)
  run sc "$u" exec --step $'send:echo in-$((2*4))\r' --step expect:in-8 --step detach
  [ "$status" -eq 0 ]
  [ "$(jq -r .expected <<<"$output")" = null ]
  wait_for exited "$it"
  run cri RuntimeService/ContainerStatus "{\"container_id\":\"$it\"}"
  [ "$(jq -r .status.exit_code <<<"$output")" = 0 ]
}

@test "cri-attach: a container made without stdin: input dropped as containerd drops it, output still comes; one not running is refused as containerd refuses it" {
  ctr tick '{}' sh -c 'while :; do echo tick; sleep 0.3; done'
  local id=$CTR u
  u=$(attach_url "$id" true false)
  run sc "$u" exec --stdin $'ignored\n' --until tick
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<<"$output")" = true ]
  [[ "$(jq -r .stdout <<<"$output")" == tick* ]]
  # Its attach socket refuses stdin frames (what podrun attach sees); the CRI relay dropped them.
  [ "$(state "$id")" = CONTAINER_RUNNING ]
  # A terminal asked of a container without one: its output still comes, as stdout.
  u=$(attach_url "$id" false true)
  run spdy "$u" exec --tty --until tick
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<<"$output")" = true ]
  # Exited, or created and not started: the call is refused in containerd's words.
  cri RuntimeService/StopContainer "{\"container_id\":\"$id\",\"timeout\":0}" > /dev/null
  run cri RuntimeService/Attach "$(jq -nc --arg c "$id" '{container_id: $c, stdout: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error UNKNOWN"*"container is in CONTAINER_EXITED state"* ]]
  run cri RuntimeService/Exec "$(jq -nc --arg c "$id" '{container_id: $c, cmd: ["true"], stdout: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error UNKNOWN"*"container is in CONTAINER_EXITED state"* ]]
  out=$(cri RuntimeService/CreateContainer "$(jq -nc --arg sb "$SB" \
    '{pod_sandbox_id: $sb, config: {metadata: {name: "idle"}, image: {image: "busybox"}, command: ["true"], stdin: true}}')")
  run cri RuntimeService/Attach "$(jq -nc --arg c "$(jq -r .container_id <<<"$out")" '{container_id: $c, stdin: true, stdout: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error UNKNOWN"*"container is in CONTAINER_CREATED state"* ]]
  run cri RuntimeService/Exec "$(jq -nc --arg c "$(jq -r .container_id <<<"$out")" '{container_id: $c, cmd: ["true"], stdout: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error UNKNOWN"*"container is in CONTAINER_CREATED state"* ]]
}

@test "cri-attach: a removed container's attach socket goes with it" {
  ctr gone '{"stdin": true}' cat
  local id=$CTR
  ls "$ROOTS"/run/sandboxes/*/shim/attach/"$id".sock
  cri RuntimeService/RemoveContainer "{\"container_id\":\"$id\"}" > /dev/null
  run ls "$ROOTS"/run/sandboxes/*/shim/attach/
  [ "$status" -eq 0 ]
  [ "$output" = "" ]
}
