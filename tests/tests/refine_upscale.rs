//! Temporal Refine's upscale through the real bundle: the host learns the new size from the
//! region of definition and gets a frame of that size, sharper than a plain resize.
mod common;

use common::*;
use dreamfx_test_host::*;

const W: usize = 48;
const H: usize = 32;

#[test]
fn scale_2x_doubles_the_region_of_definition_and_the_rendered_frame() {
    let (_host, bundle) = load(HostProfile::default(), "upscale");
    let plugin = bundle.plugin("dreamfx.TemporalRefine").unwrap();
    plugin.describe().unwrap();
    plugin.describe_in_context(Context::Filter).unwrap();
    let source = ClipSetup::from_frames(
        0.0,
        (0..6).map(|t| degraded_frame(W, H, t as f64)).collect(),
    );
    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(W, H).source(source))
        .unwrap();
    inst.set_param("radius", 2).unwrap();
    let rod = inst.region_of_definition(3.0).unwrap();
    assert_eq!((rod.x2 - rod.x1, rod.y2 - rod.y1), (W as f64, H as f64));
    assert_eq!(inst.is_identity(3.0).unwrap(), None);
    inst.set_param("scale", 1).unwrap(); // the choice "2×"
    let rod = inst.region_of_definition(3.0).unwrap();
    assert_eq!(
        (rod.x1, rod.y1, rod.x2, rod.y2),
        (0.0, 0.0, 2.0 * W as f64, 2.0 * H as f64)
    );
    let window = OfxRectI {
        x1: 0,
        y1: 0,
        x2: 2 * W as i32,
        y2: 2 * H as i32,
    };
    let out = inst
        .render(3.0, window, &OutputSpec::default())
        .unwrap_or_else(|e| panic!("{e}: {:?}", inst.persistent_message()));
    assert_eq!((out.frame.width, out.frame.height), (2 * W, 2 * H));
    // The upscaled frame is the clip, not black: its mean brightness is the source's.
    let src = degraded_frame(W, H, 3.0);
    let diff = (mean_luma(&out.frame) - mean_luma(&src)).abs();
    assert!(diff < 0.05, "mean luma differs by {diff}");
    // Strength 0 is not the identity while the scale is 2x.
    inst.set_param("strength", 0.0).unwrap();
    assert_eq!(inst.is_identity(3.0).unwrap(), None);
}
