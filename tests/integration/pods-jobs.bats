#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# batch/v1 Jobs: retries with back-off until success, parallelism, backoffLimit, Indexed
# completions, and the controller loop that keeps them.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  # The job controller's back-off starts at 10 s; tests wait 0.2 s, doubled per failure.
  export PODRUN_JOB_BACKOFF_MS=200
}

teardown() {
  pods_teardown
}

# job_yaml NAME SPEC-LINES COMMAND [VOLUME-DIR]: a Job of busybox running COMMAND.
job_yaml() {
  cat <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
$2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "$3"]
YAML
  if [ -n "${4:-}" ]; then
    cat <<YAML
        volumeMounts:
        - {name: data, mountPath: /data}
      volumes:
      - name: data
        hostPath: {path: $4}
YAML
  fi
}

# job_status NAME: STATUS and COMPLETIONS of `get jobs NAME`.
job_status() {
  prn get jobs "$1" 2>/dev/null | awk 'NR == 2 { print $2, $3 }'
}

job_is() { # NAME "STATUS COMPLETIONS"
  [ "$(job_status "$1")" = "$2" ]
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

job_event() { # JOB REASON: `get events` holds the Job's event of that reason
  prn get events -o json | jq -e --arg j "$1" --arg r "$2" \
    'any(.items[]; .involvedObject.kind == "Job" and .involvedObject.name == $j and .reason == $r)' > /dev/null
}

no_loop() {
  [ -z "$(controllers_pid)" ]
}

@test "jobs: a Job whose pod fails twice is retried with back-off and completes; status and columns" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  job_yaml retry "  backoffLimit: 4" \
    'n=$(cat /data/n 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /data/n; test $n -ge 3' \
    "$BATS_TEST_TMPDIR/data" > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "job.batch/retry created" ]
  wait_long job_is retry "Complete 1/1"
  [ "$(cat "$BATS_TEST_TMPDIR/data/n")" = 3 ]
  run prn get jobs
  [ "$status" -eq 0 ]
  [ "$(head -1 <<<"$output" | tr -s ' ')" = "NAME STATUS COMPLETIONS DURATION AGE" ]
  # Three pods RETRY-<suffix>, with the job controller's labels; finished pods stay.
  run prn get pods -l job-name=retry -o name
  [ "$status" -eq 0 ]
  [ "$(wc -l <<<"$output")" -eq 3 ]
  [[ "$(sed -n 1p <<<"$output")" =~ ^pod/retry-[a-z0-9]{5}$ ]]
  run prn get pods -l batch.kubernetes.io/job-name=retry
  [ "$(grep -c Error <<<"$output")" -eq 2 ]
  [ "$(grep -c Completed <<<"$output")" -eq 1 ]
  run prn get job retry -o json
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.succeeded <<<"$output")" = 1 ]
  [ "$(jq -r .status.failed <<<"$output")" = 2 ] || { jq -c .status <<<"$output"; prn get pods -o wide; false; }
  [ "$(jq -r '.status.conditions[0].type + " " + .status.conditions[0].status' <<<"$output")" = "Complete True" ]
  [ "$(jq -r '.status.completionTime != null and .status.startTime != null' <<<"$output")" = true ]
  uid=$(jq -r .metadata.uid <<<"$output")
  run prn describe job retry
  [ "$status" -eq 0 ]
  grep -qx 'Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 2 Failed' <<<"$output"
  grep -qx "Selector:         batch.kubernetes.io/controller-uid=$uid" <<<"$output"
  grep -qx 'Backoff Limit:    4' <<<"$output"
  # The job-controller's events: a SuccessfulCreate per pod, then Completed (recorded by the
  # controller's pass that sees the pod succeed, which may come just after `get` shows it).
  wait_long job_event retry Completed
  run prn describe job retry
  [ "$(grep -cE '^  Normal +SuccessfulCreate +.* +job-controller +Created pod: retry-[a-z0-9]{5}$' <<<"$output")" -eq 3 ]
  grep -qE '^  Normal +Completed +.* +job-controller +Job completed$' <<<"$output"
  run prn get events -o json
  [ "$status" -eq 0 ]
  [ "$(jq -r '[.items[] | select(.involvedObject.kind == "Job" and .reason == "SuccessfulCreate" and .source.component == "job-controller")] | length' <<<"$output")" -eq 3 ]
  [ "$(jq -r '.items[] | select(.reason == "Completed") | .involvedObject.apiVersion + " " + .involvedObject.name + " " + .type + " " + .message' <<<"$output")" = "batch/v1 retry Normal Job completed" ]
  run prn get pods -l "controller-uid=$uid" -o name
  [ "$(wc -l <<<"$output")" -eq 3 ]
  # Nothing is left to control: the loop leaves once the Job is deleted, and its pods go with it.
  run prn delete job retry
  [ "$status" -eq 0 ]
  [ "$output" = 'job.batch "retry" deleted' ]
  run prn get pods -o name
  [ -z "$output" ]
  wait_long no_loop
  assert_no_pods
}

@test "jobs: completions 4 with parallelism 2 runs two pods at a time" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  job_yaml par "  completions: 4
  parallelism: 2" 'echo x >> /data/started; sleep 1; echo $(wc -l < /data/started) >> /data/seen' \
    "$BATS_TEST_TMPDIR/data" > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 0 ]
  wait_long job_is par "Running 0/4"
  run prn get job par -o json
  [ "$(jq -r .status.active <<<"$output")" = 2 ]
  wait_long job_is par "Complete 4/4"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/data/started")" -eq 4 ]
  run prn get pods -l job-name=par -o name
  [ "$(wc -l <<<"$output")" -eq 4 ]
  run prn delete job par
  [ "$status" -eq 0 ]
  wait_long no_loop
  assert_no_pods
}

@test "jobs: backoffLimit exceeded fails the Job (BackoffLimitExceeded) and it starts no more pods" {
  job_yaml fail "  backoffLimit: 1" 'exit 3' > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 0 ]
  wait_long job_is fail "Failed 0/1"
  run prn get job fail -o json
  [ "$(jq -r .status.failed <<<"$output")" = 2 ] || { jq -c .status <<<"$output"; prn get pods -o wide; false; }
  [ "$(jq -r '.status.conditions[0].reason' <<<"$output")" = BackoffLimitExceeded ]
  wait_long job_event fail BackoffLimitExceeded
  run prn get events
  [ "$status" -eq 0 ]
  grep -qE ' +Warning +BackoffLimitExceeded +job/fail +Job has reached the specified backoff limit$' <<<"$output"
  run prn describe job fail
  [ "$status" -eq 0 ]
  grep -qE '^  Warning +BackoffLimitExceeded +.* +job-controller +Job has reached the specified backoff limit$' <<<"$output"
  sleep 1
  run prn get pods -l job-name=fail -o name
  [ "$(wc -l <<<"$output")" -eq 2 ]
  run prn delete job fail
  wait_long no_loop
  assert_no_pods
}

@test "jobs: activeDeadlineSeconds fails the Job (DeadlineExceeded), its active pod is deleted, and the events say so" {
  job_yaml slow "  activeDeadlineSeconds: 2" 'trap \"exit 0\" TERM; while :; do sleep 0.2; done' > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 0 ]
  pod=$(prn get pods -l job-name=slow -o name | sed 's|^pod/||')
  [ -n "$pod" ]
  wait_long job_is slow "Failed 0/1"
  run prn get job slow -o json
  [ "$(jq -r '.status.conditions[] | select(.type == "Failed") | .status + " " + .reason + " " + .message' <<<"$output")" = "True DeadlineExceeded Job was active longer than specified deadline" ]
  wait_long job_event slow DeadlineExceeded
  run prn get events
  [ "$status" -eq 0 ]
  grep -qE ' +Warning +DeadlineExceeded +job/slow +Job was active longer than specified deadline$' <<<"$output"
  grep -qE ' +Normal +SuccessfulDelete +job/slow +Deleted pod: '"$pod"'$' <<<"$output"
  run prn describe job slow
  grep -qE '^  Warning +DeadlineExceeded +.* +job-controller +Job was active longer than specified deadline$' <<<"$output"
  # Its pod is gone (no Job pod runs past the deadline).
  nopod() { [ -z "$(prn get pods -l job-name=slow -o name 2>/dev/null)" ]; }
  wait_long nopod
  run prn delete job slow
  wait_long no_loop
  assert_no_pods
}

@test "jobs: Indexed completions: one pod per index with JOB_COMPLETION_INDEX and the annotation" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  job_yaml idx "  completions: 3
  parallelism: 3
  completionMode: Indexed" 'echo $JOB_COMPLETION_INDEX > /data/$(hostname)' \
    "$BATS_TEST_TMPDIR/data" > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 0 ]
  wait_long job_is idx "Complete 3/3"
  for i in 0 1 2; do
    [ "$(cat "$BATS_TEST_TMPDIR/data/idx-$i")" = "$i" ]
  done
  run prn get job idx -o json
  [ "$(jq -r .status.completedIndexes <<<"$output")" = 0-2 ]
  run prn get pods -l batch.kubernetes.io/job-completion-index=1 -o json
  [ "$(jq -r '.items | length' <<<"$output")" = 1 ]
  [[ "$(jq -r '.items[0].metadata.name' <<<"$output")" =~ ^idx-1-[a-z0-9]{5}$ ]]
  [ "$(jq -r '.items[0].metadata.annotations["batch.kubernetes.io/job-completion-index"]' <<<"$output")" = 1 ]
  run prn delete job idx
  wait_long no_loop
  assert_no_pods
}

@test "jobs: refused as the API server refuses them" {
  job_yaml bad "  completions: 1" 'true' | sed 's/restartPolicy: Never/restartPolicy: Always/' > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'* ]]
  job_yaml bad "  podFailurePolicy: {rules: []}" 'true' > "$BATS_TEST_TMPDIR/job.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/job.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.podFailurePolicy: not supported by podrun"* ]]
  run prn get jobs
  [ "$status" -eq 0 ]
  [ "$output" = "No resources found in default namespace." ]
  no_loop
}

# cronjob_yaml NAME SPEC-LINES COMMAND
cronjob_yaml() {
  cat <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: $1
spec:
  schedule: "* * * * *"
$2
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: work
            image: busybox
            imagePullPolicy: IfNotPresent
            command: ["sh", "-c", "$3"]
YAML
}

complete_jobs() { # NAME: how many of its Jobs are Complete
  prn get jobs 2>/dev/null | awk -v n="$1" 'NR > 1 && index($1, n "-") == 1 && $2 == "Complete" { c++ } END { print c + 0 }'
}

complete_is() { # NAME N: exactly N of its Jobs are Complete
  [ "$(complete_jobs "$1")" -eq "$2" ]
}

completed_seen() { # NAME MIN: MIN distinct Jobs of it seen Complete (kept in $BATS_TEST_TMPDIR/done)
  prn get jobs 2>/dev/null | awk -v n="$1" 'NR > 1 && index($1, n "-") == 1 && $2 == "Complete" { print $1 }' \
    >> "$BATS_TEST_TMPDIR/done"
  [ "$(sort -u "$BATS_TEST_TMPDIR/done" | wc -l)" -ge "$2" ]
}

schedules_seen() { # NAME MIN: lastScheduleTime changed MIN times (recorded in $BATS_TEST_TMPDIR/seen)
  local t
  t=$(prn get cronjob "$1" -o json 2>/dev/null | jq -r '.status.lastScheduleTime // empty')
  [ -n "$t" ] && { grep -qx "$t" "$BATS_TEST_TMPDIR/seen" 2>/dev/null || echo "$t" >> "$BATS_TEST_TMPDIR/seen"; }
  [ "$(wc -l < "$BATS_TEST_TMPDIR/seen" 2>/dev/null || echo 0)" -ge "$2" ]
}

@test "cronjobs: every minute (the clock sped up 60 times), jobs CRON-<minutes>, history limit, delete" {
  # The test hook: one scheduled minute per real second.
  export PODRUN_CRON_TIME_SCALE=60
  cronjob_yaml hello "  successfulJobsHistoryLimit: 2" 'echo hello' > "$BATS_TEST_TMPDIR/cj.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/cj.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "cronjob.batch/hello created" ]
  wait_long schedules_seen hello 4
  # The history keeps the 2 newest succeeded Jobs (more may run meanwhile: Allow): once a
  # third has completed, the oldest goes.
  wait_long completed_seen hello 3
  wait_long complete_is hello 2
  run prn get jobs -o name
  [ "$status" -eq 0 ]
  [ "$(wc -l <<<"$output")" -ge 2 ]
  [[ "$(head -1 <<<"$output")" =~ ^job.batch/hello-[0-9]{8}$ ]]
  run prn get cronjobs
  [ "$status" -eq 0 ]
  [ "$(head -1 <<<"$output" | tr -s ' ')" = "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE" ]
  [[ "$(sed -n 2p <<<"$output" | tr -s ' ')" == "hello * * * * * <none> False "[0-9]" "* ]]
  run prn get cj hello -o json
  [ "$(jq -r '.status.lastSuccessfulTime != null' <<<"$output")" = true ]
  run prn describe cronjob hello
  [ "$status" -eq 0 ]
  grep -qx 'Schedule:                      \* \* \* \* \*' <<<"$output"
  grep -qx 'Successful Job History Limit:  2' <<<"$output"
  # The cronjob-controller's events: it made Jobs, saw them complete and deleted the oldest.
  grep -qE '^  Normal +SuccessfulCreate +.* +cronjob-controller +Created job hello-[0-9]{8}$' <<<"$output"
  grep -qE '^  Normal +SawCompletedJob +.* +cronjob-controller +Saw completed job: hello-[0-9]{8}, status: Complete$' <<<"$output"
  grep -qE '^  Normal +SuccessfulDelete +.* +cronjob-controller +Deleted job hello-[0-9]{8}$' <<<"$output"
  # A Job's scheduled minute is its name's.
  job=$(prn get jobs -o name | head -1)
  run prn get job "${job#job.batch/}" -o json
  ts=$(jq -r '.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]' <<<"$output")
  [ "$(( $(date -u -d "$ts" +%s) / 60 ))" = "${job##*-}" ]
  run prn delete cronjob hello
  [ "$status" -eq 0 ]
  [ "$output" = 'cronjob.batch "hello" deleted' ]
  run prn get jobs -o name
  [ -z "$output" ]
  wait_long no_loop
  assert_no_pods
}

@test "cronjobs: concurrencyPolicy Forbid runs one Job at a time; suspend stops new ones" {
  export PODRUN_CRON_TIME_SCALE=60
  cronjob_yaml slow "  concurrencyPolicy: Forbid" 'sleep 3' > "$BATS_TEST_TMPDIR/cj.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/cj.yaml"
  [ "$status" -eq 0 ]
  wait_long schedules_seen slow 1
  for i in 1 2 3 4 5 6 7 8; do
    run prn get cronjob slow -o json
    [ "$(jq -r '.status.active | length' <<<"$output")" -le 1 ]
    sleep 0.4
  done
  run prn get jobs -o name
  [ "$(wc -l <<<"$output")" -le 2 ]
  sed -i 's/concurrencyPolicy: Forbid/suspend: true/' "$BATS_TEST_TMPDIR/cj.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/cj.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "cronjob.batch/slow configured" ]
  before=$(prn get cronjob slow -o json | jq -r .status.lastScheduleTime)
  sleep 2.5
  [ "$(prn get cronjob slow -o json | jq -r .status.lastScheduleTime)" = "$before" ]
  run prn get cronjobs slow
  [ "$(sed -n 2p <<<"$output" | awk '{print $8}')" = True ]
  run prn delete cronjob slow
  wait_long no_loop
  assert_no_pods
}

@test "cronjobs: timeZone Europe/Berlin runs 09:00 Berlin time (the clock sped up 3600 times); unknown zones refused" {
  # One scheduled hour per real second: the first 09:00 comes within 24 s.
  export PODRUN_CRON_TIME_SCALE=3600
  cronjob_yaml berlin "  timeZone: Europe/Berlin" 'true' | sed 's/schedule: "\* \* \* \* \*"/schedule: "0 9 * * *"/' \
    > "$BATS_TEST_TMPDIR/cj.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/cj.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = "cronjob.batch/berlin created" ]
  run prn get cronjobs berlin
  [ "$status" -eq 0 ]
  [[ "$(sed -n 2p <<<"$output" | tr -s ' ')" == "berlin 0 9 * * * Europe/Berlin False "* ]]
  wait_long schedules_seen berlin 1
  ts=$(head -1 "$BATS_TEST_TMPDIR/seen")
  # 09:00 on that day in Berlin, as glibc's own zone code puts it in UTC (07:00 or 08:00).
  want=$(date -u -d "TZ=\"Europe/Berlin\" ${ts%%T*} 09:00" +%Y-%m-%dT%H:%M:%SZ)
  [ "$ts" = "$want" ]
  run prn get job "berlin-$(( $(date -u -d "$ts" +%s) / 60 ))" -o name
  [ "$status" -eq 0 ]
  run prn delete cronjob berlin
  [ "$status" -eq 0 ]
  wait_long no_loop
  assert_no_pods
  for zone in Mars/Olympus Europe/../../../etc/passwd; do
    cronjob_yaml bad "  timeZone: $zone" 'true' > "$BATS_TEST_TMPDIR/bad.yaml"
    run prn apply -f "$BATS_TEST_TMPDIR/bad.yaml"
    [ "$status" -eq 1 ]
    [[ "$output" == *"spec.timeZone: Invalid value: \"$zone\": unknown time zone $zone"* ]]
  done
  cronjob_yaml bad "  timeZone: Local" 'true' > "$BATS_TEST_TMPDIR/bad.yaml"
  run prn apply -f "$BATS_TEST_TMPDIR/bad.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'* ]]
  run prn get cronjobs
  [ "$output" = "No resources found in default namespace." ]
}
