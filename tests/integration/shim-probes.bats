#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (it times probes)
# podrun-shim probes: exec, httpGet and tcpSocket; startup, liveness, readiness.

load ../lib/helpers
load ../lib/shim-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

HTTPD='ip link set lo up; mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www'

probe() { # probe HANDLER_JSON [EXTRA_JSON]: 0.3 s period unless EXTRA says otherwise
  jq -nc --argjson h "$1" --argjson x "${2:-{\}}" '$h + {periodSeconds: 0.3, timeoutSeconds: 1} + $x'
}

@test "shim probes: httpGet readiness passes on 200 and fails on 404" {
  good=$(probe '{"httpGet":{"path":"/index.html","port":8080}}')
  bad=$(probe '{"httpGet":{"path":"/missing","port":8080}}')
  write_spec "[$(ctr_json good "$HTTPD" "{\"readinessProbe\": $good}"),
               $(ctr_json bad "$HTTPD" "{\"readinessProbe\": $bad}")]"
  start_shim
  subscribe_events "$BATS_TEST_TMPDIR/events"
  wait_status "$(ctr good).ready == true"
  [ "$(st "$(ctr bad).state")" = running ]
  # "not ready" is where a container starts: the probe must have run and failed, past its
  # failure threshold (3), and readiness never restarts.
  wait_for count_events "$BATS_TEST_TMPDIR/events" 4 \
    '"container":"bad","event":"probe-failed","message":"readiness probe failed \([0-9]+/3\): .*404' ||
    { cat "$BATS_TEST_TMPDIR/events"; false; }
  ! grep -q '"container":"good","event":"probe-failed"' "$BATS_TEST_TMPDIR/events" || false
  [ "$(st "$(ctr bad).ready")" = false ]
  [ "$(st "$(ctr bad).restartCount")" = 0 ]
  [ "$(st "$(ctr good).ready")" = true ]
}

@test "shim probes: httpGet sends HTTP/1.1 with path, Host and the extra headers, from the pod's netns" {
  mkdir -p "$SHARED"
  cat > "$SHARED/answer.sh" <<'A'
#!/bin/sh
while read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  echo "$line" >> /shared/request
  [ -z "$line" ] && break
done
printf 'HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n'
A
  chmod +x "$SHARED/answer.sh"
  p=$(probe '{"httpGet":{"path":"/healthz?x=1","port":8081,"httpHeaders":[{"name":"X-Probe","value":"yes"}]}}')
  write_spec "[$(ctr_json a 'ip link set lo up; exec nc -ll -p 8081 -e /shared/answer.sh' "{\"readinessProbe\": $p}")]"
  start_shim
  wait_status "$(ctr a).ready == true"
  # 302 is a success; the listener is only reachable inside the pod's network namespace.
  grep -qx 'GET /healthz?x=1 HTTP/1.1' "$SHARED/request"
  grep -qx 'Host: 127.0.0.1:8081' "$SHARED/request"
  grep -qx 'X-Probe: yes' "$SHARED/request"
  grep -qi '^User-Agent: kube-probe' "$SHARED/request"
}

@test "shim probes: tcpSocket readiness, open and closed ports" {
  up=$(probe '{"tcpSocket":{"port":9000}}')
  down=$(probe '{"tcpSocket":{"port":9001}}')
  write_spec "[$(ctr_json a 'ip link set lo up; exec nc -ll -p 9000 -e true' "{\"readinessProbe\": $up}"),
               $(ctr_json b 'ip link set lo up; exec nc -ll -p 9000 -e true' "{\"readinessProbe\": $down}")]"
  start_shim
  subscribe_events "$BATS_TEST_TMPDIR/events"
  wait_status "$(ctr a).ready == true"
  # "not ready" is where b starts: its probe must have run and failed.
  wait_for count_events "$BATS_TEST_TMPDIR/events" 3 '"container":"b","event":"probe-failed","message":"readiness probe failed' ||
    { cat "$BATS_TEST_TMPDIR/events"; false; }
  [ "$(st "$(ctr b).ready")" = false ]
  [ "$(st "$(ctr b).state")" = running ]
}

@test "shim probes: exec liveness passes, and a failing one restarts the container" {
  ok=$(probe '{"exec":{"command":["true"]}}')
  fail=$(probe '{"exec":{"command":["sh","-c","echo sick; exit 1"]}}' '{"failureThreshold": 2}')
  write_spec "[$(ctr_json fine 'exec sleep 1000' "{\"livenessProbe\": $ok}"),
               $(ctr_json sick 'exec sleep 1000' "{\"livenessProbe\": $fail}")]" \
    '{"terminationGracePeriodSeconds": 0.5}'
  start_shim
  subscribe_events "$BATS_TEST_TMPDIR/events"
  wait_status "$(ctr sick).restartCount >= 1" 150
  [ "$(st "$(ctr fine).restartCount")" = 0 ]
  [ "$(st "$(ctr fine).state")" = running ]
  grep "\"event\":\"probe-failed\"" "$BATS_TEST_TMPDIR/events" | grep -q "liveness probe failed (1/2): exit 1: sick" || { cat "$BATS_TEST_TMPDIR/events"; false; }
  grep '"event":"stopping"' "$BATS_TEST_TMPDIR/events" | grep -q 'Liveness probe failed'
  # It was killed, not crashed: SIGKILL after the grace period (sleep as PID 1 ignores TERM).
  [ "$(st "$(ctr sick).lastState.exitCode")" = 137 ]
}

@test "shim probes: a probe that hangs times out and counts as a failure" {
  slow=$(probe '{"exec":{"command":["sleep","5"]}}' '{"timeoutSeconds": 0.3, "failureThreshold": 1}')
  write_spec "[$(ctr_json a 'exec sleep 1000' "{\"readinessProbe\": $slow}")]"
  start_shim
  subscribe_events "$BATS_TEST_TMPDIR/events"
  wait_for grep -q "timed out after 300 ms" "$BATS_TEST_TMPDIR/events" || { cat "$BATS_TEST_TMPDIR/events"; false; }
  [ "$(st "$(ctr a).ready")" = false ]
}

@test "shim probes: the startup probe holds liveness and readiness back until it passes" {
  startup=$(probe '{"exec":{"command":["test","-f","/tmp/up"]}}' '{"failureThreshold": 30}')
  ready=$(probe '{"exec":{"command":["sh","-c","echo x >> /shared/readiness-ran"]}}')
  # A liveness probe that would kill it at once if it ran early.
  live=$(probe '{"exec":{"command":["test","-f","/tmp/up"]}}' '{"failureThreshold": 1}')
  write_spec "[$(ctr_json a 'sleep 2; touch /tmp/up; exec sleep 1000' \
    "{\"startupProbe\": $startup, \"readinessProbe\": $ready, \"livenessProbe\": $live}")]"
  start_shim
  wait_status "$(ctr a).state == \"running\""
  sleep 1
  [ "$(st "$(ctr a).started")" = false ]
  [ "$(st "$(ctr a).ready")" = false ]
  [ ! -e "$SHARED/readiness-ran" ]
  wait_status "$(ctr a).started == true and $(ctr a).ready == true" 100
  [ -s "$SHARED/readiness-ran" ]
  [ "$(st "$(ctr a).restartCount")" = 0 ]
}

@test "shim probes: a startup probe that never passes kills the container" {
  startup=$(probe '{"exec":{"command":["false"]}}' '{"failureThreshold": 2}')
  write_spec "[$(ctr_json a 'exec sleep 1000' "{\"startupProbe\": $startup}")]" \
    '{"restartPolicy": "Never", "terminationGracePeriodSeconds": 0.3}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\"" 100
  [ "$(st "$(ctr a).message")" = "Startup probe failed: exit 1" ]
  [ "$(st "$(ctr a).exitCode")" = 137 ]
}
