#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark, not a test: times `run` of a busybox /bin/true bundle under podrun-runtime, runc and
# crun with hyperfine in one run, and measures each runtime's peak RSS with /usr/bin/time -v.
#
# crun 1.8 refuses hybrid cgroup hosts ("drop all controllers from cgroupv2"), so all three run
# inside one `unshare -m` where /sys/fs/cgroup/unified is unmounted: the same conditions for
# each. Goals (issue 2): faster than crun, at most 0.3 of runc's mean, peak RSS at most 2 MiB.
#
# usage: tests/bench/runtime.sh [RUNTIME]     (default: $PODRUN_BUILD/runtime/podrun-runtime)
# knobs: BENCH_RUNS (100 per round), BENCH_ROUNDS (3), BENCH_WARMUP (20), BENCH_RSS_RUNS (10),
#        BENCH_OUT (tests/build/bench: the hyperfine JSON and the RSS samples, replaced each run)
# The last line reads: ratio_runc=R ratio_crun=C peak_rss_kib=K (ours / runc, ours / crun, KiB).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODRUN_BUILD:-$top/build}
ours=$(realpath "${1:-$build/runtime/podrun-runtime}")
runs=${BENCH_RUNS:-100}
rounds=${BENCH_ROUNDS:-3}
warmup=${BENCH_WARMUP:-20}
rss_runs=${BENCH_RSS_RUNS:-10}
rootfs_cache=${PODRUN_ROOTFS_CACHE:-$top/tests/build/rootfs}

die() {
  echo "runtime.sh: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, cgroups, mounts)"
[ -x "$ours" ] || die "no runtime at $ours (build first, or pass its path)"
for tool in hyperfine runc crun jq unshare /usr/bin/time; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [ ! -x "$rootfs_cache/bin/busybox" ]; then
  "$top/tests/lib/busybox-rootfs.sh" "$rootfs_cache"
fi

work=$(mktemp -d /tmp/podrun-bench.XXXXXX)
out=${BENCH_OUT:-$top/tests/build/bench}
rm -rf "$out"
mkdir -p "$out"

. "$top/tests/lib/cgroup-parents.bash"
podrun_parents_note
# Leaves nothing behind: each runtime deletes what is left under its private root.
cleanup() {
  local rt dir id
  for rt in ours runc crun; do
    for dir in "$work/state-$rt"/*/; do
      [ -d "$dir" ] || continue
      id=$(basename "$dir")
      case $rt in
      ours) "$ours" --root "$work/state-$rt" delete --force "$id" ;;
      *) "$rt" --root "$work/state-$rt" delete --force "$id" ;;
      esac >/dev/null 2>&1 || true
    done
  done
  rm -rf "$work"
  podrun_parents_remove
  return 0
}
trap cleanup EXIT

# One bundle for all three: runc's default config running /bin/true; a second one that
# exits 7 proves each runtime really runs the container here.
mkdir -p "$work/bundle" "$work/bundle-exit7"
cp -a "$rootfs_cache" "$work/bundle/rootfs"
(cd "$work/bundle" && "$ours" spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' \
  "$work/bundle/config.json" > "$work/bundle/config.json.new"
mv "$work/bundle/config.json.new" "$work/bundle/config.json"
# (runc refuses a symlinked rootfs: point root.path at the first bundle's)
jq --arg r "$work/bundle/rootfs" '.process.args = ["sh", "-c", "exit 7"] | .root.path = $r' \
  "$work/bundle/config.json" > "$work/bundle-exit7/config.json"
mkdir -p "$work/state-ours" "$work/state-runc" "$work/state-crun"

cmd_ours="$ours --root $work/state-ours run --bundle $work/bundle bench-ours"
cmd_runc="runc --root $work/state-runc run --bundle $work/bundle bench-runc"
cmd_crun="crun --root $work/state-crun run --bundle $work/bundle bench-crun"

# The part that runs inside the private mount namespace. Arguments arrive through the
# environment so that no path is quoted twice.
inner() {
  set -euo pipefail
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  echo "# in a private mount namespace without /sys/fs/cgroup/unified (crun needs it)"
  local name cmd st
  for name in ours runc crun; do
    eval "cmd=\$cmd_$name"
    st=0
    ${cmd/\/bundle /\/bundle-exit7 } >/dev/null 2>&1 || st=$?
    [ "$st" -eq 7 ] || { echo "$name cannot run the bundle here (exit $st, want 7)" >&2; exit 1; }
  done
  echo "# all three run the bundle here (exit code 7 passed through)"

  # Several rounds, each one hyperfine run of all three in a rotated order: load that comes
  # and goes on the machine then weighs on every runtime alike.
  local round order
  for ((round = 0; round < rounds; round++)); do
    case $((round % 3)) in
    0) order="ours runc crun" ;;
    1) order="runc crun ours" ;;
    2) order="crun ours runc" ;;
    esac
    local args=()
    for name in $order; do
      eval "cmd=\$cmd_$name"
      args+=(-n "$name" "$cmd")
    done
    echo "# round $((round + 1)) of $rounds: $order"
    hyperfine --shell=none --style basic --warmup "$warmup" --runs "$runs" \
      --export-json "$out/hyperfine-$round.json" "${args[@]}" 2>&1
  done

  # Peak RSS: /usr/bin/time waits for the runtime, so its figure is the largest of the runtime
  # and the processes it waited for (the container's /bin/true, far smaller).
  for name in ours runc crun; do
    eval "cmd=\$cmd_$name"
    : > "$out/rss-$name.txt"
    for ((i = 0; i < rss_runs; i++)); do
      # shellcheck disable=SC2086 # the command is split into words on purpose
      /usr/bin/time -v $cmd 2>&1 >/dev/null |
        awk -F': ' '/Maximum resident set size/ {print $2}' >> "$out/rss-$name.txt"
    done
  done
}

export ours work out runs rounds warmup rss_runs cmd_ours cmd_runc cmd_crun
export -f inner
echo "# podrun-runtime: $ours ($(stat -c %s "$ours") bytes; $(file -b "$ours" | grep -o 'dynamically linked\|statically linked\|static-pie linked' | head -1), $(file -b "$ours" | grep -o 'not stripped\|stripped' | head -1))"
echo "# runc: $(runc --version | head -1); crun: $(crun --version | head -1)"
echo "# hyperfine: $rounds rounds of $runs runs after $warmup warm-up runs each; peak RSS: max of $rss_runs runs"
echo "# kernel $(uname -r), $(nproc) CPUs"
unshare -m bash -c inner

# Every timing of every round, per runtime, in one file: the figures below come from it.
jq -s '[.[].results[]] | group_by(.command) | map({command: .[0].command,
    times: [.[].times[]]}) | map(. + {mean: ((.times | add) / (.times | length)),
    median: (.times | sort | .[(length / 2 | floor)]), min: (.times | min),
    stddev: (.times | (add / length) as $m | map((. - $m) * (. - $m)) | add / length | sqrt)})' \
  "$out"/hyperfine-*.json > "$out/all-rounds.json"

stat_ms() {
  jq -r --arg n "$1" --arg f "$2" '.[] | select(.command == $n) | .[$f] * 1000' \
    "$out/all-rounds.json"
}
peak_kib() {
  sort -n "$out/rss-$1.txt" | tail -1
}

echo
echo "# all rounds together: $((runs * rounds)) runs per runtime"
printf '%-16s %9s %9s %9s %9s %14s\n' runtime mean_ms median_ms min_ms stddev_ms peak_rss_kib
for name in ours runc crun; do
  label=$name
  [ "$name" = ours ] && label=podrun-runtime
  printf '%-16s %9.2f %9.2f %9.2f %9.2f %14s\n' "$label" "$(stat_ms "$name" mean)" \
    "$(stat_ms "$name" median)" "$(stat_ms "$name" min)" "$(stat_ms "$name" stddev)" \
    "$(peak_kib "$name")"
done
echo "# hyperfine JSON (per round and all-rounds.json) and RSS samples: $out"

m_ours=$(stat_ms ours mean)
m_runc=$(stat_ms runc mean)
m_crun=$(stat_ms crun mean)
ratio_runc=$(awk -v a="$m_ours" -v b="$m_runc" 'BEGIN {printf "%.3f", a / b}')
ratio_crun=$(awk -v a="$m_ours" -v b="$m_crun" 'BEGIN {printf "%.3f", a / b}')
echo "ratio_runc=$ratio_runc ratio_crun=$ratio_crun peak_rss_kib=$(peak_kib ours)"
