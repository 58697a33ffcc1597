#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# suite: alone (fault sweeps time each step)
# Faults in CNI ADD: tests/lib/fault-syscall fails the Nth call of a group of system calls made
# by podrun-bridge or the podrun-ipam it runs (EIO, ENOSPC, ENOMEM, EMFILE, taking turns) or
# SIGKILLs the caller there, for every N the group has in an ADD. After each: DEL repairs, the
# node is as a clean ADD+DEL leaves it (links, addresses, routes, nftables), no address is held
# in the IPAM data dir, and a new ADD gets the same address back. Runs in a node network
# namespace the test makes, like the cni-*.bats files.

load ../lib/helpers
load ../lib/cni-helpers

FAULT=$PODRUN_BUILD/tests/lib/fault-syscall
# In an ASan build, LeakSanitizer starts its checker with clone after main returns, where an
# injected fault would fail a command that had finished: the faulted commands run without leak
# checking (ASan's other checks stay on; the rest of the suite checks leaks).
NO_LSAN="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ERRNOS=(EIO ENOSPC ENOMEM EMFILE)

setup() {
  cni_setup
  BR=$CNI_BUILD/podrun-bridge
  NODE=$(mkns node)
  POD=$(mkns pod)
  ip netns exec "$NODE" ip link set lo up
  CONF="{\"cniVersion\":\"1.1.0\",\"name\":\"fnet\",\"type\":\"podrun-bridge\",\"bridge\":\"prfbr0\",\"isGateway\":true,\"ipMasq\":true,\"ipam\":{\"type\":\"podrun-ipam\",\"dataDir\":\"$CNI_DATA\",\"subnet\":\"10.71.0.0/30\"}}"
}

teardown() {
  standard_teardown
  cni_teardown
}

# add_under GROUP N ACTION: ADD c1 with the fault; $status, $output.
add_under() {
  status=0
  printf '%s' "$CONF" | ip netns exec "$NODE" env CNI_COMMAND=ADD CNI_CONTAINERID=c1 \
    CNI_NETNS="/run/netns/$POD" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH_DIRS" "$NO_LSAN" \
    timeout 20 "$FAULT" -r "$BATS_TEST_TMPDIR/report" "$1" "$2" "$3" "$BR" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 || status=$?
  output=$(cat "$BATS_TEST_TMPDIR/out")
}

# What an address held by c1 looks like in the IPAM data dir (any file naming it).
held() {
  grep -rl c1 "$CNI_DATA" 2>/dev/null || true
}

pod_links() {
  ip netns exec "$POD" ip -o link show | grep -v ': lo:' || true
}

# sweep GROUP [STRIDE]
sweep() {
  local group=$1 stride=${2:-1} calls n act i=0 problems= base
  # A clean ADD+DEL first: the bridge and the masquerade table stay, and that is the baseline.
  # The second counts the calls of an ADD on a node that has both.
  for n in 1 2; do
    add_under "$group" 0 EIO
    [ "$status" -eq 0 ] || { echo "clean ADD failed: $output" >&2; return 1; }
    [ "$(jq -r '.ips[0].address' <<<"$output")" = 10.71.0.2/30 ]
    run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$CONF"
    [ "$status" -eq 0 ]
  done
  calls=$(sed -n 's/^calls=\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/report")
  [ "$calls" -gt 0 ] || { echo "ADD makes no $group call" >&2; return 1; }
  echo "# $group: $calls calls" >&3
  base=$(node_state "$NODE")
  for ((n = 1; n <= calls; n += stride)); do
    for act in "${ERRNOS[i++ % ${#ERRNOS[@]}]}" kill; do
      add_under "$group" "$n" "$act"
      local added=$status out=$output
      grep -q 'faulted=1' "$BATS_TEST_TMPDIR/report" || problems+="$group#$n $act: the call never came"$'\n'
      if [ "$act" != kill ] && [ "$added" -ne 0 ]; then
        # A failed ADD answers with a CNI error on stdout (its last line: stderr is there too),
        # unless writing that was the fault.
        [ "$added" -eq 1 ] && { [ -z "$out" ] || [ -n "$(tail -n1 <<<"$out" | jq -r '.code // empty' 2>/dev/null)" ]; } ||
          problems+="$group#$n $act: ADD exited $added without a CNI error: $out"$'\n'
      fi
      # DEL repairs whatever the ADD left.
      run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$CONF"
      [ "$status" -eq 0 ] || problems+="$group#$n $act: DEL exited $status: $output"$'\n'
      [ "$(node_state "$NODE")" = "$base" ] ||
        problems+="$group#$n $act: node differs after DEL: $(diff <(echo "$base") <(node_state "$NODE") | tr '\n' ' ')"$'\n'
      [ -z "$(held)" ] || problems+="$group#$n $act: address still held: $(held)"$'\n'
      [ -z "$(pod_links)" ] || problems+="$group#$n $act: pod links left: $(pod_links)"$'\n'
      # The address is free again: a new ADD gets it, and DEL takes it back.
      run cni "$NODE" "$BR" ADD c1 "$POD" eth0 "$CONF"
      if [ "$status" -ne 0 ] || [ "$(jq -r '.ips[0].address' <<<"$output")" != 10.71.0.2/30 ]; then
        problems+="$group#$n $act: ADD again exited $status: $output"$'\n'
      fi
      run cni "$NODE" "$BR" DEL c1 "$POD" eth0 "$CONF"
      [ "$status" -eq 0 ] || problems+="$group#$n $act: DEL again exited $status: $output"$'\n'
    done
  done
  if [ -n "$problems" ]; then
    echo "$problems" >&2
    return 1
  fi
}

@test "faults-cni: ADD cut at each file step (open, write, rename, unlink, mkdir)" {
  sweep openat,openat2,write,pwrite64,rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,fsync,fdatasync,flock
}

# Not setns: the plugins abort on purpose when they cannot get back to their own namespace
# (common/netns.c). Not execve: the helper's own exec of the plugin would be the first.
@test "faults-cni: ADD cut at each netlink and process step" {
  sweep socket,sendto,recvmsg,recvfrom,clone,clone3
}
