//! Renders a flickering, noisy demo clip through Temporal Refine in the installed
//! `dreamfx.ofx.bundle` (found on `OFX_PLUGIN_PATH`, as a host finds it), and writes
//! before/after images a person can look at.
//!
//! `refine-demo [--out DIR] [--frames N] [--width W] [--height H] [--radius R]`
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use dreamfx_examples::*;
use dreamfx_test_host::*;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refine-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |name: &str, default: usize| -> Result<usize, String> {
        opt(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{name} needs a number"))
        })
    };
    let out = PathBuf::from(opt("--out").unwrap_or_else(|| "out/demo".into()));
    let (frames, w, h, radius) = (
        num("--frames", 24)?,
        num("--width", 640)?,
        num("--height", 360)?,
        num("--radius", 7)?,
    );
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;

    let bundles = scan_ofx_plugin_path();
    let bundle_path = bundles
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n == "dreamfx.ofx.bundle"))
        .ok_or("no dreamfx.ofx.bundle on OFX_PLUGIN_PATH; run scripts/demo.sh")?;
    println!("host: loading {}", bundle_path.display());
    let host = TestHost::new(HostProfile::default());
    let bundle = host.load_bundle(bundle_path).map_err(|e| e.to_string())?;
    let plugin = bundle
        .plugin("dreamfx.TemporalRefine")
        .map_err(|e| e.to_string())?;
    plugin.describe().map_err(|e| e.to_string())?;
    plugin
        .describe_in_context(Context::Filter)
        .map_err(|e| e.to_string())?;
    let source: Vec<Frame> = (0..frames)
        .map(|t| degraded_frame(w, h, t as f64))
        .collect();
    let clip = ClipSetup::from_frames(0.0, source.clone()).depth(BitDepth::Short);
    let setup = InstanceSetup::new(w, h)
        .source(clip)
        .frame_range(0.0, frames as f64 - 1.0);
    let inst = plugin
        .create_instance(Context::Filter, setup)
        .map_err(|e| e.to_string())?;
    inst.set_param("radius", radius as i32)
        .map_err(|e| e.to_string())?;

    let started = Instant::now();
    let mut refined = Vec::new();
    for t in 0..frames {
        let img = inst.render_full(t as f64).map_err(|e| {
            let msg = inst.persistent_message().map(|m| m.1).unwrap_or_default();
            format!("render of frame {t} failed: {e} {msg}")
        })?;
        refined.push(img.frame);
        print!("\rrendered {}/{frames}", t + 1);
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    let secs = started.elapsed().as_secs_f64();
    println!("\rrendered {frames} frames of {w}x{h} in {secs:.1} s ({:.2} frames/s, runtime started on demand)", frames as f64 / secs);

    for t in 0..frames {
        save(
            &side_by_side(&source[t], &refined[t]),
            &out.join(format!("before_after_{t:04}.png")),
        )?;
        save(
            &to_rgb8(&refined[t]),
            &out.join(format!("refined_{t:04}.png")),
        )?;
    }
    let flicker = |fs: &[Frame]| {
        fs.windows(2)
            .map(|p| (mean_luma(&p[1]) - mean_luma(&p[0])).abs() * 255.0)
            .sum::<f64>()
            / (fs.len() - 1) as f64
    };
    let mean_psnr = |fs: &[Frame]| {
        fs.iter()
            .enumerate()
            .map(|(t, f)| psnr(f, &clean_frame(w, h, t as f64)))
            .sum::<f64>()
            / fs.len() as f64
    };
    println!("                 flicker index   PSNR vs clean (dB)");
    println!(
        "before           {:>13.3}   {:>18.2}",
        flicker(&source),
        mean_psnr(&source)
    );
    println!(
        "after            {:>13.3}   {:>18.2}",
        flicker(&refined),
        mean_psnr(&refined)
    );
    println!("wrote {}/before_after_NNNN.png (left: source, right: Temporal Refine) and refined_NNNN.png", out.display());
    Ok(())
}
