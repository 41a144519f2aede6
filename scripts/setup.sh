#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine with Rust and Python 3 needs for dreamfx:
# ffmpeg (the comparison in the Temporal Refine report), libtorch 2.13 from PyPI wheels, and the
# official OpenFX headers and HostSupport library (through crates.io).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v ffmpeg >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo=none; fi
  if [ "$sudo" != none ]; then
    echo "installing ffmpeg from the distribution's packages..."
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ffmpeg >/dev/null \
      || echo "warning: could not install ffmpeg; the quality report will leave out the ffmpeg row" >&2
  else
    echo "warning: ffmpeg missing and no root/sudo to install it; the quality report will leave out the ffmpeg row" >&2
  fi
fi
# g++ and expat build the official HostSupport test host (scripts/build-hostsupport-host.sh).
if ! command -v g++ >/dev/null 2>&1 || [ ! -f /usr/include/expat.h ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo=none; fi
  if [ "$sudo" != none ]; then
    echo "installing g++ and libexpat1-dev from the distribution's packages..."
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq g++ libexpat1-dev >/dev/null 2>&1 ||
      { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq g++ libexpat1-dev >/dev/null; } ||
      echo "warning: could not install g++ and libexpat1-dev; scripts/build-hostsupport-host.sh will fail" >&2
  else
    echo "warning: g++ or libexpat1-dev missing and no root/sudo (needed for the HostSupport test host): apt-get install g++ libexpat1-dev" >&2
  fi
fi
bash "$root/scripts/fetch-libtorch.sh"
bash "$root/scripts/fetch-openfx.sh"
