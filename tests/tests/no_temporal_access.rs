//! Temporal Refine in a host without temporal clip access (MLT's behaviour, modelled by
//! `HostProfile::mlt()`: it says so, and makes a fresh instance for every frame). The plugin
//! keeps the host's suites and properties from the first host that loads it in a process, so
//! this profile is the only host in this test binary; `tests/tests/mlt.rs` runs the same
//! through MLT's own `melt`.
mod common;

use common::*;
use dreamfx_test_host::*;

/// An instance on a `w`×`h` degraded clip of `frames` frames.
fn instance(w: usize, h: usize, frames: usize) -> (TestHost, Instance) {
    let (host, bundle) = load(HostProfile::mlt(), "no-temporal");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Filter).unwrap();
    let clip = ClipSetup::from_frames(
        0.0,
        (0..frames)
            .map(|t| degraded_frame(w, h, t as f64))
            .collect(),
    );
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(w, h).source(clip))
        .unwrap();
    inst.set_param("radius", 3).unwrap();
    (host, inst)
}

#[test]
fn a_sequence_is_refined_from_the_frames_before_a_seek_starts_again_and_it_says_so_once() {
    let (w, h) = (40, 30);
    let (_host, inst) = instance(w, h, 12);
    let (mut before, mut after) = (0.0, 0.0);
    for t in 0..8 {
        let out = inst.render_full(t as f64).unwrap().frame;
        let source = degraded_frame(w, h, t as f64);
        if t == 0 {
            assert_eq!(
                out.rgba, source.rgba,
                "with no past the source is left as it is"
            );
        }
        let clean = clean_frame(w, h, t as f64);
        let (e0, e) = (mse(&source, &clean), mse(&out, &clean));
        assert!(e <= e0 * 1.02, "frame {t} made worse: {e} > {e0}");
        before += e0;
        after += e;
    }
    eprintln!("MSE to the clean clip, frames 0-7: source {before:.6}, refined {after:.6}");
    assert!(after < 0.5 * before, "{after} vs {before}");
    assert_eq!(
        inst.fetched_times("Source"),
        (0..8).map(f64::from).collect::<Vec<_>>(),
        "a host without temporal access is asked only for the frame it renders"
    );

    // Frame 10 after frame 7: no unbroken past, so nothing to refine from.
    let out = inst.render_full(10.0).unwrap().frame;
    assert_eq!(out.rgba, degraded_frame(w, h, 10.0).rgba, "after a seek");
    // Frame 11 has frame 10 as its past again.
    let out = inst.render_full(11.0).unwrap().frame;
    let clean = clean_frame(w, h, 11.0);
    let (e0, e) = (mse(&degraded_frame(w, h, 11.0), &clean), mse(&out, &clean));
    assert!(e < 0.95 * e0, "frame 11 refined from frame 10: {e} vs {e0}");

    let notices: Vec<_> = inst
        .messages()
        .into_iter()
        .filter(|m| m.text.contains("no neighbouring frames"))
        .collect();
    assert_eq!(notices.len(), 1, "said once: {:?}", inst.messages());
}
