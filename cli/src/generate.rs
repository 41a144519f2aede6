//! `dreamfx generate`: a clip from a Wan model directory (default: the built-in dreamfx-tiny),
//! written as numbered PNG frames, a contact sheet, a GIF (when ffmpeg is there) and the raw
//! float frames (`frames.safetensors`, [F, H, W, 3] in 0..1).
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use dreamfx_diffusion::pipelines::wan::Request;
use dreamfx_diffusion::pipelines::Pipeline;
use dreamfx_diffusion::schedulers::{RestartSampling, SchedulerConfig};
use tch::{Device, Tensor};

use crate::finite_in;
use crate::output::OutputDir;
use crate::Verbosity;

#[derive(clap::Args)]
pub struct Args {
    /// What to generate.
    #[arg(
        long,
        default_value = "a red circle moves left on a dark blue background"
    )]
    prompt: String,
    /// What to steer away from.
    #[arg(long, default_value = "")]
    negative: String,
    /// A model directory in the diffusers layout (default: the built-in dreamfx-tiny).
    #[arg(long)]
    model: Option<PathBuf>,
    /// First frame for image-to-video (a PNG or JPEG of the clip's size).
    #[arg(long)]
    image: Option<PathBuf>,
    /// Same seed, same clip.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Denoising steps.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    steps: u16,
    /// Classifier-free guidance (1 = none).
    #[arg(long, default_value_t = 4.0, value_parser = finite_in(0.0, 100.0))]
    guidance: f64,
    /// Flow shift (default: the model's scheduler config).
    #[arg(long, value_parser = finite_in(0.01, 100.0))]
    shift: Option<f64>,
    /// Sampler (default: the model's).
    #[arg(long, value_enum)]
    scheduler: Option<Sampler>,
    /// off, or SIGMA_MAX,SIGMA_MIN,PASSES (default: the model's, model_index.json).
    #[arg(long)]
    restart_sampling: Option<String>,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(i64).range(16..=4096))]
    width: i64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(i64).range(16..=4096))]
    height: i64,
    /// Frames (4k+1 for Wan models).
    #[arg(long, default_value_t = 17, value_parser = clap::value_parser!(i64).range(1..=1025))]
    frames: i64,
    /// Where the clip goes; must be new or empty unless --force.
    #[arg(long, default_value = "out/tiny")]
    out: PathBuf,
    /// Replace a non-empty --out (only once the new clip is complete).
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sampler {
    Unipc,
    Euler,
}

pub fn run(args: Args, verbosity: Verbosity) -> Result<(), String> {
    let started = Instant::now();
    // Fail on the output before loading anything or generating.
    let out = OutputDir::prepare(&args.out, args.force)?;
    let model = args.model.clone().unwrap_or_else(crate::default_model);
    // Any supported family: model_index.json names it.
    let pipe = Pipeline::load(&model, Device::Cpu).map_err(|e| e.to_string())?;
    for (what, text) in [
        ("prompt", &args.prompt),
        ("negative prompt", &args.negative),
    ] {
        let check = pipe.check_prompt(text).map_err(|e| e.to_string())?;
        if !check.is_clean() && verbosity > Verbosity::Quiet {
            eprintln!(
                "warning: {what} {text:?}: {check} (`dreamfx vocabulary` lists what {} reads)",
                model.display()
            );
        }
    }
    let scheduler = match args.scheduler {
        None => None,
        Some(Sampler::Unipc) => Some(match pipe.scheduler().clone() {
            s @ SchedulerConfig::UniPc { .. } => s,
            _ => SchedulerConfig::unipc_flow(1.0),
        }),
        Some(Sampler::Euler) => Some(SchedulerConfig::Euler {
            num_train_timesteps: 1000,
            shift: 1.0,
        }),
    };
    let first_frame = args.image.as_deref().map(read_first_frame).transpose()?;
    let req = Request {
        prompt: args.prompt.clone(),
        negative_prompt: args.negative.clone(),
        seed: args.seed,
        steps: args.steps as usize,
        guidance: args.guidance,
        shift: args.shift,
        scheduler,
        restart: args
            .restart_sampling
            .as_deref()
            .map(RestartSampling::parse)
            .transpose()?,
        width: args.width,
        height: args.height,
        frames: args.frames,
        first_frame,
    };
    let bar = crate::progress_bar(0, "{bar:30} step {pos}/{len}  {elapsed_precise}", verbosity);
    let generated = pipe
        .generate(&req, None, &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            true
        })
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let video = generated.video;
    // Never write a frame the model broke.
    let finite = video.isfinite().all().int64_value(&[]) != 0;
    if !finite {
        return Err(format!(
            "the model produced NaN or infinite values (model {}, seed {}); nothing was written. \
             Try other --guidance/--shift values or check the model's weights",
            model.display(),
            args.seed
        ));
    }
    write_clip(&video, out.path(), verbosity)?;
    let dir = out.commit()?;
    let [f, h, w, _] = video.size()[..] else {
        unreachable!()
    };
    if verbosity > Verbosity::Quiet {
        println!(
            "{f} frames of {w}x{h} in {} ({:.1} s)",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn read_first_frame(path: &Path) -> Result<Tensor, String> {
    let img = image::open(path)
        .map_err(|e| format!("cannot read --image {}: {e}", path.display()))?
        .to_rgb8();
    let (w, h) = img.dimensions();
    let data: Vec<f32> = img.into_raw().iter().map(|&v| v as f32 / 255.0).collect();
    Ok(Tensor::from_slice(&data)
        .view([h as i64, w as i64, 3])
        .permute([2, 0, 1])
        .contiguous())
}

fn write_clip(video: &Tensor, dir: &Path, verbosity: Verbosity) -> Result<(), String> {
    Tensor::write_safetensors(&[("frames", video)], dir.join("frames.safetensors"))
        .map_err(|e| format!("writing frames.safetensors: {e}"))?;
    let f = video.size()[0];
    for i in 0..f {
        let path = dir.join(format!("frame_{i:04}.png"));
        frame_rgb8(video, i)
            .save(&path)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    write_contact_sheet(video, &dir.join("contact_sheet.png"))?;
    let ffmpeg = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-framerate", "8", "-i"])
        .arg(dir.join("frame_%04d.png"))
        .args(["-vf", "scale=iw*4:ih*4:flags=neighbor"])
        .arg(dir.join("clip.gif"))
        .status();
    if !matches!(ffmpeg, Ok(s) if s.success()) && verbosity > Verbosity::Quiet {
        eprintln!("(no clip.gif: ffmpeg not found or failed; the PNG frames are there)");
    }
    Ok(())
}

/// All frames in one image, a row of up to 9, with 2-pixel gaps; small frames are enlarged
/// (nearest neighbour, so pixels stay honest) to be readable.
fn write_contact_sheet(video: &Tensor, path: &Path) -> Result<(), String> {
    let [f, h, w, _] = video.size()[..] else {
        unreachable!()
    };
    let zoom = if w.max(h) <= 128 { 3 } else { 1 };
    let (h, w) = (h * zoom, w * zoom);
    let cols = f.min(9);
    let rows = (f + cols - 1) / cols;
    let gap = 2;
    let mut sheet = image::RgbImage::from_pixel(
        (cols * (w + gap) + gap) as u32,
        (rows * (h + gap) + gap) as u32,
        image::Rgb([24, 24, 24]),
    );
    for i in 0..f {
        let img = image::imageops::resize(
            &frame_rgb8(video, i),
            w as u32,
            h as u32,
            image::imageops::FilterType::Nearest,
        );
        let (x, y) = (gap + (i % cols) * (w + gap), gap + (i / cols) * (h + gap));
        image::imageops::replace(&mut sheet, &img, x, y);
    }
    sheet
        .save(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Frame `i` of a [F, H, W, 3] 0..1 video, quantised to 8 bits.
fn frame_rgb8(video: &Tensor, i: i64) -> image::RgbImage {
    let [_, h, w, _] = video.size()[..] else {
        unreachable!()
    };
    let frame = (video.get(i) * 255.0)
        .round()
        .clamp(0.0, 255.0)
        .to_kind(tch::Kind::Uint8);
    let n = (h * w * 3) as usize;
    let mut bytes = vec![0u8; n];
    frame.contiguous().copy_data(&mut bytes, n);
    image::RgbImage::from_raw(w as u32, h as u32, bytes).expect("n = w*h*3 bytes")
}
