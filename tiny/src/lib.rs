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

use dreamfx_diffusion::pipelines::wan::{PipelineError, Request, WanPipeline};

/// What an evaluation (`dreamfx tiny-eval`, `dreamfx tiny-transplant`) scores: the model
/// directory, how many captions from which index (0: the reported block; another, e.g. 1000,
/// to choose settings on without tuning on the reported one) and of which split (training
/// captions: how much of a gap is held-out-ness).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalArgs {
    pub model: std::path::PathBuf,
    pub clips: u64,
    pub first: u64,
    pub split: world::Split,
}

impl EvalArgs {
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
/// world seeds from 1 000 000 on, so `dreamfx tiny-eval` and the CI test score the same captions.
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

/// Where the built-in model is: `models/dreamfx-tiny` beside the running executable (the
/// bundle ships it beside the runtime), else the checkout's `models/dreamfx-tiny` (cargo runs).
pub fn builtin_model_dir() -> std::path::PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.join("models/dreamfx-tiny")));
    match beside {
        Some(p) if p.is_dir() => p,
        _ => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny"),
    }
}
