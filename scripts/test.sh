#!/usr/bin/env bash
# The whole test suite: install what is needed, build (plain and with ASan+UBSan), and run the
# unit tests, the bats integration tests and the pure cgroup v2 lane. Ends with the line
# "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
PODRUN_BUILD=$PWD/build ./scripts/build.sh
PODRUN_BUILD=$PWD/build-asan ./scripts/build.sh --enable-asan
exec ./tests/run-all.sh
