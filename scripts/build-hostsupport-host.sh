#!/usr/bin/env bash
# Builds the headless HostSupport host (tests/hostsupport/host.cpp) against the official ASWF
# HostSupport library that scripts/fetch-openfx.sh put in third_party/openfx (its src/*.cpp are
# compiled here; its bundled expat is not: the system's libexpat is linked), into
# target/hostsupport/dreamfx-hostsupport-host, and prints that path.
# Needs g++ and libexpat1-dev (scripts/setup.sh installs them as root).
# Incremental: an object is rebuilt only when its source, the headers or the flags changed (a
# hash of them sits next to it); nothing is done when all are up to date.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ofx="$root/third_party/openfx"
out="$root/target/hostsupport"
bin="$out/dreamfx-hostsupport-host"
[ -d "$ofx/HostSupport/src" ] || bash "$root/scripts/fetch-openfx.sh" >/dev/null

missing() {
  echo "build-hostsupport-host: $1 is missing: apt-get install $2 (scripts/setup.sh does)" >&2
  exit 1
}
command -v g++ >/dev/null 2>&1 || missing "the C++ compiler g++" g++
echo '#include <expat.h>' | g++ -E -x c++ - >/dev/null 2>&1 || missing "expat.h" libexpat1-dev

# -w: HostSupport is 2007-era C++ (std::auto_ptr, ...); its warnings are not ours to fix.
flags=(-std=gnu++11 -O1 -w -fPIC -I"$ofx/include" -I"$ofx/HostSupport/include")
libs=(-lexpat -ldl -lpthread)
sources=("$ofx/HostSupport/src"/*.cpp "$root/tests/hostsupport"/*.cpp)
# Everything an object depends on besides its own source.
common=$( (cat "$ofx/include"/*.h "$ofx/HostSupport/include"/*.h; echo "${flags[*]}") | sha256sum | cut -c1-16)

mkdir -p "$out/obj"
todo=()
objs=()
for src in "${sources[@]}"; do
  name=$(basename "$src" .cpp)
  [ "$src" = "${src#"$root/tests/hostsupport/"}" ] || name="host-$name"
  obj="$out/obj/$name.o"
  objs+=("$obj")
  want="$common-$(sha256sum "$src" | cut -c1-16)"
  if [ ! -f "$obj" ] || [ "$(cat "$obj.hash" 2>/dev/null)" != "$want" ]; then
    rm -f "$obj" "$obj.hash"
    todo+=("$src|$obj|$want")
  fi
done
# Objects of sources that no longer exist.
for obj in "$out/obj"/*.o; do
  [ -e "$obj" ] || continue
  case " ${objs[*]} " in *" $obj "*) ;; *) rm -f "$obj" "$obj.hash" ;; esac
done

if [ ${#todo[@]} -gt 0 ]; then
  # Two at a time (the machines this runs on have two cores).
  export FLAGS="${flags[*]}"
  if ! printf '%s\n' "${todo[@]}" | xargs -P 2 -I{} sh -c '
      src=${1%%|*}; rest=${1#*|}; obj=${rest%%|*}; want=${rest#*|}
      g++ $FLAGS -c "$src" -o "$obj" 2>"$obj.log" && echo "$want" >"$obj.hash" && rm -f "$obj.log"' _ {}; then
    cat "$out/obj"/*.log >&2 2>/dev/null || true
    echo "build-hostsupport-host: compiling failed (errors above)" >&2
    exit 1
  fi
fi

if [ ${#todo[@]} -gt 0 ] || [ ! -x "$bin" ]; then
  if ! g++ "${objs[@]}" -o "$bin.tmp" "${libs[@]}" 2>"$out/link.log"; then
    cat "$out/link.log" >&2
    grep -q -- "-lexpat" "$out/link.log" && missing "libexpat.so" libexpat1-dev
    echo "build-hostsupport-host: linking failed (errors above)" >&2
    exit 1
  fi
  mv "$bin.tmp" "$bin"
  rm -f "$out/stamp" "$out/link.log"
fi
echo "$bin"
