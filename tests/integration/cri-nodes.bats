#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Three Kubernetes nodes on this machine, as README's "Running a Kubernetes cluster on podrun"
# sets them up: three `podrun serve`, each in a network namespace and a mount namespace of its
# own, with its own node IP on an underlay bridge (in a hub namespace the test makes), its own
# roots and pod subnet, and the CNI configuration of examples/cluster/ (10-podrun.conflist with
# the node's podCIDR, the cluster's nodes.json). Pods are started through CRI, as a kubelet
# starts them (python3-grpcio), and every pod reaches every other pod by its IP with no NAT:
# each pod's httpd answers the address it saw the client come from.

load ../lib/helpers
load ../lib/images-helpers

PY=/usr/bin/python3
EX=$TOP/examples/cluster
BUSYBOX=${BUSYBOX:-/bin/busybox}
BRIDGE_PLUGIN=$PODRUN_BUILD/cni/podrun-bridge

# A pod's container: busybox httpd on 8080 whose CGI answers the client's address.
HTTPD='mkdir -p /www/cgi-bin && printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho \$REMOTE_ADDR\n" > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 8080 -h /www'

setup() {
  images_setup
  K=prk$$
  HUB=$K-hub
  CG=/podrun-k$$-${BATS_TEST_NUMBER}
  ETC=$BATS_TEST_TMPDIR/etc
  PIDS_LIST=$BATS_TEST_TMPDIR/pids
  : > "$PIDS_LIST"
  # Under an ASan build the servers and shims have no terminal: reports go to files.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$BATS_TEST_TMPDIR/asan"
  # The underlay: one bridge in the hub, a veth from it to each node's eth0.
  ip netns add "$HUB"
  ip -n "$HUB" link set lo up
  ip -n "$HUB" link add ul0 type bridge
  ip -n "$HUB" addr add 192.168.100.254/24 dev ul0
  ip -n "$HUB" link set ul0 up
  mkdir -p "$ETC/podrun"
  cp "$EX/nodes.json" "$ETC/podrun/nodes.json"
  local n
  for n in 1 2 3; do
    ip netns add "$K-n$n"
    ip -n "$K-n$n" link set lo up
    ip link add "${K}u$n" netns "$HUB" type veth peer name eth0 netns "$K-n$n"
    ip -n "$HUB" link set "${K}u$n" master ul0 up
    ip -n "$K-n$n" addr add "$(node_ip "$n")/24" dev eth0
    ip -n "$K-n$n" link set eth0 up
  done
}

# node_ip N, pod_cidr N: node N's, from the cluster's nodes.json.
node_ip() { jq -r ".nodes[$(($1 - 1))].nodeIP" "$EX/nodes.json"; }
pod_cidr() { jq -r ".nodes[$(($1 - 1))].podCIDR" "$EX/nodes.json"; }
root() { echo "$BATS_TEST_TMPDIR/n$1"; }
sock() { echo "$BATS_TEST_TMPDIR/n$1/run/podrun.sock"; }

# The options that move node N's roots from /run/podrun, /var/lib/podrun, /var/log/podrun,
# /etc/cni/net.d and /var/lib/cni/podrun into the test's dir.
roots() {
  local r
  r=$(root "$1")
  echo --images-root "$r/images" --run-root "$r/run" --lib-root "$r/lib" --log-root "$r/log" \
    --cni-conf-dir "$r/cni" --ipam-data-dir "$r/ipam"
}

# in_node N CMD...: CMD in node N's network namespace.
in_node() {
  local n=$1
  shift
  nsenter --net="/run/netns/$K-n$n" "$@"
}

cri() {
  local n=$1
  shift
  "$PY" "$TOP/tests/lib/cri-client.py" "$(sock "$n")" "$@"
}

# start_node N: node N's CNI configuration (the example's, with the node's podCIDR and the
# test's paths), its image, and `podrun serve` in the node's network namespace and a mount
# namespace of its own (the pods' pinned namespaces and root file systems are mounted there).
start_node() {
  local n=$1 r
  r=$(root "$n")
  mkdir -p "$r/cni"
  jq --arg s "$(pod_cidr "$n")" --arg d "$r/ipam" --arg f "$ETC/podrun/nodes.json" \
    '.plugins[0].ipam.subnet = $s | .plugins[0].ipam.dataDir = $d | .plugins[0].nodesFile = $f' \
    "$EX/10-podrun.conflist" > "$r/cni/10-podrun.conflist"
  # shellcheck disable=SC2046
  "$PODRUN" $(roots "$n") load -q "$BUSYBOX_TAR"
  # shellcheck disable=SC2046
  PODRUN_CGROUP_ROOT=$CG/n$n nsenter --net="/run/netns/$K-n$n" \
    unshare --mount --propagation private "$PODRUN" $(roots "$n") serve \
    > "$r/serve.log" 2>&1 3>&- &
  echo $! > "$r/serve.pid"
  wait_for test -S "$(sock "$n")"
}

serve_pid() { cat "$(root "$1")/serve.pid" 2>/dev/null; }

teardown() {
  local n r p id cg left="" downs=()
  # What a kubelet would do on drain, while the servers run; then whatever is left by force.
  for n in 1 2 3; do
    p=$(serve_pid "$n")
    if [ -n "$p" ] && [ -e "/proc/$p" ] && [ -S "$(sock "$n")" ]; then
      timeout 60 "$PY" "$TOP/tests/lib/cri-pods.py" "$(sock "$n")" down >/dev/null 2>&1 &
      downs+=($!)
    fi
  done
  for p in ${downs[@]+"${downs[@]}"}; do wait "$p" || true; done
  for n in 1 2 3; do
    p=$(serve_pid "$n")
    if [ -n "$p" ]; then
      kill -9 "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  for p in $(pgrep -f "podrun-shim --pod-dir $BATS_TEST_TMPDIR/" 2>/dev/null); do
    kill -9 "$p" 2>/dev/null || true
  done
  for n in 1 2 3; do
    r=$(root "$n")
    [ -d "$r/run/runtime" ] || continue
    for id in $("$RUNTIME" --root "$r/run/runtime" list -q 2>/dev/null); do
      "$RUNTIME" --root "$r/run/runtime" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  while read -r p; do kill "$p" 2>/dev/null || true; done < "${PIDS_LIST:-/dev/null}"
  # The nodes' mount namespaces went with their last process; anything mounted here in ours
  # would be a leak.
  grep -o " $BATS_TEST_TMPDIR/[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  for n in 1 2 3; do ip netns del "$K-n$n" 2>/dev/null || true; done
  ip netns del "$HUB" 2>/dev/null || true
  for cg in /sys/fs/cgroup"$CG" /sys/fs/cgroup/*"$CG"; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ -d "$cg" ] && left="$left $cg"
  done
  if [ -n "$left" ]; then
    echo "cgroups left (processes in them):$left" >&2
    return 1
  fi
  if ls "$BATS_TEST_TMPDIR"/asan.* >/dev/null 2>&1; then
    cat "$BATS_TEST_TMPDIR"/asan.* >&2
    return 1
  fi
}

# calls: runs the lines "SOCKET Service/Method JSON" of stdin in one client; one JSON line each.
calls() { "$PY" "$TOP/tests/lib/cri-nodes.py" batch; }

# start_pods COUNT: COUNT pods on each node, the three nodes at once, each pod RunPodSandbox +
# CreateContainer + StartContainer, their cgroups under the node's kubepods (a kubelet's
# --cgroup-root); each pod's "SOCKET,CONTAINER,IP" in $BATS_TEST_TMPDIR/pods.
start_pods() {
  local n pids=() sb ctr
  for n in 1 2 3; do
    "$PY" "$TOP/tests/lib/cri-pods.py" "$(sock "$n")" up "$1" --image busybox \
      --logs "$(root "$n")/podlogs" --prefix "n$n" --cgroup-parent "$CG/n$n/kubepods" \
      -- sh -c "$HTTPD" > "$BATS_TEST_TMPDIR/up$n" &
    pids+=($!)
  done
  for n in 1 2 3; do wait "${pids[$((n - 1))]}" || return 1; done
  for n in 1 2 3; do
    jq -r '.sandboxes[]' "$BATS_TEST_TMPDIR/up$n" | while read -r sb; do
      echo "$(sock "$n") RuntimeService/PodSandboxStatus {\"pod_sandbox_id\":\"$sb\"}"
    done
  done | calls > "$BATS_TEST_TMPDIR/status" || return 1
  # The statuses come in the order asked: node 1's sandboxes, then node 2's, then node 3's.
  for n in 1 2 3; do
    for ctr in $(jq -r '.containers[]' "$BATS_TEST_TMPDIR/up$n"); do
      echo "$(sock "$n"),$ctr"
    done
  done | paste -d, - <(jq -r .status.network.ip "$BATS_TEST_TMPDIR/status") > "$BATS_TEST_TMPDIR/pods"
}

# in_subnet IP CIDR (a /24)
in_subnet() { [ "${1%.*}" = "${2%.*/*}" ]; }

# pod_of N K: node N's K-th pod (1-based), as "SOCKET,CONTAINER,IP".
pod_of() { grep "^$(sock "$1")," "$BATS_TEST_TMPDIR/pods" | sed -n "${2}p"; }

@test "cri-nodes: three nodes, each its own podrun serve: every pod reaches every other pod by its IP, unmasqueraded" {
  for n in 1 2 3; do start_node "$n"; done
  for n in 1 2 3; do
    # Each server in a mount namespace of its own, not ours.
    [ "$(readlink "/proc/$(serve_pid "$n")/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
  done
  # What the kubelet asks first: the runtime and the network ready, the cgroup driver
  # (--cgroup-driver=cgroupfs), the node's podCIDR taken (another refused), and the image
  # service on the same socket.
  for n in 1 2 3; do
    echo "$(sock "$n") RuntimeService/Status {}"
    echo "$(sock "$n") RuntimeService/RuntimeConfig {}"
    echo "$(sock "$n") RuntimeService/UpdateRuntimeConfig {\"runtime_config\":{\"network_config\":{\"pod_cidr\":\"$(pod_cidr "$n")\"}}}"
    echo "$(sock "$n") RuntimeService/UpdateRuntimeConfig {\"runtime_config\":{\"network_config\":{\"pod_cidr\":\"$(pod_cidr $((n % 3 + 1)))\"}}}"
    echo "$(sock "$n") ImageService/ImageStatus {\"image\":{\"image\":\"busybox\"}}"
  done | calls > "$BATS_TEST_TMPDIR/kubelet"
  cat "$BATS_TEST_TMPDIR/kubelet"
  for n in 1 2 3; do
    sed -n "$((5 * n - 4)),$((5 * n))p" "$BATS_TEST_TMPDIR/kubelet" > "$BATS_TEST_TMPDIR/k$n"
    [ "$(sed -n 1p "$BATS_TEST_TMPDIR/k$n" | jq -r '[.status.conditions[] | "\(.type)=\(.status)"] | sort | join(" ")')" = "NetworkReady=true RuntimeReady=true" ]
    [ "$(sed -n 2p "$BATS_TEST_TMPDIR/k$n" | jq -r .linux.cgroup_driver)" = CGROUPFS ]
    [ "$(sed -n 3p "$BATS_TEST_TMPDIR/k$n")" = "{}" ]
    [ "$(sed -n 4p "$BATS_TEST_TMPDIR/k$n" | jq -r .grpc_error)" = FAILED_PRECONDITION ]
    [[ "$(sed -n 5p "$BATS_TEST_TMPDIR/k$n" | jq -r .image.id)" == sha256:* ]]
  done
  start_pods 2
  cat "$BATS_TEST_TMPDIR/pods"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/pods")" -eq 6 ]
  # Each pod's address is in its node's subnet, and no two are the same.
  for n in 1 2 3; do
    for k in 1 2; do in_subnet "$(pod_of "$n" "$k" | cut -d, -f3)" "$(pod_cidr "$n")"; done
  done
  [ "$(cut -d, -f3 "$BATS_TEST_TMPDIR/pods" | sort -u | wc -l)" -eq 6 ]
  # The pods' mounts are in the nodes' mount namespaces, none in ours.
  run grep -c " $BATS_TEST_TMPDIR/" /proc/self/mountinfo
  [ "$output" = 0 ]
  # podrun-bridge routed the other nodes' subnets through their node IPs (host-gw).
  for n in 1 2 3; do
    in_node "$n" ip route show proto 211 | sed 's/ *$//' | sort > "$BATS_TEST_TMPDIR/routes"
    want=$(for m in 1 2 3; do
      [ "$m" = "$n" ] || echo "$(pod_cidr "$m") via $(node_ip "$m") dev eth0"
    done | sort)
    [ "$(cat "$BATS_TEST_TMPDIR/routes")" = "$want" ]
  done

  mapfile -t pods < "$BATS_TEST_TMPDIR/pods"
  run "$PY" "$TOP/tests/lib/cri-nodes.py" ready "${pods[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  run "$PY" "$TOP/tests/lib/cri-nodes.py" mesh "${pods[@]}"
  echo "$output"
  [ "$status" -eq 0 ]
  # 30 pairs, and each server saw the client's own pod IP.
  [ "$(grep -c . <<<"$output")" -eq 30 ]
  [ -z "$(awk '$1 != $3' <<<"$output")" ]

  # The same httpd tells a translated source: a fetch from node 1 itself is seen from node 1's
  # address, and a pod's fetch from outside the cluster's pod range (the hub) is masqueraded
  # to its node's address (ipMasq with clusterCIDR).
  p2=$(pod_of 2 1 | cut -d, -f3)
  run in_node 1 curl -s --max-time 5 "http://$p2:8080/cgi-bin/ip"
  [ "$status" -eq 0 ]
  [[ "$output" == *"$(node_ip 1)"* ]]
  mkdir -p "$BATS_TEST_TMPDIR/hubwww/cgi-bin"
  printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho "$REMOTE_ADDR"\n' > "$BATS_TEST_TMPDIR/hubwww/cgi-bin/ip"
  chmod +x "$BATS_TEST_TMPDIR/hubwww/cgi-bin/ip"
  nsenter --net="/run/netns/$HUB" "$BUSYBOX" httpd -f -p 8080 -h "$BATS_TEST_TMPDIR/hubwww" 3>&- &
  echo $! >> "$PIDS_LIST"
  wait_for nsenter --net="/run/netns/$HUB" curl -sf --max-time 2 -o /dev/null http://192.168.100.254:8080/cgi-bin/ip
  c3=$(pod_of 3 1 | cut -d, -f2)
  run cri 3 RuntimeService/ExecSync "{\"container_id\":\"$c3\",\"cmd\":[\"wget\",\"-q\",\"-O\",\"-\",\"http://192.168.100.254:8080/cgi-bin/ip\"],\"timeout\":10}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .exit_code <<<"$output")" = 0 ]
  [[ "$(jq -r .stdout <<<"$output" | base64 -d)" == *"$(node_ip 3)"* ]]

  # Node 3 leaves: the cluster's nodes.json without it, and on each node that stays the
  # operator's `podrun-bridge sync-routes` with the node's CNI configuration takes its route
  # away. It comes back the same way.
  p1=$(pod_of 1 1)
  p3=$(pod_of 3 1)
  jq 'del(.nodes[2])' "$EX/nodes.json" > "$ETC/podrun/nodes.json"
  for n in 1 2; do
    in_node "$n" "$BRIDGE_PLUGIN" sync-routes < "$(root "$n")/cni/10-podrun.conflist"
    [ "$(in_node "$n" ip route show proto 211 | grep -c .)" -eq 1 ]
  done
  run in_node 1 ip route show proto 211
  [[ "$output" == "$(pod_cidr 2) via $(node_ip 2) dev eth0"* ]]
  run "$PY" "$TOP/tests/lib/cri-nodes.py" from "$p1" "$p3"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "${p1##*,} ${p3##*,} failed:"*"Network is unreachable"* ]]
  cp "$EX/nodes.json" "$ETC/podrun/nodes.json"
  for n in 1 2; do
    in_node "$n" "$BRIDGE_PLUGIN" sync-routes < "$(root "$n")/cni/10-podrun.conflist"
  done
  run "$PY" "$TOP/tests/lib/cri-nodes.py" mesh "$p1" "$p3"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(awk '$1 != $3' <<<"$output")" ]

  # The kubelets remove their pods, the three at once: nothing of them is left on any node.
  pids=()
  for n in 1 2 3; do
    "$PY" "$TOP/tests/lib/cri-pods.py" "$(sock "$n")" down &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for n in 1 2 3; do
    r=$(root "$n")
    [ -z "$(in_node "$n" ip -o link show master cni0)" ]
    [ -z "$(find "$r/run/sandboxes" "$r/lib/sandboxes" -mindepth 1 -maxdepth 1)" ]
    [ -z "$(find "$r/ipam/podrun" -mindepth 1 ! -name lock ! -name 'last_reserved_ip*')" ]
    run in_node "$n" nft list tables
    [[ "$output" != *podrun_cni* ]]
  done
  [ -z "$(pgrep -f "podrun-shim --pod-dir $BATS_TEST_TMPDIR/")" ]
}

# readme_blocks DIR: the JSON blocks of README's cluster section, as DIR/block1, block2, ...
readme_blocks() {
  awk '/^## Running a Kubernetes cluster on podrun$/ { on = 1; next } /^## / { on = 0 } on' "$TOP/README.md" |
    awk -v dir="$1" '/^    \{$/ { b++; inb = 1 } inb { l = $0; sub(/^    /, "", l); print l > (dir "/block" b) } /^    \}$/ { inb = 0 }'
}

@test "cri-nodes: README's cluster section shows examples/cluster's files, and the shipped units run podrun serve on the kubelet's socket" {
  readme_blocks "$BATS_TEST_TMPDIR"
  [ "$(jq -S . "$BATS_TEST_TMPDIR/block1")" = "$(jq -S . "$EX/10-podrun.conflist")" ]
  [ "$(jq -S . "$BATS_TEST_TMPDIR/block2")" = "$(jq -S . "$EX/nodes.json")" ]
  [ ! -e "$BATS_TEST_TMPDIR/block3" ]
  grep -qx 'ExecStart=@bindir@/podrun serve' "$TOP/dist/systemd/podrun.service.in"
  grep -qx 'ListenStream=/run/podrun/podrun.sock' "$TOP/dist/systemd/podrun.socket"
  grep -qx -- '    --container-runtime-endpoint=unix:///run/podrun/podrun.sock' "$TOP/README.md"
  grep -qx -- '    --cgroup-driver=cgroupfs' "$TOP/README.md"
}
