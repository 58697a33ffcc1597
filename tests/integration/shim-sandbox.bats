#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-shim as a CRI sandbox ("sandbox": true): no container at start, containers taken one at
# a time from spec.json by the create request, started only on request, deleted by the delete
# request (podrun-shim(8)).

load ../lib/helpers
load ../lib/shim-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

# add_ctr NAME SCRIPT: the container written into spec.json, as the pod manager writes it.
add_ctr() {
  local entry
  entry=$(ctr_json "$1" "$2")
  jq --argjson e "$entry" '.containers += [$e]' "$POD_DIR/spec.json" > "$POD_DIR/spec.json.new"
  mv "$POD_DIR/spec.json.new" "$POD_DIR/spec.json"
}

@test "shim sandbox: starts empty, creates a container from spec.json, starts it on request only, deletes it" {
  write_spec '[]' '{"sandbox": true, "supervise": false, "restartPolicy": "Never"}'
  start_shim
  wait_status '.containerStatuses == []'
  # Not in spec.json: refused.
  run shimctl '{"cmd":"create","container":"a"}'
  [ "$(jq -r .error <<<"$output")" = "create: \`$POD_DIR/spec.json\` has no container \"a\"" ]
  add_ctr a 'echo started > /shared/a; exec sleep 1000'
  run shimctl '{"cmd":"create","container":"a"}'
  [ "$(jq -r .ok <<<"$output")" = true ]
  [ "$(st "$(ctr a).state")" = waiting ]
  run shimctl '{"cmd":"create","container":"a"}'
  [ "$(jq -r .error <<<"$output")" = 'create: container "a" exists in this pod' ]
  # Created, not started: nothing runs until a start request.
  sleep 0.3
  [ ! -e "$SHARED/a" ]
  shimctl '{"cmd":"start","container":"a"}'
  wait_status "$(ctr a).state == \"running\""
  wait_for test -e "$SHARED/a"
  run shimctl '{"cmd":"delete","container":"a"}'
  [ "$(jq -r .error <<<"$output")" = 'delete: container "a" is running (stop it first)' ]
  shimctl '{"cmd":"stop","container":"a","timeoutSeconds":0}'
  wait_status "$(ctr a).state == \"terminated\""
  # Unsupervised: no restart.
  sleep 0.5
  [ "$(st "$(ctr a).state")" = terminated ]
  run shimctl '{"cmd":"delete","container":"a"}'
  [ "$(jq -r .ok <<<"$output")" = true ]
  [ "$(st '.containerStatuses | length')" = 0 ]
  [ ! -e "$POD_DIR/a.stdout" ]
  run "$RUNTIME" --root "$STATE_ROOT" state "$POD_NAME-a"
  [ "$status" -eq 1 ]
  # The slot is taken again by the next container.
  add_ctr b 'exec sleep 1000'
  shimctl '{"cmd":"create","container":"b"}'
  shimctl '{"cmd":"start","container":"b"}'
  wait_status "$(ctr b).state == \"running\""
  [ "$(st '.containerStatuses | length')" = 1 ]
  run shimctl '{"cmd":"remove","timeoutSeconds":0}'
  [ "$(jq -r .ok <<<"$output")" = true ]
}

@test "shim sandbox: create and delete are a sandbox's only; a pod spec without containers needs sandbox" {
  write_spec '[]' '{"supervise": false}'
  run "$SHIM" --pod-dir "$POD_DIR"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.containers: at least one container is required"* ]]
  write_spec "[$(ctr_json a 'exec sleep 1000')]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  run shimctl '{"cmd":"create","container":"a"}'
  [ "$(jq -r .error <<<"$output")" = "create: the pod is not a sandbox (its containers are its spec's)" ]
  run shimctl '{"cmd":"delete","container":"a"}'
  [ "$(jq -r .error <<<"$output")" = "delete: the pod is not a sandbox (remove the pod)" ]
  run shimctl '{"cmd":"delete"}'
  [ "$(jq -r .error <<<"$output")" = "delete: container is required" ]
}
