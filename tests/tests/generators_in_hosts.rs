//! Text to Video and Image to Video in hosts no one here wrote: the official HostSupport
//! library (tests/hostsupport/host.cpp) and MLT 7.40's melt. The generated object must have the
//! prompt's colour and move its way (dreamfx-tiny's own pixel checkers decide), Image to Video
//! must start from the Source frame, and a second host process must find the clip generated.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use dreamfx_protocol::client::Connection;
use dreamfx_tiny::checkers::{detect, psnr, ClipRef};
use serde_json::Value;

const PROMPT: &str = "a red circle moves left on a dark blue background";

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dfx-gen-hosts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir
}

/// The tests share one runtime and count its generations: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runtime every host process of this test binary talks to (through the bundle), with a
/// disk cache of its own.
fn runtime_dir() -> PathBuf {
    let dir = private_runtime_dir("generators-in-hosts");
    let cache = dir.with_extension("cache");
    std::env::set_var("DREAMFX_CACHE_DIR", &cache);
    dir
}

fn segments_generated() -> u64 {
    Connection::connect(&runtime_dir())
        .and_then(|mut c| c.status())
        .map(|s| s.segments_generated)
        .unwrap_or(0)
}

/// Writes `frames` source frames (raw RGBA f32) as HostSupport's host reads them.
fn write_source(
    dir: &Path,
    w: usize,
    h: usize,
    frames: usize,
    pixel: impl Fn(usize, usize) -> [f32; 4],
) {
    let mut bytes = Vec::with_capacity(w * h * 16);
    for y in 0..h {
        for x in 0..w {
            for v in pixel(x, y) {
                bytes.extend_from_slice(&v.to_ne_bytes());
            }
        }
    }
    for t in 0..frames {
        std::fs::write(dir.join(format!("src/{t}.rgba")), &bytes).unwrap();
    }
}

/// Renders `times` of `plugin` through HostSupport's host in the filter context (every host
/// has it; MLT has only it) in float; the output frames as RGB.
#[allow(clippy::too_many_arguments)]
fn hostsupport_render(
    dir: &Path,
    plugin: &str,
    (w, h): (usize, usize),
    frames: usize,
    times: &[usize],
    sets: &[String],
) -> Vec<Vec<f32>> {
    let mut c = Command::new(hostsupport_host());
    c.arg("render")
        .arg(bundle_path().parent().unwrap())
        .args(["--plugin", plugin, "--context", "filter"])
        .args(["--size", &format!("{w}x{h}")])
        .arg("--source")
        .arg(dir.join("src"))
        .args(["--frames", &format!("0:{}", frames - 1)])
        .args(["--fps", "24", "--depth", "float"])
        .args([
            "--render",
            &times
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ])
        .arg("--out")
        .arg(dir.join("out"));
    for s in sets {
        c.args(["--set", s]);
    }
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "HostSupport render failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_ne!(v["kind"], "error", "{line}");
    }
    times
        .iter()
        .map(|t| {
            let bytes = std::fs::read(dir.join(format!("out/float-{t}.rgba"))).unwrap();
            let rgba: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(rgba.len(), w * h * 4);
            rgba.chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect()
        })
        .collect()
}

#[test]
fn hostsupport_renders_a_red_circle_moving_left_and_a_second_host_process_generates_nothing() {
    let _one_at_a_time = serial();
    runtime_dir();
    let dir = workdir("hs-t2v");
    let (w, h, n) = (320, 180, 48);
    write_source(&dir, w, h, n, |_, _| [0.0, 0.0, 0.0, 1.0]);
    let sets = [format!("prompt={PROMPT}"), "seed=3".to_string()];
    let times: Vec<usize> = (0..n).collect();
    let before = segments_generated();
    let frames = hostsupport_render(&dir, "dreamfx.TextToVideo", (w, h), n, &times, &sets);
    let clip: Vec<f32> = frames.concat();
    let found = detect(&ClipRef::new(&clip, n, h, w));
    assert_eq!(
        found.colour.map(|c| format!("{c:?}")).as_deref(),
        Some("Red"),
        "{found:?}"
    );
    assert!(found.velocity[0] < -0.5, "moves left: {:?}", found.velocity);
    assert_eq!(
        segments_generated() - before,
        1,
        "one segment for 48 frames"
    );

    // Another host process, frame 12 alone: nothing generated, the same pixels as in sequence.
    let again = hostsupport_render(&dir, "dreamfx.TextToVideo", (w, h), n, &[12], &sets);
    assert_eq!(
        segments_generated() - before,
        1,
        "the second process generated nothing"
    );
    assert_eq!(
        again[0], frames[12],
        "frame 12 alone equals frame 12 in the sequence"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostsupport_image_to_video_starts_from_the_source_frame() {
    let _one_at_a_time = serial();
    runtime_dir();
    let dir = workdir("hs-i2v");
    let (w, h, n) = (64, 64, 16);
    // A still Text to Video made: a scene the model knows.
    write_source(&dir, w, h, n, |_, _| [0.0, 0.0, 0.0, 1.0]);
    let still = hostsupport_render(
        &dir,
        "dreamfx.TextToVideo",
        (w, h),
        n,
        &[8],
        &[
            "prompt=a green square moves up on a black background".into(),
            "seed=5".into(),
        ],
    )
    .remove(0);
    write_source(&dir, w, h, n, |x, y| {
        let p = &still[(y * w + x) * 3..][..3];
        [p[0], p[1], p[2], 1.0]
    });
    let frames = hostsupport_render(
        &dir,
        "dreamfx.ImageToVideo",
        (w, h),
        n,
        &[0, 15],
        &[
            "prompt=a green square moves right on a black background".into(),
            "seed=9".into(),
        ],
    );
    let db = psnr(&frames[0], &still);
    assert!(db >= 30.0, "frame 0 is the Source frame: {db:.1} dB");
    assert_ne!(frames[1], frames[0], "and the clip moves");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn melt_renders_text_to_video_over_a_black_clip() {
    let _one_at_a_time = serial();
    runtime_dir();
    let dir = workdir("melt-t2v");
    let (w, h, n) = (320usize, 180usize, 48usize);
    std::fs::write(
        dir.join("profile"),
        format!(
            "description=dreamfx test\nframe_rate_num=24\nframe_rate_den=1\nwidth={w}\nheight={h}\n\
             progressive=1\nsample_aspect_num=1\nsample_aspect_den=1\ndisplay_aspect_num={w}\n\
             display_aspect_den={h}\ncolorspace=709\n"
        ),
    )
    .unwrap();
    let out = output_within(
        Command::new(melt())
            .env("OFX_PLUGIN_PATH", bundle_path().parent().unwrap())
            .current_dir(&dir)
            .args(["-profile", "profile", "color:black"])
            .arg(format!("out={}", n - 1))
            .args(["-filter", "openfx.dreamfx.TextToVideo"])
            .arg(format!("prompt={PROMPT}"))
            .arg("seed=3")
            .args([
                "-consumer",
                "avformat:out/f_%04d.png",
                "f=image2",
                "vcodec=png",
                "pix_fmt=rgba",
            ]),
        std::time::Duration::from_secs(300),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "melt failed: {stderr}");
    let mut clip = Vec::with_capacity(n * w * h * 3);
    for i in 1..=n {
        let img = image::open(dir.join(format!("out/f_{i:04}.png")))
            .unwrap()
            .to_rgb8();
        assert_eq!((img.width() as usize, img.height() as usize), (w, h));
        clip.extend(img.into_raw().iter().map(|&v| v as f32 / 255.0));
    }
    let found = detect(&ClipRef::new(&clip, n, h, w));
    assert_eq!(
        found.colour.map(|c| format!("{c:?}")).as_deref(),
        Some("Red"),
        "{found:?}\n{stderr}"
    );
    assert!(found.velocity[0] < -0.5, "moves left: {:?}", found.velocity);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keyframes set in a host (the project's test host: keys through its parameter curves, read
/// back by the plugin with paramGetValueAtTime) shape only the segments they fall in.
#[test]
fn a_prompt_mix_keyframed_in_segment_two_leaves_segment_one_alone() {
    use dreamfx_test_host::{Context, HostProfile, InstanceSetup};
    let _one_at_a_time = serial();
    runtime_dir();
    let (_host, bundle) = load(HostProfile::default(), "generators-in-hosts");
    let plugin = bundle.plugin("dreamfx.TextToVideo").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Generator).unwrap();
    // 6 s at 12 frames/s: three segments of dreamfx-tiny's 2 s, host frames 0..23, 24..47, 48..71.
    let inst = plugin
        .create_instance(
            Context::Generator,
            InstanceSetup::new(64, 64)
                .frame_range(0.0, 71.0)
                .frame_rate(12.0),
        )
        .unwrap();
    inst.set_param("duration", 6.0).unwrap();
    inst.set_param("seed", 808).unwrap();
    inst.set_param("quality", 0).unwrap();
    inst.set_param(
        "promptEnd",
        "a yellow square moves right on a black background",
    )
    .unwrap();
    let render = |t: f64| {
        inst.render_full(t)
            .unwrap_or_else(|e| panic!("frame {t}: {e}: {:?}", inst.persistent_message()))
            .frame
            .rgba
    };
    let before = segments_generated();
    let first = render(10.0);
    let last = render(71.0);
    assert_eq!(segments_generated() - before, 3);
    // Prompt Mix keyed from 0 to 1 and back inside the second segment only.
    inst.set_key("promptMix", 26.0, 0.0).unwrap();
    inst.set_key("promptMix", 36.0, 1.0).unwrap();
    inst.set_key("promptMix", 46.0, 0.0).unwrap();
    assert_eq!(render(10.0), first, "segment 1 is byte-identical");
    assert_eq!(segments_generated() - before, 3, "and not generated again");
    assert_ne!(
        render(71.0),
        last,
        "segment 3 continues from a changed segment 2"
    );
    assert_eq!(
        segments_generated() - before,
        5,
        "segments 2 and 3 made again"
    );
}
