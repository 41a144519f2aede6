"""The Python side of `cargo bench -p dreamfx-diffusion --bench mochi_step`: the same medium
Mochi config with random weights, one transformer forward (one denoising step: the CFG batch of
2, as MochiPipeline runs it) and one VAE decode in diffusers on CPU, fp32. Prints one JSON line:
seconds (median of runs) and peak resident memory (VmHWM, reset before each measurement) in MiB.

Run by the bench with third_party/pyref/bin/python (see diffusion/fixtures/mochi/README.md)."""
import json, sys, time

import torch
from diffusers import AutoencoderKLMochi, MochiTransformer3DModel

cfg = json.loads(sys.argv[1])
runs = int(sys.argv[2])
torch.set_num_threads(int(sys.argv[3]))
torch.manual_seed(0)


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


out = {}
with torch.no_grad():
    tr = MochiTransformer3DModel(**cfg["transformer"]).eval()
    lat = cfg["latent"]
    x = torch.randn([2] + lat[1:])
    t = torch.tensor([500.0, 500.0])
    text_len = cfg["text_len"]
    ctx = torch.randn([2, text_len, cfg["transformer"]["text_embed_dim"]])
    mask = torch.zeros(2, text_len, dtype=torch.bool)
    mask[0, : cfg["negative_tokens"]] = True
    mask[1, : cfg["prompt_tokens"]] = True
    reset_peak()
    out["step_s"] = timed(
        lambda: tr(hidden_states=x, encoder_hidden_states=ctx, timestep=t, encoder_attention_mask=mask, return_dict=False)
    )
    out["step_peak_mib"] = peak_mib()
    del tr
    vae = AutoencoderKLMochi(**cfg["vae"]).eval()
    z = torch.randn(lat)
    reset_peak()
    out["decode_s"] = timed(lambda: vae.decode(z, return_dict=False))
    out["decode_peak_mib"] = peak_mib()
print(json.dumps(out))
