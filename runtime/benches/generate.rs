//! Text to Video through the runtime process, as a host asks for it: a 2 s clip at 24 frames/s
//! and 320×180 from the built-in dreamfx-tiny. Prints, measured in this run:
//! - time to the first frame (runtime start, model load, one segment generated),
//! - the other 47 frames (each resampled and fitted from the cached segment),
//! - a cache hit of one frame (ask, map, copy the answer out) as a ratio to one plain memcpy of
//!   the same frame (the baseline),
//! - the same frame after a runtime restart, from the disk cache (no generation),
//! - a second clip (new seed) in a warm runtime: the generation alone.
//!
//! Run: `cargo bench -p dreamfx-runtime --bench generate`
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dreamfx_effects::{clip_host_frames, TEXT_TO_VIDEO};
use dreamfx_protocol::client::{Connection, RenderHooks, RuntimeLocation};
use dreamfx_protocol::job::{ClipPosition, Job, ParamValue};
use dreamfx_protocol::paths;

const W: u32 = 320;
const H: u32 = 180;
const RATE: f64 = 24.0;
const RUNS: usize = 50;

struct Quiet;
impl RenderHooks for Quiet {
    fn progress(&mut self, _: f32) {}
    fn should_abort(&mut self) -> bool {
        false
    }
}

fn job(seed: i64, frame: f64) -> Job {
    let frames = clip_host_frames(2.0, RATE);
    let params = TEXT_TO_VIDEO
        .params
        .iter()
        .filter_map(|p| {
            let v = match (p.name, p.default_value()?) {
                ("seed", _) => ParamValue::Int(seed),
                (_, ParamValue::Double(d)) if p.animates => ParamValue::Curve(vec![d; frames]),
                (_, v) => v,
            };
            Some((p.name.to_string(), v))
        })
        .collect();
    Job {
        effect: TEXT_TO_VIDEO.id.into(),
        effect_version: TEXT_TO_VIDEO.algorithm_version,
        params,
        width: W,
        height: H,
        inputs: vec![],
        centre: 0,
        position: Some(ClipPosition {
            frame,
            rate: RATE,
            pixel_aspect: 1.0,
            preview: false,
        }),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn kill(dir: &std::path::Path) {
    if let Ok(pid) = std::fs::read_to_string(paths::pid_path(dir)) {
        if let Ok(pid) = pid.trim().parse::<i32>() {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn main() {
    let tmp = std::env::temp_dir().join(format!("dfx-bench-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    // A fresh disk cache: the first clip must really be generated.
    std::env::set_var("DREAMFX_CACHE_DIR", tmp.join("cache"));
    let dir: PathBuf = tmp.join("rt");
    let mut loc = RuntimeLocation::new(Some(env!("CARGO_BIN_EXE_dreamfx-runtime").into()));
    loc.dir = dir.clone();
    loc.idle_exit = Duration::from_secs(30);

    let started = Instant::now();
    let mut conn = Connection::connect_or_start(&loc).expect("runtime starts");
    let copy_out = |conn: &mut Connection, j: &Job, out: &mut Vec<f32>| {
        let frame = conn.render(j, &[], &mut Quiet).expect("renders");
        out.clear();
        out.extend_from_slice(frame.pixels);
    };
    let mut out = Vec::new();
    copy_out(&mut conn, &job(1, 0.0), &mut out);
    let first = started.elapsed();
    let started = Instant::now();
    for t in 1..48 {
        copy_out(&mut conn, &job(1, t as f64), &mut out);
    }
    let rest = started.elapsed();

    let frame = out.clone();
    let mut host = vec![0f32; frame.len()];
    let memcpy = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                host.copy_from_slice(&frame);
                std::hint::black_box(&host);
                t.elapsed()
            })
            .collect(),
    );
    let hit = median(
        (0..RUNS)
            .map(|i| {
                let t = Instant::now();
                copy_out(&mut conn, &job(1, (i % 48) as f64), &mut out);
                t.elapsed()
            })
            .collect(),
    );
    drop(conn);
    kill(&dir);
    let started = Instant::now();
    let mut conn = Connection::connect_or_start(&loc).expect("runtime restarts");
    copy_out(&mut conn, &job(1, 30.0), &mut out);
    let from_disk = started.elapsed();
    let made_after_restart = conn.status().unwrap().segments_generated;
    let started = Instant::now();
    copy_out(&mut conn, &job(2, 0.0), &mut out);
    let warm_clip = started.elapsed();
    drop(conn);
    kill(&dir);
    let _ = std::fs::remove_dir_all(&tmp);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("Text to Video, dreamfx-tiny, 48 frames of {W}x{H} at {RATE} frames/s (2 s):");
    println!(
        "  first frame (runtime start + model load + 1 segment): {:8.1} ms",
        ms(first)
    );
    println!(
        "  the other 47 frames from the cached segment:         {:8.1} ms ({:.2} ms a frame)",
        ms(rest),
        ms(rest) / 47.0
    );
    println!(
        "  one memcpy of the {W}x{H} RGBA f32 frame (baseline):  {:8.3} ms",
        ms(memcpy)
    );
    println!(
        "  cache hit of a frame, copied out (median of {RUNS}):     {:8.3} ms = {:.1}x the memcpy",
        ms(hit),
        hit.as_secs_f64() / memcpy.as_secs_f64()
    );
    println!(
        "  after a runtime restart, from the disk cache:         {:8.1} ms ({} segments generated)",
        ms(from_disk),
        made_after_restart
    );
    println!(
        "  a new clip in the warm runtime (generation):          {:8.1} ms",
        ms(warm_clip)
    );
}
