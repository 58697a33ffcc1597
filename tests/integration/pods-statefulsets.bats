#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# StatefulSets (ordered pods SET-N with their claims), PersistentVolumeClaims bound to local
# volumes under the lib root, and DaemonSets: the controller loop keeps them.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
}

teardown() {
  pods_teardown
}

# web_yaml [REPLICAS] [POLICY] [EXTRA SPEC LINE]: StatefulSet web, each pod Ready only once
# /tmp/ready exists in it (so a test decides when), with a claim "data" at /data.
web_yaml() {
  cat <<YAML
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: ${1:-2}
  podManagementPolicy: ${2:-OrderedReady}
  serviceName: nginx
  ${3:-minReadySeconds: 0}
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
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]
        readinessProbe:
          exec: {command: [test, -f, /tmp/ready]}
          periodSeconds: 1
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
YAML
}

exists() { # POD
  prn get pods "$1" >/dev/null 2>&1
}

gone() { # POD
  run prn get pods "$1"
  [ "$status" -eq 1 ]
}

sts_ready() { # N/M
  prn get statefulsets web 2>/dev/null | awk -v r="$1" 'NR == 2 && $2 == r { ok = 1 } END { exit !ok }'
}

ready_now() { # POD: make its readiness probe pass
  pexec "$1" app touch /tmp/ready >/dev/null
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

@test "statefulsets: OrderedReady: web-0 Running and Ready before web-1 exists; scale down in reverse" {
  web_yaml 2 | prn apply -f - > "$BATS_TEST_TMPDIR/out"
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = "statefulset.apps/web created" ]
  wait_running web-0 0/1
  # web-0 is not Ready: web-1 is not made, however long the loop runs.
  sleep 1.5
  gone web-1
  ready_now web-0
  wait_long exists web-1
  wait_running web-1 0/1
  [ "$(prn get pods web-0 | awk 'NR == 2 { print $2 }')" = 1/1 ]
  ready_now web-1
  wait_long sts_ready 2/2
  run prn get sts
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^NAME\ +READY\ +AGE$ ]]
  [[ "${lines[1]}" =~ ^web\ +2/2\ + ]]
  run prn get sts -o wide
  [[ "${lines[0]}" =~ ^NAME\ +READY\ +AGE\ +CONTAINERS\ +IMAGES$ ]]
  # The pods' names, hostnames, subdomain and labels, and the set's status.
  j=$(prn get pod web-1 -o json)
  [ "$(jq -r .spec.hostname <<<"$j")" = web-1 ]
  [ "$(jq -r .spec.subdomain <<<"$j")" = nginx ]
  [ "$(jq -r '.metadata.labels["statefulset.kubernetes.io/pod-name"]' <<<"$j")" = web-1 ]
  [ "$(jq -r '.metadata.labels["apps.kubernetes.io/pod-index"]' <<<"$j")" = 1 ]
  [ "$(jq -r '.metadata.ownerReferences[0].kind' <<<"$j")" = StatefulSet ]
  [ "$(jq -r '.spec.volumes[] | select(.name == "data") | .persistentVolumeClaim.claimName' <<<"$j")" = data-web-1 ]
  [ "$(pexec web-1 app hostname)" = web-1 ]
  j=$(prn get sts web -o json)
  [ "$(jq -r .status.replicas <<<"$j")" = 2 ]
  [ "$(jq -r .status.readyReplicas <<<"$j")" = 2 ]
  [ "$(jq -r .status.availableReplicas <<<"$j")" = 2 ]
  [ "$(jq -r .status.updatedReplicas <<<"$j")" = 2 ]
  [ "$(jq -r .status.currentReplicas <<<"$j")" = 2 ]
  [ "$(jq -r .status.observedGeneration <<<"$j")" = 1 ]
  [[ "$(jq -r .status.updateRevision <<<"$j")" =~ ^web-[a-z0-9]+$ ]]
  [ "$(jq -r .status.currentRevision <<<"$j")" = "$(jq -r .status.updateRevision <<<"$j")" ]
  # The API server's defaults, as stored.
  [ "$(jq -r .spec.updateStrategy.type <<<"$j")" = RollingUpdate ]
  [ "$(jq -r .spec.updateStrategy.rollingUpdate.partition <<<"$j")" = 0 ]
  [ "$(jq -r .spec.revisionHistoryLimit <<<"$j")" = 10 ]
  [ "$(jq -r .spec.persistentVolumeClaimRetentionPolicy.whenDeleted <<<"$j")" = Retain ]
  run prn describe sts web
  [ "$status" -eq 0 ]
  grep -qxF "Replicas:           2 desired | 2 total" <<<"$output"
  grep -qxF "Update Strategy:    RollingUpdate" <<<"$output"
  grep -qxF "Pods Status:        2 Running / 0 Waiting / 0 Succeeded / 0 Failed" <<<"$output"
  grep -qxF "  Name:          data" <<<"$output"
  grep -qxF "  Access Modes:  RWO" <<<"$output"
  # The statefulset-controller's events, in `get events` and in describe.
  grep -qE '^  Normal +SuccessfulCreate +.* +statefulset-controller +create Pod web-0 in StatefulSet web successful$' <<<"$output"
  grep -qE '^  Normal +SuccessfulCreate +.* +statefulset-controller +create Claim data-web-1 Pod web-1 in StatefulSet web success$' <<<"$output"
  run prn get events -o json
  [ "$status" -eq 0 ]
  [ "$(jq -r '.items[] | select(.involvedObject.kind == "StatefulSet" and .reason == "SuccessfulCreate" and (.message | startswith("create Pod"))) | .involvedObject.name + " " + .source.component + " " + .message' <<<"$output")" = "web statefulset-controller create Pod web-0 in StatefulSet web successful
web statefulset-controller create Pod web-1 in StatefulSet web successful" ]
  # Scale up to 3 then down to 1: web-2 goes first, then web-1; their claims stay.
  run prn scale statefulset web --replicas=3
  [ "$status" -eq 0 ]
  [ "$output" = "statefulset.apps/web scaled" ]
  wait_long exists web-2
  ready_now web-2
  wait_long sts_ready 3/3
  # Highest ordinal first: 3 -> 2 takes web-2 alone.
  prn scale sts web --replicas=2
  wait_long gone web-2
  exists web-0
  exists web-1
  # OrderedReady: while web-0 is not Ready, web-1 is not taken down.
  pexec web-0 app rm /tmp/ready
  wait_long sts_ready 1/2
  prn scale sts web --replicas=1
  sleep 1.5
  exists web-1
  ready_now web-0
  wait_long gone web-1
  exists web-0
  run prn get pvc -o name
  [ "${lines[*]}" = "persistentvolumeclaim/data-web-0 persistentvolumeclaim/data-web-1 persistentvolumeclaim/data-web-2" ]
  run prn get events
  [ "$status" -eq 0 ]
  grep -qE ' +Normal +SuccessfulDelete +statefulset/web +delete Pod web-2 in StatefulSet web successful$' <<<"$output"
  grep -qE ' +Normal +SuccessfulDelete +statefulset/web +delete Pod web-1 in StatefulSet web successful$' <<<"$output"
  prn delete statefulset web
  gone web-0
  # The claims outlive the set (persistentVolumeClaimRetentionPolicy Retain).
  [ "$(prn get pvc -o name | wc -l)" -eq 3 ]
  wait_for no_loop
  assert_no_pods
}

@test "statefulsets: data written into a claim survives its pod's deletion; deleting the claim removes its directory" {
  web_yaml 1 | prn apply -f -
  wait_running web-0 0/1
  pexec web-0 app sh -c 'echo kept > /data/file'
  uid=$(pod_uid web-0)
  run prn get pvc
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^NAME\ +STATUS\ +VOLUME\ +CAPACITY\ +ACCESS\ MODES\ +STORAGECLASS\ +VOLUMEATTRIBUTESCLASS\ +AGE$ ]]
  [[ "${lines[1]}" =~ ^data-web-0\ +Bound\ +pvc-[0-9a-f-]{36}\ +1Gi\ +RWO\ +local-path\ +\<unset\>\ + ]]
  pv=$(awk 'NR == 2 { print $3 }' <<<"$output")
  dir=$ROOTS/lib/volumes/$pv
  [ "$(cat "$dir/file")" = kept ]
  run prn get pv
  [[ "${lines[0]}" =~ ^NAME\ +CAPACITY\ +ACCESS\ MODES\ +RECLAIM\ POLICY\ +STATUS\ +CLAIM\ +STORAGECLASS\ +VOLUMEATTRIBUTESCLASS\ +REASON\ +AGE$ ]]
  [[ "${lines[1]}" =~ ^$pv\ +1Gi\ +RWO\ +Delete\ +Bound\ +default/data-web-0\ +local-path\ +\<unset\>\ + ]]
  j=$(prn get pvc data-web-0 -o json)
  [ "$(jq -r .status.phase <<<"$j")" = Bound ]
  [ "$(jq -r .status.capacity.storage <<<"$j")" = 1Gi ]
  [ "$(jq -r .metadata.labels.app <<<"$j")" = web ]
  [ "$(jq -r .spec.storageClassName <<<"$j")" = local-path ]
  [ "$(jq -r .spec.volumeMode <<<"$j")" = Filesystem ]
  # The pod is deleted: the loop makes it again, same name, same claim, same data.
  prn delete pod web-0
  again() {
    exists web-0 && [ "$(pod_uid web-0)" != "$uid" ]
  }
  wait_long again
  wait_running web-0 0/1
  [ "$(pexec web-0 app cat /data/file)" = kept ]
  # kill -9 of its shim: the same again.
  uid=$(pod_uid web-0)
  kill -9 "$(pgrep -f "podrun-shim --pod-dir $ROOTS/run/pods/$uid/shim")"
  wait_long again
  wait_running web-0 0/1
  [ "$(pexec web-0 app cat /data/file)" = kept ]
  # A claim used by a pod is not removed under it: Terminating until the pod goes.
  run prn delete pvc data-web-0
  [ "$status" -eq 0 ]
  [ "$output" = 'persistentvolumeclaim "data-web-0" deleted' ]
  [ "$(cat "$dir/file")" = kept ]
  [[ "$(prn get pvc data-web-0 | awk 'NR == 2 { print $2 }')" = Terminating ]]
  run prn describe pvc data-web-0
  [ "$status" -eq 0 ]
  grep -qxF "Status:        Terminating" <<<"$output"
  grep -qxF "Used By:       web-0" <<<"$output"
  grep -qxF "Finalizers:    [kubernetes.io/pvc-protection]" <<<"$output"
  run prn describe pv "$pv"
  [ "$status" -eq 0 ]
  grep -qxF "Claim:           default/data-web-0" <<<"$output"
  grep -qxF "    Path:          $dir" <<<"$output"
  prn delete sts web
  claim_gone() {
    run prn get pvc data-web-0
    [ "$status" -eq 1 ]
  }
  wait_long claim_gone
  [ ! -e "$dir" ]
  run prn get pv
  [ "$output" = "No resources found" ]
  wait_for no_loop
  assert_no_pods
}

@test "statefulsets: a claim of its own in a pod; a symlink planted in the volume does not make podrun delete outside it" {
  outside=$BATS_TEST_TMPDIR/outside
  mkdir -p "$outside/dir"
  echo precious > "$outside/dir/file"
  cat > "$BATS_TEST_TMPDIR/claim.yaml" <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: mine
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Mi}}
YAML
  run prn apply -f "$BATS_TEST_TMPDIR/claim.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "persistentvolumeclaim/mine created" ]
  pv=$(prn get pvc mine | awk 'NR == 2 { print $3 }')
  dir=$ROOTS/lib/volumes/$pv
  [ -d "$dir" ]
  # A pod mounting a claim that does not exist is refused, and makes nothing.
  cat > "$BATS_TEST_TMPDIR/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: user
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    volumeMounts: [{name: v, mountPath: /v}]
  volumes:
  - name: v
    persistentVolumeClaim: {claimName: CLAIM}
YAML
  run prn apply -f <(sed s/CLAIM/nosuch/ "$BATS_TEST_TMPDIR/pod.yaml")
  [ "$status" -eq 1 ]
  [[ "$output" == *'persistentvolumeclaim "nosuch" not found'* ]]
  assert_no_pods
  sed s/CLAIM/mine/ "$BATS_TEST_TMPDIR/pod.yaml" | prn apply -f -
  wait_running user
  pexec user app sh -c 'echo from-pod > /v/f'
  [ "$(cat "$dir/f")" = from-pod ]
  # Symlinks to the host's files inside the volume, at its top and deeper.
  ln -s "$outside/dir" "$dir/link"
  mkdir "$dir/sub"
  ln -s "$outside/dir/file" "$dir/sub/link"
  prn delete pod user
  run prn delete pvc mine
  [ "$status" -eq 0 ]
  [ ! -e "$dir" ]
  [ "$(cat "$outside/dir/file")" = precious ]
  # A volume directory replaced by a symlink is not podrun's: it is left, and so is its target.
  prn apply -f "$BATS_TEST_TMPDIR/claim.yaml"
  pv=$(prn get pvc mine | awk 'NR == 2 { print $3 }')
  dir=$ROOTS/lib/volumes/$pv
  rmdir "$dir"
  ln -s "$outside/dir" "$dir"
  run prn delete pvc mine
  [ "$status" -eq 1 ]
  [[ "$output" == *"is not the directory podrun made for it"* ]]
  [ "$(cat "$outside/dir/file")" = precious ]
  [ -L "$dir" ]
  rm "$dir"
  # Volumes are deleted through their claims.
  run prn delete pv "$pv"
  [ "$status" -eq 1 ]
  [[ "$output" == *"is bound to persistentvolumeclaim \"default/mine\""* ]]
  assert_no_pods
}

@test "statefulsets: bad objects are refused with clear errors and leave nothing" {
  bad() {
    run prn apply -f -
    [ "$status" -eq 1 ]
    [[ "$output" == *"$1"* ]] || { echo "$output" >&2; return 1; }
    run prn get statefulsets
    [ "$output" = "No resources found in default namespace." ]
  }
  web_yaml | sed 's/^  podManagementPolicy: .*/  podManagementPolicy: Random/' | bad 'spec.podManagementPolicy: Unsupported value: "Random"'
  web_yaml -1 | bad "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
  web_yaml 1 OrderedReady "updateStrategy: {type: OnDelete, rollingUpdate: {partition: 1}}" | bad "spec.updateStrategy.rollingUpdate: Invalid value"
  web_yaml 1 OrderedReady "updateStrategy: {rollingUpdate: {partition: -1}}" | bad "partition: Invalid value: -1"
  web_yaml 1 OrderedReady "persistentVolumeClaimRetentionPolicy: {whenDeleted: Remove}" | bad 'whenDeleted: Unsupported value: "Remove": supported values: "Delete", "Retain"'
  web_yaml 1 OrderedReady "ordinals: {start: -2}" | bad "spec.ordinals.start: Invalid value: -2: must be greater than or equal to 0"
  web_yaml 1 OrderedReady "updateStrategy: {rollingUpdate: {maxUnavailable: 0}}" | bad "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: must be greater than 0"
  web_yaml | sed 's/^      app: web$/      app: other/' | bad "\`selector\` does not match template \`labels\`"
  web_yaml | sed 's/storage: 1Gi/storage: 0/' | bad 'spec.volumeClaimTemplates[0].spec.resources.requests[storage]: Invalid value: "0"'
  web_yaml | sed 's/accessModes: \[ReadWriteOnce\]/accessModes: [WriteSometimes]/' | bad 'accessModes: Unsupported value: "WriteSometimes"'
  web_yaml | sed 's/- {name: data, mountPath/- {name: nodata, mountPath/' | bad 'volumeMounts[0].name: not found: no volume "nodata"'
  # A claim of a class podrun does not provision, and a change of a claim's spec.
  claim() {
    printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: %s}}%s}\n' "$1" "${2:-}"
  }
  run prn apply -f <(claim 1Gi ", storageClassName: fast")
  [ "$status" -eq 1 ]
  [[ "$output" == *'spec.storageClassName: Unsupported value: "fast"'* ]]
  run prn apply -f <(claim 1Gi ", volumeMode: Block")
  [ "$status" -eq 1 ]
  [[ "$output" == *'spec.volumeMode: Unsupported value: "Block"'* ]]
  run prn apply -f <(claim 1Gi)
  [ "$status" -eq 0 ]
  run prn apply -f <(claim 2Gi)
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec: Forbidden: spec is immutable after creation"* ]]
  run prn apply -f - <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec: {capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /tmp}}
YAML
  [ "$status" -eq 1 ]
  [[ "$output" == *'persistentvolume "pv1": podrun provisions the volumes of claims itself'* ]]
  prn delete pvc c
  [ -z "$(ls "$ROOTS/lib/volumes")" ]
  [ -z "$(controllers_pid)" ]
  assert_no_pods
}

@test "statefulsets: Parallel starts every pod at once; a rolling update replaces from the highest ordinal, down to the partition" {
  web_yaml 3 Parallel "updateStrategy: {rollingUpdate: {partition: 1}}" | prn apply -f -
  # Parallel: the three are made at once, none Ready.
  exists web-0
  exists web-1
  exists web-2
  for p in web-0 web-1 web-2; do wait_running $p 0/1; ready_now $p; done
  wait_long sts_ready 3/3
  old=$(prn get sts web -o json | jq -r .status.updateRevision)
  uid0=$(pod_uid web-0)
  web_yaml 3 Parallel "updateStrategy: {rollingUpdate: {partition: 1}}" | sed 's/periodSeconds: 1/periodSeconds: 2/' | prn apply -f -
  new=$(prn get sts web -o json | jq -r .status.updateRevision)
  [ "$new" != "$old" ]
  rev() { prn get pod "$1" -o json 2>/dev/null | jq -r '.metadata.labels["controller-revision-hash"]'; }
  updated2() { [ "$(rev web-2)" = "$new" ]; }
  wait_long updated2
  # web-1 waits for web-2 to be Ready again.
  [ "$(rev web-1)" = "$old" ]
  wait_running web-2 0/1
  ready_now web-2
  updated1() { [ "$(rev web-1)" = "$new" ]; }
  wait_long updated1
  wait_running web-1 0/1
  ready_now web-1
  wait_long sts_ready 3/3
  # web-0 is below the partition: not replaced.
  sleep 1
  [ "$(pod_uid web-0)" = "$uid0" ]
  j=$(prn get sts web -o json)
  [ "$(jq -r .status.updatedReplicas <<<"$j")" = 2 ]
  [ "$(jq -r .status.currentReplicas <<<"$j")" = 1 ]
  [ "$(jq -r .status.currentRevision <<<"$j")" = "$old" ]
  [ "$(jq -r .status.observedGeneration <<<"$j")" = 2 ]
  # The templates are kept as ControllerRevisions; web-0, below the partition, comes back
  # from the current (old) one.
  run prn get controllerrevisions
  [[ "${lines[0]}" =~ ^NAME\ +CONTROLLER\ +REVISION\ +AGE$ ]]
  [[ "$output" =~ $old\ +statefulset.apps/web\ +1\  ]]
  [[ "$output" =~ $new\ +statefulset.apps/web\ +2\  ]]
  prn delete pod web-0
  back0() { exists web-0 && [ "$(pod_uid web-0)" != "$uid0" ]; }
  wait_long back0
  [ "$(rev web-0)" = "$old" ]
  [ "$(prn get pod web-0 -o json | jq '.spec.containers[0].readinessProbe.periodSeconds')" = 1 ]
  # What a StatefulSet may not change.
  run prn apply -f <(web_yaml 3 Parallel "updateStrategy: {rollingUpdate: {partition: 1}}" | sed 's/serviceName: nginx/serviceName: other/')
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec: Forbidden: updates to statefulset spec for fields other than 'replicas'"*"(serviceName)"* ]]
  prn delete -f <(web_yaml 3)
  gone web-0
  run prn get controllerrevisions
  [ "$output" = "No resources found in default namespace." ]
  wait_for no_loop
  assert_no_pods
}

ds_yaml() { # [NODESELECTOR LINE]
  cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      ${1:-hostIPC: false}
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sleep", "3600"]
YAML
}

ds_pod() {
  prn get pods -l app=agent -o name 2>/dev/null | sed 's|^pod/||'
}

ds_ready() {
  prn get ds agent 2>/dev/null | awk 'NR == 2 && $2 == 1 && $3 == 1 && $4 == 1 && $5 == 1 && $6 == 1 { ok = 1 } END { exit !ok }'
}

@test "daemonsets: one pod on this node, replaced when deleted; a nodeSelector the node does not match runs none" {
  run prn apply -f <(ds_yaml)
  [ "$status" -eq 0 ]
  [ "$output" = "daemonset.apps/agent created" ]
  p=$(ds_pod)
  [[ "$p" =~ ^agent-[a-z0-9]{5}$ ]]
  wait_running "$p"
  wait_long ds_ready
  run prn get ds
  [[ "${lines[0]}" =~ ^NAME\ +DESIRED\ +CURRENT\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +NODE\ SELECTOR\ +AGE$ ]]
  [[ "${lines[1]}" =~ ^agent\ +1\ +1\ +1\ +1\ +1\ +\<none\>\ + ]]
  j=$(prn get ds agent -o json)
  [ "$(jq -r .status.desiredNumberScheduled <<<"$j")" = 1 ]
  [ "$(jq -r .status.numberReady <<<"$j")" = 1 ]
  [ "$(jq -r .spec.updateStrategy.rollingUpdate.maxUnavailable <<<"$j")" = 1 ]
  [ "$(jq -r .spec.revisionHistoryLimit <<<"$j")" = 10 ]
  [ "$(jq -r .metadata.ownerReferences[0].kind < <(prn get pod "$p" -o json))" = DaemonSet ]
  run prn describe ds agent
  grep -qxF "Desired Number of Nodes Scheduled: 1" <<<"$output"
  grep -qxF "Pods Status:    1 Running / 0 Waiting / 0 Succeeded / 0 Failed" <<<"$output"
  grep -qE "^  Normal +SuccessfulCreate +.* +daemonset-controller +Created pod: $p\$" <<<"$output"
  # Self-healing.
  prn delete pod "$p"
  replaced() { q=$(ds_pod); [ -n "$q" ] && [ "$q" != "$p" ]; }
  wait_for replaced
  [ "$(ds_pod | wc -l)" -eq 1 ]
  # A new template: RollingUpdate replaces the pod; OnDelete leaves it.
  old=$(ds_pod)
  ds_yaml "hostPID: false" | prn apply -f -
  renewed() { q=$(ds_pod); [ -n "$q" ] && [ "$q" != "$old" ]; }
  wait_long renewed
  [ "$(ds_pod | wc -l)" -eq 1 ]
  [ "$(prn get ds agent -o json | jq .status.updatedNumberScheduled)" = 1 ]
  old=$(ds_pod)
  ds_yaml "hostIPC: false" | sed 's/^  selector:/  updateStrategy: {type: OnDelete}\n  selector:/' | prn apply -f -
  sleep 1
  [ "$(ds_pod)" = "$old" ]
  [ "$(prn get ds agent -o json | jq .status.updatedNumberScheduled)" = 0 ]
  run prn apply -f <(ds_yaml | sed 's/app: agent/app: agent2/')
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.selector: Invalid value: field is immutable"* ]]
  # A nodeSelector this node does not match: its pod goes.
  ds_yaml "nodeSelector: {disk: ssd}" | prn apply -f -
  nopod() { [ -z "$(ds_pod)" ]; }
  wait_long nopod
  run prn get ds
  [[ "${lines[1]}" =~ ^agent\ +0\ +0\ +0\ +0\ +0\ +disk=ssd\ + ]]
  # The node's own label matches.
  ds_yaml "nodeSelector: {kubernetes.io/os: linux}" | prn apply -f -
  wait_long ds_ready
  run prn delete ds agent
  [ "$output" = 'daemonset.apps "agent" deleted' ]
  [ -z "$(ds_pod)" ]
  wait_for no_loop
  assert_no_pods
}

claim_made_by() { # CLAIM: the uid of the StatefulSet that made it, if one did
  prn get pvc "$1" -o json 2>/dev/null | jq -r '.metadata.annotations["podrun.io/statefulset-uid"] // empty'
}

@test "statefulsets: ordinals.start names the pods from it; claims go with a scale-down (whenScaled) and with the set (whenDeleted), never one the set did not make" {
  extra="ordinals: {start: 3}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}"
  # A claim made by hand that web-5 will use: the set did not make it, so it stays.
  run prn apply -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-web-5}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
  [ "$status" -eq 0 ]
  web_yaml 3 Parallel "$extra" | prn apply -f -
  for p in web-3 web-4 web-5; do wait_running $p 0/1; ready_now $p; done
  wait_long sts_ready 3/3
  gone web-0
  [ "$(prn get pod web-4 -o json | jq -r '.metadata.labels["apps.kubernetes.io/pod-index"]')" = 4 ]
  [ "$(pexec web-3 app hostname)" = web-3 ]
  j=$(prn get sts web -o json)
  [ "$(jq -r .spec.ordinals.start <<<"$j")" = 3 ]
  [ "$(jq -r .spec.persistentVolumeClaimRetentionPolicy.whenScaled <<<"$j")" = Delete ]
  uid=$(jq -r .metadata.uid <<<"$j")
  [ "$(claim_made_by data-web-3)" = "$uid" ]
  [ "$(claim_made_by data-web-4)" = "$uid" ]
  [ -z "$(claim_made_by data-web-5)" ]
  # Scale down to 1: web-5 and web-4 go; the claim the set made goes with web-4, the one made
  # by hand stays.
  run prn scale statefulset web --replicas=1
  [ "$status" -eq 0 ]
  wait_long gone web-4
  wait_long gone web-5
  claim_gone() { run prn get pvc "$1"; [ "$status" -eq 1 ]; }
  wait_long claim_gone data-web-4
  run prn get pvc data-web-5
  [ "$status" -eq 0 ]
  run prn get pvc data-web-3
  [ "$status" -eq 0 ]
  # Deleting the set (whenDeleted Delete): its claim goes once its pod has gone.
  run prn delete sts web
  [ "$status" -eq 0 ]
  wait_long gone web-3
  wait_long claim_gone data-web-3
  run prn get pvc -o name
  [ "$output" = persistentvolumeclaim/data-web-5 ]
  prn delete pvc data-web-5
  [ -z "$(ls "$ROOTS/lib/volumes")" ]
  wait_for no_loop
  assert_no_pods
}

@test "statefulsets: Retain (the default) keeps the claims of a scale-down and of a deleted set" {
  web_yaml 2 Parallel | prn apply -f -
  for p in web-0 web-1; do wait_running $p 0/1; ready_now $p; done
  wait_long sts_ready 2/2
  prn scale statefulset web --replicas=1
  wait_long gone web-1
  prn delete sts web
  wait_long gone web-0
  sleep 1
  run prn get pvc -o name
  [ "$(sort <<<"$output" | tr '\n' ' ')" = "persistentvolumeclaim/data-web-0 persistentvolumeclaim/data-web-1 " ]
  prn delete pvc data-web-0 data-web-1
  wait_for no_loop
  assert_no_pods
}

@test "statefulsets: maxUnavailable 2 takes the two highest ordinals down at once; OrderedReady brings them back in order" {
  strat="updateStrategy: {rollingUpdate: {maxUnavailable: 2}}"
  web_yaml 3 OrderedReady "$strat" | prn apply -f -
  for p in web-0 web-1 web-2; do wait_long exists $p; wait_running $p 0/1; ready_now $p; done
  wait_long sts_ready 3/3
  [ "$(prn get sts web -o json | jq -r .spec.updateStrategy.rollingUpdate.maxUnavailable)" = 2 ]
  old=$(prn get sts web -o json | jq -r .status.updateRevision)
  uid0=$(pod_uid web-0)
  web_yaml 3 OrderedReady "$strat" | sed 's/periodSeconds: 1/periodSeconds: 2/' | prn apply -f -
  new=$(prn get sts web -o json | jq -r .status.updateRevision)
  [ "$new" != "$old" ]
  rev() { prn get pod "$1" -o json 2>/dev/null | jq -r '.metadata.labels["controller-revision-hash"]'; }
  updated() { [ "$(rev "$1")" = "$new" ]; }
  # web-1 is back, updated, while web-2 is still gone: both went at once (one at a time,
  # web-2 would be back and Ready before web-1 is touched).
  wait_long updated web-1
  gone web-2
  [ "$(pod_uid web-0)" = "$uid0" ]
  wait_running web-1 0/1
  ready_now web-1
  wait_long updated web-2
  wait_running web-2 0/1
  ready_now web-2
  # Then web-0, the last one.
  wait_long updated web-0
  wait_running web-0 0/1
  ready_now web-0
  wait_long sts_ready 3/3
  prn delete -f <(web_yaml 3)
  prn delete pvc data-web-0 data-web-1 data-web-2
  wait_for no_loop
  assert_no_pods
}

# surge_yaml PERIOD [PORT LINE]: DaemonSet agent with maxSurge 1, its pod Ready once
# /tmp/ready exists in it; PERIOD (the probe's) makes a new template.
surge_yaml() {
  cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.2; done"]
        ${2:-env: []}
        readinessProbe:
          exec: {command: [test, -f, /tmp/ready]}
          periodSeconds: $1
YAML
}

@test "daemonsets: maxSurge starts the new pod beside the old one and kills the old one once the new one is Ready; a hostPort the old pod holds stalls the surge" {
  run prn apply -f <(surge_yaml 1)
  [ "$status" -eq 0 ]
  p=$(ds_pod)
  wait_running "$p" 0/1
  ready_now "$p"
  wait_long ds_ready
  [ "$(prn get ds agent -o json | jq -r .spec.updateStrategy.rollingUpdate.maxSurge)" = 1 ]
  surge_yaml 2 | prn apply -f -
  two() { [ "$(ds_pod | wc -l)" -eq 2 ]; }
  wait_long two
  q=$(ds_pod | grep -vx "$p")
  wait_running "$q" 0/1
  # The new pod is not Ready: the old one keeps running.
  sleep 1.5
  [ "$(prn get pod "$p" -o json | jq -r .status.phase)" = Running ]
  [ "$(ds_pod | wc -l)" -eq 2 ]
  ready_now "$q"
  only_new() { [ "$(ds_pod)" = "$q" ]; }
  wait_long only_new
  # The daemonset-controller's events, as kubectl shows them.
  run prn describe ds agent
  grep -qE "^  Normal +SuccessfulCreate +.* +daemonset-controller +Created pod: $q\$" <<<"$output"
  grep -qE "^  Normal +SuccessfulDelete +.* +daemonset-controller +Deleted pod: $p\$" <<<"$output"
  run prn get events -o json
  [ "$(jq -r --arg p "$p" '[.items[] | select(.reason == "SuccessfulDelete" and .message == "Deleted pod: " + $p)][0] | .involvedObject.kind + " " + .source.component + " " + .type' <<<"$output")" = "DaemonSet daemonset-controller Normal" ]
  prn delete ds agent
  # With a hostPort, the new pod cannot start beside the old one that holds the port: the old
  # one keeps running and a Warning says why (Kubernetes' scheduler leaves it unplaced).
  port="ports: [{containerPort: 8080, hostPort: $((20000 + $$ % 10000))}]"
  surge_yaml 1 "$port" | prn apply -f -
  p=$(ds_pod)
  wait_running "$p" 0/1
  ready_now "$p"
  surge_yaml 2 "$port" | prn apply -f -
  warned() { prn get events 2>/dev/null | grep -q "FailedCreate.*Error creating: .*hostPort"; }
  wait_long warned
  [ "$(ds_pod)" = "$p" ]
  prn delete ds agent
  wait_for no_loop
  assert_no_pods
}
