#!/usr/bin/env bash
# Sets up, builds the bundle the integration tests load, and runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo build --workspace --all-targets
./target/debug/dreamfx-bundle build --out target/debug
cargo test --workspace -- --test-threads 2
