#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# podrun-shim logs: CRI format, partial lines, rotation, reopen, no loss under pressure, full disk.

load ../lib/helpers
load ../lib/shim-helpers

setup() {
  shim_setup
}

teardown() {
  standard_teardown
  shim_teardown
}

@test "shim logs: a line longer than the buffer becomes P records then F" {
  # 40000 x's and a newline, then a line without a newline at EOF.
  write_spec "[$(ctr_json a 'head -c 40000 /dev/zero | tr "\0" x; echo; printf tail')]" \
    '{"restartPolicy":"Never"}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\""
  [ "$(st "$(ctr a).reason")" = Completed ]
  [ "$(st "$(ctr a).exitCode")" = 0 ]
  run awk '{print $2, $3, length($4)}' "$LOG_DIR/a.log"
  [ "${lines[0]}" = "stdout P 16384" ]
  [ "${lines[1]}" = "stdout P 16384" ]
  [ "${lines[2]}" = "stdout F 7232" ]
  [ "${lines[3]}" = "stdout F 4" ]
  # Joining the pieces gives the line back.
  [ "$(awk 'NR<=3 {printf "%s", $4}' "$LOG_DIR/a.log" | wc -c)" = 40000 ]
}

@test "shim logs: rotation by size keeps the configured number of files" {
  write_spec "[$(ctr_json a 'i=0; while [ $i -lt 600 ]; do echo "line $i"; i=$((i+1)); done')]" \
    '{"restartPolicy":"Never","logMaxSize":4096,"logMaxFiles":3}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\""
  [ -f "$LOG_DIR/a.log" ] && [ -f "$LOG_DIR/a.log.1" ] && [ -f "$LOG_DIR/a.log.2" ]
  [ ! -e "$LOG_DIR/a.log.3" ]
  for f in "$LOG_DIR"/a.log*; do [ "$(stat -c %s "$f")" -le 4096 ]; done
  # The kept files hold the newest lines, in order, without a gap.
  cat "$LOG_DIR/a.log.2" "$LOG_DIR/a.log.1" "$LOG_DIR/a.log" | awk '{print $5}' > "$BATS_TEST_TMPDIR/nums"
  [ "$(tail -1 "$BATS_TEST_TMPDIR/nums")" = 599 ]
  first=$(head -1 "$BATS_TEST_TMPDIR/nums")
  [ "$first" -gt 0 ]
  seq "$first" 599 | diff - "$BATS_TEST_TMPDIR/nums"
}

@test "shim logs: reopen-logs after an outside rotation" {
  write_spec "[$(ctr_json a 'i=0; while :; do echo "n $i"; i=$((i+1)); sleep 0.05; done')]"
  start_shim
  wait_for grep -q 'n 3$' "$LOG_DIR/a.log"
  mv "$LOG_DIR/a.log" "$LOG_DIR/a.log.moved"
  run shimctl '{"cmd":"reopen-logs"}'
  [ "$status" -eq 0 ]
  wait_for grep -q 'stdout F n' "$LOG_DIR/a.log"
  # Nothing lost across the switch.
  cat "$LOG_DIR/a.log.moved" "$LOG_DIR/a.log" | awk '{print $5}' > "$BATS_TEST_TMPDIR/nums"
  seq 0 "$(tail -1 "$BATS_TEST_TMPDIR/nums")" | diff - "$BATS_TEST_TMPDIR/nums"
}

@test "shim logs: a fast writer loses nothing" {
  write_spec "[$(ctr_json a 'seq 1 200000; seq 1 50000 >&2')]" '{"restartPolicy":"Never","logMaxSize":0}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\"" 300
  [ "$(grep -c ' stdout F ' "$LOG_DIR/a.log")" = 200000 ]
  [ "$(grep -c ' stderr F ' "$LOG_DIR/a.log")" = 50000 ]
  grep ' stdout F ' "$LOG_DIR/a.log" | awk '{print $4}' | diff - <(seq 1 200000)
}

@test "shim logs: a full disk stalls the container instead of losing its output" {
  mkdir -p "$BATS_TEST_TMPDIR/small"
  mount -t tmpfs -o size=24m tmpfs "$BATS_TEST_TMPDIR/small"
  # Leave 64 KiB free: far less than the container writes (about 13 MiB of records).
  dd if=/dev/zero of="$BATS_TEST_TMPDIR/small/filler" bs=64k count=$((24 * 16 - 1)) 2>/dev/null || true
  LOG_DIR=$BATS_TEST_TMPDIR/small
  write_spec "[$(ctr_json a 'seq 1 300000; echo done > /shared/done')]" \
    '{"restartPolicy":"Never","logMaxSize":0}'
  start_shim
  wait_status "$(ctr a).logError != null"
  [ "$(st "$(ctr a).logError")" = "No space left on device" ]
  # The writer is held back by the full pipe, not dropped: it has not finished.
  sleep 1
  [ "$(st "$(ctr a).state")" = running ]
  [ ! -e "$SHARED/done" ]
  # Make room (as a log collector would) and the rest follows.
  rm "$LOG_DIR/filler"
  wait_status "$(ctr a).state == \"terminated\" and $(ctr a).logError == null" 300
  [ -f "$SHARED/done" ]
  # Every line, in order, none lost.
  awk '{print $4}' "$LOG_DIR/a.log" | diff - <(seq 1 300000)
  shimctl '{"cmd":"remove"}'
  umount "$BATS_TEST_TMPDIR/small"
}

@test "shim logs: a logPath that is a device, a FIFO or a symlink is refused, not written or rotated" {
  # Device nodes of our own, in the test's directory: the host's /dev is never touched.
  mknod "$BATS_TEST_TMPDIR/null" c 1 3
  mkfifo "$BATS_TEST_TMPDIR/fifo"
  echo keep > "$BATS_TEST_TMPDIR/target"
  ln -s "$BATS_TEST_TMPDIR/target" "$LOG_DIR/link.log"
  out='i=0; while [ $i -lt 600 ]; do echo "line $i"; i=$((i+1)); done'
  write_spec "[$(ctr_json dev "$out" "{\"logPath\":\"$BATS_TEST_TMPDIR/null\"}"),
               $(ctr_json fifo "$out" "{\"logPath\":\"$BATS_TEST_TMPDIR/fifo\"}"),
               $(ctr_json link "$out")]" \
    '{"restartPolicy":"Never","logMaxSize":4096,"logMaxFiles":3}'
  start_shim
  wait_status '[.containerStatuses[].state] | all(. == "terminated")'
  for c in dev fifo link; do
    [ "$(st "$(ctr $c).reason")" = ContainerCannotRun ]
  done
  [[ "$(st "$(ctr dev).message")" == *"log \`$BATS_TEST_TMPDIR/null\` is not a regular file"* ]]
  [[ "$(st "$(ctr fifo).message")" == *"is not a regular file"* ]]
  [[ "$(st "$(ctr link).message")" == *"is a symbolic link"* ]]
  # Everything is where it was, as it was.
  [ "$(stat -c %F:%t:%T "$BATS_TEST_TMPDIR/null")" = "character special file:1:3" ]
  [ -p "$BATS_TEST_TMPDIR/fifo" ]
  [ "$(readlink "$LOG_DIR/link.log")" = "$BATS_TEST_TMPDIR/target" ]
  [ "$(cat "$BATS_TEST_TMPDIR/target")" = keep ]
  run ls "$BATS_TEST_TMPDIR"/null.* "$BATS_TEST_TMPDIR"/fifo.* "$LOG_DIR"/link.log.*
  [ "$status" -eq 2 ]
  [ "$(st .phase)" = Failed ]
}

@test "shim logs: rotation leaves alone what it did not make among the rotated names" {
  mknod "$LOG_DIR/a.log.2" c 1 3
  echo keep > "$BATS_TEST_TMPDIR/outside"
  ln -s "$BATS_TEST_TMPDIR/outside" "$LOG_DIR/a.log.1"
  write_spec "[$(ctr_json a 'i=0; while [ $i -lt 600 ]; do echo "line $i"; i=$((i+1)); done')]" \
    '{"restartPolicy":"Never","logMaxSize":4096,"logMaxFiles":3}'
  start_shim
  wait_status "$(ctr a).state == \"terminated\""
  [ "$(st "$(ctr a).reason")" = Completed ]
  [ "$(stat -c %F:%t:%T "$LOG_DIR/a.log.2")" = "character special file:1:3" ]
  [ "$(readlink "$LOG_DIR/a.log.1")" = "$BATS_TEST_TMPDIR/outside" ]
  [ "$(cat "$BATS_TEST_TMPDIR/outside")" = keep ]
  [ ! -e "$LOG_DIR/a.log.3" ]
  # The live file still keeps within its size: it starts over instead of rotating.
  [ -f "$LOG_DIR/a.log" ] && [ ! -L "$LOG_DIR/a.log" ]
  [ "$(stat -c %s "$LOG_DIR/a.log")" -le 4096 ]
  [ "$(tail -1 "$LOG_DIR/a.log" | awk '{print $5}')" = 599 ]
  grep -q "not rotating \`$LOG_DIR/a.log\`" "$POD_DIR/shim.log"
}
