# SPDX-License-Identifier: Apache-2.0
# Shared by the pods-*.bats files: podrun's pod manager on temp roots, run inside a "node"
# network namespace made per test (nsenter --net only: `ip netns exec` would also give podrun a
# private mount namespace, where the pinned namespaces' bind mounts would vanish with it), and a
# teardown that removes every pod, shim, mount and the node even when a test failed.

load ../lib/images-helpers

SHIM=${PODRUN_SHIM:-$PODRUN_BUILD/shim/podrun-shim}

pods_setup() {
  images_setup
  ROOTS=$BATS_TEST_TMPDIR/roots
  mkdir -p "$ROOTS"
  NODE="prpod$$t${BATS_TEST_NUMBER}"
  PRN_EXTRA=() # more global options for prn
  ip netns add "$NODE"
  pr load -q "$BUSYBOX_TAR"
  pods_registry
  # Pods' cgroups under a root of this test's own: tests that run at once must not share the
  # QoS parents (one would leave the parents another made), and the teardown can see a leak.
  PODS_CG_ROOT="/podrun-p$$-${BATS_TEST_NUMBER}"
  export PODRUN_CGROUP_ROOT=$PODS_CG_ROOT
  # Under an ASan build the detached shim has no terminal: its reports go to files.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$BATS_TEST_TMPDIR/asan"
}

# A registry in the node: the fake one, serving the busybox image as docker.io's
# library/busybox through a registries.conf mirror, so that a pod whose image is pulled (the
# default imagePullPolicy of `busybox` is Always) gets it from here, never from the internet.
# PODS_REG_LOG has one line per request.
pods_registry() {
  PODS_REG=$BATS_TEST_TMPDIR/registry
  mkdir -p "$PODS_REG"
  ln -s "$BUSYBOX_OCI" "$PODS_REG/layout"
  echo library/busybox > "$PODS_REG/repos"
  ip -n "$NODE" link set lo up
  # A simple command, not a function: $! is then the registry itself (nsenter execs it), which
  # the teardown's kill reaches; a function would leave a subshell between them.
  nsenter --net="/run/netns/$NODE" python3 "$TOP/tests/lib/images-fake-registry.py" \
    "$PODS_REG/layout" "$PODS_REG/port" "$PODS_REG/log" > "$PODS_REG/out" 2>&1 3>&- &
  echo $! > "$PODS_REG/pid"
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$PODS_REG/port" ] && break; sleep 0.05; done
  [ -s "$PODS_REG/port" ] || { cat "$PODS_REG/out" >&2; return 1; }
  PODS_REG_ADDR=127.0.0.1:$(cat "$PODS_REG/port")
  PODS_REG_LOG=$PODS_REG/log
  export CONTAINERS_REGISTRIES_CONF=$PODS_REG/registries.conf
  cat > "$CONTAINERS_REGISTRIES_CONF" <<CONF
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "$PODS_REG_ADDR"
insecure = true
CONF
}

# prn ARGS...: podrun on this test's roots, inside the node.
prn() {
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
    --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" ${PRN_EXTRA[@]+"${PRN_EXTRA[@]}"} "$@"
}

# in_node CMD...: a command in the node's network namespace (and the host's mounts).
in_node() {
  nsenter --net="/run/netns/$NODE" "$@"
}

# pods_client SUBNET [default-route]: CLIENT, a network namespace wired to the node by a veth
# pair, SUBNET.2 (prcl0) <-> the node's SUBNET.1 (prnode0), e.g. `pods_client 10.124.0`; with
# "default-route" the node's default route points at it, as a node's points at its network (a
# clusterIP is routed somewhere before the node's DNAT takes it). The teardown removes it.
pods_client() {
  CLIENT="prcl$$t${BATS_TEST_NUMBER}"
  ip netns add "$CLIENT"
  ip link add prcl0 netns "$CLIENT" type veth peer name prnode0 netns "$NODE"
  in_client ip addr add "$1.2/24" dev prcl0
  in_client ip link set prcl0 up
  in_client ip link set lo up
  in_node ip addr add "$1.1/24" dev prnode0
  in_node ip link set prnode0 up
  if [ "${2:-}" = default-route ]; then
    in_node ip route add default via "$1.2"
  fi
}

# pods_drop_client: the client goes, and its veth with it (assert_no_pods counts the node's
# veths). The node's end is deleted first: a netns goes away asynchronously, and its veth with
# it only later.
pods_drop_client() {
  in_node ip link del prnode0 2>/dev/null || true
  ip netns del "$CLIENT"
  CLIENT=""
}

in_client() {
  nsenter --net="/run/netns/$CLIENT" "$@"
}

# pod_uid NAME [NS]
pod_uid() {
  jq -r .uid "$ROOTS/lib/objects/pods/${2:-default}/$1.json"
}

# pexec POD CONTAINER CMD...: runs CMD in a container through its shim; prints its output and
# returns its exit code.
pexec() {
  local uid req reply
  uid=$(pod_uid "$1")
  # "--" first: jq would take a "-c" among --args for its own option.
  req=$(jq -nc --arg c "$2" '{cmd: "exec", container: $c, command: $ARGS.positional, timeoutSeconds: 20}' \
    --args -- "${@:3}")
  reply=$(timeout 30 "$SHIM" --pod-dir "$ROOTS/run/pods/$uid/shim" --request "$req") || true
  printf '%s' "$(jq -r '.output // .error' <<<"$reply")"
  return "$(jq -r '.exitCode // 1' <<<"$reply")"
}

# wait_running POD [READY]: `get pods` shows the pod Running with READY (default 1/1).
wait_running() {
  local i out
  for ((i = 0; i < 150; i++)); do
    out=$(prn get pods "$1" 2>&1) || true
    if awk -v r="${2:-1/1}" 'NR == 2 && $2 == r && $3 == "Running" { ok = 1 } END { exit !ok }' <<<"$out"; then
      return 0
    fi
    sleep 0.1
  done
  echo "pod $1 never Running ${2:-1/1}:" >&2
  echo "$out" >&2
  cat "$ROOTS"/run/pods/*/shim/status.json "$ROOTS"/run/pods/*/shim/runtime.log >&2 2>/dev/null || true
  return 1
}

# alive PID: the process exists and is not a zombie (pid 1 here may not reap).
alive() {
  [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

shim_pids() {
  pgrep -f "podrun-shim --pod-dir $ROOTS/" 2>/dev/null || true
}

# Nothing of any pod is left: no shim, no mount under the roots, no pinned namespace, no pod
# state dir, no veth in the node, no IPAM allocation.
assert_no_pods() {
  local left
  left=$(shim_pids | while read -r p; do alive "$p" && echo "$p"; done)
  [ -z "$left" ] || { echo "shims left: $left" >&2; return 1; }
  if grep -q " $ROOTS/" /proc/self/mountinfo; then
    grep " $ROOTS/" /proc/self/mountinfo >&2
    return 1
  fi
  left=$(find "$ROOTS/run/pods" "$ROOTS/lib/pods" "$ROOTS/log" -mindepth 1 -maxdepth 1 2>/dev/null || true)
  [ -z "$left" ] || { echo "state left: $left" >&2; return 1; }
  left=$(in_node ip -o link show type veth || true)
  [ -z "$left" ] || { echo "veths left: $left" >&2; return 1; }
  left=$(find "$ROOTS/ipam/podrun" -mindepth 1 ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null || true)
  [ -z "$left" ] || { echo "IPAM allocations left: $left" >&2; return 1; }
  left=$(ls "$IMAGES_ROOT/containers" 2>/dev/null || true)
  [ -z "$left" ] || { echo "image store container refs left: $left" >&2; return 1; }
  left=$(find "$ROOTS/lib/objects/pods" -type f 2>/dev/null || true)
  [ -z "$left" ] || { echo "pod objects left: $left" >&2; return 1; }
}

# The controller loop's pid on this test's roots (podrun serve --controllers-only), if it runs.
controllers_pid() {
  pgrep -f -- "--run-root $ROOTS/run .*serve --controllers-only" 2>/dev/null | head -1 || true
}

pods_teardown() {
  local p uid m
  if [ -n "${CLIENT:-}" ]; then
    ip netns del "$CLIENT" 2>/dev/null || true
    CLIENT=""
  fi
  # The controller loop first: it would replace the pods deleted below.
  for p in $(pgrep -f -- "--run-root $ROOTS/run .*serve --controllers-only" 2>/dev/null); do
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$ROOTS/lib/objects/deployments" "$ROOTS/lib/objects/replicasets" \
    "$ROOTS/lib/objects/statefulsets" "$ROOTS/lib/objects/daemonsets" \
    "$ROOTS/lib/objects/jobs" "$ROOTS/lib/objects/cronjobs" \
    "$ROOTS/lib/objects/horizontalpodautoscalers"
  if [ -d "$ROOTS/lib/objects/pods" ]; then
    for p in "$ROOTS"/lib/objects/pods/*/*.json; do
      [ -f "$p" ] || continue
      timeout 120 nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
        --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" \
        --cni-conf-dir "$ROOTS/cni" --ipam-data-dir "$ROOTS/ipam" \
        delete pod "$(basename "$p" .json)" -n "$(basename "$(dirname "$p")")" >/dev/null 2>&1 || true
    done
  fi
  for p in $(shim_pids); do kill -9 "$p" 2>/dev/null || true; done
  # The cluster DNS podrun started for this test's services (agent/pods/dns.c).
  for p in $(pgrep -f -- "--conf-file=$ROOTS/run/dns/dnsmasq.conf" 2>/dev/null); do
    kill -9 "$p" 2>/dev/null || true
  done
  if [ -d "$ROOTS/run/runtime" ]; then
    for uid in $("$RUNTIME" --root "$ROOTS/run/runtime" list -q 2>/dev/null); do
      "$RUNTIME" --root "$ROOTS/run/runtime" delete --force "$uid" >/dev/null 2>&1 || true
    done
  fi
  grep -o " $BATS_TEST_TMPDIR/[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  local reg_left=
  if [ -f "$BATS_TEST_TMPDIR/registry/pid" ]; then
    kill "$(cat "$BATS_TEST_TMPDIR/registry/pid")" 2>/dev/null || true
    wait "$(cat "$BATS_TEST_TMPDIR/registry/pid")" 2>/dev/null || true
    reg_left=$(pgrep -f "images-fake-registry.py $BATS_TEST_TMPDIR/" 2>/dev/null || true)
    for p in $reg_left; do kill -9 "$p" 2>/dev/null || true; done
  fi
  ip netns del "$NODE" 2>/dev/null || true
  local cg cg_left=
  # Only this test's own root (a test may change PODRUN_CGROUP_ROOT; never walk the whole tree).
  [[ "${PODS_CG_ROOT:-}" == /podrun-p* ]] || PODS_CG_ROOT=/podrun-p-none
  for cg in /sys/fs/cgroup"$PODS_CG_ROOT" /sys/fs/cgroup/*"$PODS_CG_ROOT"; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ -d "$cg" ] && cg_left="$cg_left $cg"
  done
  if [ -n "$cg_left" ]; then
    echo "pods' cgroups left (processes in them):$cg_left" >&2
    return 1
  fi
  if [ -n "$reg_left" ]; then
    echo "the node's registry was left running: $reg_left" >&2
    return 1
  fi
  if ls "$BATS_TEST_TMPDIR"/asan.* >/dev/null 2>&1; then
    cat "$BATS_TEST_TMPDIR"/asan.* >&2
    return 1
  fi
}
