#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun exec: a command in a pod's container, its output streamed, its exit status podrun's.

bats_require_minimum_version 1.5.0
load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    env: [{name: WHO, value: app}]
  - name: side
    image: busybox
    command: ["sh", "-c", "echo side > /tmp/mark && exec sleep 3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: one
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: only
    image: busybox
    command: ["sleep", "3600"]
YAML
  prn apply -f "$M"
  wait_running two 2/2
  wait_running one
}

teardown() {
  pods_teardown
}

@test "exec: the command's output and exit status; the container's env; -c picks one of several" {
  run prn exec two -c app -- sh -c 'echo "out $WHO"; echo err >&2; exit 7'
  echo "$output"
  [ "$status" -eq 7 ]
  [[ "$output" == *"out app"* ]]
  [[ "$output" == *"err"* ]]
  run prn exec one -- true
  [ "$status" -eq 0 ]
  [ "$(prn exec two -c side -- cat /tmp/mark)" = side ]
  [ "$(prn exec one -- hostname)" = one ]
  # Output streams: a line arrives before the command ends (it waits for a file we make after).
  out=$BATS_TEST_TMPDIR/stream
  prn exec one -- sh -c 'echo first; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo second' > "$out" &
  pid=$!
  wait_for grep -q first "$out"
  ! grep -q second "$out" || false
  prn exec one -- touch /tmp/go
  wait "$pid"
  [ "$(cat "$out")" = "first
second" ]
}

@test "exec: stdin only with -i; -t gives the command a terminal" {
  run prn exec one -- cat <<<"not given"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run prn exec -i one -- cat <<<"hello"
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  run prn exec -i one -- tr a-z A-Z <<<"shout"
  [ "$output" = SHOUT ]
  run prn exec -t one -- sh -c 'test -t 1 && tty'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == /dev/pts/* ]]
  run prn exec one -- sh -c 'test -t 1'
  [ "$status" -eq 1 ]
}

@test "exec: refusals: no --, no such pod or container, several containers without -c" {
  run prn exec one true
  [ "$status" -eq 1 ]
  [[ "$output" == *"the command goes after --"* ]]
  run prn exec nope -- true
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "nope" not found'* ]]
  run prn exec one -c nope -- true
  [ "$status" -eq 1 ]
  [[ "$output" == *"container nope is not valid for pod one"* ]]
  # Without -c: the first container, said on stderr as kubectl says it; the annotation
  # kubectl.kubernetes.io/default-container is tested in pods-spec.
  run --separate-stderr prn exec two -- hostname
  [ "$status" -eq 0 ]
  [ "$stderr" = 'Defaulted container "app" out of: app, side' ]
  [ "$output" = two ]
  # The kubectl.kubernetes.io/default-container annotation picks one without a word.
  sed -e 's/^  name: two$/  name: three\n  annotations: {kubectl.kubernetes.io\/default-container: side}/' \
    -e '/^---$/,$d' "$M" > "$BATS_TEST_TMPDIR/three.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/three.yaml"
  wait_running three 2/2
  run --separate-stderr prn exec three -- cat /tmp/mark
  [ "$status" -eq 0 ]
  [ "$output" = side ]
  [ -z "$stderr" ]
  run prn exec one -- /no/such/command
  echo "$output"
  # The runtime's own failure to start it (its status, 1; kubectl would say 126/127).
  [ "$status" -eq 1 ]
  [[ "$output" == *'exec: `/no/such/command`: No such file or directory'* ]]
}
