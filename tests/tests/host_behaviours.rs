//! The bundle in the host behaviours of real hosts (DESIGN.md §7), modelled by the test host's
//! profiles: strict property names (the official HostSupport, Natron), an older host that does
//! not know newer properties, Resolve (NULL persistent messages, instances recreated per
//! render), Nuke (float only, no generator context). Handled by behaviour, never by host name.
mod common;

use common::*;
use dreamfx_host_adapter::sys::*;
use dreamfx_test_host::*;

const W: usize = 48;
const H: usize = 32;

fn name(c: &std::ffi::CStr) -> String {
    c.to_str().unwrap().to_owned()
}

fn refined_frame(profile: HostProfile, context: Context) -> Vec<f32> {
    let (_host, bundle) = load(profile, "behaviours");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(context).unwrap();
    let clip = ClipSetup::from_frames(
        0.0,
        (0..8).map(|t| degraded_frame(W, H, t as f64)).collect(),
    );
    let inst = plugin
        .create_instance(context, InstanceSetup::new(W, H).source(clip))
        .unwrap();
    inst.set_param("radius", 2).unwrap();
    inst.render_full(3.0).unwrap().frame.rgba
}

#[test]
fn describes_and_renders_where_property_names_are_strict() {
    // Before the names came from the official headers, the plugin set a misspelled property
    // and a strict host (HostSupport) refused the whole describe.
    let want = refined_frame(HostProfile::default(), Context::Filter);
    let got = refined_frame(HostProfile::hostsupport(), Context::Filter);
    assert_eq!(got, want);
}

#[test]
fn a_host_that_does_not_know_optional_properties_still_gets_the_effect() {
    let older = HostProfile {
        unknown_properties: [
            kOfxImageEffectPropSupportsMultipleClipDepths,
            kOfxPropPluginDescription,
            kOfxImageEffectPluginPropGrouping,
            kOfxImageEffectPluginRenderThreadSafety,
            kOfxImageEffectPluginPropHostFrameThreading,
            kOfxImageEffectPropSupportsMultiResolution,
            kOfxParamPropHint,
            kOfxParamPropScriptName,
            kOfxParamPropDoubleType,
            kOfxImageClipPropIsMask,
        ]
        .map(name)
        .to_vec(),
        ..HostProfile::default()
    };
    let want = refined_frame(HostProfile::default(), Context::Filter);
    assert_eq!(refined_frame(older, Context::Filter), want);
}

#[test]
fn a_refused_mandatory_property_fails_describe_and_names_it() {
    let refusing = HostProfile {
        unknown_properties: vec![name(kOfxImageEffectPropSupportedPixelDepths)],
        ..HostProfile::default()
    };
    let (_host, bundle) = load(refusing, "behaviours");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    let err = plugin.describe().unwrap_err();
    assert_eq!(err.status().map(|s| s.0), Some(kOfxStatErrUnknown), "{err}");
    let messages = plugin.descriptor_messages();
    assert!(
        messages
            .iter()
            .any(|m| m.text.contains("OfxImageEffectPropSupportedPixelDepths")),
        "the user is told which property: {messages:?}"
    );
}

#[test]
fn resolve_and_nuke_behaviours_give_the_same_pixels() {
    let want = refined_frame(HostProfile::default(), Context::Filter);
    assert_eq!(refined_frame(HostProfile::resolve(), Context::Filter), want);
    assert_eq!(refined_frame(HostProfile::nuke(), Context::Filter), want);
}

#[test]
fn a_proxy_render_at_half_scale_refines_the_scaled_frames() {
    // Resolve's Edit page renders at a scaled resolution: images and window in scaled pixels.
    let (_host, bundle) = load(HostProfile::resolve(), "behaviours");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Filter).unwrap();
    let (w, h) = (64, 48);
    let clip = ClipSetup::from_frames(
        0.0,
        (0..8).map(|t| degraded_frame(w, h, t as f64)).collect(),
    );
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(w, h).source(clip))
        .unwrap();
    inst.set_param("radius", 2).unwrap();
    let spec = OutputSpec {
        render_scale: 0.5,
        ..OutputSpec::default()
    };
    let window = OfxRectI {
        x1: 0,
        y1: 0,
        x2: 32,
        y2: 24,
    };
    let out = inst.render(4.0, window, &spec).unwrap().frame;
    assert_eq!((out.width, out.height), (32, 24));
    let clean = clean_frame(w, h, 4.0).scaled(0.5);
    let source = degraded_frame(w, h, 4.0).scaled(0.5);
    let (after, before) = (mse(&out, &clean), mse(&source, &clean));
    assert!(
        after < 0.8 * before,
        "proxy refine {after} vs source {before}"
    );
}
