#!/usr/bin/env bash
# Continues dreamfx-tiny's DiT and text encoder on a lent GPU machine (PyTorch 2.11 + CUDA, no
# Rust), keeping the committed VAE and so the latent space. Run there, from the repo root, with
# the trainer built here by `scripts/build-trainer-gpu.sh` and carried in an ignored folder:
#
#   bash scripts/gpu-continue-tiny.sh TRAINER INIT_DIR NAME SEED DIT_MINUTES LR [more train-tiny flags]
#   e.g. bash scripts/gpu-continue-tiny.sh .gpubin/train-tiny models/dreamfx-tiny a 20261205 8.2 4e-4 --shape-weights 1,3,2,3,1
#
# Writes $OUT/NAME.log and $OUT/NAME.tar (the model directory without its VAE: untar it, copy
# models/dreamfx-tiny/vae in, then `dreamfx tiny-eval --model DIR`). The model stays in /tmp/NAME: a
# second call on the still-warm machine can continue from it (INIT_DIR /tmp/NAME). The trainer
# is stopped a little after its budget so that the tar always runs: if it was cut short, the
# last checkpoint (every 3 min) is packed instead.
set -uo pipefail
[ $# -ge 6 ] || { sed -n 2,13p "$0"; exit 2; }
trainer=$1 init=$2 name=$3 seed=$4 minutes=$5 lr=$6
shift 6
# The GPU machine's libtorch is its Python's torch (DEVICE=cpu tries the script out here).
if torch_dir=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))' 2>/dev/null); then
  export LD_LIBRARY_PATH=$torch_dir/lib
fi
export TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1
limit=$(python3 -c "print(int($minutes * 60 + 75))")
timeout "$limit" "$trainer" --device "${DEVICE:-cuda}" --threads 14 --seed "$seed" \
  --vae models/dreamfx-tiny/vae --init "$init" --pool-minutes 0.4 --pool-max 60000 \
  --dit-minutes "$minutes" --dit-batch 256 --dit-lr "$lr" --text-len 32 --dit-shift 3 \
  --dit-object-weight 6 --dit-layers 6 --dit-heads 4 --dit-ffn 512 --vae-base-dim 16 \
  --vae-stages 2 --out "/tmp/$name" --work "/tmp/$name-work" "$@" > "$OUT/$name.log" 2>&1
echo "train-tiny exit status $?"
if [ -d "/tmp/$name/transformer" ]; then
  tar -C "/tmp/$name" -cf "$OUT/$name.tar" transformer text_encoder tokenizer scheduler model_index.json MODEL_CARD.md
else
  tar -C "/tmp/$name-work" -cf "$OUT/$name-checkpoint.tar" .
fi
# The log without the progress bar's carriage returns, one line per 30 s of training.
tr '\r' '\n' < "$OUT/$name.log" | awk '!/^\[dit\] step/ || /elapsed [0-9]+:[0-9]0 /' | tail -25
