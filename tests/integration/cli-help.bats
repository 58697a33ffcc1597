#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun's verbs as a user finds them: `podrun --help` lists every verb, each has kubectl-style
# --help and a section in man/podrun.1 (a verb added to main.c's table without them fails
# here), unknown flags get kubectl's error and exit code, and bash completion works.

load ../lib/helpers
load ../lib/pods-helpers

bats_require_minimum_version 1.5.0

MAN=$BATS_TEST_DIRNAME/../../man/podrun.1

# The verbs `podrun --help` lists (the lines under "Commands:").
verbs() {
  "$PODRUN" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'
}

@test "every verb podrun --help lists has --help (Usage, exit 0) and a man section" {
  local v n=0 missing=()
  for v in $(verbs); do
    n=$((n + 1))
    run "$PODRUN" "$v" --help
    if [ "$status" -ne 0 ] || [[ "$output" != *$'\nUsage:\n  podrun '"$v"* ]]; then
      missing+=("$v: no --help (status $status)")
    fi
    run "$PODRUN" "$v" -h
    [ "$status" -eq 0 ] || missing+=("$v: no -h")
    # The man page's COMMANDS section has a ".B VERB ..." tag for it.
    if ! sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$MAN" | grep -Eq "^\.B $v( |\$)"; then
      missing+=("$v: no section in man/podrun.1")
    fi
  done
  printf '%s\n' "${missing[@]}"
  [ "${#missing[@]}" -eq 0 ]
  # The list is main.c's table: the verbs of this issue are there.
  [ "$n" -ge 16 ]
  for v in apply delete get describe run logs exec cp completion; do
    verbs | grep -qx "$v"
  done
}

@test "--help stops at --: after it the words are the command's" {
  run "$PODRUN" exec --help
  [ "$status" -eq 0 ]
  [[ "$output" == "Execute a command in a container."* ]]
  # Not podrun's help: exec goes on to look for the pod (and fails on the missing state).
  run "$PODRUN" --run-root "$BATS_TEST_TMPDIR/r" --lib-root "$BATS_TEST_TMPDIR/l" exec nopod -- sh --help
  [ "$status" -eq 1 ]
  [[ "$output" == *'pods "nopod" not found'* ]]
}

@test "unknown flags, flags without a value and unknown verbs: kubectl's errors, exit 1" {
  run "$PODRUN" get pods --frobnicate
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "error: unknown flag: --frobnicate" ]
  [ "${lines[1]}" = "See 'podrun get --help' for usage." ]
  run "$PODRUN" get pods --frobnicate=1
  [ "${lines[0]}" = "error: unknown flag: --frobnicate" ]
  run "$PODRUN" describe pod -z
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "error: unknown shorthand flag: 'z' in -z" ]
  run "$PODRUN" logs x -n
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "error: flag needs an argument: 'n' in -n" ]
  run "$PODRUN" apply --filename
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "error: flag needs an argument: --filename" ]
  run "$PODRUN" images --bogus
  [ "$status" -eq 1 ]
  [ "${lines[1]}" = "See 'podrun images --help' for usage." ]
  run "$PODRUN" frobnicate
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = 'error: unknown command "frobnicate" for "podrun"' ]
}

@test "get and describe take kinds, aliases, NAME lists and KIND/NAME as kubectl does" {
  local R=(--run-root "$BATS_TEST_TMPDIR/r" --lib-root "$BATS_TEST_TMPDIR/l")
  run "$PODRUN" "${R[@]}" get
  [ "$status" -eq 1 ]
  [[ "$output" == *"You must specify the type of resource to get."* ]]
  run "$PODRUN" "${R[@]}" describe
  [ "$status" -eq 1 ]
  [[ "$output" == *"You must specify the type of resource to describe."* ]]
  for verb in get describe; do
    run "$PODRUN" "${R[@]}" $verb frobs
    [ "$status" -eq 1 ]
    [[ "$output" == *'the server doesn'"'"'t have a resource type "frobs"'* ]]
    run "$PODRUN" "${R[@]}" $verb pod pod/x
    [ "$status" -eq 1 ]
    [[ "$output" == *"there is no need to specify a resource type as a separate argument"* ]]
    run "$PODRUN" "${R[@]}" $verb pod/x cm/y
    [ "$status" -eq 1 ]
    [[ "$output" == *"one kind of resource at a time"* ]]
    run "$PODRUN" "${R[@]}" $verb po/
    [ "$status" -eq 1 ]
    [[ "$output" == *"must have a single resource and name"* ]]
  done
  run "$PODRUN" "${R[@]}" describe cm x
  [ "$status" -eq 1 ]
  [[ "$output" == *"podrun describes pods, services, deployments, replicasets, ingresses, statefulsets, daemonsets, jobs, cronjobs, horizontalpodautoscalers, persistentvolumeclaims, persistentvolumes and nodes only"* ]]
  # Names: one ConfigMap found, one not: the found one printed, the missing one told, exit 1.
  mkdir -p "$BATS_TEST_TMPDIR/m"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n' > "$BATS_TEST_TMPDIR/m/cm.yaml"
  run "$PODRUN" "${R[@]}" apply -f "$BATS_TEST_TMPDIR/m/cm.yaml"
  [ "$status" -eq 0 ]
  run "$PODRUN" "${R[@]}" get cm a b -o name
  [ "$status" -eq 0 ]
  [ "$output" = $'configmap/a\nconfigmap/b' ]
  run "$PODRUN" "${R[@]}" get configmap/b configmaps/a -o name
  [ "$output" = $'configmap/b\nconfigmap/a' ]
  run --separate-stderr "$PODRUN" "${R[@]}" get cm a nope b
  [ "$status" -eq 1 ]
  [ "$(awk 'NR > 1 { print $1 }' <<<"$output" | paste -sd' ')" = "a b" ]
  [[ "$stderr" == *'configmaps "nope" not found'* ]]
}

# comp WORD...: what bash completion offers for the last word (the one being typed), after
# sourcing `podrun completion bash`; COMP_WORDS[0] is this build's podrun.
comp() {
  source <("$PODRUN" completion bash)
  COMP_WORDS=("$PODRUN" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _podrun
  printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}

@test "completion bash: verbs, kinds, flags, flag values and names from the state" {
  run "$PODRUN" completion bash
  [ "$status" -eq 0 ]
  [[ "$output" == *"complete -o default -F _podrun podrun"* ]]
  run "$PODRUN" completion
  [ "$status" -eq 1 ]
  [[ "$output" == *"Shell not specified."* ]]
  run "$PODRUN" completion fish
  [ "$status" -eq 1 ]
  [[ "$output" == *'Unsupported shell type "fish".'* ]]
  # The sourced script registers the function for podrun.
  source <("$PODRUN" completion bash)
  [ "$(complete -p podrun)" = "complete -o default -F _podrun podrun" ]
  [ "$(comp de)" = "delete describe" ]
  [ "$(comp co)" = "completion" ]
  [ "$(comp get)" = "get" ]
  [ "$(comp get '')" = "--all-namespaces --namespace --output --selector --watch --watch-only configmaps cronjobs daemonsets deployments endpoints endpointslices events horizontalpodautoscalers ingressclasses ingresses jobs namespaces nodes persistentvolumeclaims persistentvolumes pods replicasets secrets services statefulsets" ]
  [ "$(comp get p)" = "persistentvolumeclaims persistentvolumes pods" ]
  [ "$(comp get po)" = "pods" ]
  [ "$(comp get pods --wa)" = "--watch --watch-only" ]
  [ "$(comp get pods -o '')" = "json name wide yaml" ]
  [ "$(comp run x --restart O)" = "OnFailure" ]
  [ "$(comp cp --c)" = "--container" ]
  [ "$(comp completion '')" = "bash" ]
  # Subverbs and kinds, then names of that kind.
  [ "$(comp rollout u)" = "undo" ]
  [ "$(comp rollout undo d)" = "deployment" ]
  [ "$(comp set '')" = "--namespace image" ]
  [ "$(comp create c)" = "cronjob" ]
  [ "$(comp scale s)" = "statefulset" ]
  # Every verb's flags come from its --help: a flag there is offered.
  [ "$(comp run x --dry)" = "--dry-run" ]
  # Names from the state given by the global options before the verb.
  local R=(--run-root "$BATS_TEST_TMPDIR/r" --lib-root "$BATS_TEST_TMPDIR/l")
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: alpha}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: beta, namespace: team}\n' > "$BATS_TEST_TMPDIR/o.yaml"
  run "$PODRUN" "${R[@]}" apply -f "$BATS_TEST_TMPDIR/o.yaml"
  [ "$status" -eq 0 ]
  [ "$(comp "${R[@]}" get cm a)" = "alpha" ]
  [ "$(comp "${R[@]}" get cm -n team b)" = "beta" ]
  [ "$(comp "${R[@]}" get cm -n t)" = "team" ]
  [ "$(comp "${R[@]}" describe configmaps '')" = "--namespace alpha" ]
}

@test "make install puts the completion script in bash-completion's directory" {
  [ -f "$PODRUN_BUILD/Makefile" ] || skip "needs the build tree's Makefile (PODRUN_BUILD)"
  run make -s -C "$PODRUN_BUILD" install-bash-completion DESTDIR="$BATS_TEST_TMPDIR/inst"
  [ "$status" -eq 0 ]
  local f
  f=$(find "$BATS_TEST_TMPDIR/inst" -path '*/bash-completion/completions/podrun' -type f)
  [ -n "$f" ]
  [ "$(cat "$f")" = "$("$PODRUN" completion bash)" ]
}
