#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun describe pod: kubectl's layout over the pod's spec and status.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
}

teardown() {
  pods_teardown
}

failed_with_error() {
  prn get pods bare | awk 'NR == 2 && $3 == "Error" { ok = 1 } END { exit !ok }'
}

@test "describe pod: kubectl's sections: header, containers (state, env, mounts, probes, resources), conditions, volumes, events" {
  mkdir -p "$BATS_TEST_TMPDIR/host"
  cat > "$M" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: conf, configMap: {name: cfg}}
  - {name: host, hostPath: {path: $BATS_TEST_TMPDIR/host, type: Directory}}
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    ports: [{containerPort: 8080}]
    env:
    - {name: PLAIN, value: hello}
    - name: FROM_CM
      valueFrom: {configMapKeyRef: {name: cfg, key: k}}
    - name: MY_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    resources:
      limits: {cpu: 500m, memory: 64Mi}
    readinessProbe:
      exec: {command: ["true"]}
      periodSeconds: 1
    volumeMounts:
    - {name: scratch, mountPath: /data}
    - {name: conf, mountPath: /etc/conf}
    - {name: host, mountPath: /h, readOnly: true, subPath: sub}
YAML
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  wait_running web
  uid=$(pod_uid web)
  ip=$(prn get pods web -o json | jq -r .status.podIP)
  run prn describe pod web
  echo "$output"
  [ "$status" -eq 0 ]
  d=$output
  line() { grep -qxF -- "$1" <<<"$d" || { echo "missing: [$1]" >&2; return 1; }; }
  line "Name:             web"
  line "Namespace:        default"
  line "Labels:           app=web"
  line "                  tier=front"
  line "Annotations:      <none>"
  line "Status:           Running"
  line "IP:               $ip"
  line "  IP:  $ip"
  grep -qE "^Node:             $(hostname)/[0-9.]+$" <<<"$d"
  grep -qE '^Start Time:       [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}$' <<<"$d"
  line "Containers:"
  line "  app:"
  line "    Container ID:   podrun://$uid-app"
  line "    Image:          busybox"
  line "    Port:           8080/TCP"
  line "    Host Port:      0/TCP"
  line "    Command:"
  line "      sleep"
  line "      3600"
  line "    State:          Running"
  grep -qE '^      Started:      [A-Z][a-z]{2}, ' <<<"$d"
  line "    Ready:          True"
  line "    Restart Count:  0"
  line "    Limits:"
  line "      cpu:     500m"
  line "      memory:  64Mi"
  line "    Readiness:      exec [true] delay=0s timeout=1s period=1s #success=1 #failure=3"
  line "    Environment:"
  line "      PLAIN:  hello"
  line "      FROM_CM:  <set to the key 'k' of config map 'cfg'>  Optional: false"
  line "      MY_NAME:  (v1:metadata.name)"
  line "    Mounts:"
  line "      /data from scratch (rw)"
  line "      /etc/conf from conf (rw)"
  line '      /h from host (ro,path="sub")'
  line "Conditions:"
  line "  Ready             True "
  line "  PodScheduled      True "
  line "Volumes:"
  line "  scratch:"
  line "    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)"
  line "    SizeLimit:  <unset>"
  line "  conf:"
  line "    Type:       ConfigMap (a volume populated by a ConfigMap)"
  line "    Name:       cfg"
  line "    Optional:   false"
  line "    Type:          HostPath (bare host directory volume)"
  line "    Path:          $BATS_TEST_TMPDIR/host"
  line "    HostPathType:  Directory"
  # Limits without requests: the requests default to them, so Guaranteed.
  line "QoS Class:                   Guaranteed"
  line "Events:"
  grep -qE '^  Normal +Scheduled +[0-9]+s +default-scheduler +Successfully assigned default/web to ' <<<"$d"
  grep -qE '^  Normal +Started +[0-9]+s +kubelet +Started container app$' <<<"$d"
  # Sections in kubectl's order.
  [ "$(grep -E '^[A-Z][A-Za-z -]*:' <<<"$d" | cut -d: -f1 | tr '\n' ',')" = \
    "Name,Namespace,Priority,Node,Start Time,Labels,Annotations,Status,IP,IPs,Containers,Conditions,Volumes,QoS Class,Node-Selectors,Tolerations,Events," ]
}

@test "describe pod: a pod without env, mounts or volumes says <none>; bad names and kinds are refused" {
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: bare
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "exit 3"]
YAML
  prn apply -f "$M"
  wait_for failed_with_error
  run prn describe pods bare
  echo "$output"
  [ "$status" -eq 0 ]
  grep -qxF "Status:           Failed" <<<"$output"
  grep -qxF "    State:          Terminated" <<<"$output"
  grep -qxF "      Reason:       Error" <<<"$output"
  grep -qxF "      Exit Code:    3" <<<"$output"
  grep -qxF "    Ready:          False" <<<"$output"
  grep -qxF "    Port:           <none>" <<<"$output"
  grep -qxF "    Environment:    <none>" <<<"$output"
  grep -qxF "    Mounts:         <none>" <<<"$output"
  grep -qxF "Volumes:          <none>" <<<"$output"
  grep -qxF "QoS Class:                   BestEffort" <<<"$output"
  run prn describe pod nope
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "nope" not found'* ]]
  run prn describe configmap x
  [ "$status" -eq 1 ]
  [[ "$output" == *"podrun describes pods, services, deployments, replicasets, ingresses, statefulsets, daemonsets, jobs, cronjobs, horizontalpodautoscalers, persistentvolumeclaims, persistentvolumes and nodes only"* ]]
  run prn describe widgets x
  [ "$status" -eq 1 ]
  [[ "$output" == *'resource type "widgets"'* ]]
}
