//! MLT 7.40 (the engine of Kdenlive and Shotcut) as a real host: its `melt` loads the built
//! bundle through its own `openfx` module and renders Temporal Refine. MLT gives no temporal
//! access (it says so, and answers every time with the current frame) and recreates the
//! instance for every frame, so Temporal Refine works from the frames it rendered just before.
//! `scripts/build-mlt.sh` builds melt (cached in ~/.cache/dreamfx); `$DREAMFX_MELT` overrides.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use dreamfx_test_host::Frame;

const W: usize = 64;
const H: usize = 48;
const FRAMES: usize = 12;
const FILTER: &str = "openfx.dreamfx.TemporalRefine";
/// How long one melt run may take before it counts as hung (see `output_within`).
const MELT_LIMIT: std::time::Duration = std::time::Duration::from_secs(240);

/// melt with the bundle on OFX_PLUGIN_PATH and this binary's private runtime directory.
fn melt_command(work: &Path) -> Command {
    private_runtime_dir("mlt");
    let mut c = Command::new(melt());
    c.env("OFX_PLUGIN_PATH", bundle_path().parent().unwrap())
        .current_dir(work);
    c
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dfx-mlt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    // A profile of the clip's own size, so melt neither scales nor pads.
    std::fs::write(
        dir.join("profile"),
        format!(
            "description=dreamfx test\nframe_rate_num=24\nframe_rate_den=1\nwidth={W}\nheight={H}\n\
             progressive=1\nsample_aspect_num=1\nsample_aspect_den=1\ndisplay_aspect_num={W}\n\
             display_aspect_den={H}\ncolorspace=709\n"
        ),
    )
    .unwrap();
    dir
}

fn to_png(frame: &Frame, path: &Path) {
    let bytes: Vec<u8> = frame
        .rgba
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect();
    image::RgbaImage::from_raw(frame.width as u32, frame.height as u32, bytes)
        .unwrap()
        .save(path)
        .unwrap();
}

fn from_png(path: &Path) -> Frame {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.into_raw();
    Frame::from_fn(w, h, |x, y| {
        let p = &px[(y * w + x) * 4..][..4];
        [p[0], p[1], p[2], p[3]].map(|v| v as f32 / 255.0)
    })
}

/// Writes the noisy, flickering clip as RGBA PNGs and renders it through melt with `filter`
/// (or none: MLT's pass-through). Returns the output frames and melt's stderr. MLT 7.40's
/// avformat producer and consumer lose chroma detail on the way (pairs of pixels share
/// chroma, as in YUV 4:2:2, for RGB and RGBA PNGs alike, with or without a filter), so the
/// filter is measured against MLT's own pass-through, which loses the same.
fn render(name: &str, filter: &[&str]) -> (Vec<Frame>, String) {
    render_with(name, &[], filter)
}

/// What `melt -debug` says about the filter's Renders and messages: MLT shows the source when a
/// Render fails and exits 0; the failed status is logged only at this level (the plugin's
/// persistent error message also at the default level).
fn debug_log(name: &str, filter: &[&str]) -> String {
    let (_, stderr) = render_with(&format!("{name}-debug"), &["-debug"], filter);
    stderr
        .lines()
        .filter(|l| {
            (l.contains("[openfx] output of") && l.contains("Render") && !l.ends_with("kOfxStatOK"))
                || l.contains(" type=OfxMessage")
        })
        .take(40)
        .collect::<Vec<_>>()
        .join("\n")
}

fn render_with(name: &str, melt_options: &[&str], filter: &[&str]) -> (Vec<Frame>, String) {
    let dir = workdir(name);
    for t in 0..FRAMES {
        to_png(
            &degraded_frame(W, H, t as f64),
            &dir.join(format!("src/f_{t:04}.png")),
        );
    }
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let out = output_within(
        melt_command(&dir)
            .args(melt_options)
            .args(["-profile", "profile", "src/f_%04d.png"])
            .arg(format!("out={}", FRAMES - 1))
            .args(filter)
            .args([
                "-consumer",
                "avformat:out/f_%04d.png",
                "f=image2",
                "vcodec=png",
                "pix_fmt=rgba",
            ]),
        MELT_LIMIT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "melt failed: {stderr}");
    // image2 numbers its files from 1.
    let frames = (1..=FRAMES)
        .map(|i| from_png(&dir.join(format!("out/f_{i:04}.png"))))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (frames, stderr)
}

fn clean(t: usize) -> Frame {
    clean_frame(W, H, t as f64)
}

/// How much the frame-to-frame brightness deviates from the clean clip's (flicker).
fn flicker(frames: &[Frame]) -> f64 {
    let d: Vec<f64> = frames
        .iter()
        .enumerate()
        .map(|(t, f)| mean_luma(f) - mean_luma(&clean(t)))
        .collect();
    d.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (d.len() - 1) as f64
}

#[test]
fn melt_lists_the_effect_and_its_parameters() {
    let dir = workdir("query");
    let out = output_within(melt_command(&dir).args(["-query", "filters"]), MELT_LIMIT);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(FILTER), "{text}");
    let out = output_within(
        melt_command(&dir).args(["-query", &format!("filter={FILTER}")]),
        MELT_LIMIT,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // MLT lists the parameters it can set (push buttons it cannot are left out).
    for param in ["radius", "strength", "detail", "output"] {
        assert!(
            text.contains(&format!("identifier: {param}\n")),
            "{param} missing from:\n{text}"
        );
    }
}

#[test]
fn refines_a_noisy_flickering_clip_better_than_passthrough_and_says_why_once() {
    let (passthrough, _) = render("pass", &[]);
    let filter = ["-filter", FILTER, "radius=3"];
    let (refined, stderr) = render("refine", &filter);
    let err = |frames: &[Frame]| -> Vec<f64> {
        frames
            .iter()
            .enumerate()
            .map(|(t, f)| mse(f, &clean(t)))
            .collect()
    };
    assert!(
        !stderr.contains("type=OfxMessageError"),
        "a Render failed (MLT showed the source):\n{stderr}"
    );
    // The first frame has no past: it is left exactly as MLT gave it.
    assert_eq!(refined[0].rgba, passthrough[0].rgba, "frame 0");
    let (before, after) = (err(&passthrough), err(&refined));
    for t in 0..FRAMES {
        assert!(
            after[t] <= before[t] * 1.02,
            "frame {t} made worse: {} > {}",
            after[t],
            before[t]
        );
    }
    let mean = |v: &[f64]| v[1..].iter().sum::<f64>() / (v.len() - 1) as f64;
    eprintln!(
        "MSE to the clean clip, frames 1..: passthrough {:.6}, refined {:.6}; flicker {:.5} -> {:.5}",
        mean(&before),
        mean(&after),
        flicker(&passthrough),
        flicker(&refined)
    );
    if mean(&after) >= 0.75 * mean(&before) {
        panic!(
            "MSE {} vs passthrough {}; melt -debug:\n{}",
            mean(&after),
            mean(&before),
            debug_log("refine", &filter)
        );
    }
    assert!(flicker(&refined) < 0.5 * flicker(&passthrough));
    let notices = stderr.matches("no neighbouring frames").count();
    assert_eq!(notices, 1, "said once, in MLT's log:\n{stderr}");
}

#[test]
fn keyframed_strength_zero_leaves_the_source() {
    let (passthrough, _) = render("key-pass", &[]);
    let filter = ["-filter", FILTER, "radius=2", "strength=0=0;5=0;11=1"];
    let (keyed, _) = render("key", &filter);
    for t in 0..=5 {
        let e = mse(&keyed[t], &passthrough[t]);
        assert!(
            e < 1e-6,
            "frame {t} at strength 0 differs from the source: {e}"
        );
    }
    if mse(&keyed[11], &passthrough[11]) <= 1e-5 {
        panic!(
            "strength 1 at the end did not refine; melt -debug:\n{}",
            debug_log("key", &filter)
        );
    }
}

#[test]
fn negative_and_positive_row_bytes_give_the_same_picture() {
    // MLT hands plug-ins its top-down rows as OFX's bottom-up image through negative row bytes,
    // unless its own `mlt_origin` parameter asks for positive ones (then the plug-in sees the
    // picture upside down, which Temporal Refine does not care about). Both layouts must be
    // read and written back in place; the refinement of a flipped picture may differ only
    // by rounding.
    let filter = ["-filter", FILTER, "radius=2"];
    let (negative, _) = render("rows-negative", &filter);
    let (positive, _) = render("rows-positive", &[&filter[..], &["mlt_origin=1"]].concat());
    for t in 0..FRAMES {
        let d = mse(&negative[t], &positive[t]);
        assert!(d < 1e-7, "frame {t}: {d}");
        assert!(
            mse(&negative[t], &clean(t)) < 2e-3,
            "frame {t} is not the clip's frame"
        );
    }
}

#[test]
fn text_to_video_generates_on_a_clip_in_melt() {
    // MLT has no generator context: Text to Video sits on a clip as a filter and ignores it.
    const T2V: &str = "openfx.dreamfx.TextToVideo";
    let (passthrough, _) = render("t2v-pass", &[]);
    let filter = ["-filter", T2V, "duration=0.5", "seed=3"];
    let (generated, stderr) = render("t2v", &filter);
    assert!(
        !stderr.contains("type=OfxMessageError"),
        "a Render failed (MLT showed the source):\n{stderr}"
    );
    for t in [0, FRAMES - 1] {
        assert!(
            mse(&generated[t], &passthrough[t]) > 1e-3,
            "frame {t} is the source, not a generated frame; melt -debug:\n{}",
            debug_log("t2v", &filter)
        );
    }
    assert!(
        mse(&generated[0], &generated[FRAMES - 1]) > 0.0,
        "the generated clip moves"
    );
}
