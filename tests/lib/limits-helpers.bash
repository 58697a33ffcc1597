# SPDX-License-Identifier: Apache-2.0
# For tests of input limits (DESIGN.md, "Limits"): without its limit a program given /dev/zero
# or a huge file allocates until the machine runs out, so those tests run it bounded. Then a
# regression fails the test (an abort, a non-zero status, a timeout) and nothing else.

# bounded CMD [ARG...]: runs CMD with at most 1 GiB of address space and 60 s. Sanitizer
# builds reserve terabytes of shadow memory up front, so there ASan's own RSS limit stands in.
bounded() {
  if ldd "$PODRUN_BUILD/cni/podrun-ipam" 2>/dev/null | grep -q libasan; then
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=1024" timeout 60 "$@"
  else
    (ulimit -v 1048576 && exec timeout 60 "$@")
  fi
}

# pad_json FILE BYTES: adds a "padding" member of BYTES characters to the JSON object in FILE,
# so it stays valid and means the same but is that much larger.
pad_json() {
  head -c "$2" /dev/zero | tr '\0' x > "$1.padding"
  jq -c --rawfile p "$1.padding" '.padding = $p' "$1" > "$1.new"
  mv "$1.new" "$1"
  rm -f "$1.padding"
}

# nested_json DEPTH: a JSON array nested DEPTH deep.
nested_json() {
  head -c "$1" /dev/zero | tr '\0' '['
  head -c "$1" /dev/zero | tr '\0' ']'
}
