#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun serve's streaming server: the CRI's Exec and PortForward answer a URL, which a
# WebSocket client (tests/lib/stream-client.py, written from RFC 6455 and Kubernetes' channel
# protocol) follows. The pods are made by `podrun apply` (the sandbox RPCs are another
# part's); a container's CRI id is its runtime id "<pod uid>-<name>", a sandbox's its pod uid.

load ../lib/helpers
load ../lib/pods-helpers

PY=/usr/bin/python3

setup() {
  pods_setup
  SOCK=$BATS_TEST_TMPDIR/cri.sock
  SERVE_PID=
  cat > "$BATS_TEST_TMPDIR/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: s
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
  - name: web
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www"]
YAML
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running s 2/2
  UID_S=$(pod_uid s)
  APP=$UID_S-app
  # A simple command, not prn (a function): $! is then the server itself (nsenter execs it),
  # which the teardown stops.
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" \
    serve --listen "unix://$SOCK" --streaming-idle-timeout 2 --cgroup-driver cgroupfs > "$BATS_TEST_TMPDIR/serve.log" 2>&1 3>&- &
  SERVE_PID=$!
  wait_for test -S "$SOCK" || { cat "$BATS_TEST_TMPDIR/serve.log"; false; }
}

teardown() {
  local bad=0
  if [ -n "$SERVE_PID" ]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
    # The server is gone (a streaming connection must not keep it alive).
    if kill -0 "$SERVE_PID" 2>/dev/null; then
      echo "podrun serve $SERVE_PID still runs" >&2
      kill -9 "$SERVE_PID" 2>/dev/null || true
      bad=1
    fi
  fi
  if grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$BATS_TEST_TMPDIR/serve.log" >&2; then
    bad=1
  fi
  pods_teardown || bad=1
  return "$bad"
}

cri() { "$PY" "$TOP/tests/lib/cri-client.py" "$SOCK" "$@"; }
sc() { in_node "$PY" "$TOP/tests/lib/stream-client.py" "$@"; }
spdy() { in_node "$PY" "$TOP/tests/lib/spdy-client.py" "$@"; }

# url METHOD JSON: the URL a streaming call answers.
url() {
  local out
  out=$(cri "RuntimeService/$1" "$2") || return 1
  jq -r .url <<< "$out"
}

flood_gone() { [ -z "$(pgrep -f '^sh -c exec yes streaming-flood')" ]; }

exec_json() {
  jq -nc --arg c "$APP" --argjson tty "${3:-false}" --argjson in "${2:-false}" \
    '{container_id: $c, cmd: $ARGS.positional, stdin: $in, stdout: true, stderr: ($tty | not), tty: $tty}' \
    --args -- "${@:4}"
}

@test "cri-stream: exec over WebSocket: output, stdin, exit codes in the error channel, v4 and v5" {
  local u
  u=$(url Exec "$(exec_json x false false sh -c 'echo out; echo err >&2')")
  [[ "$u" =~ ^http://127\.0\.0\.1:[0-9]+/exec/[0-9a-f]{32}$ ]]
  run sc "$u" exec
  [ "$status" -eq 0 ]
  [ "$(jq -r .protocol <<< "$output")" = v5.channel.k8s.io ]
  [ "$(jq -r .stdout <<< "$output")" = out ]
  [ "$(jq -r .stderr <<< "$output")" = err ]
  [ "$(jq -c .status <<< "$output")" = '{"metadata":{},"status":"Success"}' ]
  [ "$(jq -r .close <<< "$output")" = 1000 ]

  # The token was used: a second client gets 404.
  run sc "$u" exec
  [ "$status" -eq 0 ]
  [ "$output" = "http 404" ]

  # stdin through to cat, ended by v5's close-stdin channel.
  u=$(url Exec "$(exec_json x true false cat)")
  run sc "$u" exec --stdin 'line one
line two' --close-stdin
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = $'line one\nline two' ]
  [ "$(jq -r .status.status <<< "$output")" = Success ]

  # A non-zero exit as the kubelet reports it (v4: a metav1.Status).
  u=$(url Exec "$(exec_json x false false sh -c 'exit 7')")
  run sc "$u" exec --proto v4.channel.k8s.io
  [ "$status" -eq 0 ]
  [ "$(jq -r .protocol <<< "$output")" = v4.channel.k8s.io ]
  [ "$(jq -r .status.status <<< "$output")" = Failure ]
  [ "$(jq -r .status.reason <<< "$output")" = NonZeroExitCode ]
  [ "$(jq -r '.status.details.causes[0].reason' <<< "$output")" = ExitCode ]
  [ "$(jq -r '.status.details.causes[0].message' <<< "$output")" = 7 ]
  [[ "$(jq -r .status.message <<< "$output")" == "command terminated with non-zero exit code"* ]]

  # A command that does not exist: the runtime's failure, as a non-zero exit.
  u=$(url Exec "$(exec_json x false false /no/such/cmd)")
  run sc "$u" exec
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.status <<< "$output")" = Failure ]
}

@test "cri-stream: a command that exits with its stdin unread: the server lives on (no SIGPIPE)" {
  local u
  # More input than a pipe holds, which the command never reads: when it exits, the server is
  # still writing to the pipe, which has no reader any more (EPIPE; SIGPIPE killed the server).
  u=$(url Exec "$(exec_json x true false sh -c 'exec 0</dev/null; sleep 1; echo done')")
  run sc "$u" exec --flood-stdin 256
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = done ]
  run cri RuntimeService/Version '{}'
  [ "$status" -eq 0 ]
  [ "$(jq -r .runtime_name <<< "$output")" = podrun ]
  kill -0 "$SERVE_PID"
  # What the server ignores and blocks, the commands it runs do not.
  u=$(url Exec "$(exec_json x false false cat /proc/self/status)")
  run sc "$u" exec
  [ "$status" -eq 0 ]
  local ign blk
  ign=$(jq -r .stdout <<< "$output" | sed -n 's/^SigIgn:[[:space:]]*//p')
  blk=$(jq -r .stdout <<< "$output" | sed -n 's/^SigBlk:[[:space:]]*//p')
  [ -n "$ign" ] && [ -n "$blk" ]
  [ $(( 0x$ign & 0x1000 )) -eq 0 ]
  [ $(( 0x$blk )) -eq 0 ]
}

@test "cri-stream: exec with a terminal: the resize reaches stty size" {
  local u
  # The command waits for a line, so the resize (sent first) is in place before stty runs.
  u=$(url Exec "$(exec_json x true true sh -c 'read x; stty size')")
  run sc "$u" exec --resize 91x17 --stdin $'go\n'
  [ "$status" -eq 0 ]
  [[ "$(jq -r .stdout <<< "$output")" == *"17 91"* ]]
  [ "$(jq -r .status.status <<< "$output")" = Success ]
}

@test "cri-stream: exec over SPDY/3.1 (v4.channel.k8s.io): streams, stdin with FIN, exit codes, tty resize" {
  local u
  u=$(url Exec "$(exec_json x true false sh -c 'cat; echo err >&2; exit 3')")
  run spdy "$u" exec --stdin 'through spdy'
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = "through spdy" ]
  [ "$(jq -r .stderr <<< "$output")" = err ]
  [ "$(jq -r .status.reason <<< "$output")" = NonZeroExitCode ]
  [ "$(jq -r '.status.details.causes[0].message' <<< "$output")" = 3 ]
  [ "$(jq -c .fins <<< "$output")" = '["error","stderr","stdout"]' ]
  [ "$(jq -r .goaway <<< "$output")" = 0 ]

  u=$(url Exec "$(exec_json x false false echo ok)")
  run spdy "$u" exec
  [ "$(jq -r .stdout <<< "$output")" = ok ]
  [ "$(jq -c .status <<< "$output")" = '{"metadata":{},"status":"Success"}' ]

  u=$(url Exec "$(exec_json x true true sh -c 'read x; stty size')")
  run spdy "$u" exec --tty --resize 77x13 --stdin $'go\n'
  [ "$status" -eq 0 ]
  [[ "$(jq -r .stdout <<< "$output")" == *"13 77"* ]]
  [ "$(jq -r .status.status <<< "$output")" = Success ]

  # Hostile SPDY peers: a GOAWAY with PROTOCOL_ERROR (1), and the server goes on.
  local k
  for k in bigframe badversion zlibgarbage headerbomb manystreams; do
    u=$(url Exec "$(exec_json x false false true)")
    run spdy "$u" raw --hostile "$k"
    [ "$status" -eq 0 ]
    [ "$output" = "goaway 1" ] || { echo "$k: $output" >&2; false; }
  done
  u=$(url Exec "$(exec_json x false false true)")
  run spdy "$u" raw --hostile noversion
  [ "$output" = "http 403" ]
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [8080]}')")
  run spdy "$u" raw --hostile manystreams
  [ "$output" = "http 403" ]
  u=$(url Exec "$(exec_json x false false echo still)")
  run spdy "$u" exec
  [ "$(jq -r .stdout <<< "$output")" = still ]
}

@test "cri-stream: port-forward to a busybox httpd in the pod's network namespace (WebSocket, SPDY)" {
  local u
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [8080]}')")
  [[ "$u" =~ ^http://127\.0\.0\.1:[0-9]+/portforward/[0-9a-f]{32}$ ]]
  run sc "$u" portforward --port 8080 --send 'GET /index.html HTTP/1.0\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(jq -c .prefix <<< "$output")" = '[[0,8080],[1,8080]]' ]
  [[ "$(jq -r .data <<< "$output")" == *"200 OK"*hello-from-pod* ]]
  [ "$(jq -r .error <<< "$output")" = "" ]

  # Over SPDY (portforward.k8s.io): two forwarded connections, one after the other, on one
  # connection; a port the request did not name is refused (RST_STREAM).
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [8080]}')")
  run spdy "$u" portforward --port 8080 --count 2 --send 'GET /index.html HTTP/1.0\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(jq length <<< "$output")" = 2 ]
  [[ "$(jq -r '.[0].data' <<< "$output")" == *"200 OK"*hello-from-pod* ]]
  [[ "$(jq -r '.[1].data' <<< "$output")" == *"200 OK"*hello-from-pod* ]]
  [ "$(jq -r '.[0].error + .[1].error' <<< "$output")" = "" ]
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [8080]}')")
  run spdy "$u" portforward --port 9 --send x
  [ "$output" = '["refused"]' ]
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [8080]}')")
  run spdy "$u" raw --hostile manypairs --port 8080
  [ "$output" = "replies=16 refused=4" ]
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s}')")
  run spdy "$u" portforward --port 81 --send x
  [[ "$(jq -r '.[0].error' <<< "$output")" == *"error forwarding port 81"*"Connection refused"* ]]

  # The node's own loopback has no such server: the pod's namespace was used.
  run in_node curl -s -m 2 http://127.0.0.1:8080/
  [ "$status" -eq 7 ]

  # A port the request did not name is refused; a closed port is reported on the error channel.
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [8080]}')")
  run sc "$u" portforward --port 9
  [ "$output" = "http 400" ]
  u=$(url PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [81]}')")
  run sc "$u" portforward --port 81
  [ "$status" -eq 0 ]
  [[ "$(jq -r .error <<< "$output")" == *"error forwarding port 81"*"Connection refused"* ]]
}

@test "cri-stream: the calls check their requests" {
  [ "$(awk '{print $2}' "/proc/$SERVE_PID/stat")" = "(podrun-cri)" ]  # podrun serve execs podrun-cri
  run cri RuntimeService/Exec '{"container_id":"nope-app","cmd":["true"],"stdout":true}'
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error NOT_FOUND"*'container "nope-app" not found'* ]]
  run cri RuntimeService/Exec "$(jq -nc --arg c "$APP" '{container_id: $c, cmd: [], stdout: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: cmd is empty"* ]]
  run cri RuntimeService/Exec "$(jq -nc --arg c "$APP" '{container_id: $c, cmd: ["true"]}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: one of stdin, stdout, or stderr must be set"* ]]
  run cri RuntimeService/Exec "$(jq -nc --arg c "$APP" '{container_id: $c, cmd: ["cat"], stdin: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: an exec without stdout or stderr is not supported by podrun"* ]]
  run cri RuntimeService/Exec "$(jq -nc --arg c "$APP" '{container_id: $c, cmd: ["true"], tty: true, stderr: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: tty and stderr cannot both be true"* ]]
  run cri RuntimeService/PortForward '{"pod_sandbox_id":"no-such-pod","port":[80]}'
  [ "$status" -eq 3 ]
  [[ "$output" == *"NOT_FOUND"*'pod sandbox "no-such-pod" not found'* ]]
  run cri RuntimeService/PortForward "$(jq -nc --arg s "$UID_S" '{pod_sandbox_id: $s, port: [70000]}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: port 70000 is out of range"* ]]
  # Attach as the kubelet's streaming server checks it (containerd answers through that code).
  run cri RuntimeService/Attach '{"stdout":true}'
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: missing required container_id"* ]]
  run cri RuntimeService/Attach "$(jq -nc --arg c "$APP" '{container_id: $c, stdout: true, tty: true, stderr: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: tty and stderr cannot both be true"* ]]
  run cri RuntimeService/Attach "$(jq -nc --arg c "$APP" '{container_id: $c}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: one of stdin, stdout, and stderr must be set"* ]]
  run cri RuntimeService/Attach "$(jq -nc --arg c "$APP" '{container_id: $c, stdin: true}')"
  [ "$status" -eq 3 ]
  [[ "$output" == *"INVALID_ARGUMENT: an attach without stdout or stderr is not supported by podrun"* ]]
  run cri RuntimeService/Attach '{"container_id":"nope-app","stdout":true}'
  [ "$status" -eq 3 ]
  [[ "$output" == *"grpc-error NOT_FOUND"*'container "nope-app" not found'* ]]

  # The container went away between the call and the client's connection: the error channel
  # says so as the kubelet's internal errors do.
  local u
  u=$(url Exec "$(exec_json x false false true)")
  prn delete pod s
  run sc "$u" exec
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.status <<< "$output")" = Failure ]
  [ "$(jq -r .status.reason <<< "$output")" = InternalError ]
  [ "$(jq -r .status.code <<< "$output")" = 500 ]
  [[ "$(jq -r .status.message <<< "$output")" == "Internal error occurred: "*"container \"$APP\" not found"* ]]
}

# A pod of containers to attach to (restartPolicy Never: an exited one stays exited).
attach_pod() {
  cat > "$BATS_TEST_TMPDIR/attach.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: a
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: cat
    image: busybox
    stdin: true
    command: ["cat"]
  - name: term
    image: busybox
    stdin: true
    tty: true
    command: ["sh", "-c", "while :; do s=$(stty size); if [ \"$s\" != \"$o\" ]; then echo \"size $s\"; o=$s; fi; sleep 0.2; done"]
  - name: quit
    image: busybox
    stdin: true
    command: ["sh", "-c", "read x; echo \"bye $x\"; exit 5"]
  - name: tick
    image: busybox
    command: ["sh", "-c", "while :; do echo tick; sleep 0.3; done"]
YAML
  prn apply -f "$BATS_TEST_TMPDIR/attach.yaml"
  wait_running a 4/4
  UID_A=$(pod_uid a)
}

# attach_json CONTAINER STDIN TTY: an Attach request as the kubelet makes it (stderr unless tty).
attach_json() {
  jq -nc --arg c "$UID_A-$1" --argjson in "$2" --argjson tty "$3" \
    '{container_id: $c, stdin: $in, stdout: true, stderr: ($tty | not), tty: $tty}'
}

@test "cri-stream: attach over WebSocket: input echoed, resize, detach leaves it running, its exit as the status" {
  attach_pod
  local u
  u=$(url Attach "$(attach_json cat true false)")
  [[ "$u" =~ ^http://127\.0\.0\.1:[0-9]+/attach/[0-9a-f]{32}$ ]]
  run sc "$u" exec --stdin $'hello cat\n' --until 'hello cat'
  [ "$status" -eq 0 ]
  [ "$(jq -r .protocol <<< "$output")" = v5.channel.k8s.io ]
  [ "$(jq -r .stdout <<< "$output")" = 'hello cat' ]
  [ "$(jq -r .detached <<< "$output")" = true ]
  # Detached, cat still runs: a second session reaches it.
  u=$(url Attach "$(attach_json cat true false)")
  run sc "$u" exec --stdin $'again\n' --until again
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = again ]

  # A terminal: the resize reaches the container's stty size, typed input is echoed.
  u=$(url Attach "$(attach_json term true true)")
  run sc "$u" exec --resize 91x17 --until 'size 17 91'
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<< "$output")" = true ]
  u=$(url Attach "$(attach_json term true true)")
  run sc "$u" exec --resize 50x20 --stdin typed --until typed
  [ "$status" -eq 0 ]
  [[ "$(jq -r .stdout <<< "$output")" == *typed* ]]

  # The container's exit ends the session with its code (v4: a metav1.Status).
  u=$(url Attach "$(attach_json quit true false)")
  run sc "$u" exec --proto v4.channel.k8s.io --stdin $'go\n'
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = 'bye go' ]
  [ "$(jq -r .status.status <<< "$output")" = Failure ]
  [ "$(jq -r .status.reason <<< "$output")" = NonZeroExitCode ]
  [ "$(jq -r '.status.details.causes[0].message' <<< "$output")" = 5 ]
  # Attaching to it now: the shim says it is not running.
  u=$(url Attach "$(attach_json quit false false)")
  run sc "$u" exec
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.reason <<< "$output")" = InternalError ]
  [[ "$(jq -r .status.message <<< "$output")" == *"container quit is not running"* ]]

  # stdin to a container made without it: dropped, as containerd does; the output still comes.
  u=$(url Attach "$(attach_json tick true false)")
  run sc "$u" exec --stdin $'ignored\n' --until tick
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<< "$output")" = true ]
  [[ "$(jq -r .stdout <<< "$output")" == tick* ]]
  # A terminal asked of a container without one: its output still comes, as stdout.
  u=$(url Attach "$(attach_json tick false true)")
  run sc "$u" exec --resize 80x24 --until tick
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<< "$output")" = true ]
}

@test "cri-stream: attach over SPDY/3.1: input, a terminal's resize, detach, the exit code" {
  attach_pod
  local u
  u=$(url Attach "$(attach_json cat true false)")
  run spdy "$u" exec --stdin 'through spdy' --until 'through spdy'
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = 'through spdy' ]
  [ "$(jq -r .detached <<< "$output")" = true ]
  # The client's end of input (FIN) is not cat's (no stdinOnce), and detaching leaves it running.
  u=$(url Attach "$(attach_json cat true false)")
  run spdy "$u" exec --stdin 'still there' --until 'still there'
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = 'still there' ]

  u=$(url Attach "$(attach_json term false true)")
  run spdy "$u" exec --tty --resize 33x11 --until 'size 11 33'
  [ "$status" -eq 0 ]
  [ "$(jq -r .detached <<< "$output")" = true ]

  u=$(url Attach "$(attach_json quit true false)")
  run spdy "$u" exec --stdin $'spdy\n'
  [ "$status" -eq 0 ]
  [ "$(jq -r .stdout <<< "$output")" = 'bye spdy' ]
  [ "$(jq -r .status.reason <<< "$output")" = NonZeroExitCode ]
  [ "$(jq -r '.status.details.causes[0].message' <<< "$output")" = 5 ]
}

@test "cri-stream: hostile clients get refused or closed, and the server keeps serving" {
  local u port
  u=$(url Exec "$(exec_json x false false true)")
  port=${u#http://127.0.0.1:}
  port=${port%%/*}
  # Unknown tokens, wrong endpoints, a token of the wrong kind.
  run sc "http://127.0.0.1:$port/exec/0123456789abcdef0123456789abcdef" exec
  [ "$output" = "http 404" ]
  run sc "http://127.0.0.1:$port/exec/short" exec
  [ "$output" = "http 404" ]
  run sc "http://127.0.0.1:$port/portforward/${u##*/}" portforward --port 80
  [ "$output" = "http 404" ]
  # (the token was taken by that wrong-kind attempt: tokens are single-use)
  run sc "$u" exec
  [ "$output" = "http 404" ]

  u=$(url Exec "$(exec_json x false false true)")
  run sc "$u" raw --hostile badhandshake
  [ "$output" = "http 400" ]
  u=$(url Exec "$(exec_json x false false true)")
  run sc "$u" raw --hostile noproto
  [ "$output" = "http 400" ]

  # A frame announcing 2 GiB: closed with 1009 before the payload is read.
  u=$(url Exec "$(exec_json x true false cat)")
  run sc "$u" raw --hostile oversized
  [ "$status" -eq 0 ]
  [ "$output" = "close 1009" ]
  # An unmasked client frame: a protocol error (1002).
  u=$(url Exec "$(exec_json x true false cat)")
  run sc "$u" raw --hostile unmasked
  [ "$output" = "close 1002" ]

  # Garbage instead of HTTP, and an endless head.
  run in_node "$PY" -c "
import socket
s = socket.create_connection(('127.0.0.1', $port))
s.sendall(b'\x16\x03\x01garbage\r\n\r\n')
print(s.recv(100).split(b'\r\n')[0].decode())
s = socket.create_connection(('127.0.0.1', $port))
try:
    s.sendall(b'GET /exec/x HTTP/1.1\r\n' + b'X: ' + b'a' * 40000)
except OSError:
    pass
print(s.recv(100).split(b'\r\n')[0].decode())
"
  [ "${lines[0]}" = "HTTP/1.1 400 Bad Request" ]
  [ "${lines[1]}" = "HTTP/1.1 431 Request Header Fields Too Large" ]

  # A client that never reads while its command writes without end: the server still serves
  # others meanwhile, and gives that stream up after the idle timeout (2 s here), ending the
  # command while the client still holds the connection.
  u=$(url Exec "$(exec_json x false false sh -c 'exec yes streaming-flood')")
  sc "$u" raw --hostile neverread > "$BATS_TEST_TMPDIR/neverread" &
  local nr=$!
  wait_for pgrep -f "^sh -c exec yes streaming-flood"
  u=$(url Exec "$(exec_json x false false echo still-serving)")
  run sc "$u" exec
  [ "$(jq -r .stdout <<< "$output")" = still-serving ]
  # The client still holds its connection (8 s) when the server gives up on it.
  wait_for flood_gone
  [ ! -s "$BATS_TEST_TMPDIR/neverread" ]
  wait "$nr"
  [ "$(cat "$BATS_TEST_TMPDIR/neverread")" = held ]

  # Still serving after all of it.
  run cri RuntimeService/Version '{}'
  [ "$status" -eq 0 ]
  u=$(url Exec "$(exec_json x false false echo ok)")
  run sc "$u" exec
  [ "$(jq -r .stdout <<< "$output")" = ok ]
}
