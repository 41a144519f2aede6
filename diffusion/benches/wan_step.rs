//! One denoising step (a transformer forward) and one VAE decode of a medium Wan config with
//! random weights, in the runtime (tch) and in the Python reference (diffusers), in the same
//! run, on the same threads; prints times, peak memory and the ratios runtime / reference.
//!
//! `cargo bench -p dreamfx-diffusion --bench wan_step` (the reference needs third_party/pyref:
//! see diffusion/fixtures/wan/README.md; without it only the runtime's side is printed).
use std::path::PathBuf;
use std::time::Instant;

use dreamfx_diffusion::models::wan::transformer::{WanTransformer, WanTransformerConfig};
use dreamfx_diffusion::models::wan::vae::{WanVae, WanVaeConfig};
use tch::{nn, Device, Kind, Tensor};

const RUNS: usize = 3;

fn config() -> serde_json::Value {
    serde_json::json!({
        "transformer": {
            "patch_size": [1, 2, 2], "num_attention_heads": 12, "attention_head_dim": 64,
            "in_channels": 16, "out_channels": 16, "text_dim": 512, "freq_dim": 256,
            "ffn_dim": 3072, "num_layers": 4, "cross_attn_norm": true,
            "qk_norm": "rms_norm_across_heads", "eps": 1e-6, "rope_max_seq_len": 1024
        },
        "vae": {
            "base_dim": 32, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2,
            "attn_scales": [], "temperal_downsample": [false, true, true], "dropout": 0.0
        },
        // 17 frames of 240x416 in latent space
        "latent": [1, 16, 5, 30, 52]
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
    let _g = tch::no_grad_guard();
    tch::manual_seed(0);

    let tcfg: WanTransformerConfig = serde_json::from_value(cfg["transformer"].clone()).unwrap();
    let text_dim = tcfg.text_dim;
    let tr = WanTransformer::new(tcfg, Device::Cpu, Kind::Float).unwrap();
    let x = Tensor::randn(&lat, (Kind::Float, Device::Cpu));
    let t = Tensor::from_slice(&[500f32]);
    let ctx = Tensor::randn([1, 512, text_dim], (Kind::Float, Device::Cpu));
    reset_peak();
    let step = timed(|| {
        let _ = tr.forward(&x, &t, &ctx);
    });
    let step_peak = peak_mib();
    drop(tr);

    let vcfg: WanVaeConfig = serde_json::from_value(cfg["vae"].clone()).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let vae = WanVae::new(&vs.root(), vcfg).unwrap();
    let z = Tensor::randn(&lat, (Kind::Float, Device::Cpu));
    reset_peak();
    let decode = timed(|| {
        let _ = vae.decode(&z);
    });
    let decode_peak = peak_mib();
    drop(vae);

    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../third_party/pyref/bin/python");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/wan_reference_bench.py");
    let reference = if python.is_file() {
        let mut py_cfg = cfg.clone();
        py_cfg["transformer"]["patch_size"] = serde_json::json!([1, 2, 2]);
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(py_cfg.to_string())
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
        "medium Wan config: DiT 4 layers x 768 (12 heads), latent {lat:?}; VAE base_dim 32; fp32 CPU, {threads} threads, median of {RUNS}"
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
            "(reference not run: {} missing; see diffusion/fixtures/wan/README.md)",
            python.display()
        );
    }
}
