#!/usr/bin/env bash
# Sets up, builds the bundle the integration tests load and MLT (a real OFX host), and runs
# every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo build --workspace --all-targets
./target/debug/dreamfx-bundle build --out target/debug
# MLT 7.40's melt, the real host the tests render through (built once, cached in ~/.cache/dreamfx).
bash scripts/build-mlt.sh >/dev/null
# The official HostSupport library's headless host (tests/hostsupport/).
bash scripts/build-hostsupport-host.sh >/dev/null
cargo test --workspace -- --test-threads 2
