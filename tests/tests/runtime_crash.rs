//! SIGKILL of the runtime in the middle of a render: that render fails with a clear persistent
//! message, the next one starts a new runtime and succeeds, and no shared memory is left.
//! (Its own test binary: it kills the runtime its process uses.)
mod common;

use std::time::Duration;

use common::*;
use dreamfx_test_host::*;

const W: usize = 640;
const H: usize = 360;

fn dreamfx_mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains("memfd:dreamfx"))
        .count()
}

fn dev_shm_leftovers() -> usize {
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().contains("dreamfx"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn killed_runtime_fails_the_render_clearly_and_the_next_render_recovers() {
    let dir = private_runtime_dir("crash");
    let (_host, bundle) = load(HostProfile::default(), "crash");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Filter).unwrap();
    let clip = ClipSetup::from_frames(
        0.0,
        (0..10).map(|t| degraded_frame(W, H, t as f64)).collect(),
    );
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(W, H).source(clip))
        .unwrap();
    // Warm up: start the runtime with a small render.
    inst.set_param("radius", 1).unwrap();
    inst.render_full(0.0).unwrap();
    let first_pid = runtime_pid(&dir).expect("runtime wrote its pid");

    inst.set_param("radius", 7).unwrap();
    inst.clear_logs();
    // Kill the runtime once it reports that it is working on this render.
    let err = std::thread::scope(|s| {
        let inst = &inst;
        s.spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while !inst
                .progress_events()
                .iter()
                .any(|e| matches!(e, ProgressEvent::Update(_)))
            {
                assert!(std::time::Instant::now() < deadline, "no progress reported");
                std::thread::sleep(Duration::from_millis(1));
            }
            unsafe { libc::kill(first_pid, libc::SIGKILL) };
        });
        inst.render_full(5.0).unwrap_err()
    });
    assert_eq!(err.status().map(|s| s.0), Some(1), "kOfxStatFailed: {err}");
    let (kind, text) = inst
        .persistent_message()
        .expect("persistent message on the node");
    assert_eq!(kind, "OfxMessageError");
    assert!(
        text.contains("runtime stopped") && text.contains("Render again"),
        "message tells the user what happened and what to do: {text}"
    );
    assert_eq!(
        dreamfx_mappings(),
        0,
        "the dead runtime's segments are unmapped"
    );
    assert_eq!(dev_shm_leftovers(), 0, "nothing named in /dev/shm");
    assert_eq!(inst.outstanding_images(), 0);

    inst.set_param("radius", 2).unwrap();
    let out = inst.render_full(5.0).unwrap();
    let second_pid = runtime_pid(&dir).unwrap();
    assert_ne!(first_pid, second_pid, "a new runtime was started");
    assert!(
        mse(&out.frame, &clean_frame(W, H, 5.0))
            < mse(&degraded_frame(W, H, 5.0), &clean_frame(W, H, 5.0))
    );
    assert!(inst.persistent_message().is_none());
    unsafe { libc::kill(second_pid, libc::SIGKILL) };
}
