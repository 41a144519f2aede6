//! dreamfx-tiny's data side: the procedural "shape world" the built-in model is trained on
//! ([`world`]) and the deterministic checkers that score generated clips against captions
//! ([`checkers`]).
//!
//! The world renders captioned clips (by default 17 frames of 64×64 RGB) of one to three
//! anti-aliased shapes in named colours on plain or gradient backgrounds, moving in one of
//! thirteen ways. Everything is seeded and bit-reproducible: a spec depends only on its seed and
//! config, and a render only on its spec (no libm transcendental enters either).
//!
//! The caption space is split into train and held-out (colour, shape, motion) triples
//! ([`world::is_held_out`]); the training sampler never shows a held-out triple, and the
//! evaluation asks the model for held-out ones, which the checkers then score from the pixels
//! alone.
pub mod checkers;
pub mod train;
pub mod world;

use crate::wan::pipeline::{PipelineError, Request, WanPipeline};

/// The value after `name` on a command line (`--clips 40` → `"40"`).
pub fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The value after `name` parsed as a `T`, `default` when the flag is absent, and an error that
/// names the flag when it does not parse (a typo must not silently run the default).
pub fn parsed_arg<T: std::str::FromStr>(
    args: &[String],
    name: &str,
    default: T,
    what: &str,
) -> Result<T, String> {
    match arg_value(args, name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{name} {v:?}: give {what}")),
    }
}

/// What an evaluation command (`tiny-eval`, `tiny-transplant`) scores, from its command line:
/// `--model DIR` (default: the committed dreamfx-tiny), `--clips N` (40), `--first K` (0: the
/// reported block; another, e.g. 1000, to choose settings on without tuning on the reported
/// one) and `--split held-out|train` (training captions: how much of a gap is held-out-ness).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalArgs {
    pub model: std::path::PathBuf,
    pub clips: u64,
    pub first: u64,
    pub split: world::Split,
}

impl EvalArgs {
    pub fn parse(args: &[String]) -> Result<EvalArgs, String> {
        let number = |name: &str, default: u64| parsed_arg(args, name, default, "a whole number");
        let split = match arg_value(args, "--split").as_deref() {
            None | Some("held-out") => world::Split::HeldOut,
            Some("train") => world::Split::Train,
            Some(other) => return Err(format!("--split {other:?}: use held-out or train")),
        };
        Ok(EvalArgs {
            model: arg_value(args, "--model")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                        .join("../models/dreamfx-tiny")
                }),
            clips: number("--clips", 40)?,
            first: number("--first", 0)?,
            split,
        })
    }

    /// The model to score, on the CPU with libtorch using every core.
    pub fn load_pipeline(&self) -> Result<WanPipeline, String> {
        tch::set_num_threads(std::thread::available_parallelism().map_or(2, |n| n.get()) as i32);
        WanPipeline::load(&self.model, tch::Device::Cpu).map_err(|e| e.to_string())
    }
}

/// A request for one clip in the world's format (17 frames of 64×64), as the evaluation, the
/// benchmark and the tests ask dreamfx-tiny for it: no negative prompt, the model's own
/// sampler, shift and restart sampling.
pub fn clip_request(
    prompt: &str,
    seed: u64,
    steps: usize,
    guidance: f64,
    first_frame: Option<tch::Tensor>,
) -> Request {
    let world = world::WorldConfig::default();
    Request {
        prompt: prompt.to_string(),
        negative_prompt: String::new(),
        seed,
        steps,
        guidance,
        shift: None,
        scheduler: None,
        restart: None,
        width: world.width as i64,
        height: world.height as i64,
        frames: world.frames as i64,
        first_frame,
    }
}

/// The `k`-th evaluation clip of a split: one object (the checkers score the dominant one),
/// world seeds from 1 000 000 on, so `tiny-eval` and the CI test score the same captions.
pub fn eval_spec(split: world::Split, k: u64) -> world::ClipSpec {
    let cfg = world::WorldConfig {
        split,
        max_objects: 1,
        ..world::WorldConfig::default()
    };
    world::sample_spec(1_000_000 + k, &cfg)
}

/// A generated video's pixels, `F×H×W×3` in 0..1 (the layout the checkers read).
pub fn video_pixels(video: &tch::Tensor) -> Vec<f32> {
    let video = video.contiguous();
    let n = video.numel();
    let mut pixels = vec![0f32; n];
    video.copy_data(&mut pixels, n);
    pixels
}

/// Generates a clip and returns its pixels (see [`video_pixels`]).
pub fn generate_pixels(pipe: &WanPipeline, req: &Request) -> Result<Vec<f32>, PipelineError> {
    Ok(video_pixels(&pipe.generate(req, &mut |_, _| true)?.video))
}

/// A rendered clip (`F×H×W×3` in 0..1) as the VAE's input: `[1, 3, F, H, W]` in -1..1.
pub fn clip_tensor(frames: &[f32], num_frames: usize, height: usize, width: usize) -> tch::Tensor {
    tch::Tensor::from_slice(frames)
        .view([num_frames as i64, height as i64, width as i64, 3])
        .permute([3, 0, 1, 2])
        .unsqueeze(0)
        * 2.0
        - 1.0
}

/// A rendered frame (`H×W×3` in 0..1) as the `[3, H, W]` image a request's `first_frame` takes.
pub fn first_frame_image(frame: &[f32], height: usize, width: usize) -> tch::Tensor {
    tch::Tensor::from_slice(frame)
        .view([height as i64, width as i64, 3])
        .permute([2, 0, 1])
        .contiguous()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parsed_arg_defaults_parses_and_names_a_bad_value() {
        let a = args("--steps 30 --guidance x");
        assert_eq!(parsed_arg(&a, "--steps", 20usize, "a whole number"), Ok(30));
        assert_eq!(parsed_arg(&a, "--shift", 3.0f64, "a number"), Ok(3.0));
        let err = parsed_arg(&a, "--guidance", 4.0f64, "a number").expect_err("x is no number");
        assert_eq!(err, "--guidance \"x\": give a number");
    }

    #[test]
    fn eval_args_defaults_values_and_refusals() {
        let d = EvalArgs::parse(&[]).expect("defaults");
        assert_eq!((d.clips, d.first, d.split), (40, 0, world::Split::HeldOut));
        assert!(d.model.ends_with("models/dreamfx-tiny"), "{:?}", d.model);
        let e = EvalArgs::parse(&args("--model /m --clips 120 --first 2000 --split train"))
            .expect("values");
        assert_eq!(
            e,
            EvalArgs {
                model: "/m".into(),
                clips: 120,
                first: 2000,
                split: world::Split::Train
            }
        );
        for bad in ["--clips many", "--first -1", "--split test"] {
            let err = EvalArgs::parse(&args(bad)).expect_err(bad);
            assert!(err.contains(bad.split(' ').next().unwrap()), "{bad}: {err}");
        }
    }
}
