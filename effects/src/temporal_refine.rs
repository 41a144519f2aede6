//! Temporal Refine: flow-guided temporal filtering of the Source frames around t.
use crate::{ClipSpec, Context, EffectSpec, InputWindow, ParamKind, ParamSpec};
use dreamfx_protocol::job::{Job, ParamValue};

/// The output size factor of each `scale` option, in option order.
pub const SCALE_FACTORS: [u32; 3] = [1, 2, 4];

/// A Temporal Refine job's output size factor (1 when the job gives no valid scale).
pub fn scale_factor(job: &Job) -> u32 {
    match job.param("scale") {
        Some(ParamValue::Choice(i)) => SCALE_FACTORS.get(*i as usize).copied().unwrap_or(1),
        _ => 1,
    }
}

pub const TEMPORAL_REFINE: EffectSpec = EffectSpec {
    id: "dreamfx.TemporalRefine",
    version_major: 1,
    version_minor: 0,
    algorithm_version: 2,
    label: "Temporal Refine",
    description: "Removes flicker and micro-jitter and sharpens, using neighbouring frames: \
                  optical flow aligns each neighbour to the frame, occluded pixels are rejected \
                  by forward-backward consistency, and the aligned frames are blended.",
    contexts: &[Context::Filter],
    clips: &[ClipSpec {
        name: "Source",
        optional: false,
        is_mask: false,
        in_contexts: &[Context::Filter],
    }],
    params: &[
        ParamSpec {
            name: "radius",
            label: "Radius",
            hint: "Neighbouring frames used on each side. More frames remove more flicker and \
                   noise; each one costs render time.",
            kind: ParamKind::Int {
                default: 7,
                min: 1,
                max: 15,
                display_min: 1,
                display_max: 10,
            },
            animates: false,
            group: None,
        },
        ParamSpec {
            name: "strength",
            label: "Strength",
            hint: "How much of the refined frame replaces the original (0 = untouched).",
            kind: ParamKind::Double {
                default: 1.0,
                min: 0.0,
                max: 1.0,
                display_min: 0.0,
                display_max: 1.0,
            },
            animates: true,
            group: None,
        },
        ParamSpec {
            name: "detail",
            label: "Detail Preservation",
            hint: "How much fine detail of the frame itself is kept and sharpened on top of the \
                   temporally filtered result.",
            kind: ParamKind::Double {
                default: 0.0,
                min: 0.0,
                max: 1.0,
                display_min: 0.0,
                display_max: 1.0,
            },
            animates: true,
            group: None,
        },
        ParamSpec {
            name: "scale",
            label: "Scale",
            hint: "Output size: 2x and 4x rebuild detail from the sub-pixel shifts between the \
                   flow-aligned neighbours (multi-frame super-resolution). The output frame is \
                   scale x the source's width and height.",
            kind: ParamKind::Choice {
                options: &["1×", "2×", "4×"],
                default: 0,
            },
            animates: false,
            group: None,
        },
        ParamSpec {
            name: "stabilise",
            label: "Stabilise",
            hint: "Removes camera micro-jitter: the camera path measured from the optical flow \
                   is smoothed over the neighbouring frames and the frame moved onto it \
                   (0 = off, 1 = fully onto the smooth path).",
            kind: ParamKind::Double {
                default: 0.0,
                min: 0.0,
                max: 1.0,
                display_min: 0.0,
                display_max: 1.0,
            },
            animates: true,
            group: None,
        },
        ParamSpec {
            name: "edges",
            label: "Stabilise Edges",
            hint: "What fills the border a stabilised frame uncovers: zoom in slightly so none \
                   shows (a fixed zoom while Stabilise is above 0), or repeat the edge pixels.",
            kind: ParamKind::Choice {
                options: &["Crop (zoom)", "Fill edges (replicate)"],
                default: 0,
            },
            animates: false,
            group: None,
        },
        ParamSpec {
            name: "output",
            label: "Output",
            hint: "Refined frame, or a debug view: the optical flow to the next frame as colour, \
                   or the blending confidence as grey.",
            kind: ParamKind::Choice {
                options: &["Refined", "Flow (debug)", "Confidence (debug)"],
                default: 0,
            },
            animates: false,
            group: Some("debug"),
        },
        ParamSpec {
            name: "clearCache",
            label: "Clear Cache",
            hint: "Forget every frame the dreamfx runtime has cached.",
            kind: ParamKind::PushButton,
            animates: false,
            group: None,
        },
    ],
    temporal_clip_access: true,
    inputs: InputWindow::Radius { param: "radius" },
    frame_varying: false,
};
