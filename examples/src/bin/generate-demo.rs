//! Text to Video and Image to Video through the installed `dreamfx.ofx.bundle` (found on
//! `OFX_PLUGIN_PATH`, as a host finds it), frame by frame as a host renders a timeline, with the
//! built-in dreamfx-tiny. Writes the frames and a contact sheet of each clip a person can look at.
//!
//! `generate-demo [--out DIR] [--prompt TEXT] [--seed N] [--width W] [--height H] [--fps F]
//!  [--seconds S] [--still-prompt TEXT]`
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use dreamfx_examples::*;
use dreamfx_test_host::*;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    out: PathBuf,
    prompt: String,
    still_prompt: String,
    seed: i32,
    width: usize,
    height: usize,
    fps: f64,
    seconds: f64,
}

fn options() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    fn parse<T: std::str::FromStr>(name: &str, v: Option<String>, default: T) -> Result<T, String> {
        v.map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name} needs a number, got {v:?}"))
        })
    }
    Ok(Options {
        out: PathBuf::from(opt("--out").unwrap_or_else(|| "out/generate".into())),
        prompt: opt("--prompt")
            .unwrap_or_else(|| "a red circle moves left on a dark blue background".into()),
        still_prompt: opt("--still-prompt")
            .unwrap_or_else(|| "a yellow square moves right on a black background".into()),
        seed: parse("--seed", opt("--seed"), 0)?,
        width: parse("--width", opt("--width"), 320)?,
        height: parse("--height", opt("--height"), 180)?,
        fps: parse("--fps", opt("--fps"), 24.0)?,
        seconds: parse("--seconds", opt("--seconds"), 2.0)?,
    })
}

/// A still to animate: a yellow square left of centre on black (what the prompt above says).
fn still(w: usize, h: usize) -> Frame {
    let side = h as f64 * 0.3;
    let (cx, cy) = (w as f64 * 0.42, h as f64 * 0.5);
    Frame::from_fn(w, h, |x, y| {
        let inside = (x as f64 - cx).abs() < side / 2.0 && (y as f64 - cy).abs() < side / 2.0;
        if inside {
            [0.95, 0.85, 0.1, 1.0]
        } else {
            [0.0, 0.0, 0.0, 1.0]
        }
    })
}

fn contact_sheet(frames: &[Frame], path: &Path) -> Result<(), String> {
    let (w, h) = (frames[0].width as u32, frames[0].height as u32);
    let step = (frames.len() / 12).max(1);
    let picked: Vec<&Frame> = frames.iter().step_by(step).take(12).collect();
    let cols = 4u32;
    let rows = (picked.len() as u32).div_ceil(cols);
    let gap = 4;
    let mut sheet = image::RgbImage::from_pixel(
        cols * (w + gap) + gap,
        rows * (h + gap) + gap,
        image::Rgb([24, 24, 24]),
    );
    for (i, f) in picked.iter().enumerate() {
        let (x, y) = (
            gap + (i as u32 % cols) * (w + gap),
            gap + (i as u32 / cols) * (h + gap),
        );
        image::imageops::replace(&mut sheet, &to_rgb8(f), x as i64, y as i64);
    }
    sheet
        .save(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Renders every frame of `effect` as a host renders a timeline; returns them.
fn render_clip(
    bundle: &Bundle,
    id: &str,
    context: Context,
    setup: InstanceSetup,
    o: &Options,
    prompt: &str,
    frames: usize,
) -> Result<Vec<Frame>, String> {
    let plugin = bundle.plugin(id).map_err(|e| e.to_string())?;
    plugin.describe().map_err(|e| e.to_string())?;
    plugin
        .describe_in_context(context)
        .map_err(|e| e.to_string())?;
    let inst = plugin
        .create_instance(context, setup)
        .map_err(|e| e.to_string())?;
    let set = |name: &str, v: ParamValue| {
        inst.set_param(name, v)
            .map(|_| ())
            .map_err(|e| format!("{name}: {e}"))
    };
    set("prompt", ParamValue::String(prompt.into()))?;
    set("seed", ParamValue::Int(o.seed))?;
    set("duration", ParamValue::Double(o.seconds))?;
    if let Some(ParamValue::String(status)) = inst.param("status") {
        println!("  status: {status}");
    }
    let started = Instant::now();
    let mut out = Vec::with_capacity(frames);
    let mut first = None;
    for t in 0..frames {
        let img = inst.render_full(t as f64).map_err(|e| {
            let msg = inst.persistent_message().map(|m| m.1).unwrap_or_default();
            format!("render of frame {t} failed: {e} {msg}")
        })?;
        first.get_or_insert_with(|| started.elapsed());
        out.push(img.frame);
    }
    let total = started.elapsed();
    println!(
        "  {frames} frames of {}x{}: first frame {:.2} s (generation), all {:.2} s",
        o.width,
        o.height,
        first.unwrap_or_default().as_secs_f64(),
        total.as_secs_f64()
    );
    Ok(out)
}

fn write(frames: &[Frame], dir: &Path, name: &str) -> Result<(), String> {
    let clip_dir = dir.join(name);
    std::fs::create_dir_all(&clip_dir).map_err(|e| format!("{}: {e}", clip_dir.display()))?;
    for (t, f) in frames.iter().enumerate() {
        save(&to_rgb8(f), &clip_dir.join(format!("frame_{t:04}.png")))?;
    }
    contact_sheet(frames, &dir.join(format!("{name}_contact_sheet.png")))?;
    println!(
        "  wrote {}/frame_NNNN.png and {}",
        clip_dir.display(),
        dir.join(format!("{name}_contact_sheet.png")).display()
    );
    Ok(())
}

fn run() -> Result<(), String> {
    let o = options()?;
    std::fs::create_dir_all(&o.out).map_err(|e| format!("creating {}: {e}", o.out.display()))?;
    let bundles = scan_ofx_plugin_path();
    let bundle_path = bundles
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "dreamfx.ofx.bundle"))
        .ok_or("no dreamfx.ofx.bundle on OFX_PLUGIN_PATH; run scripts/demo.sh")?;
    println!("host: loading {}", bundle_path.display());
    let host = TestHost::new(HostProfile::default());
    let bundle = host.load_bundle(bundle_path).map_err(|e| e.to_string())?;
    let frames = (o.seconds * o.fps).round().max(1.0) as usize;

    println!("Text to Video (generator context): {:?}", o.prompt);
    let setup = InstanceSetup::new(o.width, o.height)
        .frame_range(0.0, frames as f64 - 1.0)
        .frame_rate(o.fps);
    let t2v = render_clip(
        &bundle,
        "dreamfx.TextToVideo",
        Context::Generator,
        setup,
        &o,
        &o.prompt,
        frames,
    )?;
    write(&t2v, &o.out, "text_to_video")?;

    println!(
        "Image to Video (filter context) from a still: {:?}",
        o.still_prompt
    );
    let picture = still(o.width, o.height);
    save(&to_rgb8(&picture), &o.out.join("image_to_video_still.png"))?;
    let source = ClipSetup::from_frames(0.0, vec![picture; frames]);
    let setup = InstanceSetup::new(o.width, o.height)
        .source(source)
        .frame_range(0.0, frames as f64 - 1.0)
        .frame_rate(o.fps);
    let i2v = render_clip(
        &bundle,
        "dreamfx.ImageToVideo",
        Context::Filter,
        setup,
        &o,
        &o.still_prompt,
        frames,
    )?;
    write(&i2v, &o.out, "image_to_video")?;
    Ok(())
}
