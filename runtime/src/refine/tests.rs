use super::metrics::{self, flicker_index, mean_psnr, psnr};
use super::*;
use crate::testclips::{ClipSpec, TestClip};

fn go(_: f32) -> bool {
    true
}

fn window(frames: &[Tensor], t: usize, r: usize) -> (Vec<Tensor>, usize) {
    let lo = t.saturating_sub(r);
    let hi = (t + r).min(frames.len() - 1);
    (
        frames[lo..=hi].iter().map(|f| f.shallow_clone()).collect(),
        t - lo,
    )
}

fn refine_clip(frames: &[Tensor], params: &RefineParams) -> Vec<Tensor> {
    (0..frames.len())
        .map(|t| {
            let (w, c) = window(frames, t, params.radius);
            refine(&w, c, params, &mut go).unwrap()
        })
        .collect()
}

fn small_clip(seed: u64, frames: usize) -> TestClip {
    TestClip::generate(&ClipSpec::new(96, 64, frames, seed))
}

#[test]
fn refine_lowers_flicker_and_raises_psnr() {
    let clip = small_clip(3, 9);
    let params = RefineParams {
        radius: 3,
        ..Default::default()
    };
    let out = refine_clip(&clip.degraded, &params);
    let (fi_in, fi_out) = (flicker_index(&clip.degraded), flicker_index(&out));
    let (p_in, p_out) = (
        mean_psnr(&clip.degraded, &clip.clean),
        mean_psnr(&out, &clip.clean),
    );
    eprintln!("flicker {fi_in:.3} -> {fi_out:.3}, psnr {p_in:.2} -> {p_out:.2}");
    assert!(fi_out < 0.5 * fi_in, "flicker {fi_in} -> {fi_out}");
    assert!(p_out > p_in + 1.5, "psnr {p_in} -> {p_out}");
    for f in &out {
        assert_eq!(f.size(), vec![4, 64, 96]);
        assert_eq!(f.kind(), Kind::Float);
    }
}

#[test]
fn strength_zero_is_passthrough() {
    let clip = small_clip(4, 5);
    let params = RefineParams {
        radius: 2,
        strength: 0.0,
        ..Default::default()
    };
    let out = refine(&clip.degraded, 2, &params, &mut go).unwrap();
    assert!(out.equal(&clip.degraded[2]));
}

#[test]
fn static_scene_comes_back_unchanged_but_denoised() {
    let mut spec = ClipSpec::new(96, 64, 5, 5).static_scene();
    spec.global_flicker = 0.0;
    spec.local_flicker = 0.0;
    let clip = TestClip::generate(&spec);
    let params = RefineParams {
        radius: 2,
        detail: 0.0,
        ..Default::default()
    };
    let out = refine(&clip.degraded, 2, &params, &mut go).unwrap();
    let p_in = psnr(&clip.degraded[2], &clip.clean[2]);
    let p_out = psnr(&out, &clip.clean[2]);
    eprintln!("static psnr {p_in:.2} -> {p_out:.2}");
    // Five frames of independent noise: close to the clean frame, much closer than the input.
    assert!(p_out > p_in + 4.0, "psnr {p_in} -> {p_out}");
    let diff = (&out - &clip.clean[2])
        .abs()
        .narrow(0, 0, 3)
        .mean(Kind::Float)
        .double_value(&[]);
    assert!(diff < 0.01, "mean abs diff {diff}");
    assert!(out.narrow(0, 3, 1).equal(&clip.degraded[2].narrow(0, 3, 1)));
}

#[test]
fn deterministic() {
    let clip = small_clip(6, 5);
    let params = RefineParams {
        radius: 2,
        ..Default::default()
    };
    let a = refine(&clip.degraded, 2, &params, &mut go).unwrap();
    // Another call in between must not matter (no state between calls).
    let _ = refine(&clip.degraded, 1, &params, &mut go).unwrap();
    let b = refine(&clip.degraded, 2, &params, &mut go).unwrap();
    assert!(a.equal(&b));
}

#[test]
fn cancellation() {
    let clip = small_clip(7, 5);
    let params = RefineParams {
        radius: 2,
        ..Default::default()
    };
    for stop_after in 0..4 {
        let mut calls = 0;
        let mut cb = |_: f32| {
            calls += 1;
            calls <= stop_after
        };
        let r = refine(&clip.degraded, 2, &params, &mut cb);
        assert!(
            matches!(r, Err(RefineError::Cancelled)),
            "stop after {stop_after}: {r:?}"
        );
    }
    let mut seen = Vec::new();
    let _ = refine(&clip.degraded, 2, &params, &mut |f| {
        seen.push(f);
        true
    })
    .unwrap();
    assert!(
        seen.len() >= 5 && seen.windows(2).all(|p| p[0] <= p[1]),
        "{seen:?}"
    );
}

#[test]
fn bad_input() {
    let a = Tensor::zeros([4, 16, 16], (Kind::Float, tch::Device::Cpu));
    let b = Tensor::zeros([4, 16, 18], (Kind::Float, tch::Device::Cpu));
    let c = Tensor::zeros([3, 16, 16], (Kind::Float, tch::Device::Cpu));
    let p = RefineParams::default();
    let bad = |r: Result<Tensor, RefineError>| matches!(r, Err(RefineError::BadInput(_)));
    assert!(bad(refine(&[a.shallow_clone(), b], 0, &p, &mut go)));
    assert!(bad(refine(&[], 0, &p, &mut go)));
    assert!(bad(refine(&[a.shallow_clone()], 1, &p, &mut go)));
    assert!(bad(refine(&[c], 0, &p, &mut go)));
    let int = Tensor::zeros([4, 16, 16], (Kind::Int, tch::Device::Cpu));
    assert!(bad(refine(&[a.shallow_clone(), int], 0, &p, &mut go)));
}

#[test]
fn flow_view_matches_known_translation() {
    let mut spec = ClipSpec::new(96, 64, 2, 8);
    spec.zoom = 0.0;
    spec.rotation = 0.0;
    spec.speed = 2.3;
    let clip = TestClip::generate(&spec);
    let truth = clip.true_flow(0, 1);
    let params = RefineParams {
        radius: 1,
        output: RefineOutput::Flow,
        ..Default::default()
    };
    let vis = refine(&clip.degraded, 0, &params, &mut go).unwrap();
    assert_eq!(vis.size(), vec![4, 64, 96]);
    let flow = (vis.narrow(0, 0, 2) - 0.5) * (2.0 * FLOW_VIEW_RANGE);
    // Compare away from the borders (content entering the frame has no match).
    let inner = |t: &Tensor| t.narrow(1, 8, 48).narrow(2, 8, 80);
    let err = (inner(&flow) - inner(&truth))
        .square()
        .sum_dim_intlist(0, false, Kind::Float)
        .sqrt();
    let mean_err = err.mean(Kind::Float).double_value(&[]);
    let med_err = err.median().double_value(&[]);
    let t = inner(&truth).mean_dim(&[1i64, 2][..], false, Kind::Float);
    let e = inner(&flow).mean_dim(&[1i64, 2][..], false, Kind::Float);
    eprintln!(
        "true mean flow {:?}, estimated {:?}, mean err {mean_err:.3}, median {med_err:.3}",
        Vec::<f64>::try_from(&t).unwrap(),
        Vec::<f64>::try_from(&e).unwrap()
    );
    assert!(
        med_err < 0.25 && mean_err < 0.35,
        "flow error mean {mean_err} median {med_err}"
    );
}

#[test]
fn clips_are_seeded() {
    let a = small_clip(1, 2);
    let b = small_clip(1, 2);
    let c = small_clip(2, 2);
    assert!(a.degraded[1].equal(&b.degraded[1]));
    assert!(!a.degraded[1].equal(&c.degraded[1]));
    // Known motion: the clean frame 1 warped onto frame 0 matches frame 0.
    let (w, valid) = a.warp_known(&a.clean[1], 1, 0);
    let err = ((w - &a.clean[0]).narrow(0, 0, 3).square() * valid)
        .mean(Kind::Float)
        .double_value(&[])
        * 255.0
        * 255.0;
    assert!(err < 60.0, "{err}");
}

#[test]
fn confidence_view_and_detail() {
    let clip = small_clip(9, 3);
    let p = RefineParams {
        radius: 1,
        output: RefineOutput::Confidence,
        ..Default::default()
    };
    let conf = refine(&clip.degraded, 1, &p, &mut go).unwrap();
    assert_eq!(conf.size(), vec![4, 64, 96]);
    let g = conf.narrow(0, 0, 3);
    assert!(g.min().double_value(&[]) >= 0.0 && g.max().double_value(&[]) <= 1.0);
    // Moving but unoccluded content: mostly confident.
    let mean = g.mean(Kind::Float).double_value(&[]);
    assert!(mean > 0.5, "mean confidence {mean}");
    assert!(conf
        .narrow(0, 3, 1)
        .equal(&conf.narrow(0, 3, 1).ones_like()));
    // More detail → more high-frequency energy.
    let hf = |d: f64| {
        let p = RefineParams {
            radius: 1,
            detail: d,
            ..Default::default()
        };
        let r = refine(&clip.degraded, 1, &p, &mut go)
            .unwrap()
            .narrow(0, 0, 3)
            .unsqueeze(0);
        (&r - ops::blur(&r, 1.0))
            .square()
            .mean(Kind::Float)
            .double_value(&[])
    };
    assert!(hf(1.0) > 1.5 * hf(0.0));
}

/// A sharp texture moving by sub-pixel steps (128×96, no noise or flicker), box-downsampled by
/// `factor` (pixel integration): the low-resolution frames and the clip (its ground truth).
fn downscaled_clip(seed: u64, frames: usize, factor: i64) -> (Vec<Tensor>, TestClip) {
    let mut spec = ClipSpec::new(128, 96, frames, seed);
    spec.finest_period = 3.0;
    spec.noise_sigma = 0.0;
    spec.global_flicker = 0.0;
    spec.local_flicker = 0.0;
    let clip = TestClip::generate(&spec);
    let low = clip
        .clean
        .iter()
        .map(|f| ops::down(&f.unsqueeze(0), factor).squeeze_dim(0))
        .collect();
    (low, clip)
}

#[test]
fn upscale_2x_beats_bicubic() {
    let (low, clip) = downscaled_clip(21, 5, 2);
    let params = RefineParams {
        radius: 2,
        scale: 2,
        ..Default::default()
    };
    let out = refine(&low, 2, &params, &mut go).unwrap();
    assert_eq!(out.size(), vec![4, 96, 128]);
    assert!(out.narrow(0, 3, 1).equal(&out.narrow(0, 3, 1).ones_like()));
    let bicubic = upscale::bicubic(&low[2].unsqueeze(0), 2).squeeze_dim(0);
    let (p_bic, p_out) = (psnr(&bicubic, &clip.clean[2]), psnr(&out, &clip.clean[2]));
    let (s_bic, s_out) = (
        metrics::edge_sharpness(&bicubic, &clip.clean[2]),
        metrics::edge_sharpness(&out, &clip.clean[2]),
    );
    eprintln!("2x: bicubic {p_bic:.2} dB sharpness {s_bic:.1}%, refine {p_out:.2} dB {s_out:.1}%");
    assert!(p_out > p_bic + 1.0, "psnr bicubic {p_bic} refine {p_out}");
    assert!(s_out > s_bic, "sharpness bicubic {s_bic} refine {s_out}");
}

#[test]
fn stabilise_removes_injected_jitter() {
    let radius = 3;
    let mut spec = ClipSpec::new(160, 96, 13, 31);
    spec.jitter = 1.5;
    let clip = TestClip::generate(&spec);
    let params = RefineParams {
        radius,
        stabilise: 1.0,
        edges: StabiliseEdges::Fill,
        ..Default::default()
    };
    let plain = RefineParams {
        radius,
        ..Default::default()
    };
    let j_in = metrics::residual_jitter(&clip.degraded, &clip);
    let j_plain = metrics::residual_jitter(&refine_clip(&clip.degraded, &plain), &clip);
    let j_out = metrics::residual_jitter(&refine_clip(&clip.degraded, &params), &clip);
    eprintln!("jitter input {j_in:.3} px, refine {j_plain:.3}, stabilised {j_out:.3}");
    assert!(j_out < 0.5 * j_in, "jitter {j_in} -> {j_out}");
    // Without stabilise the refine leaves the frame where it is.
    assert!((j_plain - j_in).abs() < 0.1 * j_in, "{j_in} vs {j_plain}");
    // Crop zooms by the margin; the alpha moves with the frame and stays in 0..1.
    let crop = RefineParams {
        edges: StabiliseEdges::Crop,
        ..params
    };
    let out = refine(&clip.degraded, 2 * radius, &crop, &mut go).unwrap();
    assert_eq!(out.size(), vec![4, 96, 160]);
    let alpha = out.narrow(0, 3, 1);
    assert!(alpha.min().double_value(&[]) >= 0.0 && alpha.max().double_value(&[]) <= 1.0);
}

#[test]
fn upscale_4x_and_debug_views_have_the_output_size() {
    let (low, _) = downscaled_clip(22, 3, 4);
    for output in [
        RefineOutput::Refined,
        RefineOutput::Flow,
        RefineOutput::Confidence,
    ] {
        let params = RefineParams {
            radius: 1,
            scale: 4,
            output,
            ..Default::default()
        };
        let out = refine(&low, 1, &params, &mut go).unwrap();
        assert_eq!(out.size(), vec![4, 96, 128], "{output:?}");
    }
    // Upscale and stabilise together: the move is applied at the output size.
    let both = RefineParams {
        radius: 1,
        scale: 4,
        stabilise: 1.0,
        ..Default::default()
    };
    let out = refine(&low, 1, &both, &mut go).unwrap();
    assert_eq!(out.size(), vec![4, 96, 128]);
    // One frame, no neighbours: a plain bicubic upscale.
    let params = RefineParams {
        radius: 1,
        scale: 2,
        ..Default::default()
    };
    let one = refine(&low[..1], 0, &params, &mut go).unwrap();
    let bicubic = upscale::bicubic(&low[0].narrow(0, 0, 3).unsqueeze(0), 2).squeeze_dim(0);
    assert!(one.narrow(0, 0, 3).allclose(&bicubic, 1e-6, 1e-6, false));
    let bad = RefineParams {
        scale: 3,
        ..Default::default()
    };
    assert!(matches!(
        refine(&low, 1, &bad, &mut go),
        Err(RefineError::BadInput(_))
    ));
}
