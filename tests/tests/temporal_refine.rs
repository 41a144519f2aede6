//! Temporal Refine through the real bundle: the test host loads `dreamfx.ofx` with libloading,
//! the plugin starts the real runtime process, pixels travel through shared memory.
mod common;

use common::*;
use dreamfx_test_host::*;

const W: usize = 64;
const H: usize = 48;

fn degraded_clip() -> ClipSetup {
    ClipSetup::from_frames(
        0.0,
        (0..10).map(|t| degraded_frame(W, H, t as f64)).collect(),
    )
}

fn instance(profile: HostProfile, source: ClipSetup) -> (TestHost, Instance) {
    let (host, bundle) = load(profile, "refine");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Filter).unwrap();
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(W, H).source(source))
        .unwrap();
    (host, inst)
}

fn window() -> OfxRectI {
    OfxRectI {
        x1: 0,
        y1: 0,
        x2: W as i32,
        y2: H as i32,
    }
}

#[test]
fn describes_itself_from_the_declarative_spec() {
    let (_host, bundle) = load(HostProfile::default(), "refine");
    assert!(bundle
        .plugins()
        .contains(&"dreamfx.TemporalRefine".to_string()));
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    let d = plugin.describe().unwrap();
    assert_eq!(
        d.props.string("OfxPropLabel").as_deref(),
        Some("Temporal Refine")
    );
    assert_eq!(d.supported_contexts(), vec![Context::Filter]);
    assert_eq!(d.props.int("OfxImageEffectPropTemporalClipAccess"), Some(1));
    let c = plugin.describe_in_context(Context::Filter).unwrap();
    assert!(c.clip("Source").is_some() && c.clip("Output").is_some());
    let radius = c.param("radius").unwrap();
    assert_eq!(radius.props.int("OfxParamPropDefault"), Some(7));
    assert_eq!(radius.props.int("OfxParamPropMin"), Some(1));
    let strength = c.param("strength").unwrap();
    assert_eq!(strength.props.int("OfxParamPropAnimates"), Some(1));
    assert_eq!(strength.props.double("OfxParamPropMax"), Some(1.0));
    assert!(
        c.param("output")
            .unwrap()
            .props
            .strings("OfxParamPropChoiceOption")
            .unwrap()
            .len()
            == 3
    );
    assert_eq!(
        c.param("clearCache").unwrap().param_type,
        ParamType::PushButton
    );
}

#[test]
fn asks_for_radius_frames_each_side_clamped_to_the_clip() {
    let (_host, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 2).unwrap();
    let needed = inst.frames_needed(5.0).unwrap();
    let (_, ranges) = needed.iter().find(|(c, _)| c == "Source").unwrap();
    assert_eq!((ranges[0].min, ranges[0].max), (3.0, 7.0));
    let needed = inst.frames_needed(0.0).unwrap();
    let (_, ranges) = needed.iter().find(|(c, _)| c == "Source").unwrap();
    assert_eq!((ranges[0].min, ranges[0].max), (0.0, 2.0));
    // And the render really fetches them.
    inst.clear_logs();
    inst.render_full(5.0).unwrap();
    let mut times = inst.fetched_times("Source");
    times.sort_by(f64::total_cmp);
    times.dedup();
    assert_eq!(times, vec![3.0, 4.0, 5.0, 6.0, 7.0]);
    assert_eq!(inst.outstanding_images(), 0, "every image released");
}

#[test]
fn refines_toward_the_clean_clip_in_byte_short_half_and_float() {
    let mut float_out = None;
    for depth in [
        BitDepth::Float,
        BitDepth::Short,
        BitDepth::Byte,
        BitDepth::Half,
    ] {
        let (_host, inst) = instance(HostProfile::default(), degraded_clip().depth(depth));
        inst.set_param("radius", 3).unwrap();
        let spec = OutputSpec {
            depth,
            row_bytes_padding: 24,
            negative_row_bytes: depth == BitDepth::Short,
            ..Default::default()
        };
        let out = inst.render(5.0, window(), &spec).unwrap();
        let clean = clean_frame(W, H, 5.0);
        let before = mse(&degraded_frame(W, H, 5.0), &clean);
        let after = mse(&out.frame, &clean);
        assert!(
            after < before * 0.7,
            "{depth:?}: refine must bring the frame closer to the clean one ({before} -> {after})"
        );
        assert!(
            out.frame.rgba.chunks(4).all(|p| (p[3] - 1.0).abs() < 1e-3),
            "alpha kept"
        );
        match &float_out {
            None => float_out = Some(out.frame.clone()),
            Some(f) => {
                let quant = if depth == BitDepth::Byte { 3e-5 } else { 1e-6 };
                assert!(mse(f, &out.frame) < quant, "{depth:?} agrees with float");
            }
        }
        assert_eq!(inst.outstanding_images(), 0);
    }
}

#[test]
fn reduces_flicker_across_the_clip() {
    let (_host, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 3).unwrap();
    let outs: Vec<Frame> = (2..8)
        .map(|t| inst.render_full(t as f64).unwrap().frame)
        .collect();
    let flicker = |frames: &[Frame]| {
        frames
            .windows(2)
            .map(|w| (mean_luma(&w[1]) - mean_luma(&w[0])).abs())
            .sum::<f64>()
            / (frames.len() - 1) as f64
    };
    let inputs: Vec<Frame> = (2..8).map(|t| degraded_frame(W, H, t as f64)).collect();
    let (fi, fo) = (flicker(&inputs), flicker(&outs));
    assert!(fo < fi * 0.5, "flicker index {fi} -> {fo}");
}

#[test]
fn keyframed_strength_is_read_at_each_frame() {
    let (_host, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 2).unwrap();
    inst.set_key("strength", 0.0, 0.0).unwrap();
    inst.set_key("strength", 8.0, 1.0).unwrap();
    // Strength 0 at t=0: IsIdentity says so, and a render gives the input back exactly.
    assert_eq!(
        inst.is_identity(0.0).unwrap(),
        Some(("Source".to_string(), 0.0))
    );
    let at0 = inst.render_full(0.0).unwrap().frame;
    assert_eq!(at0.rgba, degraded_frame(W, H, 0.0).rgba);
    assert_eq!(inst.is_identity(4.0).unwrap(), None);
    let half = inst.render_full(4.0).unwrap().frame;
    inst.set_param("strength", 1.0).unwrap();
    inst.set_key("strength", 0.0, 1.0).unwrap();
    let full = inst.render_full(4.0).unwrap().frame;
    let input = degraded_frame(W, H, 4.0);
    // Half strength lies halfway between the input and the full refine.
    let mid: Vec<f32> = input
        .rgba
        .iter()
        .zip(&full.rgba)
        .map(|(a, b)| 0.5 * (a + b))
        .collect();
    let err = half
        .rgba
        .iter()
        .zip(&mid)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        err < 1e-3,
        "strength 0.5 at t=4 blends halfway (max err {err})"
    );
    assert!(mse(&half, &full) > 1e-7);
}

#[test]
fn the_same_request_is_answered_from_cache_with_identical_pixels() {
    let (_host, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 4).unwrap();
    let t0 = std::time::Instant::now();
    let a = inst.render_full(5.0).unwrap().frame;
    let first = t0.elapsed();
    let t1 = std::time::Instant::now();
    let b = inst.render_full(5.0).unwrap().frame;
    let second = t1.elapsed();
    assert_eq!(a.rgba, b.rgba);
    assert!(second < first, "cached {second:?} vs computed {first:?}");
}

#[test]
fn renders_from_several_threads_at_once_match_serial_renders() {
    let (_host, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 2).unwrap();
    inst.set_param("detail", 0.3).unwrap();
    let parallel: Vec<Vec<f32>> = std::thread::scope(|s| {
        let hs: Vec<_> = (2..7)
            .map(|t| {
                let inst = &inst;
                s.spawn(move || inst.render_full(t as f64).unwrap().frame.rgba)
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, t) in (2..7).enumerate() {
        assert_eq!(inst.render_full(t as f64).unwrap().frame.rgba, parallel[i]);
    }
    assert_eq!(inst.outstanding_images(), 0);
}

#[test]
fn quirky_hosts_get_the_same_pixels() {
    let (_h, reference) = instance(HostProfile::default(), degraded_clip());
    reference.set_param("radius", 2).unwrap();
    let want = reference.render_full(3.0).unwrap().frame.rgba;
    let quirky = HostProfile {
        send_begin_end_instance_changed: false,
        persistent_message_fn_null: true,
        progress_suite: ProgressSuite::None,
        new_instance_per_frame: true,
        ..Default::default()
    };
    let (_h2, inst) = instance(quirky, degraded_clip().components(Components::Rgb));
    inst.set_param("radius", 2).unwrap();
    let got = inst.render_full(3.0).unwrap().frame.rgba;
    // RGB source reads alpha 1, as the reference's RGBA source has.
    let err = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err < 1e-5, "max err {err}");
}

#[test]
fn progress_is_reported_and_a_missing_source_gives_a_persistent_message() {
    let (_host, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 1).unwrap();
    inst.set_param("detail", 0.9).unwrap();
    inst.render_full(4.0).unwrap();
    let events = inst.progress_events();
    assert!(
        matches!(events.first(), Some(ProgressEvent::Start { .. })),
        "{events:?}"
    );
    assert!(matches!(events.last(), Some(ProgressEvent::End)));
    let err = inst.render_full(42.0).unwrap_err();
    assert_eq!(err.status().map(|s| s.0), Some(1), "kOfxStatFailed");
    let (kind, text) = inst.persistent_message().expect("a message on the node");
    assert_eq!(kind, "OfxMessageError");
    assert!(text.contains("no frame at 42"), "{text}");
    inst.render_full(4.0).unwrap();
    assert!(
        inst.persistent_message().is_none(),
        "cleared after a good render"
    );
}

#[test]
fn a_still_with_temporal_access_is_left_as_it_is_without_a_notice() {
    // Neighbours byte-identical to the centre are what a host that ignores the time gives,
    // but also what a still is: only a past that differs shows the host ignored the time.
    let (_host, bundle) = load(HostProfile::default(), "refine");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Filter).unwrap();
    // A size no other test uses: the remembered frames are matched by size and content.
    let (w, h) = (36, 20);
    let still_frame = degraded_frame(w, h, 0.0);
    let still = still_frame.clone();
    let inst = plugin
        .create_instance(
            Context::Filter,
            InstanceSetup::new(w, h).source(ClipSetup::new(move |_| Some(still.clone()))),
        )
        .unwrap();
    inst.set_param("radius", 2).unwrap();
    for t in 0..4 {
        let out = inst.render_full(t as f64).unwrap().frame;
        assert_eq!(out.rgba, still_frame.rgba, "frame {t} changed a still");
    }
    assert!(
        !inst
            .messages()
            .iter()
            .any(|m| m.text.contains("Temporal Refine")),
        "{:?}",
        inst.messages()
    );
}

#[test]
fn values_outside_the_declared_range_are_clamped_not_refused() {
    // The official HostSupport host does not clamp values a script sets; the job must ask for
    // what GetFramesNeeded fetched (radius 99 once failed in the runtime as out of range).
    let (_h, inst) = instance(HostProfile::default(), degraded_clip());
    inst.set_param("radius", 3).unwrap();
    inst.set_param("strength", 1.0).unwrap();
    let want = inst.render_full(5.0).unwrap().frame.rgba;
    let (_h2, wild) = instance(HostProfile::default(), degraded_clip());
    wild.set_param("radius", 3).unwrap();
    wild.set_param("strength", 7.5).unwrap();
    assert_eq!(wild.render_full(5.0).unwrap().frame.rgba, want);
    wild.set_param("radius", 99).unwrap();
    wild.render_full(5.0)
        .expect("radius 99 renders as the largest radius");
}
