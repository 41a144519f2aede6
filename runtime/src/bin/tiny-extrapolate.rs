//! `tiny-extrapolate`: weight extrapolation (ExPO, Zheng et al. 2024) between two checkpoints
//! of one model. Writes `NEW + alpha · (NEW − OLD)` for every tensor of the given safetensors
//! files, i.e. it carries on along the direction the last training run moved the weights.
//! `alpha` 0 is NEW, −1 is OLD, −0.5 their average.
//!
//! `cargo run --release -p dreamfx-runtime --bin tiny-extrapolate -- OLD_DIR NEW_DIR OUT_DIR ALPHA [FILE…]`
//! where the directories are diffusers model directories and FILE defaults to the DiT and text
//! encoder weights; OUT_DIR must already hold a copy of the model (configs, VAE, tokenizer).
use std::path::Path;
use std::process::ExitCode;

use tch::Tensor;

const DEFAULT_FILES: [&str; 2] = [
    "transformer/diffusion_pytorch_model.safetensors",
    "text_encoder/model.safetensors",
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tiny-extrapolate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [old, new, out, alpha, files @ ..] = args.as_slice() else {
        return Err("usage: tiny-extrapolate OLD_DIR NEW_DIR OUT_DIR ALPHA [FILE…]".into());
    };
    let alpha: f64 = alpha
        .parse()
        .map_err(|_| format!("ALPHA must be a number, not {alpha:?}"))?;
    let files: Vec<&str> = if files.is_empty() {
        DEFAULT_FILES.to_vec()
    } else {
        files.iter().map(String::as_str).collect()
    };
    for file in files {
        let read = |dir: &str| {
            let path = Path::new(dir).join(file);
            Tensor::read_safetensors(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let old_tensors = read(old)?;
        let new_tensors = read(new)?;
        let mut moved = Vec::with_capacity(new_tensors.len());
        for (name, new_t) in new_tensors {
            let (_, old_t) = old_tensors
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| format!("{file}: {name} is in {new} but not in {old}"))?;
            if old_t.size() != new_t.size() {
                return Err(format!("{file}: {name} differs in shape between the two"));
            }
            let delta = &new_t - old_t;
            moved.push((name, &new_t + delta * alpha));
        }
        let path = Path::new(out).join(file);
        Tensor::write_safetensors(&moved, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}: {} tensors", path.display(), moved.len());
    }
    Ok(())
}
