//! One dreamfx-tiny clip (17 frames of 64×64, 20 UniPC steps) from the committed model on this
//! machine's CPU threads: with classifier-free guidance (two transformer passes per step, the
//! product's setting) and, measured in the same run as the baseline, without it. Prints the
//! median times, the ratio guidance / no guidance, and the ratio to the 10 s budget.
//!
//! `cargo bench -p dreamfx-runtime --bench tiny_clip`
use std::path::PathBuf;
use std::time::Instant;

use dreamfx_runtime::tiny::clip_request;
use dreamfx_runtime::wan::pipeline::WanPipeline;
use tch::Device;

const RUNS: usize = 5;
const BUDGET_S: f64 = 10.0;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny");
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    tch::set_num_threads(threads as i32);
    let pipe = WanPipeline::load(&model, Device::Cpu)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", model.display()));
    let time = |guidance: f64, seed: u64| {
        let req = clip_request(
            "a red circle moves left on a dark blue background",
            seed,
            20,
            guidance,
            None,
        );
        let t = Instant::now();
        pipe.generate(&req, &mut |_, _| true).expect("generation");
        t.elapsed().as_secs_f64()
    };
    time(4.0, 0); // warm-up: allocator and thread pool
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for run in 0..RUNS as u64 {
        with.push(time(4.0, run));
        without.push(time(1.0, run));
    }
    let (g, b) = (median(with), median(without));
    println!("dreamfx-tiny, one 17x64x64 clip, 20 steps, {threads} CPU threads, median of {RUNS}:");
    println!("  with guidance 4.0 (2 passes/step): {g:.2} s");
    println!("  without guidance (baseline):       {b:.2} s");
    println!("  ratio guidance / baseline:         {:.2}", g / b);
    println!(
        "  ratio to the {BUDGET_S:.0} s budget:          {:.2} ({})",
        g / BUDGET_S,
        if g <= BUDGET_S { "within" } else { "OVER" }
    );
}
