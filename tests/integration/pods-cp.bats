#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun cp: files and directories out of and into a running container as kubectl cp copies
# them, through the container's root, where every path is the container's: links in the
# container never lead to the host's files, whether there from the start or swapped in.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  M=$BATS_TEST_TMPDIR/m.yaml
  L=$BATS_TEST_TMPDIR/local
  mkdir -p "$L"
  cat > "$M" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
  - name: side
    image: busybox
    workingDir: /tmp
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: other}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: only
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$M"
  [ "$status" -eq 0 ]
  wait_running box 2/2
}

teardown() {
  pods_teardown
}

# cx POD CTR CMD: a shell command in the container (pod in default, or NS/POD).
cx() {
  local ns=default pod=$1
  [[ "$pod" == */* ]] && { ns=${pod%%/*}; pod=${pod#*/}; }
  prn exec -n "$ns" "$pod" -c "$2" -- sh -c "$3"
}

@test "cp: a file and a directory out of and into a container; -c, NS/POD and into an existing dir" {
  cx box app 'mkdir -p /d/sub && echo one > /d/a && echo two > /d/sub/b && chmod 750 /d/sub && printf x > /f'
  run prn cp -c app box:/d/a "$L/a"
  [ "$status" -eq 0 ]
  [ "$(cat "$L/a")" = one ]
  run prn cp -c app box:/d "$L/d"
  [ "$status" -eq 0 ]
  [ "$(cat "$L/d/a")" = one ]
  [ "$(cat "$L/d/sub/b")" = two ]
  [ "$(stat -c %a "$L/d/sub")" = 750 ]
  # Bash completion offers the pod's containers for -c (bash splits box:/f at the colon).
  source <("$PODRUN" completion bash)
  COMP_WORDS=("$PODRUN" --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" cp box : /f "$L/f" -c '')
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMPREPLY=()
  _podrun
  [ "${COMPREPLY[*]}" = "app side" ]
  COMP_WORDS=("$PODRUN" --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" exec box -c s)
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMPREPLY=()
  _podrun
  [ "${COMPREPLY[*]}" = "side" ]
  # Without -c in a two-container pod: the first container, as kubectl's exec picks it.
  run prn cp box:/f "$L/f"
  [ "$status" -eq 0 ]
  [ "$(cat "$L/f")" = "$(cx box app 'cat /f')" ]
  # Into the other container: a file to a new name, a directory into an existing directory.
  echo three > "$L/c"
  mkdir -p "$L/tree/x" && echo four > "$L/tree/x/y"
  run prn cp "$L/c" box:/tmp/new -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'cat /tmp/new')" = three ]
  run prn cp "$L/tree" box:/tmp -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'cat /tmp/tree/x/y')" = four ]
  # The containers' roots are their own: nothing of side's copy in app.
  run cx box app 'test -e /tmp/new'
  [ "$status" -eq 1 ]
  # NS/POD:PATH, and -n.
  wait_for sh -c "'$PODRUN' --run-root '$ROOTS/run' --lib-root '$ROOTS/lib' get pods -n other solo | grep -q Running"
  run prn cp "$L/c" other/solo:/c
  [ "$status" -eq 0 ]
  run prn cp -n other solo:/c "$L/c2"
  [ "$status" -eq 0 ]
  [ "$(cat "$L/c2")" = three ]
}

@test "cp: relative paths from the container's working directory; owner and mode kept going in" {
  # side's workingDir is /tmp: a relative path is from there, both ways (kubectl's tar in it).
  echo rel > "$L/c"
  run prn cp "$L/c" box:rel -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'cat /tmp/rel')" = rel ]
  run prn cp -c side box:rel "$L/back"
  [ "$status" -eq 0 ]
  [ "$(cat "$L/back")" = rel ]
  # app has none: its root.
  run prn cp "$L/c" box:atroot -c app
  [ "$status" -eq 0 ]
  [ "$(cx box app 'cat /atroot')" = rel ]
  # Still within the root: ../ from the working directory stops at it.
  run prn cp "$L/c" box:../../../../esc -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'cat /esc')" = rel ]
  [ ! -e /esc ]
  # uid, gid and mode bits (setuid too) kept, as kubectl's tar -x as root keeps them.
  printf data > "$L/owned"
  chown 1234:5678 "$L/owned" && chmod 4751 "$L/owned"
  mkdir "$L/od" && ln -s nowhere "$L/od/ln"
  chown 2345:3456 "$L/od" && chmod 711 "$L/od" && chown -h 42:43 "$L/od/ln"
  run prn cp "$L/owned" box:/tmp/owned -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'stat -c "%u %g %a" /tmp/owned')" = "1234 5678 4751" ]
  run prn cp "$L/od" box:/tmp/od -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'stat -c "%u %g %a" /tmp/od; stat -c "%u %g" /tmp/od/ln')" = $'2345 3456 711\n42 43' ]
  # --no-preserve: podrun's owner, its umask over the mode, no setuid.
  run prn cp --no-preserve "$L/owned" box:/tmp/np -c side
  [ "$status" -eq 0 ]
  [ "$(cx box side 'stat -c "%u %g %a" /tmp/np')" = "0 0 $(printf %o $((0751 & ~$(umask))))" ]
}

@test "cp: kubectl's errors for bad specs, missing paths and pods" {
  run prn cp "$L/x" "$L/y"
  [ "$status" -eq 1 ]
  [[ "$output" == *"one of src or dest must be a remote file specification"* ]]
  run prn cp box:/a box:/b
  [ "$status" -eq 1 ]
  [[ "$output" == *"one of src or dest must be a local file specification"* ]]
  run prn cp a/b/c:/x "$L/x"
  [ "$status" -eq 1 ]
  [[ "$output" == *"[[namespace/]pod:]file/path"* ]]
  run prn cp box: "$L/x"
  [ "$status" -eq 1 ]
  [[ "$output" == *"filepath can not be empty"* ]]
  run prn cp -c app box:/nonexistent "$L/x"
  [ "$status" -eq 1 ]
  [[ "$output" == *"/nonexistent"* ]]
  [ ! -e "$L/x" ]
  run prn cp nopod:/x "$L/x"
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "nopod" not found'* ]]
  run prn cp "$L"
  [ "$status" -eq 1 ]
  [[ "$output" == *"source and destination are required"* ]]
}

@test "cp hostile: links in the container to the host's paths are never followed out of it" {
  local secret=$BATS_TEST_TMPDIR/hostsecret
  mkdir -p "$secret" && echo host-only > "$secret/s"
  # Absolute and ../ links to a path that exists on the host only.
  cx box app "ln -s $secret /abs && ln -s ../../../../../../../..$secret /rel && mkdir /dir && echo c > /dir/c && ln -s $secret /dir/link && ln -s /etc/passwd /dir/pw"
  run prn cp -c app "box:/abs/s" "$L/s1"
  [ "$status" -eq 1 ]
  [ ! -e "$L/s1" ]
  run prn cp -c app "box:/rel/s" "$L/s2"
  [ "$status" -eq 1 ]
  [ ! -e "$L/s2" ]
  # In a directory: links are skipped with kubectl's warning, the rest is copied.
  run prn cp -c app box:/dir "$L/dir"
  [ "$status" -eq 0 ]
  [[ "$output" == *"warning: skipping symlink: \"link\" -> \"$secret\""* ]]
  [ "$(cat "$L/dir/c")" = c ]
  [ ! -e "$L/dir/link" ]
  [ ! -L "$L/dir/link" ]
  [ ! -e "$L/dir/pw" ]
  # A top-level link resolves inside the container: /abs2 -> /dir is the container's /dir.
  cx box app 'ln -s /dir /abs2'
  run prn cp -c app box:/abs2/c "$L/c"
  [ "$status" -eq 0 ]
  [ "$(cat "$L/c")" = c ]
  # Into the container: a link at the destination is replaced, never written through; a link
  # in the directory part resolves inside the container.
  echo new > "$L/n"
  local hostfile=$BATS_TEST_TMPDIR/hostfile
  echo untouched > "$hostfile"
  cx box app "ln -s $hostfile /tgt && ln -s $BATS_TEST_TMPDIR /tdir"
  run prn cp "$L/n" box:/tgt -c app
  [ "$status" -eq 0 ]
  [ "$(cat "$hostfile")" = untouched ]
  [ "$(cx box app 'cat /tgt; test -L /tgt || echo regular')" = $'new\nregular' ]
  run prn cp "$L/n" box:/tdir/planted -c app
  [ "$status" -eq 1 ]
  [ ! -e "$BATS_TEST_TMPDIR/planted" ]
}

@test "cp hostile: devices, FIFOs and a huge sparse file do not hang or flood" {
  cx box app 'mkfifo /fifo && truncate -s 100G /sparse 2>/dev/null || dd if=/dev/zero of=/sparse bs=1 count=0 seek=100G 2>/dev/null; true'
  run timeout 20 nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" cp -c app box:/fifo "$L/fifo"
  [ "$status" -eq 1 ]
  [[ "$output" == *"is a FIFO"* ]]
  run timeout 20 nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" cp -c app box:/dev/zero "$L/zero"
  [ "$status" -eq 1 ]
  [[ "$output" == *"is a character device"* ]]
  [ ! -e "$L/zero" ]
  # Into the container: a FIFO at the destination is refused, not opened (no hang).
  echo x > "$L/x"
  run timeout 20 nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
    --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" cp "$L/x" box:/fifo -c app
  [ "$status" -eq 1 ]
  [[ "$output" == *"is a FIFO"* ]]
  # A 100 GiB sparse file is over the copy's limit: refused before the disk fills.
  if cx box app 'test -s /sparse'; then
    run timeout 120 nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$IMAGES_ROOT" \
      --run-root "$ROOTS/run" --lib-root "$ROOTS/lib" --log-root "$ROOTS/log" cp -c app box:/sparse /dev/null
    [ "$status" -eq 1 ]
    [[ "$output" == *"the limit"* ]]
  fi
}

@test "cp hostile: a directory swapped for a link to the host during copies is never followed" {
  local secret=$BATS_TEST_TMPDIR/hostsecret
  mkdir -p "$secret" && echo host-only > "$secret/s"
  cx box app "mkdir -p /race/real && for i in \$(seq 50); do echo \$i > /race/real/f\$i; done"
  # Swaps /race/d between a real directory and a link to the host-only path, endlessly.
  prn exec box -c app -- sh -c "while :; do rm -rf /race/d; ln -s $secret /race/d; usleep 20000; rm -f /race/d; cp -r /race/real /race/d; usleep 20000; done" &
  local swapper=$! i links=0 dirs=0
  for ((i = 0; i < 40; i++)); do
    rm -rf "$L/out"
    run prn cp -c app box:/race "$L/out"
    [[ "$output" == *'skipping symlink: "d"'* ]] && links=$((links + 1))
    [ -d "$L/out/d" ] && dirs=$((dirs + 1))
    if [ -e "$L/out/d/s" ] || grep -rqs host-only "$L/out"; then
      kill "$swapper" 2>/dev/null || true
      echo "host file copied out on try $i" >&2
      return 1
    fi
  done
  kill "$swapper" 2>/dev/null || true
  echo "copies that met the link: $links, the directory: $dirs" >&3
  # The race was run: both shapes were met.
  [ "$links" -gt 0 ]
  [ "$dirs" -gt 0 ]
  cx box app 'pkill -f "while :" || true' || true
}
