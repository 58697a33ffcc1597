#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# rollout history|undo|restart|pause|resume and set image on Deployments: kubectl's messages,
# revisions renumbered as Kubernetes renumbers them, revisionHistoryLimit, and a stuck rollout
# undone.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
}

teardown() {
  pods_teardown
}

# web_yaml CAUSE COMMAND [EXTRA-SPEC-LINE]: Deployment web, 2 replicas, its change-cause.
web_yaml() {
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    kubernetes.io/change-cause: "$1"
spec:
  replicas: 2
  ${3:-revisionHistoryLimit: 10}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "$2"]
YAML
}

rolled_out() { # [TIMEOUT]
  prn rollout status deployment/web --timeout="${1:-60}s" >/dev/null
}

deploy_web_ready() { # web READY 2/2
  prn get deployment web 2>/dev/null | awk 'NR == 2 && $2 == "2/2" { ok = 1 } END { exit !ok }'
}

# wait_long CMD...: as wait_for, for up to 60 s.
wait_long() {
  local i
  for ((i = 0; i < 600; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "never true: $*" >&2
  return 1
}

rs_count_is() { # N
  [ "$(prn get rs -o name | wc -l)" -eq "$1" ]
}

pod_count_is() { # N: pods of web
  [ "$(prn get pods -l app=web -o name | wc -l)" -eq "$1" ]
}

# pod_commands: the distinct commands the pods of web run.
pod_commands() {
  prn get pods -l app=web -o json | jq -r '.items[].spec.containers[0].command[2]' | sort -u
}

@test "rollout: set image, history with change-cause, undo --to-revision renumbers, history --revision" {
  web_yaml v1 "sleep 3600" | prn apply -f -
  rolled_out
  web_yaml v2 "sleep 3601" | prn apply -f -
  rolled_out
  run prn set image deployment/web app=docker.io/library/busybox:latest
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web image updated" ]
  rolled_out
  [ "$(prn get pods -l app=web -o json | jq -r '.items[].spec.containers[0].image' | sort -u)" = docker.io/library/busybox:latest ]
  # The same image again changes nothing and prints nothing, as kubectl.
  run prn set image deployment web app=docker.io/library/busybox:latest
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run prn set image deployment/web nope=busybox
  [ "$status" -eq 1 ]
  [ "$output" = 'podrun set: unable to find container named "nope"' ]
  run prn rollout history deployment/web
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         v1\n2         v2\n3         v2')" ]
  run prn rollout undo deployment/web --to-revision=1
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web rolled back" ]
  rolled_out
  [ "$(pod_commands)" = "sleep 3600" ]
  # Revision 1 came back as 4, with its change-cause (kubectl copies it onto the Deployment).
  run prn rollout history deployment/web
  [ "$output" = "$(printf 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         v2\n3         v2\n4         v1')" ]
  [ "$(prn get deployment web -o json | jq -r '.metadata.annotations["kubernetes.io/change-cause"]')" = v1 ]
  # undo without a revision: the one before the latest (3).
  run prn rollout undo deployment web
  [ "$output" = "deployment.apps/web rolled back" ]
  rolled_out
  [ "$(prn get pods -l app=web -o json | jq -r '.items[].spec.containers[0].image' | sort -u)" = docker.io/library/busybox:latest ]
  run prn rollout undo deployment/web --to-revision=5
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web skipped rollback (current template already matches revision 5)" ]
  run prn rollout undo deployment/web --to-revision=9
  [ "$status" -eq 1 ]
  [ "$output" = "podrun rollout: unable to find specified revision 9 in history" ]
  run prn rollout history deployment/web --revision=2
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "deployment.apps/web with revision #2" ]
  [ "${lines[1]}" = "Pod Template:" ]
  [[ "$output" == *"sleep 3601"* ]]
  run prn rollout history deployment/web --revision=7
  [ "$status" -eq 1 ]
  [ "$output" = "podrun rollout: unable to find the specified revision" ]
  run prn rollout history deployment/nothere
  [ "$status" -eq 1 ]
  [ "$output" = 'podrun rollout: deployments.apps "nothere" not found' ]
  prn delete deployment web
  assert_no_pods
}

@test "rollout: revisionHistoryLimit keeps that many old ReplicaSets" {
  for v in 1 2 3 4; do
    web_yaml "v$v" "sleep 360$v" "revisionHistoryLimit: 1" | prn apply -f -
    rolled_out
  done
  # The old ReplicaSet goes in the loop's pass after the last old pod has gone.
  wait_for rs_count_is 2
  run prn rollout history deployment/web
  [ "$output" = "$(printf 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n3         v3\n4         v4')" ]
  prn delete deployment web
  assert_no_pods
}

@test "rollout: restart replaces every pod with the restartedAt annotation" {
  web_yaml v1 "sleep 3600" | prn apply -f -
  rolled_out
  before=$(prn get pods -l app=web -o name | sort)
  run prn rollout restart deployment/web
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web restarted" ]
  rolled_out
  wait_for pod_count_is 2
  after=$(prn get pods -l app=web -o name | sort)
  [ -z "$(comm -12 <(echo "$before") <(echo "$after"))" ]
  at=$(prn get deployment web -o json | jq -r '.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]')
  [[ "$at" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
  [ "$(prn get pods -l app=web -o json | jq -r '.items[].metadata.annotations["kubectl.kubernetes.io/restartedAt"]' | sort -u)" = "$at" ]
  prn delete deployment web
  assert_no_pods
}

@test "rollout: pause holds template changes (scale still applies), resume rolls them out" {
  web_yaml v1 "sleep 3600" | prn apply -f -
  rolled_out
  run prn rollout pause deployment/web
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web paused" ]
  run prn rollout pause deployment/web
  [ "$status" -eq 1 ]
  [ "$output" = 'podrun rollout: deployments.apps "web" is already paused' ]
  [ "$(prn get deployment web -o json | jq .spec.paused)" = true ]
  run prn set image deployment/web app=docker.io/library/busybox:latest
  [ "$output" = "deployment.apps/web image updated" ]
  prn scale deployment web --replicas=3
  wait_for pod_count_is 3
  sleep 1
  [ "$(prn get rs -o name | wc -l)" -eq 1 ]
  [ "$(prn get pods -l app=web -o json | jq -r '.items[].spec.containers[0].image' | sort -u)" = busybox ]
  run prn rollout undo deployment/web
  [ "$status" -eq 1 ]
  [[ "$output" == "podrun rollout: you cannot rollback a paused deployment; resume it first"* ]]
  run prn rollout restart deployment/web
  [ "$status" -eq 1 ]
  run prn rollout resume deployment/web
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web resumed" ]
  run prn rollout resume deployment/web
  [ "$status" -eq 1 ]
  [ "$output" = 'podrun rollout: deployments.apps "web" is not paused' ]
  rolled_out
  [ "$(prn get rs -o name | wc -l)" -eq 2 ]
  wait_for pod_count_is 3
  [ "$(prn get pods -l app=web -o json | jq -r '.items[].spec.containers[0].image' | sort -u)" = docker.io/library/busybox:latest ]
  prn delete deployment web
  assert_no_pods
}

@test "rollout: a stuck rollout stops at its progress deadline and rollout undo brings the old pods back" {
  web_yaml v1 "sleep 3600" "progressDeadlineSeconds: 2" | prn apply -f -
  rolled_out
  old=$(prn get pods -l app=web -o name | sort)
  # v2 never turns Ready: its readiness probe fails.
  web_yaml v2 "sleep 3601" "progressDeadlineSeconds: 2" |
    sed 's/^        command:/        readinessProbe: {exec: {command: [cat, \/nonexistent]}, periodSeconds: 1}\n        command:/' |
    prn apply -f -
  run prn rollout status deployment/web --timeout=60s
  [ "$status" -eq 1 ]
  [[ "${lines[-1]}" == *'deployment "web" exceeded its progress deadline' ]]
  # maxUnavailable 25% of 2 is 0: both old pods still serve.
  [ "$(prn get pods -l app=web -o name | sort | grep -cFx -f <(echo "$old"))" -eq 2 ]
  run prn rollout undo deployment/web
  [ "$status" -eq 0 ]
  [ "$output" = "deployment.apps/web rolled back" ]
  rolled_out
  wait_for pod_count_is 2
  [ "$(prn get pods -l app=web -o name | sort)" = "$old" ]
  j=$(prn get deployment web -o json)
  [ "$(jq -r '.status.conditions[] | select(.type == "Progressing") | .reason' <<<"$j")" = NewReplicaSetAvailable ]
  prn delete deployment web
  assert_no_pods
}

@test "rollout: 20 pods at 1 s grace are deleted side by side: delete deployment takes seconds, not 20" {
  # sh as PID 1 ignores SIGTERM: each pod waits out its grace period.
  web_yaml v1 "sleep 3600" | sed 's/replicas: 2/replicas: 20/' | prn apply -f -
  prn rollout status deployment/web --timeout=120s
  [ "$(prn get pods -l app=web -o name | wc -l)" -eq 20 ]
  start=$(date +%s%N)
  run prn delete deployment web
  end=$(date +%s%N)
  [ "$status" -eq 0 ]
  ms=$(((end - start) / 1000000))
  echo "delete of 20 pods: $ms ms" >&3
  # Serially they take over 20 s (each pod waits out its 1 s, then its teardown).
  [ "$ms" -lt 12000 ]
  assert_no_pods
}

@test "rollout: events: ScalingReplicaSet on the Deployment, SuccessfulCreate/SuccessfulDelete on the ReplicaSet, Killing kept for pods the controller deleted" {
  web_yaml v1 "sleep 3600" | sed 's/replicas: 2/replicas: 3/' | prn apply -f -
  rolled_out
  rs=$(prn get rs -o name)
  rs=${rs#replicaset.apps/}
  mapfile -t before < <(prn get pods -l app=web -o name)
  prn scale deployment web --replicas=1
  wait_for pod_count_is 1
  mapfile -t after < <(prn get pods -l app=web -o name)
  run prn describe deployment web
  [ "$status" -eq 0 ]
  [[ "$output" =~ $'\n'"Events:"$'\n'"  Type    Reason             Age   From                   Message"$'\n' ]]
  [[ "$output" =~ "Normal  ScalingReplicaSet  "[0-9]+s\ +"deployment-controller  Scaled up replica set $rs to 3" ]]
  [[ "$output" =~ "Normal  ScalingReplicaSet  "[0-9]+s\ +"deployment-controller  Scaled down replica set $rs to 1" ]]
  run prn describe replicaset "$rs"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Name:           $rs" ]
  [[ "$output" == *$'\nControlled By:  Deployment/web\nReplicas:       1 current / 1 desired\nPods Status:    1 Running / 0 Waiting / 0 Succeeded / 0 Failed\nPod Template:\n'* ]]
  [[ "$output" =~ "Normal  SuccessfulDelete  "[0-9]+s\ +"replicaset-controller  Deleted pod: $rs-" ]]
  run prn get events
  [ "$status" -eq 0 ]
  [ "$(awk -v o="replicaset/$rs" '$3 == "SuccessfulCreate" && $4 == o && $5 " " $6 == "Created pod:"' <<<"$output" | wc -l)" -eq 3 ]
  [ "$(awk -v o="replicaset/$rs" '$3 == "SuccessfulDelete" && $4 == o && $5 " " $6 == "Deleted pod:"' <<<"$output" | wc -l)" -eq 2 ]
  [ "$(awk '$3 == "ScalingReplicaSet" && $4 == "deployment/web"' <<<"$output" | wc -l)" -eq 2 ]
  # The two pods deleted: their Killing stays listed after them.
  for p in "${before[@]}"; do
    [ "$p" = "${after[0]}" ] && continue
    grep -q "Killing  *$p  *Stopping container app" <<<"$output"
  done
  j=$(prn get events -o json)
  [ "$(jq -r '[.items[] | select(.reason == "ScalingReplicaSet")][0].involvedObject | .kind + " " + .apiVersion + " " + .name' <<<"$j")" = "Deployment apps/v1 web" ]
  [ "$(jq -r '[.items[] | select(.reason == "SuccessfulCreate")][0].source.component' <<<"$j")" = replicaset-controller ]
  prn delete deployment web
  assert_no_pods
}

# httpd_yaml VERSION: Deployment web of 3 busybox httpd answering VERSION, Ready when it
# answers; a pod being deleted keeps serving for 2 s (preStop), as a Service's clients need.
httpd_yaml() {
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
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "mkdir -p /www && echo $1 > /www/index.html && exec httpd -f -p 80 -h /www"]
        readinessProbe: {httpGet: {path: /index.html, port: 80}, periodSeconds: 1}
        lifecycle: {preStop: {sleep: {seconds: 2}}}
YAML
}

# client LOG: requests each Ready pod's IP (as get pods shows them) until LOG.stop exists.
client() {
  local ip body
  while [ ! -e "$1.stop" ]; do
    for ip in $(prn get pods -l app=web -o wide 2>/dev/null |
      awk 'NR > 1 && $3 == "Running" { split($2, r, "/"); if (r[1] == r[2]) print $6 }'); do
      if body=$(in_node curl -sf -m 2 "http://$ip/index.html"); then
        echo "ok $body" >> "$1"
      else
        echo "fail $ip" >> "$1"
      fi
    done
  done
}

@test "rollout: a rolling update of 3 replicas under constant traffic to the Ready pods' IPs: no request fails" {
  httpd_yaml v1 | prn apply -f -
  rolled_out
  log=$BATS_TEST_TMPDIR/client
  client "$log" &
  cpid=$!
  wait_for grep -q "^ok v1$" "$log"
  httpd_yaml v2 | prn apply -f -
  rolled_out 120
  wait_for grep -q "^ok v2$" "$log"
  sleep 1
  touch "$log.stop"
  wait "$cpid"
  echo "requests: $(grep -c '^ok' "$log") ok, $(grep -c '^fail' "$log" || true) failed" >&3
  run grep '^fail' "$log"
  [ "$status" -eq 1 ]
  [ "$(grep -c '^ok' "$log")" -ge 20 ]
  [ "$(prn get pods -l app=web -o name | wc -l)" -eq 3 ]
  prn delete deployment web
  assert_no_pods
}

cgroups_empty() { # no process left in this test's pods' cgroups
  [ -z "$(find /sys/fs/cgroup"$PODS_CG_ROOT" /sys/fs/cgroup/*"$PODS_CG_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]
}

# reboot: what a reboot takes away, on this test's roots only: the controller loop, the shims
# and every process in the pods' cgroups, the mounts under the run root, the run root's content.
reboot() {
  local p cg m
  p=$(controllers_pid)
  [ -z "$p" ] || kill -9 "$p"
  for p in $(shim_pids); do kill -9 "$p" 2>/dev/null || true; done
  [[ "$PODS_CG_ROOT" == /podrun-p* ]]
  for cg in /sys/fs/cgroup"$PODS_CG_ROOT" /sys/fs/cgroup/*"$PODS_CG_ROOT"; do
    [ -d "$cg" ] || continue
    find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do
      kill -9 "$p" 2>/dev/null || true
    done
  done
  wait_for cgroups_empty
  grep -o " $ROOTS/run/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  [ -d "$ROOTS/run" ] && [[ "$ROOTS/run" == "$BATS_TEST_TMPDIR"/* ]]
  find "$ROOTS/run" -mindepth 1 -delete
}

@test "rollout: after a reboot (the run root emptied) the next command brings back every pod, same names and uids, and the loop" {
  web_yaml v1 "sleep 3600" | prn apply -f -
  prn run solo --image=busybox --image-pull-policy=IfNotPresent --command -- sleep 3600
  rolled_out
  wait_running solo
  names=$(prn get pods -o json | jq -r '.items[] | .metadata.name + " " + .metadata.uid' | sort)
  [ "$(wc -l <<<"$names")" -eq 3 ]
  reboot
  [ -z "$(controllers_pid)" ]
  [ -z "$(shim_pids)" ]
  run prn get pods -o name
  [ "$status" -eq 0 ]
  [[ "$output" == *"3 pods made again after a reboot"* ]]
  wait_running solo
  wait_long deploy_web_ready
  [ "$(prn get pods -o json | jq -r '.items[] | .metadata.name + " " + .metadata.uid' | sort)" = "$names" ]
  [ -n "$(controllers_pid)" ]
  [ "$(prn get pods -o json | jq '[.items[].status.containerStatuses[0].restartCount] | add')" -eq 0 ]
  # A second command finds the node up: nothing made again.
  run prn get pods -o name
  [[ "$output" != *"made again"* ]]
  prn delete deployment web
  prn delete pod solo
  assert_no_pods
}
