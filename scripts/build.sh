#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures (once) and builds podrun out of tree, in $PODRUN_BUILD (default: build/ in the
# source tree). Extra arguments go to ./configure and force a reconfigure.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PODRUN_BUILD:-$src/build}
if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ]; then
  (cd "$src" && autoreconf -fi >/dev/null 2>&1) || (cd "$src" && autoreconf -fi)
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ $# -gt 0 ]; then
  "$src/configure" --quiet "$@"
fi
make -s -j"$(nproc)"
make -s -j"$(nproc)" check TESTS= >/dev/null
