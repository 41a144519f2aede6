//! One denoising step (a transformer forward over the CFG batch of 2, as `MochiPipeline` runs
//! it) and one VAE decode of a medium Mochi config with random weights, in the runtime (tch) and
//! in the Python reference (diffusers), in the same run, on the same threads; prints times, peak
//! memory and the ratios runtime / reference.
//!
//! `cargo bench -p dreamfx-diffusion --bench mochi_step` (the reference needs third_party/pyref:
//! `scripts/setup-reference.sh`; without it only the runtime's side is printed).
use std::path::PathBuf;
use std::time::Instant;

use dreamfx_diffusion::models::mochi::transformer::{MochiTransformer, MochiTransformerConfig};
use dreamfx_diffusion::models::mochi::vae::{MochiVae, MochiVaeConfig};
use tch::{Device, Kind, Tensor};

const RUNS: usize = 3;

fn config() -> serde_json::Value {
    serde_json::json!({
        // Mochi-1's shape at a quarter of the width: asymmetric streams (768 video, 384 text).
        "transformer": {
            "patch_size": 2, "num_attention_heads": 12, "attention_head_dim": 64,
            "num_layers": 4, "pooled_projection_dim": 384, "in_channels": 12,
            "text_embed_dim": 512, "time_embed_dim": 256
        },
        "vae": {
            "encoder_block_out_channels": [32, 32, 32, 32],
            "decoder_block_out_channels": [32, 64, 128, 192],
            "layers_per_block": [1, 1, 1, 1, 1],
            "add_attention_block": [false, false, false, false, false]
        },
        // 19 frames of 240x416 in latent space
        "latent": [1, 12, 4, 30, 52],
        "text_len": 256, "prompt_tokens": 24, "negative_tokens": 12
    })
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
fn timed(mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..RUNS)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[RUNS / 2]
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    tch::set_num_threads(threads as i32);
    let cfg = config();
    let lat: Vec<i64> = cfg["latent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let int = |k: &str| cfg[k].as_i64().unwrap();
    let _g = tch::no_grad_guard();
    tch::manual_seed(0);

    let tcfg: MochiTransformerConfig = serde_json::from_value(cfg["transformer"].clone()).unwrap();
    let text_dim = tcfg.text_embed_dim;
    let tr = MochiTransformer::new(tcfg, Device::Cpu, Kind::Float).unwrap();
    let mut batch = lat.clone();
    batch[0] = 2;
    let x = Tensor::randn(&batch, (Kind::Float, Device::Cpu));
    let t = Tensor::from_slice(&[500f32, 500.0]);
    let text_len = int("text_len");
    let ctx = Tensor::randn([2, text_len, text_dim], (Kind::Float, Device::Cpu));
    let positions = Tensor::arange(text_len, (Kind::Int64, Device::Cpu));
    let mask = Tensor::stack(
        &[
            positions.lt(int("negative_tokens")),
            positions.lt(int("prompt_tokens")),
        ],
        0,
    );
    reset_peak();
    let step = timed(|| {
        let _ = tr.forward(&x, &t, &ctx, &mask);
    });
    let step_peak = peak_mib();
    drop(tr);

    let vcfg: MochiVaeConfig = serde_json::from_value(cfg["vae"].clone()).unwrap();
    let vae = MochiVae::new(vcfg, Device::Cpu, Kind::Float).unwrap();
    for (_, mut v) in vae.var_store().variables() {
        let _ = v.normal_(0.0, 0.02);
    }
    let z = Tensor::randn(&lat, (Kind::Float, Device::Cpu));
    reset_peak();
    let decode = timed(|| {
        let _ = vae.decode(&z);
    });
    let decode_peak = peak_mib();
    drop(vae);

    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../third_party/pyref/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/mochi_reference_bench.py");
    let reference = if python.is_file() {
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(cfg.to_string())
            .arg(RUNS.to_string())
            .arg(threads.to_string())
            .output()
            .expect("run the reference");
        if !out.status.success() {
            eprintln!("reference failed: {}", String::from_utf8_lossy(&out.stderr));
            None
        } else {
            let line = String::from_utf8_lossy(&out.stdout);
            serde_json::from_str::<serde_json::Value>(line.lines().last().unwrap_or("")).ok()
        }
    } else {
        None
    };

    println!(
        "medium Mochi config: DiT 4 layers x 768/384 (12 heads), CFG batch 2, latent {lat:?}; \
         VAE decoder 32-64-128-192; fp32 CPU, {threads} threads, median of {RUNS}"
    );
    println!(
        "{:<28} {:>12} {:>12} {:>8} {:>14} {:>14}",
        "", "runtime s", "reference s", "ratio", "runtime MiB", "reference MiB"
    );
    let row = |name: &str, ours: f64, our_mem: f64, key: &str, mem_key: &str| match &reference {
        Some(r) => {
            let theirs = r[key].as_f64().unwrap();
            println!(
                "{name:<28} {ours:>12.3} {theirs:>12.3} {:>8.2} {our_mem:>14.0} {:>14.0}",
                ours / theirs,
                r[mem_key].as_f64().unwrap()
            );
        }
        None => println!(
            "{name:<28} {ours:>12.3} {:>12} {:>8} {our_mem:>14.0} {:>14}",
            "-", "-", "-"
        ),
    };
    row(
        "denoising step (1 forward)",
        step,
        step_peak,
        "step_s",
        "step_peak_mib",
    );
    row(
        "VAE decode",
        decode,
        decode_peak,
        "decode_s",
        "decode_peak_mib",
    );
    if reference.is_none() {
        println!(
            "(reference not run: {} missing; run scripts/setup-reference.sh)",
            python.display()
        );
    }
}
