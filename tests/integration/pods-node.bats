#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The node as an object (get nodes, describe node, -o json|yaml|name) with values checked
# against the kernel's, its settings (lib-root/node.yaml, --node-name), and the kubelet's
# admission: OutOfcpu/OutOfmemory/OutOfpods, nodeSelector and node affinity (NodeAffinity),
# nodeName (NodeName), 20 applies at once never overcommitting.

load ../lib/helpers
load ../lib/pods-helpers
load ../lib/pods-cgroup-helpers

setup() {
  pods_setup
  cg_setup
  M=$BATS_TEST_TMPDIR/m.yaml
  NCPU=$(getconf _NPROCESSORS_ONLN)
  MEMKIB=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
  HUGE=0
  for d in /sys/kernel/mm/hugepages/hugepages-*kB; do
    [ -d "$d" ] || continue
    kb=${d##*hugepages-}
    kb=${kb%kB}
    HUGE=$((HUGE + $(cat "$d/nr_hugepages") * kb * 1024))
  done
}

teardown() {
  local r=0
  pods_teardown || r=$?
  cg_teardown
  return "$r"
}

# pod NAME CPU MEMORY [SPEC-EXTRA]: a pod requesting CPU and MEMORY ("" for none).
pod_yaml() {
  local res='{}'
  if [ -n "$2" ] || [ -n "$3" ]; then
    res="{requests: {${2:+cpu: $2}${2:+${3:+, }}${3:+memory: $3}}}"
  fi
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 0
${4:-}
  containers:
  - {name: c, image: busybox, command: [sleep, "3600"], resources: $res}
YAML
}

node_name() {
  hostname | tr 'A-Z' 'a-z'
}

@test "get nodes: this machine with kubectl's columns, wide ones checked against uname and os-release" {
  run prn get nodes
  echo "$output"
  [ "$status" -eq 0 ]
  read -r -a h <<<"${lines[0]}"
  [ "${h[*]}" = "NAME STATUS ROLES AGE VERSION" ]
  read -r -a v <<<"${lines[1]}"
  [ "${v[0]}" = "$(node_name)" ]
  [ "${v[1]}" = Ready ]
  [ "${v[2]}" = "<none>" ]
  [[ "${v[3]}" =~ ^[0-9]+s$ ]]
  [ "${v[4]}" = v1.31.0-podrun ]
  [ "${#lines[@]}" -eq 2 ]
  run prn get nodes -o wide
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(sed -n 1p <<<"$output" | tr -s ' ')" = "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME" ]
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  row=$(sed -n 2p <<<"$output")
  ver=$("$PODRUN" --version | awk '{ print $3 }')
  [[ "$row" == *"   $os   $(uname -r)   podrun://$ver" ]]
  ip=$(in_node ip -4 -o addr show scope global up | awk '{ sub("/.*", "", $4); print $4; exit }')
  read -r -a v <<<"$row"
  [ "${v[5]}" = "${ip:-<none>}" ]
  [ "${v[6]}" = "<none>" ]
  run prn get nodes -o name
  [ "$output" = "node/$(node_name)" ]
  run prn get node "$(node_name)"
  [ "$status" -eq 0 ]
  run prn get node other-node
  [ "$status" -eq 1 ]
  [[ "$output" == *'nodes "other-node" not found'* ]]
  run prn get nodes -l kubernetes.io/os=linux -o name
  [ "$output" = "node/$(node_name)" ]
  run prn get nodes -l kubernetes.io/os=windows
  [ "$status" -eq 0 ]
  [[ "$output" == *"No resources found"* ]]
  run prn delete node "$(node_name)"
  [ "$status" -eq 1 ]
  [[ "$output" == *"podrun does not delete the node it runs on"* ]]
}

@test "node -o json|yaml: a v1 Node with capacity from the kernel and allocatable minus the reserve from node.yaml" {
  mkdir -p "$ROOTS/lib"
  cat >"$ROOTS/lib/node.yaml" <<'YAML'
name: worker-7
labels: {disktype: ssd, node-role.kubernetes.io/worker: ""}
systemReserved: {cpu: 300m, memory: 256Mi, ephemeral-storage: 1Gi}
kubeReserved: {cpu: 200m, memory: 256Mi}
maxPods: 30
podCIDR: 10.244.7.0/24
YAML
  run prn get node worker-7 -o json
  echo "$output"
  [ "$status" -eq 0 ]
  j=$output
  [ "$(jq -r '.apiVersion + "/" + .kind' <<<"$j")" = v1/Node ]
  [ "$(jq -r .metadata.name <<<"$j")" = worker-7 ]
  [[ "$(jq -r .metadata.uid <<<"$j")" =~ ^[0-9a-f-]{36}$ ]]
  [ "$(jq -r '.metadata.labels["kubernetes.io/hostname"]' <<<"$j")" = worker-7 ]
  [ "$(jq -r '.metadata.labels["kubernetes.io/os"]' <<<"$j")" = linux ]
  [ "$(jq -r '.metadata.labels["kubernetes.io/arch"]' <<<"$j")" = "$(dpkg --print-architecture)" ]
  [ "$(jq -r '.metadata.labels["beta.kubernetes.io/arch"]' <<<"$j")" = "$(dpkg --print-architecture)" ]
  [ "$(jq -r .metadata.labels.disktype <<<"$j")" = ssd ]
  [ "$(jq -r .spec.podCIDR <<<"$j")" = 10.244.7.0/24 ]
  [ "$(jq -r .status.capacity.cpu <<<"$j")" = "$NCPU" ]
  [ "$(jq -r .status.capacity.memory <<<"$j")" = "${MEMKIB}Ki" ]
  [ "$(jq -r .status.capacity.pods <<<"$j")" = 30 ]
  [ "$(jq -r .status.allocatable.cpu <<<"$j")" = "$((NCPU * 1000 - 500))m" ]
  alloc=$((MEMKIB * 1024 - 512 * 1024 * 1024 - HUGE))
  [ "$(jq -r .status.allocatable.memory <<<"$j")" = "$((alloc / 1024))Ki" ]
  disk=$(stat -f -c '%b * %S' "$ROOTS/lib")
  [ "$(jq -r '.status.capacity["ephemeral-storage"]' <<<"$j")" = "$(($disk / 1024))Ki" ]
  [ "$(jq -r '.status.allocatable["ephemeral-storage"]' <<<"$j")" = "$((($disk - (1 << 30)) / 1024))Ki" ]
  [ "$(jq -r '.status.conditions[] | select(.type == "Ready") | .status + " " + .reason' <<<"$j")" = "True KubeletReady" ]
  [ "$(jq -r '.status.conditions[] | select(.type == "MemoryPressure") | .status' <<<"$j")" = False ]
  [ "$(jq -r '.status.addresses[] | select(.type == "Hostname") | .address' <<<"$j")" = worker-7 ]
  [ "$(jq -r .status.nodeInfo.kernelVersion <<<"$j")" = "$(uname -r)" ]
  [ "$(jq -r .status.nodeInfo.operatingSystem <<<"$j")" = linux ]
  [ "$(jq -r .status.nodeInfo.bootID <<<"$j")" = "$(cat /proc/sys/kernel/random/boot_id)" ]
  run prn get nodes
  [[ "${lines[1]}" == "worker-7   Ready    worker   "* ]]
  # The uid and creation time stay.
  [ "$(prn get node worker-7 -o json | jq -r .metadata.uid)" = "$(jq -r .metadata.uid <<<"$j")" ]
  run prn get node worker-7 -o yaml
  [ "$status" -eq 0 ]
  [ "$(python3 -c 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)["status"]["capacity"], sort_keys=True))' <<<"$output")" = \
    "$(jq -cS .status.capacity <<<"$j" | sed 's/,/, /g; s/":/": /g')" ]
  # The flag wins over the file.
  PRN_EXTRA+=(--node-name flagged)
  run prn get nodes -o name
  [ "$output" = node/flagged ]
}

@test "node config: bad settings are refused by name" {
  PRN_EXTRA=() # no --cgroup-root flag over the file's
  local keep=$PODRUN_CGROUP_ROOT
  unset PODRUN_CGROUP_ROOT # nor the environment's
  mkdir -p "$ROOTS/lib"
  for bad in 'colour: blue' 'systemReserved: {gpu: "1"}' 'kubeReserved: {cpu: lots}' \
    'labels: {kubernetes.io/hostname: x}' 'name: Not_A_Name' 'maxPods: 0' 'cgroupRoot: relative'; do
    echo "$bad" >"$ROOTS/lib/node.yaml"
    run prn get nodes
    echo "$bad -> $output"
    [ "$status" -eq 1 ]
    key=${bad%%:*}
    [ "$key" = name ] && key=Not_A_Name
    [ "$key" = cgroupRoot ] && key=relative
    [[ "$output" == *"$key"* ]]
  done
  run prn --node-config "$BATS_TEST_TMPDIR/missing.yaml" get nodes
  [ "$status" -eq 1 ]
  [[ "$output" == *missing.yaml* ]]
  export PODRUN_CGROUP_ROOT=$keep
}

@test "describe node: kubectl's sections with the reserve, the pods' requests and limits and their totals" {
  mkdir -p "$ROOTS/lib"
  printf 'labels: {zone: a}\nsystemReserved: {cpu: 500m, memory: 1Gi}\n' >"$ROOTS/lib/node.yaml"
  cat >"$M" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: a
    image: busybox
    command: [sleep, "3600"]
    resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {memory: 128Mi}}
  - name: b
    image: busybox
    command: [sleep, "3600"]
    resources: {requests: {cpu: 250m}}
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running web 2/2
  run prn describe node
  echo "$output"
  [ "$status" -eq 0 ]
  d=$output
  line() { grep -qxF -- "$1" <<<"$d" || { echo "missing: [$1]" >&2; return 1; }; }
  n=$(node_name)
  acpu=$((NCPU * 1000 - 500))
  amem=$((MEMKIB * 1024 - 1024 * 1024 * 1024 - HUGE))
  line "Name:               $n"
  line "Roles:              <none>"
  line "Labels:             beta.kubernetes.io/arch=$(dpkg --print-architecture)"
  line "                    kubernetes.io/hostname=$n"
  line "                    zone=a"
  line "Taints:             <none>"
  grep -qE '^  Ready +True +[A-Z][a-z]{2}, .* +KubeletReady +kubelet is posting ready status$' <<<"$d"
  line "  Hostname:    $n"
  line "  cpu:                $NCPU"
  line "  memory:             ${MEMKIB}Ki"
  line "  pods:               110"
  [ "$(grep -A3 '^Allocatable:' <<<"$d" | grep -c "  cpu:                ${acpu}m")" -eq 1 ]
  line "  Kernel Version:             $(uname -r)"
  line "  Operating System:           linux"
  line "Non-terminated Pods:          (1 in total)"
  grep -qE "^  default +web +500m \($((500 * 100 / acpu))%\) +0 \(0%\) +64Mi \($((64 * 1024 * 1024 * 100 / amem))%\) +0 \(0%\) +[0-9]+s$" <<<"$d"
  grep -qE "^  cpu +500m \($((500 * 100 / acpu))%\) +0 \(0%\)$" <<<"$d"
  grep -qE "^  memory +64Mi \([0-9]+%\) +0 \(0%\)$" <<<"$d"
  line "Events:             <none>"
  [ "$(grep -E '^[A-Z][A-Za-z -]*:' <<<"$d" | cut -d: -f1 | tr '\n' ',')" = \
    "Name,Roles,Labels,Annotations,CreationTimestamp,Taints,Unschedulable,Conditions,Addresses,Capacity,Allocatable,System Info,PodCIDR,PodCIDRs,Non-terminated Pods,Allocated resources,Events," ]
  run prn describe node nope
  [ "$status" -eq 1 ]
  [[ "$output" == *'nodes "nope" not found'* ]]
}

@test "admission: a pod whose requests do not fit what is left is refused as the kubelet refuses it, leaving nothing" {
  mkdir -p "$ROOTS/lib"
  # 1 CPU and 256 MiB left for pods, whatever the machine.
  printf 'systemReserved: {cpu: %dm, memory: %d}\n' $((NCPU * 1000 - 1000)) \
    $((MEMKIB * 1024 - HUGE - 256 * 1024 * 1024)) >"$ROOTS/lib/node.yaml"
  pod_yaml big 1001m "" >"$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *'pod "big": OutOfcpu: Pod was rejected: Node didn'"'"'t have enough resource: cpu, requested: 1001, used: 0, capacity: 1000'* ]]
  assert_no_pods
  for d in $(cg_all_dirs "$CG_ROOT"); do [ ! -e "$d" ]; done
  pod_yaml p1 600m 200Mi >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod_yaml p2 500m "" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"OutOfcpu: Pod was rejected: Node didn't have enough resource: cpu, requested: 500, used: 600, capacity: 1000"* ]]
  pod_yaml p3 "" 100Mi >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"OutOfmemory: Pod was rejected: Node didn't have enough resource: memory, requested: 104857600, used: 209715200, capacity: 268435456"* ]]
  # A pod asking for nothing always fits; one that fits the rest does.
  pod_yaml p4 "" "" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod_yaml p5 400m 56Mi >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  [ "$(prn get pods -o name | sort | tr '\n' ' ')" = "pod/p1 pod/p4 pod/p5 " ]
  # What is freed can be used again.
  run prn delete pod p1
  [ "$status" -eq 0 ]
  pod_yaml p2 500m "" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
}

@test "admission: maxPods is a limit too (OutOfpods); what a killed apply left does not count" {
  mkdir -p "$ROOTS/lib"
  echo 'maxPods: 1' >"$ROOTS/lib/node.yaml"
  # A pod's run directory whose object was never stored (its apply was killed part-way).
  ghost=$ROOTS/run/pods/00000000-0000-4000-8000-000000000000
  mkdir -p "$ghost"
  echo '{"namespace": "default", "name": "ghost", "uid": "00000000-0000-4000-8000-000000000000", "qosClass": "Burstable", "cpuRequest": 1}' >"$ghost/pod.json"
  pod_yaml a "" "" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod_yaml b "" "" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"OutOfpods: Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1"* ]]
  run prn describe node
  [[ "$output" == *"Non-terminated Pods:          (1 in total)"* ]]
  rm -r "$ghost"
}

@test "admission: nodeSelector and node affinity against the node's labels, nodeName against its name" {
  mkdir -p "$ROOTS/lib"
  printf 'name: n1\nlabels: {disktype: ssd, gen: "5"}\n' >"$ROOTS/lib/node.yaml"
  pod_yaml sel "" "" "  nodeSelector: {disktype: ssd, kubernetes.io/hostname: n1}" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod_yaml nosel "" "" "  nodeSelector: {disktype: hdd}" >"$M"
  run prn apply -f "$M"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"pod \"nosel\": NodeAffinity: Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"* ]]
  pod_yaml named "" "" "  nodeName: n1" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  pod_yaml other "" "" "  nodeName: n2" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"NodeName: Pod was rejected: Predicate NodeName failed: node(s) didn't match the requested node name"* ]]
  aff() {
    pod_yaml "$1" "" "" "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: $2}}}"
  }
  aff a1 '[{matchExpressions: [{key: disktype, operator: In, values: [ssd, nvme]}, {key: gen, operator: Gt, values: ["4"]}]}]' >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  # Terms are ORed: the second one matches by field.
  aff a2 '[{matchExpressions: [{key: disktype, operator: NotIn, values: [ssd]}]}, {matchFields: [{key: metadata.name, operator: In, values: [n1]}]}]' >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  aff a3 '[{matchExpressions: [{key: gpu, operator: Exists}]}]' >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"NodeAffinity: Pod was rejected"* ]]
  aff a4 '[{matchExpressions: [{key: gen, operator: Lt, values: ["5"]}]}]' >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"NodeAffinity"* ]]
  aff a5 '[{matchExpressions: [{key: gen, operator: Near, values: ["5"]}]}]' >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *'nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Near"'* ]]
  pod_yaml pa "" "" "  affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: []}}" >"$M"
  run prn apply -f "$M"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.affinity.podAntiAffinity: not supported"* ]]
  [ "$(prn get pods -o name | sort | tr '\n' ' ')" = "pod/a1 pod/a2 pod/named pod/sel " ]
}

@test "admission: 20 applies at once never overcommit the node" {
  mkdir -p "$ROOTS/lib"
  printf 'systemReserved: {cpu: %dm}\n' $((NCPU * 1000 - 1000)) >"$ROOTS/lib/node.yaml"
  for i in $(seq 1 20); do
    pod_yaml "c$i" 300m "" >"$M.$i"
  done
  local pids=()
  for i in $(seq 1 20); do
    prn apply -f "$M.$i" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
    pids+=($!)
  done
  # These applies only: a bare `wait` would also wait for the node's registry.
  wait "${pids[@]}" || true
  ok=$(find "$ROOTS/lib/objects/pods/default" -name '*.json' | wc -l)
  refused=$(grep -l "OutOfcpu" "$BATS_TEST_TMPDIR"/out.* | wc -l)
  echo "admitted $ok, refused $refused"
  [ "$ok" -eq 3 ]
  [ "$refused" -eq 17 ]
}
