#!/usr/bin/env bash
# Builds MLT 7.40.0 (a real OpenFX host: its `openfx` module loads OFX 1.4 plugins as
# `openfx.<plugin id>` filters) and its `melt` command line from the source tarball in
# tests/mlt/ (the engine of Kdenlive and Shotcut; the tests render through it). The build is
# cached outside the repo. Usage: build-mlt.sh [PREFIX]   (default: $HOME/.cache/dreamfx/mlt-7.40.0)
# Afterwards: PREFIX/melt-env <melt args...>  runs melt with the module paths set.
# Debian/Ubuntu packages needed (the script installs them when run as root and they are missing):
#   cmake ninja-build pkg-config g++ libglib2.0-dev libxml2-dev libavformat-dev libavcodec-dev
#   libavutil-dev libswscale-dev libavfilter-dev libavdevice-dev libswresample-dev
set -euo pipefail
here=$(cd "$(dirname "$0")/../tests/mlt" && pwd)
prefix=${1:-$HOME/.cache/dreamfx/mlt-7.40.0}
if [ -x "$prefix/bin/melt" ] && [ -x "$prefix/melt-env" ]; then echo "$prefix"; exit 0; fi
pkgs="cmake ninja-build pkg-config g++ libglib2.0-dev libxml2-dev libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavfilter-dev libavdevice-dev libswresample-dev"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }
  else
    echo "build-mlt.sh: missing packages: $missing (install them, or run as root)" >&2; exit 1
  fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$here/mlt-7.40.0.tar.xz" -C "$work"
off=""
for m in DECKLINK FREI0R GDK JACKRACK KDENLIVE MOVIT NORMALIZE OLDFILM PLUS PLUSGPL QT6 RESAMPLE \
         RTAUDIO RUBBERBAND RNNOISE SDL1 SDL2 SOX VIDSTAB VORBIS XINE GLAXNIMATE_QT6; do
  off="$off -DMOD_$m=OFF"
done
cmake -S "$work/mlt-7.40.0" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DGPL=ON -DGPL3=OFF -DCLANG_FORMAT=OFF -DBUILD_TESTING=OFF \
  -DSWIG_PYTHON=OFF -DMOD_AVFORMAT=ON -DMOD_XML=ON -DMOD_OPENFX=ON $off >"$work/cmake.log" 2>&1 ||
  { tail -30 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
cmake --install "$work/build" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libmlt-7.so*' | head -1)")
moddir=$(dirname "$(find "$prefix" -name 'libmltopenfx.so' | head -1)")
datadir=$(dirname "$(find "$prefix" -name 'filter_openfx.yml' | head -1)")
[ -n "$moddir" ] && [ "$moddir" != . ] || { echo "build-mlt.sh: the openfx module was not built" >&2; exit 1; }
cat >"$prefix/melt-env" <<EOT
#!/usr/bin/env bash
export LD_LIBRARY_PATH="$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export MLT_REPOSITORY="$moddir" MLT_DATA="$(dirname "$datadir")" MLT_PROFILES_PATH="$(dirname "$datadir")/profiles"
exec "$prefix/bin/melt" "\$@"
EOT
chmod +x "$prefix/melt-env"
echo "$prefix"
