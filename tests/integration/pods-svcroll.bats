#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A rolling update through a Service under constant traffic: a Deployment of 3 replicas behind
# a readiness probe and a ClusterIP Service, a client pod fetching from the clusterIP in a loop
# for the whole rollout; no request may fail, and the answers move from the old version to the
# new. A terminating pod leaves the service's endpoints before its containers are stopped.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  D=$BATS_TEST_TMPDIR
  in_node ip link set lo up
}

teardown() {
  pods_teardown
}

# web_yaml VERSION: Deployment web, 3 replicas, httpd on 80 answering VERSION, ready once it
# answers; busybox httpd serves each connection in a child of its own, so a request
# accepted before SIGTERM is still answered within the grace period.
web_yaml() {
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        env:
        - name: VERSION
          value: "$1"
        command: ["sh", "-c", "mkdir -p /www && echo \$VERSION > /www/index.html && exec httpd -f -p 80 -h /www"]
        readinessProbe:
          httpGet:
            path: /
            port: 80
          periodSeconds: 1
          failureThreshold: 1
YAML
}

# client_yaml VIP: a pod fetching http://VIP/ in a loop, one line per request in /tmp/log
# (the answer, or FAIL).
client_yaml() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "while :; do timeout 5 wget -q -O- http://$1:8081/ >> /tmp/log 2>/dev/null || echo FAIL >> /tmp/log; done"]
YAML
}

web_ready() { # READY
  prn get deployment web 2>/dev/null | awk -v r="$1" 'NR == 2 && $2 == r && $4 == "3" { ok = 1 } END { exit !ok }'
}

# wait_long CMD...: as wait_for, for up to 90 s (by the clock: a check may take a while).
wait_long() {
  local end=$((SECONDS + 90))
  while ((SECONDS < end)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "never true: $*" >&2
  return 1
}

log_lines() { # the client's log
  pexec client app cat /tmp/log
}

at_least() { # WORD N: the client's log has N lines that are WORD
  [ "$(log_lines | grep -cx "$1")" -ge "$2" ]
}

more_than() { # N: the client's log has more than N lines
  [ "$(log_lines | wc -l)" -gt "$1" ]
}

@test "svcroll: a rolling update of a Deployment behind a ClusterIP Service under constant traffic fails no request, and the answers move from v1 to v2" {
  web_yaml v1 > "$D/web.yaml"
  run prn apply -f "$D/web.yaml"
  [ "$status" -eq 0 ]
  cat > "$D/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 8081
    targetPort: 80
YAML
  run prn apply -f "$D/svc.yaml"
  [ "$status" -eq 0 ]
  wait_long web_ready 3/3
  vip=$(prn get svc web -o json | jq -r .spec.clusterIP)
  client_yaml "$vip" > "$D/client.yaml"
  run prn apply -f "$D/client.yaml"
  [ "$status" -eq 0 ]
  wait_running client
  wait_long at_least v1 20 || { log_lines | sort | uniq -c; prn get pods -o wide; prn get endpoints; false; }
  # The rollout: maxSurge 1, maxUnavailable 0 (25% of 3, rounded down), as Kubernetes'.
  web_yaml v2 > "$D/web.yaml"
  run prn apply -f "$D/web.yaml"
  [ "$status" -eq 0 ]
  run prn rollout status deployment/web --timeout=120s
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(prn get pods -l app=web -o json | jq -r '.items[].spec.containers[0].env[0].value' | sort -u)" = v2 ]
  # Traffic after the last old pod went: v2 alone.
  before=$(log_lines | wc -l)
  wait_long more_than $((before + 20))
  # The last line may be half-written.
  log_lines | head -n -1 > "$D/log"
  echo "requests: $(wc -l < "$D/log"), v1: $(grep -cx v1 "$D/log"), v2: $(grep -cx v2 "$D/log"), failed: $(grep -cx FAIL "$D/log" || true)"
  [ "$(grep -cx FAIL "$D/log" || true)" -eq 0 ] || { grep -n -C3 -x FAIL "$D/log" | head -40; false; }
  [ "$(grep -cvx 'v[12]' "$D/log" || true)" -eq 0 ]
  [ "$(grep -cx v1 "$D/log")" -ge 20 ]
  [ "$(grep -cx v2 "$D/log")" -ge 20 ]
  # Moved: the last 20 answers are all v2.
  [ "$(tail -n 20 "$D/log" | sort -u)" = v2 ]
  prn delete pod client
  prn delete deployment web
  prn delete svc web
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  assert_no_pods
}
