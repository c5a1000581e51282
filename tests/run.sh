#!/usr/bin/env bash
# Runs every test of edulake: installs what the tests need, then the Rust unit tests and the
# one integration-test binary (which drives the real binary, Python readers and an S3 server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace "$@"
fi
