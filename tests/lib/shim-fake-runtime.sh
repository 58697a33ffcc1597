#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A runtime for the shim's fault tests: passes everything to $FAKE_RUNTIME_REAL except the
# commands listed (comma-separated) in FAKE_RUNTIME_FAIL (fail with a runc-style log line) or
# FAKE_RUNTIME_HANG (never answer).
log=
cmd=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --log)
      log=${args[i + 1]}
      i=$((i + 1))
      ;;
    --root | --log-format) i=$((i + 1)) ;;
    -*) ;;
    *)
      cmd=${args[i]}
      break
      ;;
  esac
done
if [ -n "$cmd" ] && [[ ",${FAKE_RUNTIME_FAIL:-}," == *",$cmd,"* ]]; then
  msg="fake runtime: $cmd refused"
  [ -n "$log" ] && printf '{"level":"error","msg":"%s","time":"%s"}\n' "$msg" "$(date -u +%FT%TZ)" >> "$log"
  echo "$msg" >&2
  exit 1
fi
if [ -n "$cmd" ] && [[ ",${FAKE_RUNTIME_HANG:-}," == *",$cmd,"* ]]; then
  exec sleep 1000
fi
exec "$FAKE_RUNTIME_REAL" "$@"
