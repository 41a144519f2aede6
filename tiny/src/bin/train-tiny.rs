//! `train-tiny`: trains dreamfx-tiny from scratch on the shape world and writes the model
//! directory (default `models/dreamfx-tiny/`). See `dreamfx_tiny::train`.
use std::process::ExitCode;

use dreamfx_tiny::train::{run, TrainOptions, USAGE};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let opts = match TrainOptions::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("train-tiny: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = format!(
        "cargo run --release -p dreamfx-tiny --bin train-tiny -- {}",
        args.join(" ")
    );
    match run(&opts, &command) {
        Ok(r) => {
            println!(
                "final losses: VAE {:.5} ({} steps), DiT {:.5} ({} steps); model {} ({:.2} MB)",
                r.vae_loss,
                r.vae_steps,
                r.dit_loss,
                r.dit_steps,
                opts.out.display(),
                r.total_bytes as f64 / 1e6
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("train-tiny: {e}");
            ExitCode::FAILURE
        }
    }
}
