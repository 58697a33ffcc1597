#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# `events` as a stream: periodic stats, and an "oom" event callers (the shim) can rely on.

load ../lib/helpers

setup() {
  setup_bundle
}

teardown() {
  standard_teardown
}

@test "events streams stats at the interval and reports an OOM kill" {
  # A child blows the 16M limit after a second; the container's init survives it.
  update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}
    | .mounts += [{"destination": "/big", "type": "tmpfs", "source": "tmpfs", "options": ["size=64m"]}]
    | .process.args = ["sh", "-c", "sleep 1; (head -c 48m /dev/zero > /big/fill); sleep 100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  timeout 20 "$RUNTIME" --root "$STATE_ROOT" events --interval 300ms "$CTR_PREFIX" > "$BATS_TEST_TMPDIR/events" &
  ev=$!
  # Until the OOM event and at least two periodic stats lines are in (bounded).
  for i in $(seq 150); do
    grep -q '"oom"' "$BATS_TEST_TMPDIR/events" &&
      [ "$(grep -c '"type":"stats"' "$BATS_TEST_TMPDIR/events")" -ge 2 ] && break
    sleep 0.1
  done
  kill "$ev" 2>/dev/null || true
  wait "$ev" || true
  cat "$BATS_TEST_TMPDIR/events" >&2
  grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events"
  # periodic stats events (at least two: a stream, not one line), each line valid JSON naming
  # the container
  [ "$(jq -r 'select(.type == "stats") | .id' "$BATS_TEST_TMPDIR/events" | grep -cx "$CTR_PREFIX")" -ge 2 ]
  jq -s -e 'all(.[]; .id == "'"$CTR_PREFIX"'")' "$BATS_TEST_TMPDIR/events"
}

@test "events stops when the container exits" {
  update_config '.process.args = ["sleep", "1"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  run timeout 10 "$RUNTIME" --root "$STATE_ROOT" events --interval 200ms "$CTR_PREFIX"
  [ "$status" -eq 0 ]
}

@test "events refuses a bad interval" {
  update_config '.process.args = ["sleep", "10"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  run rt events --interval soon "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"--interval"* ]]
}
