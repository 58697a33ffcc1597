#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A container's own stdio through its shim (podrun-shim(8), ATTACH): podrun run -i/-t and
# podrun attach, as kubectl has them: stdin piped through, a terminal with its size, stdinOnce,
# several attachers, a client that never reads, detach and reattach, --rm and exit codes.

load ../lib/helpers
load ../lib/pods-helpers

bats_require_minimum_version 1.5.0

setup() {
  pods_setup
}

teardown() {
  local p
  for p in $(cat "$BATS_TEST_TMPDIR"/bg.pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  pods_teardown
}

# pod_status POD STATUS: get's STATUS column says so.
pod_status() {
  [ "$(prn get pod "$1" | awk 'NR == 2 { print $3 }')" = "$2" ]
}

# bg CMD...: in the background, killed by the teardown.
bg() {
  "$@" &
  echo $! >> "$BATS_TEST_TMPDIR/bg.pids"
}

@test "run -i --rm: stdin piped through (stdinOnce), exit code as kubectl's, the pod deleted" {
  run --separate-stderr prn run x -i --rm --restart=Never --image=busybox -- cat <<<"hi"
  echo "$output / $stderr"
  [ "$status" -eq 0 ]
  [ "$output" = hi ]
  [ "$stderr" = $'If you don\'t see a command prompt, try pressing enter.\npod "x" deleted' ]
  run prn get pod x
  [ "$status" -eq 1 ]
  # A container that fails: its code is podrun's, after the removal (kubectl's order).
  run --separate-stderr prn run y -i --rm --restart=Never --image=busybox -- sh -c 'read l; echo "got $l"; exit 3' <<<"line"
  echo "$output / $stderr"
  [ "$status" -eq 3 ]
  [ "$output" = "got line" ]
  [ "${stderr_lines[1]}" = 'pod "y" deleted' ]
  [ "${stderr_lines[2]}" = "error: pod default/y terminated (Error)" ]
  assert_no_pods
}

# The podrun command line of this test, for attach-pty.py (which runs it on its terminal).
prn_cmd() {
  PRN=(nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT"
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log"
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam")
}

@test "attach -it: a terminal with its size and resizes, detach and reattach, output logged" {
  cat > "$BATS_TEST_TMPDIR/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: term
spec:
  restartPolicy: Never
  containers:
  - name: sh
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh"]
    stdin: true
    tty: true
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  wait_running term
  prn_cmd
  local pty=$TOP/tests/lib/attach-pty.py
  # The size podrun's terminal has is the container's; a resize follows (SIGWINCH).
  run python3 "$pty" 30 100 'send:\r' 'expect:# ' 'send:stty size\r' 'expect:30 100' \
    'resize:40,120' 'send:stty size; echo "T=$TERM"\r' 'expect:40 120' 'expect:T=xterm' \
    'send:echo first-$((1+1))\r' 'expect:first-2' kill -- "${PRN[@]}" attach -it term
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"If you don't see a command prompt, try pressing enter."* ]]
  # Detached (killed): the shell goes on; a new session takes it up, and exit ends it (0).
  run python3 "$pty" 24 80 'send:echo again-$((6*7))\r' 'expect:again-42' 'send:exit\r' wait \
    -- "${PRN[@]}" attach -it term
  echo "$output"
  [ "$status" -eq 0 ]
  wait_for pod_status term Completed
  # The terminal's output is in the log, as stdout.
  run prn logs term
  [[ "$output" == *"first-2"* ]]
  [[ "$output" == *"again-42"* ]]
  grep -q ' stdout F .*again-42' "$ROOTS"/log/*/sh.log
  # Attaching to a pod that ended: kubectl's error.
  run prn attach term
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot attach a container in a completed pod; current phase is Succeeded"* ]]
  # run -it --rm: a terminal of its own; the shell's exit code is podrun's, the pod deleted.
  run python3 "$pty" 24 80 'expect:pressing enter' 'send:\r' 'expect:# ' 'send:exit 5\r' wait \
    -- "${PRN[@]}" run t2 -it --rm --restart=Never --image=busybox --image-pull-policy=IfNotPresent -- sh
  echo "$output"
  [ "$status" -eq 5 ]
  [[ "$output" == *'pod "t2" deleted'* ]]
  [[ "$output" == *"error: pod default/t2 terminated (Error)"* ]]
  run prn get pod t2
  [ "$status" -eq 1 ]
}

@test "attach: several attachers, stdin from each, a client that never reads is dropped, not waited for" {
  cat > "$BATS_TEST_TMPDIR/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: echo
spec:
  containers:
  - name: loop
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "while read l; do [ \"$l\" = flood ] && head -c 8000000 /dev/zero | tr '\\0' x && echo; [ \"$l\" = quit ] && exit 0; echo \"got $l\"; done"]
    stdin: true
  - name: once
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "cat; echo closed"]
    stdin: true
    stdinOnce: true
  - name: tt
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh"]
    stdin: true
    tty: true
  - name: ttonce
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "cat; echo closed-$((40+2))"]
    stdin: true
    stdinOnce: true
    tty: true
  - name: quiet
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  wait_running echo 5/5
  local T=$BATS_TEST_TMPDIR
  local sock=$ROOTS/run/pods/$(pod_uid echo)/shim/attach/loop.sock
  [ "$(stat -c %a "$sock")" = 600 ]
  # A client that connects and reads nothing until the flood is over; then what it gets.
  bg python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
open(sys.argv[3], "w").close()
while not os.path.exists(sys.argv[2]): time.sleep(0.1)
s.settimeout(5); n = 0
try:
    while True:
        b = s.recv(65536)
        if not b: print("EOF", n); break
        n += len(b)
except socket.timeout: print("open", n)
' "$sock" "$T/flood.done" "$T/slow.ready" > "$T/slow.out"
  # A: output only. B: stdin from a FIFO (held open by this test).
  prn attach echo -c loop > "$T/a.out" 2>&1 &
  local a=$!
  echo $a >> "$T/bg.pids"
  mkfifo "$T/b.in"
  exec 5<>"$T/b.in"
  prn attach -i echo -c loop < "$T/b.in" > "$T/b.out" 2>&1 &
  local b=$!
  echo $b >> "$T/bg.pids"
  wait_for test -e "$T/slow.ready"
  # Output is an attacher's from its connection on: each says kubectl's hint once connected.
  wait_for grep -q "command prompt" "$T/a.out"
  wait_for grep -q "command prompt" "$T/b.out"
  echo one >&5
  wait_for grep -qx "got one" "$T/a.out"
  wait_for grep -qx "got one" "$T/b.out"
  # C: input from a second client goes to the same stdin; its end of input closes nothing
  # (no stdinOnce).
  prn attach -i echo -c loop <<<"two" > "$T/c.out" 2>&1 &
  local c=$!
  echo $c >> "$T/bg.pids"
  wait_for grep -q "command prompt" "$T/c.out"
  wait_for grep -qx "got two" "$T/a.out"
  # 8 MB through: the output waits for the clients that read (they lose nothing); the one
  # that reads nothing is dropped after 2 s, and the log and the others go on.
  echo flood >&5
  echo after >&5
  wait_for grep -qx "got after" "$T/a.out"
  grep -q "got after" "$ROOTS"/log/*/loop.log
  wait_for grep -qx "got after" "$T/b.out"
  [ "$(grep x "$T/a.out" | wc -c)" -eq 8000001 ]
  [ "$(grep x "$T/b.out" | wc -c)" -eq 8000001 ]
  touch "$T/flood.done"
  wait_for grep -q "^EOF" "$T/slow.out"
  cat "$T/slow.out"
  [ "$(awk '{ print $2 }' "$T/slow.out")" -lt 8000000 ]
  # stdinOnce: the first session's end of input closes the container's stdin (cat ends), and
  # the session ends with the container.
  run prn attach -q -i echo -c once <<<"first"
  [ "$status" -eq 0 ]
  [ "$output" = $'first\nclosed' ]
  # A raw session with a pod that restarts its containers ends with kubectl's how-to-resume.
  prn_cmd
  run python3 "$TOP/tests/lib/attach-pty.py" 24 80 'send:\r' 'expect:# ' 'send:exit\r' wait \
    -- "${PRN[@]}" attach -it echo -c tt
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Session ended, resume using 'podrun attach echo -c tt -i -t' command when the pod is running"* ]]
  # stdinOnce with a terminal: the session's end (a detach here) sends it the EOF character.
  run python3 "$TOP/tests/lib/attach-pty.py" 24 80 'send:ab$((1))c\r' 'expect:ab\$\(\(1\)\)c' kill \
    -- "${PRN[@]}" attach -it echo -c ttonce
  [ "$status" -eq 0 ]
  wait_for grep -q "closed-42" "$ROOTS"/log/*/ttonce.log
  # attach -i to a container made without stdin: refused, named.
  run prn attach -i echo -c quiet
  [ "$status" -eq 1 ]
  [[ "$output" == *"container quiet was not created with stdin"* ]]
  # The container exits: every session ends, with status 0.
  echo quit >&5
  exec 5>&-
  wait "$a"
  wait "$b"
  wait "$c"
}
