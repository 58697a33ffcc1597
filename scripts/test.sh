#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: install what is needed, build (plain, with ASan+UBSan, and the libFuzzer
# targets with clang), and run the unit tests, the bats integration tests, each fuzz target over
# its corpus, and the pure cgroup v2 lane. Ends with the line
# "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
PODRUN_BUILD=$PWD/build ./scripts/build.sh
PODRUN_BUILD=$PWD/build-asan ./scripts/build.sh --enable-asan
PODRUN_BUILD=$PWD/build-fuzz ./scripts/build.sh --enable-fuzzing
exec ./tests/run-all.sh
