# SPDX-License-Identifier: Apache-2.0
# Shared by the cni-*.bats files: network namespaces made per test (and always removed), and
# a way to run a CNI plugin inside a "node" namespace so nothing touches the host's own.

CNI_BUILD=${PODRUN_BUILD:-$TOP/build}/cni
REF_CNI=${PODRUN_REF_CNI:-/usr/lib/cni}
BUSYBOX=${BUSYBOX:-/bin/busybox}

# cni_setup: a private data dir, a CNI_PATH with our plugins first, a netns name prefix.
cni_setup() {
  CNI_DATA=$BATS_TEST_TMPDIR/cni-data
  mkdir -p "$CNI_DATA"
  NS_LIST=$BATS_TEST_TMPDIR/netns.list
  : > "$NS_LIST"
  PIDS_LIST=$BATS_TEST_TMPDIR/pids.list
  : > "$PIDS_LIST"
  NS_PREFIX="prc$$t${BATS_TEST_NUMBER}"
  CNI_PATH_DIRS="$CNI_BUILD:$REF_CNI"
}

# mkns SUFFIX: creates netns $NS_PREFIX-SUFFIX and prints its name.
mkns() {
  local n="$NS_PREFIX-$1"
  echo "$n" >> "$NS_LIST"
  ip netns add "$n"
  echo "$n"
}

cni_teardown() {
  local p n
  if [ -f "${PIDS_LIST:-/nonexistent}" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done < "$PIDS_LIST"
  fi
  if [ -f "${NS_LIST:-/nonexistent}" ]; then
    while read -r n; do ip netns del "$n" 2>/dev/null || true; done < "$NS_LIST"
  fi
}

# cni NODE PLUGIN COMMAND CONTAINERID PODNS IFNAME CONFIG [CNI_ARGS]: runs PLUGIN (a path)
# inside NODE's namespace; output in $output via bats `run`.
cni() {
  local node=$1 plugin=$2 cmd=$3 id=$4 pod=$5 ifname=$6 conf=$7 args=${8:-}
  local netns=""
  [ -n "$pod" ] && netns=/run/netns/$pod
  printf '%s' "$conf" | ip netns exec "$node" env CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" \
    CNI_NETNS="$netns" CNI_IFNAME="$ifname" CNI_PATH="$CNI_PATH_DIRS" CNI_ARGS="$args" \
    "$plugin"
}

# The node's network state in a comparable form: links (name, flags, master), addresses,
# routes, nftables ruleset. Carrier is left out: a bridge loses it a moment after its last port.
node_state() {
  ip netns exec "$1" ip -o link show | sed -E 's/^[0-9]+: //; s/@if[0-9]+//; s/ link\/.*//; s/state [A-Z]+//; s/NO-CARRIER,//; s/,LOWER_UP//' | sort
  ip netns exec "$1" ip -o addr show | awk '{print $2, $3, $4}' | grep -v ' fe80' | sort
  ip netns exec "$1" ip route show | sed 's/ linkdown//' | sort
  ip netns exec "$1" ip -6 route show | grep -v '^fe80\|^multicast\|^local' | sort
  ip netns exec "$1" nft list ruleset
}

# json_code: the "code" of the CNI error in $output.
json_code() {
  echo "$output" | jq -r .code
}
