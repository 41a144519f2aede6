//! `dreamfx refine-report`: the quality report for Temporal Refine on synthetic clips with
//! ground truth.
//!
//! For every seed it prints the rows input (degraded), Temporal Refine, the ffmpeg chain
//! `deflicker=mode=am:size=15,hqdn3d` and the clean clip, with the columns warping error,
//! flicker index, PSNR against the clean clip and frames/s (see `refine::metrics`).
//!
//! The defaults of `RefineParams` and `Tuning` were tuned on seed 1 (1280×720, 40 frames);
//! the report's default seeds (11, 12) were not used for tuning.
//!
//! `--bench` (issue 24) adds the speed table against the ffmpeg chain, the upscale table
//! (against ffmpeg's bicubic and Lanczos) and the stabilise table (against ffmpeg's vidstab
//! and deshake), each measured against its baseline in the same run (see [`crate::refine_bench`]);
//! `--speed`, `--upscale`, `--stabilise` pick single tables.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use dreamfx_runtime::refine::{metrics, profile};
use dreamfx_runtime::refine::{refine_with, RefineParams, Tuning};
use dreamfx_runtime::testclips::{ClipSpec, TestClip};
use tch::{Kind, Tensor};

use crate::{finite_in, progress_bar, Verbosity};

#[derive(clap::Args)]
pub struct Args {
    /// Clip width in pixels [default: 1280; with --bench 320, with --bench --full 1280].
    #[arg(long, value_parser = clap::value_parser!(u32).range(16..=8192))]
    width: Option<u32>,
    /// Clip height in pixels [default: 720; with --bench 180, with --bench --full 720].
    #[arg(long, value_parser = clap::value_parser!(u32).range(16..=8192))]
    height: Option<u32>,
    /// Frames per clip (the flicker index and warping error compare neighbours: at least 2)
    /// [default: 40; with --bench 16, with --bench --full 40].
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    frames: Option<u32>,
    /// Test clip seeds, comma-separated (seed 1 was used for tuning; report on others).
    #[arg(long, value_delimiter = ',', default_value = "11,12")]
    seeds: Vec<u64>,
    /// Temporal radius r: frames t−r … t+r refine frame t (the OFX parameter's range).
    #[arg(
        long,
        default_value_t = RefineParams::default().radius as u8,
        value_parser = clap::value_parser!(u8).range(1..=15)
    )]
    radius: u8,
    /// How much of the refined frame replaces the input (0 = untouched).
    #[arg(
        long,
        default_value_t = RefineParams::default().strength,
        value_parser = finite_in(0.0, 1.0)
    )]
    strength: f64,
    /// Detail preservation: unsharp-mask amount on top of the result.
    #[arg(
        long,
        default_value_t = RefineParams::default().detail,
        value_parser = finite_in(0.0, 1.0)
    )]
    detail: f64,
    /// An internal `Tuning` knob, KNOB=VALUE, repeatable (for tuning only).
    #[arg(long = "set", value_name = "KNOB=VALUE", value_parser = parse_knob)]
    set: Vec<(Knob, f64)>,
    /// Leave out the ffmpeg row.
    #[arg(long)]
    no_ffmpeg: bool,
    /// Also print where Temporal Refine's time goes: per-stage totals, ms per frame and shares
    /// (timers inside `refine`, off otherwise).
    #[arg(long)]
    profile: bool,
    #[command(flatten)]
    pub bench: crate::refine_bench::BenchArgs,
}

/// The `Tuning` knobs `--set` may change.
const KNOBS: &[&str] = &[
    "flow_max_width",
    "fb_tol",
    "fb_rel",
    "temporal_sigma",
    "gain_temporal_sigma",
    "gain_down",
    "gain_sigma_frac",
    "photo_k",
    "sharpen_sigma",
    "sharpen_gain",
    "iters_coarse",
    "iters_fine",
    "window_sigma",
    "lambda",
    "norm_sigma",
    "presmooth",
    "min_size",
    "upscale_flow_max_width",
    "upscale_flow_iters_fine",
    "backprojection_iters",
    "backprojection_step",
    "stabilise_path_sigma",
    "stabilise_margin",
    "stabilise_outlier",
];

#[derive(Clone, Copy)]
struct Knob(&'static str);

fn parse_knob(s: &str) -> Result<(Knob, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: give KNOB=VALUE, e.g. fb_tol=0.5"))?;
    let knob = KNOBS
        .iter()
        .find(|k| **k == name.trim())
        .ok_or_else(|| format!("unknown knob {name:?}; the knobs are {}", KNOBS.join(", ")))?;
    let x: f64 = value
        .trim()
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| format!("{name}={value}: the value must be a finite number"))?;
    Ok((Knob(knob), x))
}

fn tuning(set: &[(Knob, f64)]) -> Tuning {
    let mut t = Tuning::default();
    for &(Knob(k), x) in set {
        match k {
            "flow_max_width" => t.flow_max_width = x as i64,
            "fb_tol" => t.fb_tol = x,
            "fb_rel" => t.fb_rel = x,
            "temporal_sigma" => t.temporal_sigma = x,
            "gain_temporal_sigma" => t.gain_temporal_sigma = x,
            "gain_down" => t.gain_down = x as i64,
            "gain_sigma_frac" => t.gain_sigma_frac = x,
            "photo_k" => t.photo_k = x,
            "sharpen_sigma" => t.sharpen_sigma = x,
            "sharpen_gain" => t.sharpen_gain = x,
            "iters_coarse" => t.flow.iters_coarse = x as usize,
            "iters_fine" => t.flow.iters_fine = x as usize,
            "window_sigma" => t.flow.window_sigma = x,
            "lambda" => t.flow.lambda = x,
            "norm_sigma" => t.flow.norm_sigma = x,
            "presmooth" => t.flow.presmooth = x,
            "min_size" => t.flow.min_size = x as i64,
            "upscale_flow_max_width" => t.upscale.flow_max_width = x as i64,
            "upscale_flow_iters_fine" => t.upscale.flow_iters_fine = x as usize,
            "backprojection_iters" => t.upscale.backprojection_iters = x as usize,
            "backprojection_step" => t.upscale.backprojection_step = x,
            "stabilise_path_sigma" => t.stabilise.path_sigma = x,
            "stabilise_margin" => t.stabilise.margin = x,
            "stabilise_outlier" => t.stabilise.outlier = x,
            _ => unreachable!("parse_knob accepts only KNOBS"),
        }
    }
    t
}

pub fn run(args: Args, verbosity: Verbosity) -> Result<(), String> {
    let b = &args.bench;
    let small = b.bench && !b.full;
    let (width, height, frames) = (
        args.width.unwrap_or(if small { 320 } else { 1280 }) as usize,
        args.height.unwrap_or(if small { 180 } else { 720 }) as usize,
        args.frames.unwrap_or(if small { 16 } else { 40 }) as usize,
    );
    let tables = b.tables();
    if tables.speed {
        crate::refine_bench::speed_table(b, &tuning(&args.set), verbosity)?;
    }
    if tables.quality {
        quality_tables(&args, width, height, frames, verbosity)?;
    }
    if tables.upscale {
        crate::refine_bench::upscale_table(b, &args.seeds, &tuning(&args.set), verbosity)?;
    }
    if tables.stabilise {
        crate::refine_bench::stabilise_table(
            b,
            &args.seeds,
            args.radius as usize,
            &tuning(&args.set),
            verbosity,
        )?;
    }
    Ok(())
}

/// The report's original tables: per seed input, Temporal Refine, the ffmpeg chain and clean.
fn quality_tables(
    args: &Args,
    width: usize,
    height: usize,
    frames: usize,
    verbosity: Verbosity,
) -> Result<(), String> {
    let params = RefineParams {
        radius: args.radius as usize,
        strength: args.strength,
        detail: args.detail,
        ..RefineParams::default()
    };
    let tuning = tuning(&args.set);
    let _g = tch::no_grad_guard();
    println!(
        "Temporal Refine report: {width}x{height}, {frames} frames, radius {}, strength {}, detail {}, libtorch CPU threads {}",
        params.radius,
        params.strength,
        params.detail,
        tch::get_num_threads()
    );
    for &seed in &args.seeds {
        let t0 = Instant::now();
        let clip = TestClip::generate(&ClipSpec::new(width, height, frames, seed));
        let gen_s = t0.elapsed().as_secs_f64();
        println!();
        println!("seed {seed} (clip generated in {gen_s:.1} s)");
        println!(
            "{:<34} {:>12} {:>10} {:>9} {:>10}",
            "", "warp error", "flicker", "PSNR dB", "frames/s"
        );

        row(
            "input (degraded)",
            metrics::figures(&clip.degraded, &clip),
            None,
        );

        let r = params.radius;
        let n = clip.degraded.len();
        let bar = progress_bar(
            n as u64,
            "{bar:30} refining frame {pos}/{len}  {elapsed_precise}",
            verbosity,
        );
        profile::enable(args.profile);
        profile::reset();
        let t0 = Instant::now();
        let refined: Vec<Tensor> = (0..n)
            .map(|t| {
                let lo = t.saturating_sub(r);
                let hi = (t + r).min(n - 1);
                let frame = refine_with(
                    &clip.degraded[lo..=hi],
                    t - lo,
                    &params,
                    &tuning,
                    &mut |_| true,
                )
                .map_err(|e| format!("refining frame {t} of seed {seed}: {e}"));
                bar.inc(1);
                frame
            })
            .collect::<Result<_, _>>()?;
        let wall = t0.elapsed().as_secs_f64();
        profile::enable(false);
        let fps = n as f64 / wall;
        bar.finish_and_clear();
        row(
            "Temporal Refine",
            metrics::figures(&refined, &clip),
            Some(fps),
        );
        if args.profile {
            print_profile(wall, n);
        }

        let name = "ffmpeg deflicker=mode=am:size=15,hqdn3d";
        if !args.no_ffmpeg {
            let t0 = Instant::now();
            match ffmpeg_chain(&clip.degraded, width, height) {
                Some(Ok(out)) => {
                    let fps = n as f64 / t0.elapsed().as_secs_f64();
                    row(
                        "ffmpeg deflicker(am,15)+hqdn3d",
                        metrics::figures(&out, &clip),
                        Some(fps),
                    );
                }
                Some(Err(e)) => println!("{name}: failed: {e}"),
                None => println!(
                    "{name}: ffmpeg was not found (install it to get this row, or --no-ffmpeg)"
                ),
            }
        }
        row("clean", metrics::figures(&clip.clean, &clip), None);
    }
    Ok(())
}

/// Runs `deflicker=mode=am:size=15,hqdn3d` over the clip. Frames go through stdin/stdout as raw
/// `gbrp16le` (planar 16-bit G, B, R): deflicker only takes YUV/grey, so ffmpeg converts to
/// `yuv444p16le` inside the graph and back, 16 bits throughout, so little precision is lost.
/// Returns None when ffmpeg cannot be started.
pub(crate) fn ffmpeg_chain(
    frames: &[Tensor],
    w: usize,
    h: usize,
) -> Option<Result<Vec<Tensor>, String>> {
    ffmpeg_filter(
        frames,
        (w, h),
        "deflicker=mode=am:size=15,hqdn3d",
        Some((w, h)),
    )
}

/// Runs the ffmpeg filter graph `filter` over `frames` (`w`×`h`) through stdin/stdout as raw
/// `gbrp16le` (planar 16-bit G, B, R; ffmpeg converts inside the graph where a filter needs
/// YUV). `out`: the size of the frames the graph returns, or None to discard them (a
/// detection pass). Returns None when ffmpeg cannot be started.
pub(crate) fn ffmpeg_filter(
    frames: &[Tensor],
    (w, h): (usize, usize),
    filter: &str,
    out: Option<(usize, usize)>,
) -> Option<Result<Vec<Tensor>, String>> {
    let sink: &[&str] = match out {
        Some(_) => &["-f", "rawvideo", "-pix_fmt", "gbrp16le", "-"],
        None => &["-f", "null", "-"],
    };
    let mut child = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gbrp16le",
        ])
        .args(["-s", &format!("{w}x{h}"), "-r", "25", "-i", "-"])
        .args(["-vf", filter])
        .args(sink)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let plane = w * h;
    // Planes in G, B, R order.
    let bytes: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let q = (f.narrow(0, 0, 3).clamp(0.0, 1.0) * 65535.0)
                .round()
                .to_kind(Kind::Int);
            let q = Tensor::stack(&[q.get(1), q.get(2), q.get(0)], 0).contiguous();
            let mut v = vec![0i32; 3 * plane];
            q.copy_data(&mut v, 3 * plane);
            v.iter().flat_map(|&x| (x as u16).to_le_bytes()).collect()
        })
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for b in &bytes {
            if stdin.write_all(b).is_err() {
                break;
            }
        }
    });
    let mut stdout = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut stdout).ok();
    writer.join().ok();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    let status = child.wait().ok();
    let Some((w, h)) = out else {
        return Some(match status {
            Some(s) if s.success() => Ok(Vec::new()),
            _ => Err(format!("ffmpeg {filter} failed ({status:?}): {err}")),
        });
    };
    let out = stdout;
    let fsize = 3 * w * h * 2;
    if out.len() != fsize * frames.len() {
        return Some(Err(format!(
            "ffmpeg returned {} of {} frames ({status:?}): {err}",
            out.len() / fsize,
            frames.len()
        )));
    }
    let res = out
        .chunks(fsize)
        .map(|c| {
            let v: Vec<f32> = c
                .chunks(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as f32 / 65535.0)
                .collect();
            let t = Tensor::from_slice(&v).view([3, h as i64, w as i64]);
            let alpha = Tensor::ones([1, h as i64, w as i64], (Kind::Float, tch::Device::Cpu));
            Tensor::cat(
                &[
                    t.get(2).unsqueeze(0),
                    t.get(0).unsqueeze(0),
                    t.get(1).unsqueeze(0),
                    alpha,
                ],
                0,
            )
        })
        .collect();
    Some(Ok(res))
}

/// The per-stage table of `--profile` for one clip: `wall` seconds over `n` refined frames.
fn print_profile(wall: f64, n: usize) {
    println!("  Temporal Refine profile ({n} frames, {wall:.2} s):");
    println!(
        "  {:<14} {:>9} {:>10} {:>7}",
        "stage", "total s", "ms/frame", "share"
    );
    let line = |name: &str, s: f64| {
        println!(
            "  {name:<14} {s:>9.3} {:>10.1} {:>6.1}%",
            1000.0 * s / n as f64,
            100.0 * s / wall
        )
    };
    let mut timed = 0.0;
    for (stage, d) in profile::totals() {
        let s = d.as_secs_f64();
        timed += s;
        line(stage.name(), s);
    }
    line("(untimed)", (wall - timed).max(0.0));
}

pub(crate) fn row(name: &str, f: (f64, f64, f64), fps: Option<f64>) {
    let fps = fps
        .map(|x| format!("{x:10.2}"))
        .unwrap_or_else(|| format!("{:>10}", "-"));
    println!("{name:<34} {:>12.2} {:>10.3} {:>9.2} {fps}", f.0, f.1, f.2);
}
