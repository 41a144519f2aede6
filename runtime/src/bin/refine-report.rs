//! Quality report for Temporal Refine on synthetic clips with ground truth.
//!
//! cargo run --release -p dreamfx-runtime --bin refine-report -- \
//!     [--width 1280 --height 720 --frames 40 --seeds 11,12 --radius 7 --strength 1 --detail D]
//!     [--set knob=value ...]   (internal `Tuning` knobs, for tuning only)
//!     [--no-ffmpeg]
//!
//! For every seed it prints the rows input (degraded), Temporal Refine, the ffmpeg chain
//! `deflicker=mode=am:size=15,hqdn3d` and the clean clip, with the columns warping error,
//! flicker index, PSNR against the clean clip and frames/s (see `refine::metrics`).
//!
//! The defaults of `RefineParams` and `Tuning` were tuned on seed 1 (1280×720, 40 frames);
//! the report's default seeds (11, 12) were not used for tuning.

use dreamfx_runtime::refine::metrics;
use dreamfx_runtime::refine::{refine_with, RefineParams, Tuning};
use dreamfx_runtime::testclips::{ClipSpec, TestClip};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;
use tch::{Kind, Tensor};

struct Args {
    width: usize,
    height: usize,
    frames: usize,
    seeds: Vec<u64>,
    params: RefineParams,
    tuning: Tuning,
    ffmpeg: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        width: 1280,
        height: 720,
        frames: 40,
        seeds: vec![11, 12],
        params: RefineParams::default(),
        tuning: Tuning::default(),
        ffmpeg: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-ffmpeg" {
            a.ffmpeg = false;
            continue;
        }
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<f64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--width" => a.width = num(&v)? as usize,
            "--height" => a.height = num(&v)? as usize,
            "--frames" => a.frames = num(&v)? as usize,
            "--radius" => a.params.radius = num(&v)? as usize,
            "--strength" => a.params.strength = num(&v)?,
            "--detail" => a.params.detail = num(&v)?,
            "--seeds" => {
                a.seeds = v
                    .split(',')
                    .map(|s| s.trim().parse().map_err(|e| format!("seed {s}: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--set" => {
                let (k, val) = v.split_once('=').ok_or("--set knob=value")?;
                let x = num(val)?;
                let t = &mut a.tuning;
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
                    _ => return Err(format!("unknown knob {k}")),
                }
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

/// Runs `deflicker=mode=am:size=15,hqdn3d` over the clip. Frames go through stdin/stdout as raw
/// `gbrp16le` (planar 16-bit G, B, R): deflicker only takes YUV/grey, so ffmpeg converts to
/// `yuv444p16le` inside the graph and back, 16 bits throughout, so little precision is lost.
/// Returns None when ffmpeg cannot be started.
fn ffmpeg_chain(frames: &[Tensor], w: usize, h: usize) -> Option<Result<Vec<Tensor>, String>> {
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
        .args([
            "-vf",
            "deflicker=mode=am:size=15,hqdn3d",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gbrp16le",
            "-",
        ])
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
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).ok();
    writer.join().ok();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).ok();
    let status = child.wait().ok();
    let fsize = 3 * plane * 2;
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

fn row(name: &str, f: (f64, f64, f64), fps: Option<f64>) {
    let fps = fps
        .map(|x| format!("{x:10.2}"))
        .unwrap_or_else(|| format!("{:>10}", "-"));
    println!("{name:<34} {:>12.2} {:>10.3} {:>9.2} {fps}", f.0, f.1, f.2);
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("refine-report: {e}");
            std::process::exit(2);
        }
    };
    let _g = tch::no_grad_guard();
    println!(
        "Temporal Refine report: {}x{}, {} frames, radius {}, strength {}, detail {}, libtorch CPU threads {}",
        args.width,
        args.height,
        args.frames,
        args.params.radius,
        args.params.strength,
        args.params.detail,
        tch::get_num_threads()
    );
    for &seed in &args.seeds {
        let t0 = Instant::now();
        let clip = TestClip::generate(&ClipSpec::new(args.width, args.height, args.frames, seed));
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

        let t0 = Instant::now();
        let r = args.params.radius;
        let n = clip.degraded.len();
        let refined: Vec<Tensor> = (0..n)
            .map(|t| {
                let lo = t.saturating_sub(r);
                let hi = (t + r).min(n - 1);
                refine_with(
                    &clip.degraded[lo..=hi],
                    t - lo,
                    &args.params,
                    &args.tuning,
                    &mut |_| true,
                )
                .expect("refine")
            })
            .collect();
        let fps = n as f64 / t0.elapsed().as_secs_f64();
        row(
            "Temporal Refine",
            metrics::figures(&refined, &clip),
            Some(fps),
        );

        let name = "ffmpeg deflicker=mode=am:size=15,hqdn3d";
        if args.ffmpeg {
            let t0 = Instant::now();
            match ffmpeg_chain(&clip.degraded, args.width, args.height) {
                Some(Ok(out)) => {
                    let fps = n as f64 / t0.elapsed().as_secs_f64();
                    row(
                        "ffmpeg deflicker(am,15)+hqdn3d",
                        metrics::figures(&out, &clip),
                        Some(fps),
                    );
                }
                Some(Err(e)) => println!("{name}: failed: {e}"),
                None => println!("{name}: ffmpeg was not found (install it to get this row)"),
            }
        }
        row("clean", metrics::figures(&clip.clean, &clip), None);
    }
}
