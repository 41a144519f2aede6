//! `dreamfx refine-report --bench` (issue 24): Temporal Refine's speed, upscale and stabilise
//! tables, each against its ffmpeg baseline on the same frames in the same run (so machine load
//! affects both sides of every ratio). The quality table is `refine-report`'s own.
//!
//! - speed: frames/s of a whole clip refined frame by frame (runtime warm: one frame first), and
//!   of the ffmpeg chain `deflicker=mode=am:size=15,hqdn3d` on the same frames (process start
//!   and the raw-video pipes included), and their ratio;
//! - upscale: a sharp texture (shortest wave period 3 px) moving by sub-pixel steps, rendered at
//!   the output size (the ground truth) and box-downsampled by the scale (pixel integration, as
//!   a sensor does); PSNR and edge sharpness (`metrics::edge_sharpness`, 100 % = the truth's) of
//!   ffmpeg's bicubic and Lanczos scalers and of Temporal Refine's `scale`;
//! - stabilise: the report's degraded clip with a known smooth camera path plus independent
//!   Gaussian jitter per frame; residual jitter (`metrics::residual_jitter`: px RMS of the
//!   frame-to-frame change of the content's offset from the smooth path) of the input, of
//!   Temporal Refine with `stabilise` 1 (Fill edges: no zoom, so every row is measured alike) and
//!   of ffmpeg's vidstab (two passes, defaults but `optzoom=0`) and deshake.

use std::time::Instant;

use dreamfx_runtime::refine::{metrics, ops, refine_with, RefineParams, StabiliseEdges, Tuning};
use dreamfx_runtime::testclips::{ClipSpec, TestClip};
use tch::Tensor;

use crate::refine_report::{ffmpeg_chain, ffmpeg_filter};
use crate::{finite_in, progress_bar, Verbosity};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Every table: speed against the ffmpeg chain, quality, upscale and stabilise, at small
    /// sizes (a few minutes on 2 cores) unless --full.
    #[arg(long)]
    pub bench: bool,
    /// Full sizes, for --bench or a single table (speed at 1280x720 and 1920x1080, quality
    /// 1280x720 x 40 frames, upscale to 1280x720, stabilise 1280x720 x 40 frames).
    #[arg(long)]
    pub full: bool,
    /// Only the speed table (with --upscale / --stabilise: those too).
    #[arg(long)]
    pub speed: bool,
    /// Only the upscale table (2x and 4x against ffmpeg bicubic and Lanczos).
    #[arg(long)]
    pub upscale: bool,
    /// Only the stabilise table (against ffmpeg vidstab and deshake).
    #[arg(long)]
    pub stabilise: bool,
    /// Temporal radius of the speed table (the interactive-speed figure is at 2).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=15))]
    pub speed_radius: u8,
    /// Temporal radius of the upscale table.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=15))]
    pub upscale_radius: u8,
    /// Standard deviation (pixels) of the stabilise clip's injected jitter.
    #[arg(long, default_value_t = 1.5, value_parser = finite_in(0.0, 20.0))]
    pub jitter: f64,
}

/// Which tables a run prints.
pub struct Tables {
    pub speed: bool,
    pub quality: bool,
    pub upscale: bool,
    pub stabilise: bool,
}

impl BenchArgs {
    pub fn tables(&self) -> Tables {
        if self.bench {
            return Tables {
                speed: true,
                quality: true,
                upscale: true,
                stabilise: true,
            };
        }
        let some = self.speed || self.upscale || self.stabilise;
        Tables {
            speed: self.speed,
            quality: !some,
            upscale: self.upscale,
            stabilise: self.stabilise,
        }
    }
}

/// Refines every frame of `frames` with its window of `params.radius`; returns the frames and
/// frames/s (wall time of the loop).
fn refine_all(
    frames: &[Tensor],
    params: &RefineParams,
    tuning: &Tuning,
    what: &str,
    verbosity: Verbosity,
) -> Result<(Vec<Tensor>, f64), String> {
    let n = frames.len();
    let r = params.radius;
    let bar = progress_bar(
        n as u64,
        &format!("{{bar:30}} {what} {{pos}}/{{len}}  {{elapsed_precise}}"),
        verbosity,
    );
    let t0 = Instant::now();
    let out = (0..n)
        .map(|t| {
            let lo = t.saturating_sub(r);
            let hi = (t + r).min(n - 1);
            let f = refine_with(&frames[lo..=hi], t - lo, params, tuning, &mut |_| true)
                .map_err(|e| format!("{what}: frame {t}: {e}"));
            bar.inc(1);
            f
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fps = n as f64 / t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok((out, fps))
}

/// Runs an ffmpeg graph and times it; None (with a printed line) when ffmpeg is missing or fails.
fn timed_ffmpeg(
    name: &str,
    run: impl FnOnce() -> Option<Result<Vec<Tensor>, String>>,
    n: usize,
) -> Option<(Vec<Tensor>, f64)> {
    let t0 = Instant::now();
    match run() {
        Some(Ok(out)) => Some((out, n as f64 / t0.elapsed().as_secs_f64())),
        Some(Err(e)) => {
            println!("{name}: failed: {e}");
            None
        }
        None => {
            println!("{name}: ffmpeg was not found (install it to get this row)");
            None
        }
    }
}

pub fn speed_table(b: &BenchArgs, tuning: &Tuning, verbosity: Verbosity) -> Result<(), String> {
    let (sizes, frames): (&[(usize, usize)], usize) = if b.full {
        (&[(1280, 720), (1920, 1080)], 12)
    } else {
        (&[(320, 180), (480, 270)], 10)
    };
    let params = RefineParams {
        radius: b.speed_radius as usize,
        ..RefineParams::default()
    };
    println!(
        "Speed: Temporal Refine radius {} against ffmpeg deflicker(am,15)+hqdn3d on the same \
         {frames} frames (libtorch CPU threads {})",
        params.radius,
        tch::get_num_threads()
    );
    println!(
        "{:<12} {:>16} {:>14} {:>16}",
        "size", "refine frames/s", "ffmpeg fr/s", "refine / ffmpeg"
    );
    for &(w, h) in sizes {
        let clip = TestClip::generate(&ClipSpec::new(w, h, frames, 11));
        // Warm: the first call pays libtorch's one-time set-up.
        let warm = params.radius.min(frames - 1) + 1;
        refine_all(
            &clip.degraded[..warm],
            &params,
            tuning,
            "warm-up",
            verbosity,
        )?;
        let (_, fps) = refine_all(&clip.degraded, &params, tuning, "refining", verbosity)?;
        let ff = timed_ffmpeg(
            "ffmpeg chain",
            || ffmpeg_chain(&clip.degraded, w, h),
            frames,
        );
        match ff {
            Some((_, ffps)) => println!(
                "{:<12} {fps:>16.2} {ffps:>14.2} {:>16.3}",
                format!("{w}x{h}"),
                fps / ffps
            ),
            None => println!(
                "{:<12} {fps:>16.2} {:>14} {:>16}",
                format!("{w}x{h}"),
                "-",
                "-"
            ),
        }
    }
    println!();
    Ok(())
}

pub fn upscale_table(
    b: &BenchArgs,
    seeds: &[u64],
    tuning: &Tuning,
    verbosity: Verbosity,
) -> Result<(), String> {
    let ((hw, hh), frames) = if b.full {
        ((1280, 720), 9)
    } else {
        ((320, 180), 7)
    };
    println!(
        "Upscale: a sharp texture (finest period 3 px) moving by sub-pixel steps, {hw}x{hh} \
         ground truth downscaled by the scale (box: pixel integration; lanczos: ffmpeg's), \
         {frames} frames, Temporal Refine radius {}",
        b.upscale_radius
    );
    for &seed in seeds {
        for scale in [2usize, 4] {
            let mut spec = ClipSpec::new(hw, hh, frames, seed);
            spec.finest_period = 3.0;
            spec.noise_sigma = 0.0;
            spec.global_flicker = 0.0;
            spec.local_flicker = 0.0;
            let clip = TestClip::generate(&spec);
            let (lw, lh) = (hw / scale, hh / scale);
            for source in ["box", "lanczos"] {
                // Box: pixel integration (the model the back-projection assumes). Lanczos:
                // ffmpeg's anti-aliased downscale, a kernel the upscaler was not told about.
                let low: Vec<Tensor> = if source == "box" {
                    clip.clean
                        .iter()
                        .map(|f| ops::down(&f.unsqueeze(0), scale as i64).squeeze_dim(0))
                        .collect()
                } else {
                    let graph = format!(
                        "scale=iw/{scale}:ih/{scale}:flags=lanczos+accurate_rnd+full_chroma_int"
                    );
                    match ffmpeg_filter(&clip.clean, (hw, hh), &graph, Some((lw, lh))) {
                        Some(Ok(low)) => low,
                        _ => {
                            println!("(no ffmpeg: the Lanczos-downscaled source is left out)");
                            continue;
                        }
                    }
                };
                println!();
                println!("seed {seed}, {scale}x: {lw}x{lh} ({source}-downscaled) -> {hw}x{hh}");
                println!(
                    "{:<34} {:>9} {:>11} {:>10}",
                    "", "PSNR dB", "sharpness", "frames/s"
                );
                let figures = |out: &[Tensor]| {
                    let n = out.len() as f64;
                    let p = metrics::mean_psnr(out, &clip.clean);
                    let s = out
                        .iter()
                        .zip(&clip.clean)
                        .map(|(o, c)| metrics::edge_sharpness(o, c))
                        .sum::<f64>()
                        / n;
                    (p, s)
                };
                let line = |name: &str, (p, s): (f64, f64), fps: f64| {
                    println!("{name:<34} {p:>9.2} {s:>10.1}% {fps:>10.2}")
                };
                let mut lanczos = None;
                for (name, flags) in [
                    ("ffmpeg scale bicubic", "bicubic"),
                    ("ffmpeg scale lanczos", "lanczos"),
                ] {
                    let graph = format!(
                        "scale=iw*{scale}:ih*{scale}:flags={flags}+accurate_rnd+full_chroma_int"
                    );
                    if let Some((out, fps)) = timed_ffmpeg(
                        name,
                        || ffmpeg_filter(&low, (lw, lh), &graph, Some((hw, hh))),
                        frames,
                    ) {
                        let f = figures(&out);
                        line(name, f, fps);
                        if flags == "lanczos" {
                            lanczos = Some(f.0);
                        }
                    }
                }
                let params = RefineParams {
                    radius: b.upscale_radius as usize,
                    scale: scale as u32,
                    ..RefineParams::default()
                };
                let (out, fps) = refine_all(&low, &params, tuning, "upscaling", verbosity)?;
                let f = figures(&out);
                line(&format!("Temporal Refine scale {scale}x"), f, fps);
                if let Some(l) = lanczos {
                    println!("  Temporal Refine over Lanczos: {:+.2} dB", f.0 - l);
                }
            }
        }
    }
    println!();
    Ok(())
}

pub fn stabilise_table(
    b: &BenchArgs,
    seeds: &[u64],
    radius: usize,
    tuning: &Tuning,
    verbosity: Verbosity,
) -> Result<(), String> {
    let (w, h, frames) = if b.full {
        (1280, 720, 40)
    } else {
        (320, 180, 30)
    };
    println!(
        "Stabilise: the degraded test clip ({w}x{h}, {frames} frames) plus {} px RMS jitter per \
         axis; residual jitter = RMS frame-to-frame change of the offset from the true smooth \
         path. Temporal Refine radius {radius}, stabilise 1, Fill edges",
        b.jitter
    );
    for &seed in seeds {
        let mut spec = ClipSpec::new(w, h, frames, seed);
        spec.jitter = b.jitter;
        let clip = TestClip::generate(&spec);
        println!();
        println!("seed {seed}");
        println!(
            "{:<34} {:>14} {:>10} {:>10}",
            "", "jitter px RMS", "removed", "frames/s"
        );
        let input = metrics::residual_jitter(&clip.degraded, &clip);
        let line = |name: &str, j: f64, fps: Option<f64>| {
            let fps = fps.map_or(format!("{:>10}", "-"), |f| format!("{f:>10.2}"));
            println!(
                "{name:<34} {j:>14.3} {:>9.1}% {fps}",
                100.0 * (1.0 - j / input)
            )
        };
        line("input (degraded)", input, None);
        let params = RefineParams {
            radius,
            stabilise: 1.0,
            edges: StabiliseEdges::Fill,
            ..RefineParams::default()
        };
        let (out, fps) = refine_all(&clip.degraded, &params, tuning, "stabilising", verbosity)?;
        line(
            "Temporal Refine stabilise 1",
            metrics::residual_jitter(&out, &clip),
            Some(fps),
        );
        let trf =
            std::env::temp_dir().join(format!("dreamfx-vidstab-{}-{seed}.trf", std::process::id()));
        let trf_s = trf.to_string_lossy().replace(':', "\\:");
        let vidstab = timed_ffmpeg(
            "ffmpeg vidstab",
            || {
                let detect = format!("format=yuv444p,vidstabdetect=result={trf_s}");
                match ffmpeg_filter(&clip.degraded, (w, h), &detect, None)? {
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
                let transform = format!(
                    "format=yuv444p,vidstabtransform=input={trf_s}:optzoom=0,format=gbrp16le"
                );
                ffmpeg_filter(&clip.degraded, (w, h), &transform, Some((w, h)))
            },
            frames,
        );
        let _ = std::fs::remove_file(&trf);
        if let Some((out, fps)) = vidstab {
            line(
                "ffmpeg vidstabdetect+transform",
                metrics::residual_jitter(&out, &clip),
                Some(fps),
            );
        }
        if let Some((out, fps)) = timed_ffmpeg(
            "ffmpeg deshake",
            || {
                ffmpeg_filter(
                    &clip.degraded,
                    (w, h),
                    "format=yuv444p,deshake,format=gbrp16le",
                    Some((w, h)),
                )
            },
            frames,
        ) {
            line(
                "ffmpeg deshake",
                metrics::residual_jitter(&out, &clip),
                Some(fps),
            );
        }
    }
    println!();
    Ok(())
}
