//! `dreamfx-generate`: a clip from a Wan model directory, written as numbered PNG frames plus
//! the raw float frames (`frames.safetensors`, [F, H, W, 3] in 0..1). The seed of the batch
//! renderer: a thin layer over `wan::pipeline`.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use dreamfx_runtime::wan::pipeline::{Request, WanPipeline};
use dreamfx_runtime::wan::scheduler::{RestartSampling, SchedulerConfig};
use tch::{Device, Tensor};

const USAGE: &str = "usage: dreamfx-generate [--model DIR] [--prompt TEXT] [--out DIR]
       [--negative TEXT] [--image FIRST_FRAME.png] [--seed N] [--steps N] [--guidance G]
       [--shift S] [--scheduler unipc|euler] [--restart-sampling off|SIGMA_MAX,SIGMA_MIN,PASSES]
       [--width W] [--height H] [--frames F]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dreamfx-generate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    fn parse<T: std::str::FromStr>(v: Option<String>, name: &str, default: T) -> Result<T, String> {
        match v {
            None => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|_| format!("{name} {s:?} is not a number\n{USAGE}")),
        }
    }
    // Defaults: the built-in dreamfx-tiny model, a prompt it knows, out/tiny.
    let model = opt("--model").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny")
    });
    let prompt = opt("--prompt")
        .unwrap_or_else(|| "a red circle moves left on a dark blue background".into());
    let out = PathBuf::from(opt("--out").unwrap_or_else(|| "out/tiny".into()));

    let pipe = WanPipeline::load(&model, Device::Cpu).map_err(|e| e.to_string())?;
    let scheduler = match opt("--scheduler").as_deref() {
        None => None,
        Some("unipc") => Some(match pipe.scheduler.clone() {
            s @ SchedulerConfig::UniPc { .. } => s,
            _ => SchedulerConfig::unipc_flow(1.0),
        }),
        Some("euler") => Some(SchedulerConfig::Euler {
            num_train_timesteps: 1000,
            shift: 1.0,
        }),
        Some(other) => return Err(format!("unknown scheduler {other}: use unipc or euler")),
    };
    let first_frame = match opt("--image") {
        None => None,
        Some(path) => {
            let img = image::open(&path)
                .map_err(|e| format!("cannot read {path}: {e}"))?
                .to_rgb8();
            let (w, h) = img.dimensions();
            let data: Vec<f32> = img.into_raw().iter().map(|&v| v as f32 / 255.0).collect();
            Some(
                Tensor::from_slice(&data)
                    .view([h as i64, w as i64, 3])
                    .permute([2, 0, 1])
                    .contiguous(),
            )
        }
    };
    let req = Request {
        prompt,
        negative_prompt: opt("--negative").unwrap_or_default(),
        seed: parse(opt("--seed"), "--seed", 0)?,
        steps: parse(opt("--steps"), "--steps", 20)?,
        guidance: parse(opt("--guidance"), "--guidance", 4.0)?,
        shift: opt("--shift")
            .map(|s| {
                s.parse()
                    .map_err(|_| format!("--shift {s:?} is not a number"))
            })
            .transpose()?,
        scheduler,
        restart: opt("--restart-sampling")
            .map(|v| RestartSampling::parse(&v))
            .transpose()?,
        width: parse(opt("--width"), "--width", 64)?,
        height: parse(opt("--height"), "--height", 64)?,
        frames: parse(opt("--frames"), "--frames", 17)?,
        first_frame,
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let started = Instant::now();
    let generated = pipe
        .generate(&req, &mut |done, total| {
            let width = 30;
            let filled = done * width / total;
            eprint!(
                "\r[{}{}] step {done}/{total}  {:.1}s",
                "#".repeat(filled),
                " ".repeat(width - filled),
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
            true
        })
        .map_err(|e| e.to_string())?;
    eprintln!();
    let video = generated.video;
    Tensor::write_safetensors(&[("frames", &video)], out.join("frames.safetensors"))
        .map_err(|e| e.to_string())?;
    let [f, h, w, _] = video.size()[..] else {
        unreachable!()
    };
    for i in 0..f {
        let path = out.join(format!("frame_{i:04}.png"));
        frame_rgb8(&video, i)
            .save(&path)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    write_contact_sheet(&video, &out.join("contact_sheet.png"))?;
    let gif = out.join("clip.gif");
    let ffmpeg = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-framerate", "8", "-i"])
        .arg(out.join("frame_%04d.png"))
        .args(["-vf", "scale=iw*4:ih*4:flags=neighbor"])
        .arg(&gif)
        .status();
    if !matches!(ffmpeg, Ok(s) if s.success()) {
        eprintln!("(no clip.gif: ffmpeg not found or failed; the PNG frames are there)");
    }
    println!(
        "{f} frames of {w}x{h} in {} ({:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// All frames in one image, a row of up to 9, with 2-pixel gaps; small frames are enlarged
/// (nearest neighbour, so pixels stay honest) to be readable.
fn write_contact_sheet(video: &Tensor, path: &std::path::Path) -> Result<(), String> {
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
