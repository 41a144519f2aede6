#!/usr/bin/env bash
# Builds the headless HostSupport host (tests/hostsupport/) against the official ASWF
# HostSupport library that scripts/fetch-openfx.sh put in third_party/openfx, into
# target/hostsupport/. Needs g++ and libexpat1-dev (scripts/setup.sh installs them as root).
# Rebuilds only when a source changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ofx="$root/third_party/openfx"
out="$root/target/hostsupport"
[ -d "$ofx/HostSupport/src" ] || bash "$root/scripts/fetch-openfx.sh" >/dev/null
command -v g++ >/dev/null || { echo "build-hostsupport-host: g++ is missing (apt-get install g++)" >&2; exit 1; }
[ -f /usr/include/expat.h ] || { echo "build-hostsupport-host: expat.h is missing (apt-get install libexpat1-dev)" >&2; exit 1; }
mkdir -p "$out/obj"
flags=(-std=gnu++11 -O1 -w -I"$ofx/include" -I"$ofx/HostSupport/include")
stamp=$( (cat "$ofx/HostSupport/src"/*.cpp "$root/tests/hostsupport"/*.cpp; echo "${flags[*]}") | sha256sum | cut -c1-16)
if [ -x "$out/dreamfx-hostsupport-host" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$out/dreamfx-hostsupport-host"; exit 0
fi
ls "$ofx/HostSupport/src"/*.cpp "$root/tests/hostsupport"/*.cpp | xargs -P 2 -I{} sh -c \
  'g++ '"${flags[*]}"' -c "{}" -o "'"$out"'/obj/$(basename "{}" .cpp).o"'
g++ "$out/obj"/*.o -o "$out/dreamfx-hostsupport-host" -lexpat -ldl -lpthread
echo "$stamp" > "$out/stamp"
echo "$out/dreamfx-hostsupport-host"
