//! `dreamfx tiny-eval`: scores dreamfx-tiny on held-out captions (colour/shape/motion
//! combinations it never saw in training) with the pixel-only checkers, measures image-to-video
//! frame-0 PSNR, and times one 17×64×64 clip with 20 steps and guidance.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;
use dreamfx_diffusion::pipelines::wan::{decoded_frames, PipelineError, Request, WanPipeline};
use dreamfx_diffusion::schedulers::RestartSampling;
use dreamfx_tiny::checkers::{frame0_psnr, score, ClipRef, Scores};
use dreamfx_tiny::world::{caption, render, Shape, Split};
use dreamfx_tiny::{
    clip_request, clip_tensor, eval_spec, first_frame_image, generate_pixels, video_pixels,
    EvalArgs,
};
use indicatif::ProgressBar;
use tch::Tensor;

use crate::{finite_in, progress_bar, Verbosity};

/// Which captions an evaluation scores (shared by `dreamfx tiny-eval` and
/// `dreamfx tiny-transplant`).
#[derive(clap::Args)]
pub struct EvalSet {
    /// A model directory in the diffusers layout (default: the built-in dreamfx-tiny).
    #[arg(long)]
    model: Option<PathBuf>,
    /// How many captions.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    clips: u64,
    /// The first caption's index: 0 is the reported block; choose settings on another (e.g.
    /// 1000) so the reported one is not tuned on.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// held-out captions, or train ones (how much of a gap is held-out-ness).
    #[arg(long, value_enum, default_value_t = EvalSplit::HeldOut)]
    split: EvalSplit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalSplit {
    HeldOut,
    Train,
}

impl EvalSet {
    pub fn eval_args(&self) -> EvalArgs {
        EvalArgs {
            model: self.model.clone().unwrap_or_else(crate::default_model),
            clips: self.clips,
            first: self.first,
            split: match self.split {
                EvalSplit::HeldOut => Split::HeldOut,
                EvalSplit::Train => Split::Train,
            },
        }
    }
}

/// A bar over an evaluation's captions; result lines go through [`ProgressBar::suspend`] so
/// they never tear the bar.
pub fn clips_bar(clips: u64, verbosity: Verbosity) -> ProgressBar {
    progress_bar(
        clips,
        "{bar:30} caption {pos}/{len}  {elapsed_precise}",
        verbosity,
    )
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    set: EvalSet,
    /// Denoising steps.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    steps: u16,
    /// Classifier-free guidance (1 = none).
    #[arg(long, default_value_t = 4.0, value_parser = finite_in(0.0, 100.0))]
    guidance: f64,
    /// off, or SIGMA_MAX,SIGMA_MIN,PASSES (default: the model's, model_index.json).
    #[arg(long, value_parser = RestartSampling::parse)]
    restart_sampling: Option<RestartSampling>,
    /// A diagnostic: each text-to-video clip starts not from noise but from its true clip's
    /// latents noised to this strength (video-to-video): how much of the schedule the model
    /// needs to decide what it draws.
    #[arg(long, value_name = "S", value_parser = finite_in(0.0, 1.0))]
    from_truth: Option<f64>,
    /// With --from-truth: start from the true clip with the next shape instead (is a wrong
    /// outline as sticky as a right one at that noise level?).
    #[arg(long, requires = "from_truth")]
    from_other_shape: bool,
    /// Text-to-video only: no image-to-video clips (a quicker probe of a sampler change).
    #[arg(long)]
    text_only: bool,
}

pub fn run(args: Args, verbosity: Verbosity) -> Result<(), String> {
    let eval = args.set.eval_args();
    let EvalArgs {
        clips,
        first,
        split,
        ..
    } = eval;
    let steps = args.steps as usize;
    let guidance = args.guidance;
    let from_truth = args.from_truth;
    let from_other_shape = args.from_other_shape;
    let restart_sampling = args.restart_sampling;
    let text_only = args.text_only;
    let pipe = eval.load_pipeline()?;
    let request = |prompt: String, seed: u64, first_frame: Option<Tensor>| Request {
        restart: restart_sampling,
        ..clip_request(&prompt, seed, steps, guidance, first_frame)
    };
    let sampling = match restart_sampling.or(pipe.restart) {
        Some(r) if r != RestartSampling::OFF => format!(
            ", restart sampling σ {} → {} ×{}",
            r.sigma_min, r.sigma_max, r.extra_passes
        ),
        _ => String::new(),
    };

    // Timing: one clip, 20 steps, guidance (two passes per step).
    let t = Instant::now();
    pipe.generate(
        &request(
            "a red circle moves left on a dark blue background".into(),
            0,
            None,
        ),
        &mut |_, _| true,
    )
    .map_err(|e| e.to_string())?;
    let clip_secs = t.elapsed().as_secs_f64();

    let (mut colour, mut shape, mut motion) = (0u32, 0u32, 0u32);
    // Shape confusion: (caption's shape, detected shape or None) → count.
    let mut confusion: BTreeMap<(Shape, Option<Shape>), u32> = BTreeMap::new();
    let mut psnrs = Vec::new();
    let (mut i2v_motion, mut i2v_shape) = (0u32, 0u32);
    // Ceilings: the checkers on the true clips, and on their VAE round trips (what the DiT
    // could at best reach through this VAE).
    let (mut truth_ok, mut vae_ok) = ([0u32; 3], [0u32; 3]);
    // Where in the clip shapes are lost: each frame's own outline, per latent frame.
    let per_latent = pipe.vae.scale_factor_temporal() as usize;
    let [mut t2v_frames, mut i2v_frames, mut vae_frames] =
        [(); 3].map(|_| ShapePerLatentFrame::new(17, per_latent));
    let bar = clips_bar(clips, verbosity);
    for k in first..first + clips {
        bar.inc(1);
        let spec = eval_spec(split, k);
        let text = caption(&spec);
        let truth = render(&spec);
        // The true clip's latents: the VAE round trip's, and --from-truth's starting point.
        let truth_latents = vae_latents(&pipe, &truth.frames);
        let req = request(text.clone(), k, None);
        let v = match from_truth {
            None => generate_pixels(&pipe, &req),
            Some(strength) if from_other_shape => {
                // The same clip with the object's shape changed: does the model redraw it?
                let mut other = spec.clone();
                for o in &mut other.objects {
                    o.shape = Shape::ALL[(o.shape.index() + 1) % Shape::ALL.len()];
                }
                let start = vae_latents(&pipe, &render(&other).frames);
                from_truth_pixels(&pipe, &req, &start, strength)
            }
            Some(strength) => from_truth_pixels(&pipe, &req, &truth_latents, strength),
        }
        .map_err(|e| e.to_string())?;
        let s = score(&ClipRef::new(&v, 17, 64, 64), &text).ok_or("caption did not parse")?;
        t2v_frames.add(&s);
        colour += s.colour_ok as u32;
        shape += s.shape_ok as u32;
        motion += s.motion_ok as u32;
        *confusion
            .entry((s.expected.shape, s.detected.shape))
            .or_default() += 1;
        bar.suspend(|| {
            println!(
                "{:<70} colour {} shape {} motion {}",
                text,
                if s.colour_ok { "ok " } else { "BAD" },
                if s.shape_ok { "ok " } else { "BAD" },
                if s.motion_ok { "ok " } else { "BAD" }
            )
        });
        let through_vae = decoded_pixels(&pipe, &truth_latents);
        for (what, pixels, tally, frame_tally) in [
            ("true clip", &truth.frames, &mut truth_ok, None),
            (
                "VAE round trip",
                &through_vae,
                &mut vae_ok,
                Some(&mut vae_frames),
            ),
        ] {
            let s =
                score(&ClipRef::new(pixels, 17, 64, 64), &text).ok_or("caption did not parse")?;
            if let Some(frame_tally) = frame_tally {
                frame_tally.add(&s);
            }
            for (n, ok) in tally.iter_mut().zip([s.colour_ok, s.shape_ok, s.motion_ok]) {
                *n += ok as u32;
            }
            if !s.all_ok() {
                bar.suspend(|| {
                    println!(
                        "  its {what} reads as {:?} {:?} {:?}",
                        s.detected.colour, s.detected.shape, s.detected.motion
                    )
                });
            }
        }
        // Image-to-video from the true first frame (every other clip, to bound the time).
        if k % 2 == 0 && pipe.expand_timesteps && !text_only {
            let first = first_frame_image(&truth.frames[..64 * 64 * 3], 64, 64);
            let o = generate_pixels(&pipe, &request(text.clone(), k, Some(first)))
                .map_err(|e| e.to_string())?;
            let clip = ClipRef::new(&o, 17, 64, 64);
            psnrs.push(frame0_psnr(&clip, &truth.frames[..64 * 64 * 3]));
            let s = score(&clip, &text).ok_or("caption did not parse")?;
            i2v_frames.add(&s);
            i2v_motion += s.motion_ok as u32;
            i2v_shape += s.shape_ok as u32;
        }
    }
    bar.finish_and_clear();
    let pct = |n: u32, d: u64| 100.0 * n as f64 / d as f64;
    println!();
    let name = if split == Split::Train {
        "train"
    } else {
        "held-out"
    };
    let from = match from_truth {
        Some(s) if from_other_shape => {
            format!(", text-to-video from the true clips with the next shape at strength {s}")
        }
        Some(s) => format!(", text-to-video from the true clips at strength {s}"),
        None => String::new(),
    };
    println!("{name} captions: {clips} (steps {steps}, guidance {guidance}{sampling}{from})");
    println!("colour accuracy   {:5.1}%", pct(colour, clips));
    println!("shape accuracy    {:5.1}%", pct(shape, clips));
    println!("motion accuracy   {:5.1}%", pct(motion, clips));
    let confused: Vec<String> = confusion
        .iter()
        .filter(|((want, got), _)| Some(*want) != *got)
        .map(|((want, got), n)| format!("{want:?}→{got:?} ×{n}"))
        .collect();
    println!("shape mistakes    {}", confused.join(", "));
    // Per caption shape: which outlines the model draws, not only how often it is right.
    let mut by_shape: BTreeMap<Shape, (u32, u32)> = BTreeMap::new();
    for ((want, got), n) in &confusion {
        let e = by_shape.entry(*want).or_default();
        e.0 += if Some(*want) == *got { *n } else { 0 };
        e.1 += n;
    }
    let by_shape: Vec<String> = by_shape
        .iter()
        .map(|(want, (ok, n))| format!("{want:?} {ok}/{n}"))
        .collect();
    println!("shape by caption  {}", by_shape.join(", "));
    for (what, tally) in [
        ("the true clips", truth_ok),
        ("their VAE round trips", vae_ok),
    ] {
        println!(
            "checkers on {what}: colour {:.1}%, shape {:.1}%, motion {:.1}%",
            pct(tally[0], clips),
            pct(tally[1], clips),
            pct(tally[2], clips)
        );
    }
    if !psnrs.is_empty() {
        let mean = psnrs.iter().sum::<f64>() / psnrs.len() as f64;
        println!(
            "image-to-video: frame-0 PSNR {mean:.1} dB, motion follows the prompt {:.1}%, shape kept {:.1}% ({} clips)",
            pct(i2v_motion, psnrs.len() as u64),
            pct(i2v_shape, psnrs.len() as u64),
            psnrs.len()
        );
    }
    println!(
        "shape right per frame, by latent frame (frame 0 | then {per_latent} frames each): \
         each frame's own outline, so a shape lost over the clip shows"
    );
    for (what, tally) in [
        ("text-to-video", &t2v_frames),
        ("image-to-video", &i2v_frames),
        ("VAE round trip", &vae_frames),
    ] {
        if let Some(line) = tally.line() {
            println!("  {what:<16} {line}");
        }
    }
    println!("one 17x64x64 clip, {steps} steps with guidance: {clip_secs:.2} s");
    Ok(())
}

/// A clip generated from a rendered clip's VAE latents noised to `strength` (video-to-video).
fn from_truth_pixels(
    pipe: &WanPipeline,
    req: &Request,
    latents: &Tensor,
    strength: f64,
) -> Result<Vec<f32>, PipelineError> {
    let start = tch::no_grad(|| pipe.vae.normalize_latents(latents));
    let out = pipe.generate_from_latents(req, &start, strength, &mut |_, _| true)?;
    Ok(video_pixels(&out.video))
}

/// A rendered clip (`F×H×W×3` in 0..1) encoded by the pipeline's VAE.
fn vae_latents(pipe: &WanPipeline, frames: &[f32]) -> Tensor {
    let x = clip_tensor(frames, 17, 64, 64);
    tch::no_grad(|| pipe.vae.encode(&x))
}

/// VAE latents decoded to pixels.
fn decoded_pixels(pipe: &WanPipeline, latents: &Tensor) -> Vec<f32> {
    let y = tch::no_grad(|| pipe.vae.decode(latents));
    video_pixels(&decoded_frames(&y))
}

/// How often each frame's own outline names the caption's shape, pooled per latent frame
/// (frame 0 alone, then `per_latent` frames each, as the causal VAE groups them).
struct ShapePerLatentFrame {
    per_latent: usize,
    /// Per latent frame: (frames whose shape was right, frames seen).
    tally: Vec<(u32, u32)>,
}

impl ShapePerLatentFrame {
    fn new(frames: usize, per_latent: usize) -> Self {
        ShapePerLatentFrame {
            per_latent,
            tally: vec![(0, 0); 1 + (frames - 1).div_ceil(per_latent)],
        }
    }

    fn add(&mut self, s: &Scores) {
        for (t, frame) in s.detected.frames.iter().enumerate() {
            let latent = if t == 0 {
                0
            } else {
                1 + (t - 1) / self.per_latent
            };
            let cell = &mut self.tally[latent];
            cell.0 += (frame.shape() == Some(s.expected.shape)) as u32;
            cell.1 += 1;
        }
    }

    /// Percentages per latent frame, or `None` before any clip was added.
    fn line(&self) -> Option<String> {
        (self.tally[0].1 > 0).then(|| {
            self.tally
                .iter()
                .map(|&(ok, n)| format!("{:5.1}%", 100.0 * ok as f64 / n.max(1) as f64))
                .collect::<Vec<_>>()
                .join(" | ")
        })
    }
}
