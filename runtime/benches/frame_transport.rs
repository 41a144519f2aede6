//! How fast a frame moves host → runtime → host. Prints, measured in this run:
//! one plain memcpy of a 1920×1080 RGBA f32 frame (the baseline), the same bytes through the
//! Unix socket, and the shared-memory round trip of a frame the runtime has cached (hash the
//! input, ask, map, copy the answer out into a host buffer) — each as a ratio to the memcpy.
//!
//! Run: `cargo bench -p dreamfx-runtime --bench frame_transport`
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use dreamfx_effects::TEMPORAL_REFINE;
use dreamfx_protocol::client::{Connection, InputFrame, RenderHooks, RuntimeLocation};
use dreamfx_protocol::job::{Job, ParamValue};

const W: u32 = 1920;
const H: u32 = 1080;
const RUNS: usize = 30;

struct Quiet;
impl RenderHooks for Quiet {
    fn progress(&mut self, _: f32) {}
    fn should_abort(&mut self) -> bool {
        false
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(mut f: impl FnMut()) -> Duration {
    f(); // warm-up: page faults, caches
    median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let n = (W * H * 4) as usize;
    let frame: Vec<f32> = (0..n).map(|i| (i % 251) as f32 / 251.0).collect();
    let mut host_out = vec![0f32; n];
    let bytes = n * 4;

    let memcpy = time(|| {
        host_out.copy_from_slice(&frame);
        std::hint::black_box(&host_out);
    });

    let (mut a, mut b) = UnixStream::pair().unwrap();
    let src = frame.clone();
    let writer = std::thread::spawn(move || {
        let raw = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const u8, src.len() * 4) };
        for _ in 0..=RUNS {
            a.write_all(raw).unwrap();
        }
    });
    let socket = time(|| {
        let raw =
            unsafe { std::slice::from_raw_parts_mut(host_out.as_mut_ptr() as *mut u8, bytes) };
        b.read_exact(raw).unwrap();
    });
    writer.join().unwrap();

    let dir = std::env::temp_dir().join(format!("dreamfx-bench-{}", std::process::id()));
    let mut loc = RuntimeLocation::new(Some(env!("CARGO_BIN_EXE_dreamfx-runtime").into()));
    loc.dir = dir.clone();
    loc.idle_exit = Duration::from_secs(2);
    let mut conn = Connection::connect_or_start(&loc).expect("start runtime");
    let job = Job {
        effect: TEMPORAL_REFINE.id.into(),
        effect_version: TEMPORAL_REFINE.algorithm_version,
        params: vec![
            ("radius".into(), ParamValue::Int(1)),
            ("strength".into(), ParamValue::Double(1.0)),
            ("detail".into(), ParamValue::Double(0.5)),
            ("output".into(), ParamValue::Choice(0)),
            ("scale".into(), ParamValue::Choice(0)),
            ("stabilise".into(), ParamValue::Double(0.0)),
            ("edges".into(), ParamValue::Choice(0)),
        ],
        width: W,
        height: H,
        inputs: vec![],
        centre: 0,
        position: None,
    };
    let input = [InputFrame {
        width: W,
        height: H,
        pixels: &frame,
    }];
    let t = Instant::now();
    conn.render(&job, &input, &mut Quiet).expect("first render");
    let first = t.elapsed();
    let cached = time(|| {
        let view = conn
            .render(&job, &input, &mut Quiet)
            .expect("cached render");
        host_out.copy_from_slice(view.pixels);
    });
    assert_eq!(host_out.len(), n);
    let _ = std::fs::remove_dir_all(&dir);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |d: Duration| d.as_secs_f64() / memcpy.as_secs_f64();
    println!(
        "frame: {W}x{H} RGBA f32 = {:.1} MiB; median of {RUNS} runs",
        bytes as f64 / (1 << 20) as f64
    );
    println!("{:<46} {:>9} {:>12}", "path", "ms", "x memcpy");
    println!(
        "{:<46} {:>9.2} {:>12.2}",
        "memcpy (baseline)",
        ms(memcpy),
        1.0
    );
    println!(
        "{:<46} {:>9.2} {:>12.2}",
        "same bytes through the Unix socket",
        ms(socket),
        ratio(socket)
    );
    println!(
        "{:<46} {:>9.2} {:>12.2}",
        "shared-memory round trip, cached frame",
        ms(cached),
        ratio(cached)
    );
    println!(
        "(first, uncached render incl. upload and compute: {:.0} ms)",
        ms(first)
    );
}
