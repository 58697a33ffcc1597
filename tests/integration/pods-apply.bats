#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun apply / get / delete of pods on one node: a sandbox of pinned namespaces, a CNI
# address, containers from the image store under the shim, and nothing left after delete.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
}

teardown() {
  pods_teardown
}

sleeper() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${1:-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
}

@test "apply: a pod runs, Running 1/1 with an IP; its container sees its hostname, eth0 and lo" {
  sleeper > "$BATS_TEST_TMPDIR/pod.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web created" ]
  wait_running web
  run prn get pods -o wide
  [ "$status" -eq 0 ]
  echo "$output"
  [ "$(echo "${lines[0]}" | awk '{print $1, $2, $3, $4, $5, $6, $7}')" = "NAME READY STATUS RESTARTS AGE IP NODE" ]
  ip=$(echo "${lines[1]}" | awk '{print $6}')
  [[ "$ip" == 10.88.* ]]
  [ "$(prn get pods web -o json | jq -r .status.podIP)" = "$ip" ]
  [ "$(prn get pods -o name)" = pod/web ]
  # The default network configuration was written, as the conf dir had none.
  [ "$(jq -r '.plugins[0].type, .plugins[0].bridge, .plugins[0].ipam.subnet' "$ROOTS/cni/10-podrun.conflist" | tr '\n' ' ')" = "podrun-bridge podrun0 10.88.0.0/16 " ]
  run pexec web app hostname
  [ "$status" -eq 0 ]
  [ "$output" = web ]
  run pexec web app sh -c 'echo "$HOSTNAME"'
  [ "$output" = web ]
  run pexec web app ip -o -4 addr show eth0
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet $ip/16"* ]]
  run pexec web app ip -o -4 addr show lo
  [[ "$output" == *"inet 127.0.0.1/8"* ]]
  run pexec web app cat /sys/class/net/lo/operstate
  [ "$output" = unknown ] # lo is up: "unknown" is its operstate when up, "down" otherwise
  # Its own pid namespace: the container's command is pid 1.
  run pexec web app sh -c "tr '\\0' ' ' < /proc/1/cmdline"
  echo "pid 1: $output"
  [ "$output" = "sleep 3600 " ]
  # The namespaces are pinned where the pod manager keeps them.
  uid=$(pod_uid web)
  for ns in net ipc uts; do
    findmnt -n "$ROOTS/run/pods/$uid/ns/$ns"
  done
}

@test "apply: two containers of a pod share localhost" {
  cat > "$BATS_TEST_TMPDIR/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www"]
  - name: client
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  wait_running duo 2/2
  wait_for pexec duo client wget -q -O- http://127.0.0.1:8080/
  run pexec duo client wget -q -O- http://127.0.0.1:8080/
  [ "$status" -eq 0 ]
  [ "$output" = hello-from-server ]
  # Same network namespace, separate roots: the client does not have the server's /www.
  run pexec duo client ls /www
  [ "$status" -ne 0 ] || false
}

@test "apply: env from a ConfigMap and a Secret, value and envFrom" {
  cat > "$BATS_TEST_TMPDIR/all.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  greeting: hello
  color: blue
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
data:
  password: czNjcjN0
---
apiVersion: v1
kind: Pod
metadata:
  name: envy
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    envFrom:
    - prefix: CM_
      configMapRef:
        name: cfg
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef:
          name: cfg
          key: greeting
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: sec
          key: password
    - name: PLAIN
      value: "a b"
    - name: OPTIONAL
      valueFrom:
        configMapKeyRef:
          name: nope
          key: k
          optional: true
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/all.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "configmap/cfg created
secret/sec created
pod/envy created" ]
  wait_running envy
  [ "$(pexec envy app sh -c 'echo "$GREETING"')" = hello ]
  [ "$(pexec envy app sh -c 'echo "$PASSWORD"')" = s3cr3t ]
  [ "$(pexec envy app sh -c 'echo "$PLAIN"')" = "a b" ]
  [ "$(pexec envy app sh -c 'echo "$CM_color"')" = blue ]
  # An optional key whose ConfigMap is missing leaves its variable unset.
  [ "$(pexec envy app sh -c 'echo "${OPTIONAL-unset}"')" = unset ]
  run prn get configmaps
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[1]}" | awk '{print $1, $2}')" = "cfg 2" ]
  run prn get secrets
  [ "$(echo "${lines[1]}" | awk '{print $1, $2, $3}')" = "sec Opaque 1" ]
}

@test "apply: unchanged says unchanged; a changed pod spec is refused; a changed ConfigMap is configured" {
  sleeper > "$BATS_TEST_TMPDIR/pod.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running web
  uid=$(pod_uid web)
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web unchanged" ]
  # The same object as JSON, keys in another order, is unchanged too.
  cat > "$BATS_TEST_TMPDIR/pod.json" <<'JSON'
{"spec": {"containers": [{"command": ["sleep", "3600"], "image": "busybox", "name": "app"}],
          "terminationGracePeriodSeconds": 1},
 "metadata": {"name": "web"}, "kind": "Pod", "apiVersion": "v1"}
JSON
  run prn apply -f "$BATS_TEST_TMPDIR/pod.json"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web unchanged" ]
  sed -i 's/"3600"/"3601"/' "$BATS_TEST_TMPDIR/pod.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than'* ]]
  # The running pod is untouched.
  [ "$(pod_uid web)" = "$uid" ]
  [ "$(pexec web app sh -c "tr '\\0' ' ' < /proc/1/cmdline")" = "sleep 3600 " ]
  # Labels may change, as the API server lets them: the same pod, configured.
  sed -i 's/"3601"/"3600"/; s/^  name: web$/  name: web\n  labels: {tier: front}/' "$BATS_TEST_TMPDIR/pod.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "pod/web configured" ]
  [ "$(pod_uid web)" = "$uid" ]
  [ "$(prn get pods web -o json | jq -r .metadata.labels.tier)" = front ]
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1"}\n' > "$BATS_TEST_TMPDIR/cm.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/cm.yaml"
  [ "$output" = "configmap/cfg created" ]
  run prn apply -f "$BATS_TEST_TMPDIR/cm.yaml"
  [ "$output" = "configmap/cfg unchanged" ]
  sed -i 's/"1"/"2"/' "$BATS_TEST_TMPDIR/cm.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/cm.yaml"
  [ "$output" = "configmap/cfg configured" ]
}

@test "delete: removes everything: processes, mounts, pinned namespaces, veth, IP allocation, state" {
  sleeper > "$BATS_TEST_TMPDIR/pod.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running web
  uid=$(pod_uid web)
  shim=$(jq -r .shimPid "$ROOTS/run/pods/$uid/shim/status.json")
  ctr=$(jq -r '.containerStatuses[0].pid' "$ROOTS/run/pods/$uid/shim/status.json")
  alive "$shim" && alive "$ctr"
  [ -n "$(in_node ip -o link show type veth)" ]
  [ "$(ls "$ROOTS/ipam/podrun" | grep -c '^10\.88\.')" -eq 1 ]
  run prn delete pod web
  [ "$status" -eq 0 ]
  [ "$output" = 'pod "web" deleted' ]
  run alive "$shim"
  [ "$status" -eq 1 ]
  run alive "$ctr"
  [ "$status" -eq 1 ]
  assert_no_pods
  [ ! -e "$ROOTS/lib/objects/pods/default/web.json" ]
  run prn get pods
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in default namespace." ]
  run prn delete pod web
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "web" not found'* ]]
}

@test "delete -f: a pod whose shim was killed is still taken down completely" {
  sleeper > "$BATS_TEST_TMPDIR/pod.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running web
  uid=$(pod_uid web)
  shim=$(jq -r .shimPid "$ROOTS/run/pods/$uid/shim/status.json")
  ctr=$(jq -r '.containerStatuses[0].pid' "$ROOTS/run/pods/$uid/shim/status.json")
  kill -9 "$shim"
  wait_for bash -c "! [ -e /proc/$shim ] || [ \"\$(awk '{print \$3}' /proc/$shim/stat)\" = Z ]"
  run prn delete -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = 'pod "web" deleted' ]
  run alive "$ctr"
  [ "$status" -eq 1 ]
  assert_no_pods
}

@test "apply: concurrent podrun processes take turns and give pods distinct addresses" {
  sleeper one > "$BATS_TEST_TMPDIR/one.yaml"
  sleeper two > "$BATS_TEST_TMPDIR/two.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/one.yaml" > "$BATS_TEST_TMPDIR/one.out" 2>&1 &
  p1=$!
  prn apply -f "$BATS_TEST_TMPDIR/two.yaml" > "$BATS_TEST_TMPDIR/two.out" 2>&1
  wait "$p1"
  [ "$(cat "$BATS_TEST_TMPDIR/one.out")" = "pod/one created" ]
  [ "$(cat "$BATS_TEST_TMPDIR/two.out")" = "pod/two created" ]
  wait_running one
  wait_running two
  run prn get pods -o json
  [ "$(echo "$output" | jq -r '.items | length')" -eq 2 ]
  [ "$(echo "$output" | jq -r '[.items[].status.podIP] | unique | length')" -eq 2 ]
  run prn delete pod one two
  [ "$status" -eq 0 ]
  assert_no_pods
}

@test "delete: a delete that fails part-way (CNI DEL) leaves what the next delete finishes" {
  fake=$BATS_TEST_TMPDIR/fakecni
  mkdir -p "$fake"
  cat > "$fake/podrun-bridge" <<SH
#!/bin/sh
if [ "\$CNI_COMMAND" = DEL ] && [ -e "$BATS_TEST_TMPDIR/fail-del" ]; then
  echo '{"cniVersion":"1.0.0","code":11,"msg":"injected DEL failure"}'
  exit 1
fi
exec "$PODRUN_BUILD/cni/podrun-bridge"
SH
  chmod +x "$fake/podrun-bridge"
  PRN_EXTRA=(--cni-bin-dir "$fake:$PODRUN_BUILD/cni")
  sleeper > "$BATS_TEST_TMPDIR/pod.yaml"
  prn apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  wait_running web
  uid=$(pod_uid web)
  touch "$BATS_TEST_TMPDIR/fail-del"
  run prn delete pod web
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"injected DEL failure"* ]]
  # The pod is still listed, its network config kept for the DEL; its processes, roots and
  # namespaces are gone already.
  [ -f "$ROOTS/lib/objects/pods/default/web.json" ]
  [ -f "$ROOTS/run/pods/$uid/cni.json" ]
  [ -z "$(shim_pids)" ] || ! alive "$(shim_pids)" || false
  ! grep -q " $ROOTS/" /proc/self/mountinfo || false
  rm "$BATS_TEST_TMPDIR/fail-del"
  run prn delete pod web
  [ "$status" -eq 0 ]
  [ "$output" = 'pod "web" deleted' ]
  assert_no_pods
}

@test "namespaces: objects in a namespace, get -A, and delete of the namespace takes its pods" {
  cat > "$BATS_TEST_TMPDIR/ns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: team
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: team
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/ns.yaml"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "namespace/team created
configmap/cfg created
pod/web created" ]
  run prn get pods
  [ "$output" = "No resources found in default namespace." ]
  wait_for bash -c "$(declare -f prn); $(declare -p NODE PODRUN IMAGES_ROOT ROOTS PRN_EXTRA); prn get pods -n team | grep -q Running"
  run prn get pods -A
  [ "$(echo "${lines[0]}" | awk '{print $1, $2}')" = "NAMESPACE NAME" ]
  [ "$(echo "${lines[1]}" | awk '{print $1, $2}')" = "team web" ]
  run prn get namespaces
  [ "$(echo "${lines[1]}" | awk '{print $1, $2}')" = "team Active" ]
  # -n puts an object without a namespace of its own there.
  sleeper extra > "$BATS_TEST_TMPDIR/extra.yaml"
  run prn apply -n team -f "$BATS_TEST_TMPDIR/extra.yaml"
  [ "$output" = "pod/extra created" ]
  [ "$(prn get pods -n team -o name | tr '\n' ' ')" = "pod/extra pod/web " ]
  run prn delete namespace team
  [ "$status" -eq 0 ]
  [ "$output" = 'namespace "team" deleted' ]
  assert_no_pods
  [ -z "$(find "$ROOTS/lib/objects" -type f)" ]
}

@test "namespaces: a Namespace is cluster-scoped: a metadata.namespace or -n given for it is ignored, as the API server does" {
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team2, namespace: elsewhere}\n' \
    > "$BATS_TEST_TMPDIR/ns2.yaml"
  run prn apply -n other -f "$BATS_TEST_TMPDIR/ns2.yaml"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "namespace/team2 created" ]
  [ -f "$ROOTS/lib/objects/namespaces/team2.json" ]
  run prn get namespaces team2
  [ "$(echo "${lines[1]}" | awk '{print $1, $2}')" = "team2 Active" ]
  run prn apply -f "$BATS_TEST_TMPDIR/ns2.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "namespace/team2 unchanged" ]
  run prn delete -n other -f "$BATS_TEST_TMPDIR/ns2.yaml"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 'namespace "team2" deleted' ]
  [ -z "$(find "$ROOTS/lib/objects" -type f)" ]
}

@test "apply: -f DIR takes its manifests in name order, -f - reads stdin; get and delete of ConfigMaps" {
  mkdir "$BATS_TEST_TMPDIR/dir"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n' > "$BATS_TEST_TMPDIR/dir/2.yaml"
  printf '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}' > "$BATS_TEST_TMPDIR/dir/1.json"
  echo 'not a manifest' > "$BATS_TEST_TMPDIR/dir/README"
  run prn apply -f "$BATS_TEST_TMPDIR/dir"
  [ "$status" -eq 0 ]
  [ "$output" = "configmap/a created
configmap/b created" ]
  run prn apply -f - < "$BATS_TEST_TMPDIR/dir/2.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "configmap/b unchanged" ]
  run prn get cm
  [ "$(echo "$output" | awk 'NR > 1 {print $1 "=" $2}' | tr '\n' ' ')" = "a=0 b=1 " ]
  run prn delete configmap a b
  [ "$status" -eq 0 ]
  [ "$output" = 'configmap "a" deleted
configmap "b" deleted' ]
  run prn get configmaps
  [ "$output" = "No resources found in default namespace." ]
}

@test "locks: get shares the manager's lock; apply waits for it alone" {
  mkdir -p "$ROOTS/run"
  lock=$ROOTS/run/pods.lock
  # A reader holding the lock shared: the subshell becomes sleep, fd 9 keeps the lock.
  (exec 9>"$lock" && flock -s 9 && exec sleep 60) &
  holder=$!
  wait_for bash -c "! flock -n -x '$lock' true"
  sleeper > "$BATS_TEST_TMPDIR/pod.yaml"
  run timeout 10 nsenter --net="/run/netns/$NODE" "$PODRUN" --run-root "$ROOTS/run" \
    --lib-root "$ROOTS/lib" get pods
  [ "$status" -eq 0 ]
  run timeout 2 nsenter --net="/run/netns/$NODE" "$PODRUN" --run-root "$ROOTS/run" \
    --lib-root "$ROOTS/lib" --images-root "$IMAGES_ROOT" apply -f "$BATS_TEST_TMPDIR/pod.yaml"
  [ "$status" -eq 124 ]
  kill "$holder"
  wait "$holder" || true
  assert_no_pods
}
