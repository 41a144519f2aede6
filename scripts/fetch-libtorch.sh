#!/usr/bin/env bash
# Fetches the libtorch that tch 0.26 expects (2.13.0) from PyPI wheels and unpacks only what the
# CPU path needs into third_party/libtorch. Idempotent: does nothing when the stamp file matches.
#
# Why wheels: PyPI carries no CPU-only Linux libtorch; the torch wheel (a CUDA build) holds
# include/ and lib/, and libtorch_cpu.so also needs libcudart/libcupti, which come from two small
# nvidia wheels and are placed beside it (libtorch_cpu searches $ORIGIN).
set -euo pipefail

TORCH_VERSION=2.13.0
CUDART_VERSION=13.0.96
CUPTI_VERSION=13.0.85
PY_TAG=cp311

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/third_party/libtorch"
stamp="$dest/.dreamfx-stamp"
want="torch=$TORCH_VERSION cudart=$CUDART_VERSION cupti=$CUPTI_VERSION"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$dest/lib/libtorch_cpu.so" ]; then
  echo "libtorch $TORCH_VERSION already in $dest"
  exit 0
fi

fail() { echo "fetch-libtorch: $*" >&2; exit 1; }
command -v python3 >/dev/null || fail "python3 is needed to download the torch wheel (apt-get install python3 python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || fail "pip is needed (apt-get install python3-pip)"

wheels="$root/third_party/wheels"
mkdir -p "$wheels"
dl() { # name==version
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi "$PY_TAG" $(for v in 17 24 25 26 27 28; do printf -- '--platform manylinux_2_%s_x86_64 ' $v; done) \
    --platform manylinux2014_x86_64 \
    -d "$wheels" "$1" >/dev/null \
    || fail "could not download $1 from PyPI (is the package registry reachable? pip's message is above)"
}
echo "downloading torch==$TORCH_VERSION (~530 MB) and the CUDA runtime wheels it links against..."
dl "torch==$TORCH_VERSION"
dl "nvidia-cuda-runtime==$CUDART_VERSION"
dl "nvidia-cuda-cupti==$CUPTI_VERSION"

python3 - "$wheels" "$dest" "$TORCH_VERSION" <<'PY'
import sys, zipfile, glob, os, shutil, stat
wheels, dest, ver = sys.argv[1:]
tmp = dest + ".partial"
shutil.rmtree(tmp, ignore_errors=True)
os.makedirs(os.path.join(tmp, "lib"))
def one(pattern):
    found = sorted(glob.glob(os.path.join(wheels, pattern)))
    if not found:
        sys.exit(f"fetch-libtorch: no wheel matching {pattern} in {wheels}")
    return found[-1]
torch_whl = one(f"torch-{ver}-*.whl")
needed_libs = {"libtorch_cpu.so", "libc10.so", "libtorch.so", "libgomp.so.1"}
with zipfile.ZipFile(torch_whl) as z:
    bad = z.testzip()
    if bad:
        sys.exit(f"fetch-libtorch: {torch_whl} is corrupt at {bad}; delete it and run again")
    for info in z.infolist():
        name = info.filename
        if name.startswith("torch/include/") and not name.endswith("/"):
            out = os.path.join(tmp, name[len("torch/"):])
        elif name.startswith("torch/lib/") and os.path.basename(name) in needed_libs:
            out = os.path.join(tmp, "lib", os.path.basename(name))
        elif name.startswith("torch/share/cmake/") and not name.endswith("/"):
            out = os.path.join(tmp, name[len("torch/"):])
        else:
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
for pat, lib in [("nvidia_cuda_runtime-*.whl", "libcudart.so.13"), ("nvidia_cuda_cupti-*.whl", "libcupti.so.13")]:
    with zipfile.ZipFile(one(pat)) as z:
        members = [n for n in z.namelist() if os.path.basename(n) == lib]
        if not members:
            sys.exit(f"fetch-libtorch: {lib} not found in {pat}")
        with z.open(members[0]) as src, open(os.path.join(tmp, "lib", lib), "wb") as dst:
            shutil.copyfileobj(src, dst)
missing = [l for l in needed_libs | {"libcudart.so.13", "libcupti.so.13"} if not os.path.exists(os.path.join(tmp, "lib", l))]
if missing:
    sys.exit(f"fetch-libtorch: the wheel lacked {missing}")
for f in os.listdir(os.path.join(tmp, "lib")):
    p = os.path.join(tmp, "lib", f)
    os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR | stat.S_IRUSR)
shutil.rmtree(dest, ignore_errors=True)
os.rename(tmp, dest)
PY
echo "$want" > "$stamp"
du -sh "$dest"
echo "libtorch $TORCH_VERSION ready in $dest"
