//! Text to Video and Image to Video through the real bundle: descriptors in every context every
//! host profile offers, the generator actions (clip preferences, time domain, frames needed,
//! regions of interest), the status line, and renders through the runtime.
mod common;

use common::*;
use dreamfx_host_adapter::sys::*;
use dreamfx_test_host::*;

const T2V: &str = "dreamfx.TextToVideo";
const I2V: &str = "dreamfx.ImageToVideo";

fn name(c: &std::ffi::CStr) -> &str {
    c.to_str().unwrap()
}

fn profiles() -> Vec<HostProfile> {
    vec![
        HostProfile::default(),
        HostProfile::hostsupport(),
        HostProfile::resolve(),
        HostProfile::mlt(),
        HostProfile::nuke(),
    ]
}

#[test]
fn the_bundle_lists_every_effect() {
    let (_host, bundle) = load(HostProfile::default(), "generators");
    let mut ids = bundle.plugins();
    ids.sort();
    assert_eq!(ids, vec![I2V, "dreamfx.TemporalRefine", T2V]);
}

#[test]
fn both_describe_in_every_context_of_every_host_profile() {
    for profile in profiles() {
        let label = profile.name.clone();
        let contexts = profile.contexts.clone();
        let (_host, bundle) = load(profile, "generators");
        for id in [T2V, I2V] {
            let plugin = bundle.plugin(id).unwrap();
            let d = plugin
                .describe()
                .unwrap_or_else(|e| panic!("{label}: {id}: {e}"));
            let offered: Vec<Context> = d
                .supported_contexts()
                .into_iter()
                .filter(|c| contexts.contains(c))
                .collect();
            assert!(!offered.is_empty(), "{label}: {id} has no context here");
            for ctx in offered {
                let c = plugin
                    .describe_in_context(ctx)
                    .unwrap_or_else(|e| panic!("{label}: {id} in {ctx:?}: {e}"));
                assert!(c.clip("Output").is_some(), "{label}: {id} in {ctx:?}");
                assert_eq!(
                    c.clip("Source").is_some(),
                    ctx != Context::Generator,
                    "{label}: {id} in {ctx:?}: a Source exactly where the context has one"
                );
                assert!(c.param("prompt").is_some() && c.param("status").is_some());
            }
            assert!(
                plugin.descriptor_messages().is_empty(),
                "{label}: {id}: {:?}",
                plugin.descriptor_messages()
            );
        }
    }
}

#[test]
fn text_to_video_has_string_params_and_a_read_only_status() {
    let (_host, bundle) = load(HostProfile::hostsupport(), "generators");
    let plugin = bundle.plugin(T2V).unwrap();
    assert!(plugin
        .describe()
        .unwrap()
        .supported_contexts()
        .contains(&Context::Generator));
    let d = plugin.describe_in_context(Context::Generator).unwrap();
    let mode = |p: &str| {
        let p = d.param(p).unwrap();
        assert_eq!(p.param_type, ParamType::String, "{}", p.name);
        p.props.string(name(kOfxParamPropStringMode))
    };
    let multi = Some(name(kOfxParamStringIsMultiLine).to_string());
    let single = Some(name(kOfxParamStringIsSingleLine).to_string());
    assert_eq!(mode("prompt"), multi);
    assert_eq!(mode("negativePrompt"), multi);
    assert_eq!(mode("promptEnd"), multi);
    assert_eq!(mode("model"), single);
    let prompt = d.param("prompt").unwrap();
    assert_eq!(prompt.props.int(name(kOfxParamPropAnimates)), Some(0));
    assert!(prompt
        .props
        .string(name(kOfxParamPropDefault))
        .is_some_and(|s| s.contains("red circle")));

    let status = d.param("status").unwrap();
    assert_eq!(status.param_type, ParamType::String);
    assert_eq!(status.props.int(name(kOfxParamPropEnabled)), Some(0));
    assert_eq!(status.props.int(name(kOfxParamPropPersistant)), Some(0));
    assert_eq!(
        status.props.int(name(kOfxParamPropEvaluateOnChange)),
        Some(0)
    );

    let mix = d.param("promptMix").unwrap();
    assert_eq!(mix.props.int(name(kOfxParamPropAnimates)), Some(1));
    assert_eq!(
        d.param("generateNow").unwrap().param_type,
        ParamType::PushButton
    );
}

fn generator(profile: HostProfile, w: usize, h: usize, last_frame: f64) -> (TestHost, Instance) {
    let (host, bundle) = load(profile, "generators");
    let plugin = bundle.plugin(T2V).unwrap();
    let inst = plugin
        .create_instance(
            Context::Generator,
            InstanceSetup::new(w, h)
                .frame_range(0.0, last_frame)
                .frame_rate(24.0),
        )
        .unwrap();
    (host, inst)
}

#[test]
fn a_generator_varies_every_frame_and_spans_its_duration() {
    let (_host, inst) = generator(HostProfile::default(), 32, 18, 47.0);
    let prefs = inst.clip_preferences().unwrap();
    assert!(prefs.frame_varying);
    assert_eq!(prefs.premultiplication, name(kOfxImageOpaque));
    inst.set_param("startFrame", 10).unwrap();
    inst.set_param("duration", 2.0).unwrap();
    let domain = inst.time_domain().unwrap();
    assert_eq!(
        (domain.min, domain.max),
        (10.0, 57.0),
        "48 frames at 24 fps"
    );
}

#[test]
fn text_to_video_on_a_clip_asks_for_no_source_pixels() {
    let (_host, bundle) = load(HostProfile::default(), "generators");
    let plugin = bundle.plugin(T2V).unwrap();
    let source = ClipSetup::new(|t| Some(Frame::solid(32, 18, [t as f32 / 10.0, 0.0, 0.0, 1.0])));
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(32, 18).source(source))
        .unwrap();
    let window = OfxRectD {
        x1: 0.0,
        y1: 0.0,
        x2: 32.0,
        y2: 18.0,
    };
    let rois = inst.regions_of_interest(3.0, window).unwrap();
    let (_, roi) = rois.iter().find(|(c, _)| c == "Source").unwrap();
    assert!(roi.x2 <= roi.x1 && roi.y2 <= roi.y1, "empty: {roi:?}");
    let rod = inst.region_of_definition(3.0).unwrap();
    assert_eq!((rod.x2, rod.y2), (32.0, 18.0), "the Source's frame");
}

#[test]
fn image_to_video_needs_the_condition_frame_and_the_whole_of_it() {
    let (_host, bundle) = load(HostProfile::default(), "generators");
    let plugin = bundle.plugin(I2V).unwrap();
    let source = ClipSetup::from_frames(
        4.0,
        (0..10).map(|t| degraded_frame(32, 18, t as f64)).collect(),
    );
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(32, 18).source(source))
        .unwrap();
    let ranges = |t: f64| {
        let needed = inst.frames_needed(t).unwrap();
        let (_, r) = needed.into_iter().find(|(c, _)| c == "Source").unwrap();
        r.iter().map(|r| (r.min, r.max)).collect::<Vec<_>>()
    };
    assert_eq!(
        ranges(9.0),
        vec![(4.0, 4.0), (9.0, 9.0)],
        "-1: the clip's first"
    );
    inst.set_param("conditionFrame", 6).unwrap();
    assert_eq!(ranges(9.0), vec![(6.0, 6.0), (9.0, 9.0)]);
    let window = OfxRectD {
        x1: 8.0,
        y1: 4.0,
        x2: 16.0,
        y2: 12.0,
    };
    let rois = inst.regions_of_interest(9.0, window).unwrap();
    let (_, roi) = rois.iter().find(|(c, _)| c == "Source").unwrap();
    assert_eq!((roi.x1, roi.y1, roi.x2, roi.y2), (0.0, 0.0, 32.0, 18.0));
}

#[test]
fn editing_the_prompt_writes_the_status_line_whatever_the_runtime() {
    // With a runtime that knows the model the line lists unknown words (or says every word is
    // known); without one it says the prompt was not checked. Never a failed action.
    let (_host, inst) = generator(HostProfile::default(), 32, 18, 47.0);
    inst.set_param("prompt", "a red circle moves left").unwrap();
    let status = inst
        .param("status")
        .and_then(|v| v.as_str().map(String::from));
    assert!(
        status.as_deref().is_some_and(|s| !s.is_empty()),
        "status: {status:?}"
    );
}

/// Renders through the runtime's Text to Video runner (dreamfx-tiny).
#[test]
fn text_to_video_frames_differ_and_do_not_depend_on_render_order() {
    let (w, h) = (320, 180);
    let (_host, inst) = generator(HostProfile::default(), w, h, 47.0);
    inst.set_param("duration", 2.0).unwrap();
    inst.set_param("seed", 7).unwrap();
    inst.begin_sequence((0.0, 47.0)).unwrap();
    let frames: Vec<OutputImage> = [0.0, 12.0, 47.0]
        .into_iter()
        .map(|t| {
            inst.render_full(t)
                .unwrap_or_else(|e| panic!("frame {t}: {e}: {:?}", inst.persistent_message()))
        })
        .collect();
    inst.end_sequence().unwrap();
    for f in &frames {
        assert_eq!((f.frame.width, f.frame.height), (w, h));
        assert!(f.frame.rgba.iter().all(|v| v.is_finite()));
    }
    assert!(mse(&frames[0].frame, &frames[1].frame) > 0.0, "0 vs 12");
    assert!(mse(&frames[1].frame, &frames[2].frame) > 0.0, "12 vs 47");

    // Frame 12 alone, from a fresh instance with the same parameters.
    let (_host2, alone) = generator(HostProfile::default(), w, h, 47.0);
    alone.set_param("duration", 2.0).unwrap();
    alone.set_param("seed", 7).unwrap();
    let twelve = alone.render_full(12.0).unwrap();
    assert_eq!(twelve.frame.rgba, frames[1].frame.rgba);
}

#[test]
fn a_wrong_model_directory_reaches_the_user_as_a_persistent_message() {
    let (_host, inst) = generator(HostProfile::default(), 64, 36, 23.0);
    let missing = "/nonexistent/dreamfx-model-dir";
    inst.set_param("model", missing).unwrap();
    let status = inst
        .param("status")
        .and_then(|v| v.as_str().map(String::from));
    assert!(
        status.as_deref().is_some_and(|s| !s.is_empty()),
        "status: {status:?}"
    );
    assert!(
        inst.render_full(3.0).is_err(),
        "no frame from a missing model"
    );
    let message = inst.persistent_message();
    assert!(
        message
            .as_ref()
            .is_some_and(|(_, text)| text.contains(missing)),
        "{message:?}"
    );
}

#[test]
fn generate_now_queues_the_clip_and_says_so() {
    let (_host, inst) = generator(HostProfile::default(), 64, 36, 23.0);
    inst.set_param("duration", 1.0).unwrap();
    inst.press_button("generateNow").unwrap();
    let status = inst
        .param("status")
        .and_then(|v| v.as_str().map(String::from));
    assert_eq!(status.as_deref(), Some("generating in the runtime…"));
    let last = inst.render_full(23.0).unwrap();
    assert_eq!((last.frame.width, last.frame.height), (64, 36));
}

#[test]
fn image_to_video_renders_from_its_condition_frame() {
    let (_host, bundle) = load(HostProfile::default(), "generators");
    let plugin = bundle.plugin(I2V).unwrap();
    let (w, h) = (64, 36);
    let source =
        ClipSetup::from_frames(0.0, (0..24).map(|t| clean_frame(w, h, t as f64)).collect());
    let inst = plugin
        .create_instance(
            Context::Filter,
            InstanceSetup::new(w, h)
                .source(source)
                .frame_range(0.0, 23.0),
        )
        .unwrap();
    inst.set_param("duration", 1.0).unwrap();
    let first = inst
        .render_full(0.0)
        .unwrap_or_else(|e| panic!("{e}: {:?}", inst.persistent_message()));
    let later = inst.render_full(20.0).unwrap();
    assert_eq!((first.frame.width, first.frame.height), (w, h));
    assert!(first.frame.rgba.iter().all(|v| v.is_finite()));
    assert!(mse(&first.frame, &later.frame) > 0.0, "the clip moves");
    let mut times = inst.fetched_times("Source");
    times.dedup();
    assert!(
        times.iter().all(|t| *t == 0.0),
        "only the condition frame: {times:?}"
    );
    assert_eq!(inst.outstanding_images(), 0);
}

#[test]
fn hosts_without_a_generator_context_get_the_same_frame() {
    // Nuke has no generator context: Text to Video is created in the general context with its
    // Source left unconnected. Resolve recreates the instance for every render.
    let (w, h) = (64, 36);
    let frame = |profile: HostProfile, ctx: Context| {
        let (_host, bundle) = load(profile, "generators");
        let inst = bundle
            .plugin(T2V)
            .unwrap()
            .create_instance(
                ctx,
                InstanceSetup::new(w, h)
                    .frame_range(0.0, 23.0)
                    .frame_rate(24.0),
            )
            .unwrap();
        inst.set_param("duration", 1.0).unwrap();
        inst.render_full(5.0)
            .unwrap_or_else(|e| panic!("{ctx:?}: {e}: {:?}", inst.persistent_message()))
            .frame
            .rgba
    };
    let want = frame(HostProfile::default(), Context::Generator);
    assert_eq!(frame(HostProfile::resolve(), Context::Generator), want);
    assert_eq!(frame(HostProfile::nuke(), Context::General), want);
}
