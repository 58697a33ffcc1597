#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# HorizontalPodAutoscalers: `podrun autoscale` as kubectl's, and an autoscale driven by a
# CPU-burning pod measured from its cgroup (scale-up), then its end (scale-down after a short
# stabilisation window). The controller loop samples every second here (15 s by default).

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  export PODRUN_HPA_SYNC_PERIOD=1
}

teardown() {
  rm -f "$BATS_TEST_TMPDIR/data/burn"
  pods_teardown
}

# web_yaml: a Deployment whose first pod burns a CPU while /data/burn exists (the others idle),
# each pod requesting 100m.
web_yaml() {
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "if mkdir /data/lock 2>/dev/null; then while [ -f /data/burn ]; do :; done; fi; exec sleep 3600"]
        resources:
          requests: {cpu: 100m}
        volumeMounts:
        - {name: data, mountPath: /data}
      volumes:
      - name: data
        hostPath: {path: $BATS_TEST_TMPDIR/data}
YAML
}

replicas() { # NAME: the Deployment's spec.replicas
  prn get deployment "$1" -o json 2>/dev/null | jq -r .spec.replicas
}

replicas_is() {
  [ "$(replicas "$1")" = "$2" ]
}

wait_long() {
  local i
  for ((i = 0; i < 600; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "never true: $*" >&2
  return 1
}

no_loop() {
  [ -z "$(controllers_pid)" ]
}

@test "hpa: podrun autoscale makes kubectl's autoscaling/v2 object; get hpa columns; refusals" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  web_yaml > "$BATS_TEST_TMPDIR/web.yaml"
  run prn autoscale deployment web --cpu-percent=70 --min=2 --max=10
  [ "$status" -eq 1 ]
  [[ "$output" == *'deployments "web" not found'* ]]
  run prn apply -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ]
  run prn autoscale deployment web --cpu-percent=70 --min=2
  [ "$status" -eq 1 ]
  [[ "$output" == *"--max=MAXPODS is required and must be at least 1, max: -1"* ]]
  run prn autoscale deployment web --cpu-percent=70 --min=2 --max=10
  [ "$status" -eq 0 ]
  [ "$output" = "horizontalpodautoscaler.autoscaling/web autoscaled" ]
  run prn autoscale deployment web --max=3
  [ "$status" -eq 1 ]
  [[ "$output" == *'horizontalpodautoscalers.autoscaling "web" already exists'* ]]
  run prn get hpa web -o json
  [ "$status" -eq 0 ]
  [ "$(jq -c .spec <<<"$output")" = '{"maxReplicas":10,"metrics":[{"resource":{"name":"cpu","target":{"averageUtilization":70,"type":"Utilization"}},"type":"Resource"}],"minReplicas":2,"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}}' ]
  # minReplicas 2 over a Deployment of 1: scaled to 2 on the first sample.
  wait_long replicas_is web 2
  run prn get hpa
  [ "$status" -eq 0 ]
  [ "$(head -1 <<<"$output" | tr -s ' ')" = "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE" ]
  [[ "$(sed -n 2p <<<"$output" | tr -s ' ')" =~ ^web\ Deployment/web\ cpu:\ (\<unknown\>|[0-9]+%)/70%\ 2\ 10\ [0-9]+\  ]]
  run prn get hpa web -o json
  [ "$(jq -r '[.status.conditions[].type] | join(",")' <<<"$output")" = "AbleToScale,ScalingLimited" ] ||
    [ "$(jq -r '[.status.conditions[].type] | join(",")' <<<"$output")" = "AbleToScale,ScalingActive,ScalingLimited" ]
  # An autoscaling/v1 object with targetCPUUtilizationPercentage is taken as well.
  cat > "$BATS_TEST_TMPDIR/v1.yaml" <<YAML
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web1}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 4
  targetCPUUtilizationPercentage: 55
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/v1.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "horizontalpodautoscaler.autoscaling/web1 created" ]
  run prn get hpa web1
  [[ "$(sed -n 2p <<<"$output" | tr -s ' ')" == "web1 Deployment/web cpu: "*"/55% 1 4 "* ]]
  sed -i 's/targetCPUUtilizationPercentage: 55/targetCPUUtilizationPercentage: 0/' "$BATS_TEST_TMPDIR/v1.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/v1.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.targetCPUUtilizationPercentage: Invalid value: 0: must be greater than 0"* ]]
  run prn delete hpa web web1
  [ "$status" -eq 0 ]
  [ "$(sed -n 1p <<<"$output")" = 'horizontalpodautoscaler.autoscaling "web" deleted' ]
  run prn delete deployment web
  wait_long no_loop
  assert_no_pods
}

@test "hpa: a CPU-burning pod scales the Deployment up; when it stops, down after the window" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  touch "$BATS_TEST_TMPDIR/data/burn"
  web_yaml > "$BATS_TEST_TMPDIR/web.yaml"
  cat >> "$BATS_TEST_TMPDIR/web.yaml" <<YAML
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 3}
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ]
  # One pod at a whole CPU is ~1000% of its 100m: up to the maximum, 3.
  wait_long replicas_is web 3
  run prn get hpa web -o json
  [ "$(jq -r .status.desiredReplicas <<<"$output")" = 3 ]
  [ "$(jq -r '.status.currentMetrics[0].resource.current.averageUtilization > 50' <<<"$output")" = true ]
  [ "$(jq -r '.status.lastScaleTime != null' <<<"$output")" = true ]
  run prn describe hpa web
  [ "$status" -eq 0 ]
  grep -q '^Deployment pods: *[1-3] current / 3 desired$' <<<"$output"
  grep -q '^  resource cpu on pods  (as a percentage of request): *[0-9]*% ([0-9]*m) / 50%$' <<<"$output"
  # The burner stops: usage falls to ~0 and, once the 3 s window has passed, down to 1.
  rm -f "$BATS_TEST_TMPDIR/data/burn"
  wait_long replicas_is web 1
  run prn get hpa web -o json
  [ "$(jq -r '.status.conditions[] | select(.type == "ScalingActive") | .reason' <<<"$output")" = ValidMetricFound ]
  # The horizontal-pod-autoscaler's SuccessfulRescale, up then down, in describe and get events.
  run prn describe hpa web
  [ "$status" -eq 0 ]
  grep -qE '^  Normal +SuccessfulRescale +.* +horizontal-pod-autoscaler +New size: 3; reason: cpu resource utilization \(percentage of request\) above target$' <<<"$output"
  grep -qE '^  Normal +SuccessfulRescale +.* +horizontal-pod-autoscaler +New size: 1; reason: All metrics below target$' <<<"$output"
  run prn get events -o json
  [ "$(jq -r '[.items[] | select(.reason == "SuccessfulRescale")][0] | .involvedObject.kind + " " + .involvedObject.apiVersion + " " + .source.component' <<<"$output")" = "HorizontalPodAutoscaler autoscaling/v2 horizontal-pod-autoscaler" ]
  run prn delete -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ]
  wait_long no_loop
  assert_no_pods
}

@test "hpa: behavior policies limit the rate: idle pods go down one pod per period (ScaleDownLimit), not all at once" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  web_yaml | sed 's/^  replicas: 1$/  replicas: 3/' > "$BATS_TEST_TMPDIR/web.yaml"
  cat >> "$BATS_TEST_TMPDIR/web.yaml" <<YAML
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 0
      selectPolicy: Max
      policies:
      - {type: Pods, value: 1, periodSeconds: 600}
      - {type: Percent, value: 10, periodSeconds: 600}
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ]
  # Idle pods propose 1 replica; the policies allow one pod (of 3, more than 10%) per 10 min.
  wait_long replicas_is web 2
  limited() {
    prn get hpa web -o json | jq -e '.status.conditions[] | select(.type == "ScalingLimited" and .status == "True" and .reason == "ScaleDownLimit" and .message == "the desired replica count is decreasing faster than the maximum scale rate")'
  }
  wait_long limited
  # Several samples later (one a second here) it is still 2: the period's change is used up.
  sleep 3
  [ "$(replicas web)" = 2 ]
  run prn describe hpa web
  grep -qE '^  Normal +SuccessfulRescale +.* +horizontal-pod-autoscaler +New size: 2; reason: All metrics below target$' <<<"$output"
  # A policy the API server refuses.
  run prn apply -f - <<YAML
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  behavior:
    scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 1801}]}
YAML
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800"* ]]
  run prn apply -f - <<YAML
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics: [{type: External, external: {metric: {name: queue}, target: {type: Value, value: "1"}}}]
YAML
  [ "$status" -eq 1 ]
  [[ "$output" == *'spec.metrics[0].type: "External": not supported by podrun (an External metric is read from an external metrics API, external.metrics.k8s.io, which a node does not serve'* ]]
  run prn delete -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ]
  wait_long no_loop
  assert_no_pods
}

@test "hpa: a ContainerResource metric measures one container against its own request (the pod's whole would stay below target)" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  touch "$BATS_TEST_TMPDIR/data/burn"
  # app (100m) burns a CPU; side (400m) idles: app is at ~1000% of its request, the pod at
  # ~200% of its 500m, below the 300% target.
  web_yaml | awk '
    { print }
    /^        - \{name: data, mountPath: \/data\}$/ && !done {
      print "      - name: side"
      print "        image: busybox"
      print "        imagePullPolicy: IfNotPresent"
      print "        command: [\"sleep\", \"3600\"]"
      print "        resources:"
      print "          requests: {cpu: 400m}"
      done = 1
    }' > "$BATS_TEST_TMPDIR/web.yaml"
  cat >> "$BATS_TEST_TMPDIR/web.yaml" <<YAML
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 2
  metrics:
  - type: ContainerResource
    containerResource: {name: cpu, container: app, target: {type: Utilization, averageUtilization: 300}}
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  wait_long replicas_is web 2
  run prn get hpa web -o json
  [ "$(jq -r '.status.currentMetrics[0] | .type + " " + .containerResource.name + " " + .containerResource.container' <<<"$output")" = "ContainerResource cpu app" ]
  [ "$(jq -r '.status.currentMetrics[0].containerResource.current.averageUtilization > 300' <<<"$output")" = true ]
  [ "$(jq -r '.status.conditions[] | select(.type == "ScalingActive") | .message' <<<"$output")" = "the HPA was able to successfully calculate a replica count from cpu container resource utilization (percentage of request)" ]
  run prn describe hpa web
  grep -qE '^  resource cpu of container "app" on pods  \(as a percentage of request\): *[0-9]+% \([0-9]+m\) / 300%$' <<<"$output"
  grep -qE '^  Normal +SuccessfulRescale +.* +horizontal-pod-autoscaler +New size: 2; reason: cpu container resource utilization \(percentage of request\) above target$' <<<"$output"
  run prn get hpa web
  [[ "$(sed -n 2p <<<"$output" | tr -s ' ')" =~ ^web\ Deployment/web\ cpu:\ [0-9]+%/300%\ 1\ 2\ [12]\  ]]
  rm -f "$BATS_TEST_TMPDIR/data/burn"
  run prn delete -f "$BATS_TEST_TMPDIR/web.yaml"
  [ "$status" -eq 0 ]
  wait_long no_loop
  assert_no_pods
}
