"""The Python side of `cargo bench -p dreamfx-runtime --bench wan_step`: the same medium Wan
config with random weights, one transformer forward (one denoising step without guidance) and
one VAE decode in diffusers on CPU, fp32. Prints one JSON line: seconds (median of runs) and
peak resident memory (VmHWM, reset before each measurement) in MiB.

Run by the bench with third_party/pyref/bin/python (see diffusion/fixtures/wan/README.md)."""
import json, sys, time

import torch
from diffusers import AutoencoderKLWan, WanTransformer3DModel

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
    tr = WanTransformer3DModel(**cfg["transformer"]).eval()
    lat = cfg["latent"]
    x = torch.randn(lat)
    t = torch.tensor([500.0])
    ctx = torch.randn([1, 512, cfg["transformer"]["text_dim"]])
    reset_peak()
    out["step_s"] = timed(lambda: tr(hidden_states=x, timestep=t, encoder_hidden_states=ctx, return_dict=False))
    out["step_peak_mib"] = peak_mib()
    del tr
    vae = AutoencoderKLWan(**cfg["vae"]).eval()
    z = torch.randn([1, cfg["vae"]["z_dim"]] + lat[2:])
    reset_peak()
    out["decode_s"] = timed(lambda: vae.decode(z, return_dict=False))
    out["decode_peak_mib"] = peak_mib()
print(json.dumps(out))
