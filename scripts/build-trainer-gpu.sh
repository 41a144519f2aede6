#!/usr/bin/env bash
# Builds `train-tiny` for a CUDA machine whose Python has torch 2.11.0 (the device machines lent
# here: PyTorch 2.11.0+cu130, no Rust, no network). The workspace uses tch 0.26 (libtorch 2.13);
# tch 0.24 is the release for libtorch 2.11, so this builds a copy of the workspace with tch 0.24
# against the torch 2.11.0 wheel from PyPI (its libtorch_cuda is linked in, the CUDA libraries
# it needs are resolved on the GPU machine).
#
#   scripts/build-trainer-gpu.sh            # -> target/gpu-trainer/train-tiny (stripped)
#
# On the GPU machine, beside a copy of the repo:
#   export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')/lib
#   export TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1      # TF32 matmuls: several times faster, same result quality
#   ./train-tiny --device cuda --threads 16 ...     # flags as in models/dreamfx-tiny/MODEL_CARD.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/target/gpu-trainer"
torch_version=2.11.0
mkdir -p "$work/wheels"

if [ ! -f "$work/libtorch/lib/libtorch_cuda.so" ]; then
  echo "downloading torch==$torch_version (~530 MB, once)..."
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 --implementation cp \
    --abi cp311 $(for v in 17 24 25 26 27 28; do printf -- '--platform manylinux_2_%s_x86_64 ' $v; done) \
    --platform manylinux2014_x86_64 -d "$work/wheels" "torch==$torch_version" >/dev/null
  rm -rf "$work/unpacked" && mkdir -p "$work/unpacked"
  (cd "$work/unpacked" && unzip -q "$work"/wheels/torch-$torch_version-*.whl 'torch/include/*' 'torch/lib/*' 'torch/share/*')
  rm -rf "$work/libtorch" && mv "$work/unpacked/torch" "$work/libtorch" && rm -rf "$work/unpacked"
fi

# A copy of the tracked sources with tch 0.24 (and no .cargo/config pointing at libtorch 2.13).
rm -rf "$work/src" && mkdir -p "$work/src"
(cd "$root" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$work/src"
rm -f "$work/src/.cargo/config.toml"
sed -i 's/^tch = "0.26"/tch = "0.24"/' "$work/src/Cargo.toml"

cd "$work/src"
export LIBTORCH="$work/libtorch"
# libtorch_cuda's own CUDA dependencies are not here: let the link leave them to the GPU machine.
export RUSTFLAGS="-C link-arg=-Wl,--allow-shlib-undefined"
export CARGO_TARGET_DIR="$work/target"
# --no-as-needed keeps libtorch_cuda (only static initialisers use it: without it libtorch sees
# no GPU).
cargo rustc --release -p dreamfx-tiny --bin train-tiny -- \
  -C link-arg=-Wl,--no-as-needed -C link-arg=-L"$LIBTORCH/lib" \
  -C link-arg=-ltorch_cuda -C link-arg=-lc10_cuda
cp "$CARGO_TARGET_DIR/release/train-tiny" "$work/train-tiny"
strip "$work/train-tiny"
echo "built $work/train-tiny (tch 0.24, libtorch $torch_version with CUDA)"
