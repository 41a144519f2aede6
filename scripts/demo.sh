#!/usr/bin/env bash
# Sets up, builds and installs dreamfx.ofx.bundle, then renders a short clip through Temporal
# Refine in the test host, writing before/after images to out/demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo build --release -p dreamfx-plugins -p dreamfx-runtime -p dreamfx-bundles -p dreamfx-examples
plugin_dir=${OFX_PLUGIN_PATH:-$root/out/OFX/Plugins}
plugin_dir=${plugin_dir%%:*}
./target/release/dreamfx-bundle install --to "$plugin_dir"
OFX_PLUGIN_PATH="$plugin_dir" ./target/release/refine-demo --out "$root/out/demo" "$@"
