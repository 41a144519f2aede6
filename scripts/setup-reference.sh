#!/usr/bin/env bash
# The Python reference (torch 2.13 + pinned diffusers/transformers, ~2.6 GB of wheels, runs on
# CPU) in third_party/pyref: needed only to regenerate the parity fixtures (diffusion/fixtures/wan
# and diffusion/fixtures/mochi share this environment) and for the runtime-vs-reference
# benchmark. CI and the tests do not need it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/third_party/pyref"
req="$root/diffusion/fixtures/wan/requirements.txt"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import diffusers, transformers, torch" 2>/dev/null; then
  echo "reference environment ready in $venv"
  exit 0
fi
bash "$root/scripts/fetch-libtorch.sh" >/dev/null # leaves the torch wheel in third_party/wheels
python3 -m venv "$venv"
"$venv/bin/pip" install -q --find-links "$root/third_party/wheels" -r "$req" \
  || { echo "setup-reference: pip could not install $req" >&2; exit 1; }
echo "reference environment ready in $venv"
