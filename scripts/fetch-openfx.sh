#!/usr/bin/env bash
# Fetches the official OpenFX tree (ASWF: the C headers and the HostSupport host library) into
# third_party/openfx. It comes vendored whole in the crates.io crate `openfx-sys` 0.1.0, so
# cargo downloads it through the package registry and checks it against the index's checksum.
# The headers are where every OFX name in dreamfx comes from (host-adapter/src/sys/names.rs is
# generated from them); HostSupport is the second, independent test host (tests/hostsupport/).
set -euo pipefail
VERSION=0.1.0
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/third_party/openfx"
stamp="$dest/.dreamfx-stamp"
want="openfx-sys=$VERSION"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dest/include/ofxCore.h" ]; then
  echo "OpenFX headers and HostSupport already in $dest"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
touch "$work/src/lib.rs"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "dreamfx-fetch-openfx"
version = "0.0.0"
edition = "2021"
[dependencies]
openfx-sys = "=$VERSION"
TOML
cargo fetch --quiet --manifest-path "$work/Cargo.toml" \
  || { echo "fetch-openfx: cargo could not fetch openfx-sys $VERSION from crates.io" >&2; exit 1; }
src=$(cargo metadata --quiet --format-version 1 --manifest-path "$work/Cargo.toml" \
  | python3 -c 'import json,sys,os; m=json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]=="openfx-sys"))')
[ -f "$src/openfx/include/ofxCore.h" ] || { echo "fetch-openfx: no openfx/include in $src" >&2; exit 1; }
rm -rf "$dest.partial" && mkdir -p "$dest.partial"
cp -r "$src/openfx/include" "$src/openfx/HostSupport" "$src/openfx/LICENSE.md" "$dest.partial/"
rm -rf "$dest" && mv "$dest.partial" "$dest"
echo "$want" > "$stamp"
echo "OpenFX headers and HostSupport (openfx-sys $VERSION) ready in $dest"
