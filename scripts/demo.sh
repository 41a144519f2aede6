#!/usr/bin/env bash
# The main job on a fresh machine: sets up, builds, generates a clip from a prompt with the
# built-in model dreamfx-tiny (frames, contact sheet and GIF in out/tiny/), then installs
# dreamfx.ofx.bundle and, through it in a host (the project's test host loading the bundle as
# any OFX host does), renders Text to Video and Image to Video frame by frame (out/generate/)
# and a clip through Temporal Refine (out/demo/).
#
#   scripts/demo.sh                                   # default prompt and seed
#   DREAMFX_PROMPT="a yellow star moves up on a black background" DREAMFX_SEED=3 scripts/demo.sh
#
# Options after the script name go to refine-demo (e.g. --frames 48 --width 1280 --height 720).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo build --release -p dreamfx-plugins -p dreamfx-runtime -p dreamfx-cli -p dreamfx-bundles -p dreamfx-examples

echo "== text to video with dreamfx-tiny =="
./target/release/dreamfx generate --out "$root/out/tiny" --force \
  --prompt "${DREAMFX_PROMPT:-a red circle moves left on a dark blue background}" \
  --seed "${DREAMFX_SEED:-0}"

plugin_dir=${OFX_PLUGIN_PATH:-$root/out/OFX/Plugins}
plugin_dir=${plugin_dir%%:*}
./target/release/dreamfx-bundle install --to "$plugin_dir"

echo "== Text to Video and Image to Video through the OFX bundle =="
OFX_PLUGIN_PATH="$plugin_dir" ./target/release/generate-demo --out "$root/out/generate" \
  --prompt "${DREAMFX_PROMPT:-a red circle moves left on a dark blue background}" \
  --seed "${DREAMFX_SEED:-0}"

echo "== Temporal Refine through the OFX bundle =="
OFX_PLUGIN_PATH="$plugin_dir" ./target/release/refine-demo --out "$root/out/demo" "$@"
