//! Shared by the integration tests: where the built bundle is, a private runtime directory per
//! test binary, and test clips with known content.
#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::OnceLock;

use dreamfx_test_host::{Bundle, Frame, HostProfile, TestHost};

/// The bundle `scripts/test.sh` builds (`dreamfx-bundle build --out target/debug`), or
/// `$DREAMFX_TEST_BUNDLE`.
pub fn bundle_path() -> PathBuf {
    if let Some(p) = std::env::var_os("DREAMFX_TEST_BUNDLE") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/dreamfx.ofx.bundle");
    assert!(
        p.join("Contents/Linux-x86-64/dreamfx.ofx").is_file(),
        "{} is not built: run scripts/test.sh (or cargo build --workspace && \
         target/debug/dreamfx-bundle build --out target/debug)",
        p.display()
    );
    p
}

/// Each test binary talks to its own runtime (started on demand from the bundle), so a test
/// that kills its runtime cannot disturb another binary's.
pub fn private_runtime_dir(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("dfx-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::env::set_var("DREAMFX_RUNTIME_DIR", &dir);
        std::env::set_var("DREAMFX_IDLE_EXIT_SECS", "30");
        std::env::set_var("DREAMFX_LOG_DIR", &dir);
        dir
    })
    .clone()
}

pub fn load(profile: HostProfile, name: &str) -> (TestHost, Bundle) {
    private_runtime_dir(name);
    let host = TestHost::new(profile);
    let bundle = host.load_bundle(bundle_path()).expect("bundle loads");
    (host, bundle)
}

/// The pid the runtime wrote in its directory.
pub fn runtime_pid(dir: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(dir.join("runtime.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A colourful texture drifting right by 0.6 px per frame: the clean clip.
pub fn clean_frame(w: usize, h: usize, t: f64) -> Frame {
    Frame::from_fn(w, h, |x, y| {
        let xs = x as f64 - 0.6 * t;
        let y = y as f64;
        let v = |a: f64, b: f64, p: f64| {
            (0.5 + 0.22 * (xs * a + y * b + p).sin() + 0.15 * (xs * b * 1.7 - y * a * 0.9).cos())
                as f32
        };
        [
            v(0.21, 0.13, 0.0),
            v(0.17, 0.23, 1.0),
            v(0.11, 0.19, 2.0),
            1.0,
        ]
    })
}

/// The clean clip with per-frame brightness flicker and deterministic noise.
pub fn degraded_frame(w: usize, h: usize, t: f64) -> Frame {
    let clean = clean_frame(w, h, t);
    let gain = 1.0 + 0.08 * ((t * 2.3).sin() as f32);
    let mut out = clean.clone();
    for (i, v) in out.rgba.iter_mut().enumerate() {
        if i % 4 == 3 {
            continue;
        }
        let n = ((i as u64 + 7919 * t as u64).wrapping_mul(2654435761) % 1000) as f32 / 1000.0;
        *v = (*v * gain + (n - 0.5) * 0.06).clamp(0.0, 1.0);
    }
    out
}

pub fn mse(a: &Frame, b: &Frame) -> f64 {
    let mut s = 0.0;
    let mut n = 0;
    for (i, (x, y)) in a.rgba.iter().zip(&b.rgba).enumerate() {
        if i % 4 != 3 {
            s += ((x - y) as f64).powi(2);
            n += 1;
        }
    }
    s / n as f64
}

pub fn mean_luma(f: &Frame) -> f64 {
    let px = f.rgba.chunks(4);
    let n = px.len() as f64;
    px.map(|p| 0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64)
        .sum::<f64>()
        / n
}

/// Runs an external host (melt) to completion, killing it after `limit` and trying once more:
/// MLT 7.40's melt has been seen, rarely and only under heavy load, to sleep forever in its
/// main loop with no consumer thread left and nothing written. A hang must fail one attempt,
/// never the whole test run (CI has a hard time limit).
pub fn output_within(
    cmd: &mut std::process::Command,
    limit: std::time::Duration,
) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    for attempt in 1..=2 {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        // Drain both pipes while waiting, so a chatty child never blocks on a full pipe.
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        });
        let err_reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        });
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let stdout = out_reader.join().unwrap();
        let stderr = err_reader.join().unwrap();
        match status {
            Some(status) => {
                return std::process::Output {
                    status,
                    stdout,
                    stderr,
                }
            }
            None => eprintln!(
                "{:?} did not finish within {limit:?} (attempt {attempt}); stderr:\n{}",
                cmd.get_program(),
                String::from_utf8_lossy(&stderr)
            ),
        }
    }
    panic!("{cmd:?} hung twice");
}

/// MLT 7.40's melt as `scripts/build-mlt.sh` builds it (cached in ~/.cache/dreamfx), or
/// `$DREAMFX_MELT`.
pub fn melt() -> PathBuf {
    let path = std::env::var_os("DREAMFX_MELT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/dreamfx/mlt-7.40.0/melt-env")
        });
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-mlt.sh (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The headless host on the official HostSupport library (`tests/hostsupport/`).
pub fn hostsupport_host() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/hostsupport/dreamfx-hostsupport-host");
    assert!(
        p.is_file(),
        "{} is not built: run scripts/build-hostsupport-host.sh (scripts/test.sh does)",
        p.display()
    );
    p
}
