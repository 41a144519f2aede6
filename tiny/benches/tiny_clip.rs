//! One dreamfx-tiny clip (17 frames of 64×64, 20 UniPC steps) from the committed model on this
//! machine's CPU threads: the product's setting (classifier-free guidance, two transformer
//! passes per step, and the model's restart sampling, which repeats a stretch of the schedule)
//! and, measured in the same run, guidance without restarts and the baseline without either.
//! Prints the median times, the ratios to the baseline, and the ratio to the 10 s budget.
//!
//! `cargo bench -p dreamfx-tiny --bench tiny_clip`
use std::path::PathBuf;
use std::time::Instant;

use dreamfx_diffusion::pipelines::wan::{Request, WanPipeline};
use dreamfx_diffusion::schedulers::RestartSampling;
use dreamfx_tiny::clip_request;
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
    let time = |guidance: f64, restart: Option<RestartSampling>, seed: u64| {
        let req = Request {
            restart,
            ..clip_request(
                "a red circle moves left on a dark blue background",
                seed,
                20,
                guidance,
                None,
            )
        };
        let mut steps = 0;
        let t = Instant::now();
        pipe.generate(&req, &mut |_, total| {
            steps = total;
            true
        })
        .expect("generation");
        (t.elapsed().as_secs_f64(), steps)
    };
    let off = Some(RestartSampling::OFF);
    let (_, product_steps) = time(4.0, None, 0); // warm-up: allocator and thread pool
    let (mut product, mut guided, mut baseline) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..RUNS as u64 {
        product.push(time(4.0, None, run).0);
        guided.push(time(4.0, off, run).0);
        baseline.push(time(1.0, off, run).0);
    }
    let (p, g, b) = (median(product), median(guided), median(baseline));
    println!("dreamfx-tiny, one 17x64x64 clip, 20 steps, {threads} CPU threads, median of {RUNS}:");
    println!(
        "  product: guidance 4.0 + restart sampling ({product_steps} model steps): {p:.2} s  ({:.2}x baseline)",
        p / b
    );
    println!(
        "  guidance 4.0, no restarts (20 steps):                  {g:.2} s  ({:.2}x baseline)",
        g / b
    );
    println!("  baseline: no guidance, no restarts (20 steps):         {b:.2} s");
    println!(
        "  product / the {BUDGET_S:.0} s budget:                          {:.2} ({})",
        p / BUDGET_S,
        if p <= BUDGET_S { "within" } else { "OVER" }
    );
}
