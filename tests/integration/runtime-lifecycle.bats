#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The runc command-line contract: create/start/state/kill/delete/run/list/exec/ps/spec.

load ../lib/helpers

setup() {
  setup_bundle
}

teardown() {
  # A terminal test that failed before the container took its terminal leaves recvtty waiting.
  [ -z "${rpid:-}" ] || kill "$rpid" 2>/dev/null || true
  standard_teardown
}

@test "run prints the container's output and returns its exit code" {
  update_config '.process.args = ["sh", "-c", "echo hello; exit 7"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 7 ]
  [ "$output" = "hello" ]
  # run without --keep deletes the container afterwards
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "run reports death by signal as 128+N" {
  # pid 1 of a pid namespace ignores SIGKILL from inside: the signal comes from outside
  update_config '.process.args = ["sleep", "100"]'
  rt run --bundle "$BUNDLE" "$CTR_PREFIX" &
  job=$!
  wait_for_state "$CTR_PREFIX" running
  rt kill "$CTR_PREFIX" KILL
  wait "$job" && st=0 || st=$?
  [ "$st" -eq 137 ]
}

@test "create, start, state, kill, delete go through created, running, stopped" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" "$CTR_PREFIX"
  run rt state "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(jq -r .status <<<"$output")" = created ]
  [ "$(jq -r .id <<<"$output")" = "$CTR_PREFIX" ]
  [ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
  [ "$(jq -r .ociVersion <<<"$output")" = 1.1.0 ]
  pid=$(jq -r .pid <<<"$output")
  [ "$pid" = "$(cat "$BATS_TEST_TMPDIR/pid")" ]
  # in created state the process waits; it has not exec'd sleep yet (its command line may name
  # the program it is about to run, so compare the whole of it)
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" != "sleep 100 " ]

  rt start "$CTR_PREFIX"
  wait_for_state "$CTR_PREFIX" running
  for i in $(seq 100); do [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ] && break; sleep 0.1; done
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]

  run rt start "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not created"* ]]

  rt kill "$CTR_PREFIX" KILL
  wait_for_state "$CTR_PREFIX" stopped
  [ "$(rt state "$CTR_PREFIX" | jq -r .pid)" = 0 ]
  rt delete "$CTR_PREFIX"
  run rt state "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"does not exist"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "kill accepts SIGTERM, TERM and 15, and delete refuses a running container without --force" {
  update_config '.process.args = ["sh", "-c", "trap \"exit 0\" TERM; while :; do sleep 0.1; done"]'
  for sig in SIGTERM TERM 15; do
    rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
    wait_for_state "$CTR_PREFIX" running
    # sh is the container's init: a TERM that comes before its trap is ignored.
    wait_for_trap "$(rt state "$CTR_PREFIX" | jq -r .pid)" 15
    run rt delete "$CTR_PREFIX"
    [ "$status" -eq 1 ]
    [[ "$output" == *"--force"* ]]
    rt kill "$CTR_PREFIX" "$sig"
    wait_for_state "$CTR_PREFIX" stopped
    rt delete "$CTR_PREFIX"
  done
  run rt kill "$CTR_PREFIX" NOSUCHSIG
  [ "$status" -eq 1 ]
}

@test "delete --force kills a running container" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  rt delete --force "$CTR_PREFIX"
  [ ! -e "/proc/$pid" ] || ! grep -q sleep "/proc/$pid/cmdline" || false
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "delete of a created container removes it" {
  update_config '.process.args = ["true"]'
  rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  rt delete "$CTR_PREFIX"
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  # the process goes (or is a zombie) within a bounded wait, not a fixed sleep
  for i in $(seq 100); do
    [ ! -e "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
    sleep 0.1
  done
  [ ! -e "/proc/$pid" ] || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ]
}

@test "create reads config.json once and saves exactly the bytes it parsed" {
  command -v strace >/dev/null || skip "needs strace"
  update_config '.process.args = ["true"]'
  # Unusual but valid layout (indentation, key order): a copy made by reformatting would differ.
  jq --indent 7 -S . "$BUNDLE/config.json" > "$BATS_TEST_TMPDIR/config.json"
  cp "$BATS_TEST_TMPDIR/config.json" "$BUNDLE/config.json"
  # Each open of the bundle's config.json is a read the saved copy could differ from (the file
  # can be replaced between two reads); the runtime must open it exactly once. No -f: the
  # container's init lives on until start, and the config is read before it is made. LSan does
  # not work under ptrace, so an ASan build runs this one without leak checking.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -qq -e trace=open,openat,openat2 -e signal=none -o "$BATS_TEST_TMPDIR/trace" \
    "$RUNTIME" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$CTR_PREFIX"
  opens=$(grep -c 'bundle/config\.json"' "$BATS_TEST_TMPDIR/trace" || true)
  [ "$opens" -eq 1 ]
  cmp "$BATS_TEST_TMPDIR/config.json" "$STATE_ROOT/$CTR_PREFIX/config.json"
  rt delete --force "$CTR_PREFIX"
}

@test "list shows containers as table, json and ids" {
  update_config '.process.args = ["sleep", "100"]'
  rt create --bundle "$BUNDLE" "${CTR_PREFIX}-a"
  rt run -d --bundle "$BUNDLE" "${CTR_PREFIX}-b"
  run rt list --format json
  [ "$status" -eq 0 ]
  [ "$(jq length <<<"$output")" -eq 2 ]
  [ "$(jq -r '.[] | select(.id=="'"${CTR_PREFIX}-a"'") | .status' <<<"$output")" = created ]
  [ "$(jq -r '.[] | select(.id=="'"${CTR_PREFIX}-b"'") | .status' <<<"$output")" = running ]
  run rt list -q
  [ "${lines[0]}" = "${CTR_PREFIX}-a" ]
  [ "${lines[1]}" = "${CTR_PREFIX}-b" ]
  run rt list
  [[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
  [[ "$output" == *"${CTR_PREFIX}-b"*running* ]]
}

@test "exec runs in the container's namespaces with env, cwd and user" {
  update_config '.process.args = ["sleep", "100"] | .hostname = "inside"'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  run rt exec "$CTR_PREFIX" hostname
  [ "$status" -eq 0 ]
  [ "$output" = inside ]
  run rt exec --env FOO=bar --cwd /tmp "$CTR_PREFIX" sh -c 'echo $FOO $(pwd)'
  [ "$output" = "bar /tmp" ]
  run rt exec --user 1000:1001 "$CTR_PREFIX" id -u
  [ "$output" = 1000 ]
  run rt exec "$CTR_PREFIX" sh -c 'exit 5'
  [ "$status" -eq 5 ]
  # the exec'd process sees the container's pid namespace: sleep is pid 1
  run rt exec "$CTR_PREFIX" cat /proc/1/cmdline
  [[ "$output" == sleep* ]]
  run rt exec "$CTR_PREFIX" /no/such/binary
  [ "$status" -eq 1 ]
  [[ "$output" == *"/no/such/binary"* ]]
}

@test "exec --process, --detach and --pid-file" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  cat > "$BATS_TEST_TMPDIR/proc.json" <<'J'
{"args": ["sh", "-c", "echo from-process-json; sleep 50"], "cwd": "/", "env": ["PATH=/bin"]}
J
  rt exec --detach --pid-file "$BATS_TEST_TMPDIR/epid" --process "$BATS_TEST_TMPDIR/proc.json" "$CTR_PREFIX" > "$BATS_TEST_TMPDIR/out"
  epid=$(cat "$BATS_TEST_TMPDIR/epid")
  [ -d "/proc/$epid" ]
  run rt ps --format json "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  jq -e "index($epid)" <<<"$output"
  # The process from process.json ran.
  for i in $(seq 100); do grep -qx from-process-json "$BATS_TEST_TMPDIR/out" && break; sleep 0.1; done
  grep -qx from-process-json "$BATS_TEST_TMPDIR/out"
}

@test "ps lists the container's processes" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  run rt ps --format json "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0]' <<<"$output")" = "$pid" ]
  run rt ps "$CTR_PREFIX"
  [[ "${lines[0]}" == *PID* ]]
  [[ "${lines[1]}" == *"$pid"*sleep* ]]
}

@test "the container gets its own pid, uts, ipc, mount and network namespaces" {
  update_config '.process.args = ["sh", "-c", "echo $$; hostname; ls /sys/class/net; for n in pid uts ipc mnt net; do readlink /proc/self/ns/$n; done"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = podrun ]
  [ "${lines[2]}" = lo ]
  # Every one of the five is a namespace of its own, not the host's.
  local i=3 n
  for n in pid uts ipc mnt net; do
    [[ "${lines[i]}" == "$n:["*"]" ]]
    [ "${lines[i]}" != "$(readlink "/proc/$$/ns/$n")" ]
    i=$((i + 1))
  done
}

@test "joining a namespace by path shares it" {
  update_config '.process.args = ["sleep", "100"] | .hostname = "shared-uts"'
  rt run -d --bundle "$BUNDLE" "${CTR_PREFIX}-a"
  pid=$(rt state "${CTR_PREFIX}-a" | jq -r .pid)
  mkdir -p "$BATS_TEST_TMPDIR/b"
  cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/b/"
  # the same rootfs by its path (a symlink to it would be refused, as runc refuses it)
  update_config 'del(.hostname) | .root.path = "'"$BUNDLE/rootfs"'" | .process.args = ["hostname"] | .linux.namespaces = [.linux.namespaces[] | if .type == "uts" then .path = "/proc/'"$pid"'/ns/uts" else . end]' "$BATS_TEST_TMPDIR/b"
  run rt run --bundle "$BATS_TEST_TMPDIR/b" "${CTR_PREFIX}-b"
  [ "$status" -eq 0 ]
  [ "$output" = shared-uts ]
}

@test "process.user, additionalGids, umask and rlimits apply" {
  update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 63}
    | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]
    | .process.args = ["sh", "-c", "id -u; id -g; id -G; umask; ulimit -n; ulimit -Hn"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [[ "${lines[2]}" == *5*6* ]]
  [ "${lines[3]}" = 0077 ]
  [ "${lines[4]}" = 321 ]
  [ "${lines[5]}" = 654 ]
}

@test "oomScoreAdj raises the container's score" {
  update_config '.process.oomScoreAdj = 123 | .process.args = ["cat", "/proc/self/oom_score_adj"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [ "$output" = 123 ]
}

@test "--preserve-fds passes extra fds into the container" {
  update_config '.process.args = ["cat", "/proc/self/fd/3"]'
  echo preserved-data > "$BATS_TEST_TMPDIR/data"
  run rt run --preserve-fds 1 --bundle "$BUNDLE" "$CTR_PREFIX" 3<"$BATS_TEST_TMPDIR/data"
  [ "$status" -eq 0 ]
  [ "$output" = preserved-data ]
}

@test "a terminal is handed over through --console-socket" {
  update_config '.process.terminal = true | .process.args = ["sh", "-c", "tty; echo TERM_OK"]'
  sock=$BATS_TEST_TMPDIR/console.sock
  "$PODRUN_BUILD/tests/lib/recvtty" "$sock" > "$BATS_TEST_TMPDIR/tty.out" 3>&- &
  rpid=$!
  for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
  rt create --console-socket "$sock" --bundle "$BUNDLE" "$CTR_PREFIX"
  rt start "$CTR_PREFIX"
  wait "$rpid"
  grep -q '/dev/pts/0' "$BATS_TEST_TMPDIR/tty.out"
  grep -q TERM_OK "$BATS_TEST_TMPDIR/tty.out"
}

# A create that fails leaves recvtty waiting for a terminal that never comes: it must give up
# on its own and not hold bats' output (fd 3), or the whole suite hangs without a summary.
@test "recvtty gives up after its timeout and holds no inherited descriptor" {
  local start=$SECONDS
  RECVTTY_TIMEOUT=1 "$PODRUN_BUILD/tests/lib/recvtty" "$BATS_TEST_TMPDIR/none.sock" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 7>"$BATS_TEST_TMPDIR/held" &
  rpid=$!
  for i in $(seq 100); do [ -S "$BATS_TEST_TMPDIR/none.sock" ] && break; sleep 0.05; done
  [ -S "$BATS_TEST_TMPDIR/none.sock" ]
  # Its own listening socket is the only descriptor above stderr.
  [ "$(ls "/proc/$rpid/fd" | sort -n | tr '\n' ' ')" = "0 1 2 3 " ]
  [[ "$(readlink "/proc/$rpid/fd/3")" == socket:* ]]
  wait "$rpid" && st=0 || st=$?
  rpid=
  [ "$st" -eq 124 ]
  [ $((SECONDS - start)) -lt 30 ]
  grep -q "timed out" "$BATS_TEST_TMPDIR/out"
}

@test "create without --console-socket refuses a terminal" {
  update_config '.process.terminal = true'
  run rt create --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 1 ]
  [[ "$output" == *"console-socket"* ]]
  [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
}

@test "50 containers created in parallel all succeed and list never shows a torn state" {
  update_config '.process.args = ["sleep", "100"]'
  for i in $(seq 50); do
    rt create --bundle "$BUNDLE" "${CTR_PREFIX}-$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
  done
  # list while they are being created: every line it prints must parse
  for i in $(seq 10); do
    rt list --format json | jq -e 'type == "array"' >/dev/null
  done
  wait
  cat "$BATS_TEST_TMPDIR"/err.* >&2
  [ "$(rt list --format json | jq '[.[] | select(.status == "created")] | length')" -eq 50 ]
}

@test "spec writes runc's default config and refuses to overwrite it" {
  d=$BATS_TEST_TMPDIR/specdir
  mkdir "$d"
  (cd "$d" && "$RUNTIME" spec)
  jq -e '.ociVersion and .process.args == ["sh"] and .root.path == "rootfs"' "$d/config.json"
  run "$RUNTIME" spec --bundle "$d"
  [ "$status" -eq 1 ]
  [[ "$output" == *"File exists"* ]]
}

@test "features lists namespaces, hooks and cgroup support" {
  run "$RUNTIME" features
  [ "$status" -eq 0 ]
  jq -e '.ociVersionMax == "1.1.0"' <<<"$output"
  jq -e '.linux.namespaces | index("user") and index("time") and index("cgroup")' <<<"$output"
  jq -e '.hooks | index("createRuntime") and index("poststop")' <<<"$output"
  jq -e '.linux.netDevices.enabled == true' <<<"$output"
}

@test "--log writes runc-style JSON lines for errors" {
  run "$RUNTIME" --root "$STATE_ROOT" --log "$BATS_TEST_TMPDIR/log.json" --log-format json state nosuchctr
  [ "$status" -eq 1 ]
  jq -e '.level == "error" and (.msg | contains("does not exist")) and (.time | length > 0)' "$BATS_TEST_TMPDIR/log.json"
}

@test "--version and unknown commands" {
  run "$RUNTIME" --version
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "podrun-runtime version"* ]]
  run "$RUNTIME" frobnicate
  [ "$status" -eq 1 ]
  [[ "$output" == *"unknown command"* ]]
}

@test "kill takes signal names in any case, and real-time signals by offset" {
  update_config '.root.readonly = false | .process.args = ["sh", "-c", "trap \"echo usr1 >> /tmp/got\" USR1; trap \"echo rt >> /tmp/got\" 36; while :; do sleep 0.1; done"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  wait_for_state "$CTR_PREFIX" running
  pid=$(rt state "$CTR_PREFIX" | jq -r .pid)
  wait_for_trap "$pid" 10
  wait_for_trap "$pid" 36
  rt kill "$CTR_PREFIX" sigusr1
  rt kill "$CTR_PREFIX" RTMIN+2
  for i in $(seq 50); do [ "$(wc -l < "$BUNDLE/rootfs/tmp/got" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
  grep -q usr1 "$BUNDLE/rootfs/tmp/got"
  grep -q rt "$BUNDLE/rootfs/tmp/got"
  run rt kill "$CTR_PREFIX" RTMIN+-3
  [ "$status" -eq 1 ]
  [[ "$output" == *'unknown signal "RTMIN+-3"'* ]]
}

@test "exec --env replaces a variable of the container's environment" {
  update_config '.process.args = ["sleep", "100"] | .process.env += ["FOO=orig"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  run rt exec --env FOO=new "$CTR_PREFIX" sh -c 'env | grep ^FOO='
  [ "$status" -eq 0 ]
  [ "$output" = FOO=new ]
}

@test "exec into a paused container is refused, --ignore-paused too" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  rt pause "$CTR_PREFIX"
  run rt exec "$CTR_PREFIX" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"it is paused"* ]]
  run rt exec --ignore-paused "$CTR_PREFIX" true
  [ "$status" -eq 1 ]
  [[ "$output" == *"--ignore-paused"*"not supported"* ]]
  rt resume "$CTR_PREFIX"
  run rt exec "$CTR_PREFIX" true
  [ "$status" -eq 0 ]
}

@test "socket activation: LISTEN_FDS fds are passed on and announced to the container" {
  update_config '.process.args = ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat /proc/self/fd/3"]'
  echo activated > "$BATS_TEST_TMPDIR/sock-standin"
  run env LISTEN_FDS=1 "$RUNTIME" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$CTR_PREFIX" 3<"$BATS_TEST_TMPDIR/sock-standin"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "1 1" ]
  [ "${lines[1]}" = activated ]
}

@test "a relative --console-socket and --pid-file are the caller's paths" {
  update_config '.process.terminal = true | .process.args = ["sh", "-c", "echo TERM_OK"]'
  cd "$BATS_TEST_TMPDIR"
  "$PODRUN_BUILD/tests/lib/recvtty" console.sock > tty.out 3>&- &
  rpid=$!
  for i in $(seq 50); do [ -S console.sock ] && break; sleep 0.05; done
  rt create --console-socket console.sock --pid-file rel.pid --bundle "$BUNDLE" "$CTR_PREFIX"
  [ -s "$BATS_TEST_TMPDIR/rel.pid" ]
  rt start "$CTR_PREFIX"
  wait "$rpid"
  grep -q TERM_OK tty.out
}

@test "kill --all of a paused container leaves it paused" {
  update_config '.process.args = ["sleep", "100"]'
  rt run -d --bundle "$BUNDLE" "$CTR_PREFIX"
  rt pause "$CTR_PREFIX"
  rt kill --all "$CTR_PREFIX" USR1
  [ "$(rt state "$CTR_PREFIX" | jq -r .status)" = paused ]
  rt resume "$CTR_PREFIX"
}

@test "linux.memoryPolicy sets the NUMA memory policy of the container's process" {
  [ -e /proc/self/numa_maps ] || skip "the kernel has no NUMA support: /proc/self/numa_maps does not exist"
  update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0"}
    | .process.args = ["head", "-1", "/proc/self/numa_maps"]'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == *" bind:0 "* ]]
  update_config '.linux.memoryPolicy = {"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}'
  run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
  [ "$status" -eq 0 ]
  [[ "$output" == *" interleave=static:0 "* ]]
  for bad in '{"mode": "MPOL_BIND"}|MPOL_BIND needs nodes' '{"mode": "MPOL_LOCAL", "nodes": "0"}|MPOL_LOCAL takes no nodes' \
             '{"mode": "MPOL_SOMETIMES"}|unknown mode "MPOL_SOMETIMES"' '{"mode": "MPOL_BIND", "nodes": "0-"}|is not a list of nodes' \
             '{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_X"]}|unknown flag "MPOL_F_X"'; do
    update_config ".linux.memoryPolicy = ${bad%%|*}"
    run rt run --bundle "$BUNDLE" "$CTR_PREFIX"
    [ "$status" -eq 1 ]
    [[ "$output" == *"linux.memoryPolicy"*"${bad#*|}"* ]]
    [ ! -e "$STATE_ROOT/$CTR_PREFIX" ]
  done
  run "$RUNTIME" features
  jq -e '.linux.memoryPolicy.modes | index("MPOL_BIND") and index("MPOL_LOCAL")' <<<"$output"
}
