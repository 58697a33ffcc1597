#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The manifests in examples/ run as README's main job shows them.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  EXAMPLES=$BATS_TEST_DIRNAME/../../examples
}

teardown() {
  pods_teardown
}

hello_ready() {
  prn get pod hello -o json | jq -e '.status.conditions[] | select(.type == "Ready") | .status == "True"'
}

@test "examples/hello: the httpd pod becomes Ready and serves its ConfigMap's page at its IP" {
  in_node ip link set lo up
  run prn apply -f "$EXAMPLES/hello/"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "configmap/hello-page created" ]
  [ "${lines[1]}" = "pod/hello created" ]
  wait_for hello_ready
  ip=$(prn get pod hello -o json | jq -r .status.podIP)
  [[ "$ip" =~ ^[0-9.]+$ ]]
  run in_node curl -sS --max-time 10 "http://$ip/"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Hello from a podrun pod: busybox httpd serving a ConfigMap."* ]]
  run prn delete -f "$EXAMPLES/hello/"
  [ "$status" -eq 0 ]
  assert_no_pods
}
