//! Quality figures for Temporal Refine, shared by the tests and `dreamfx refine-report`.
//!
//! All figures are on a 0–255 scale after clamping frames to 0..1 (what any 8/16-bit output
//! would keep); luminance is Y = 0.2126 R + 0.7152 G + 0.0722 B.

use crate::testclips::TestClip;
use tch::{Kind, Tensor};

fn rgb255(frame: &Tensor) -> Tensor {
    frame.narrow(0, 0, 3).to_kind(Kind::Double).clamp(0.0, 1.0) * 255.0
}

/// Mean luminance of a `[C≥3, H, W]` frame, 0–255.
pub fn mean_luma(frame: &Tensor) -> f64 {
    let f = rgb255(frame);
    let y = f.get(0) * 0.2126 + f.get(1) * 0.7152 + f.get(2) * 0.0722;
    y.mean(Kind::Double).double_value(&[])
}

/// Mean over consecutive pairs of |mean Y(t+1) − mean Y(t)|.
pub fn flicker_index(frames: &[Tensor]) -> f64 {
    let _g = tch::no_grad_guard();
    let m: Vec<f64> = frames.iter().map(mean_luma).collect();
    if m.len() < 2 {
        return 0.0;
    }
    m.windows(2).map(|p| (p[1] - p[0]).abs()).sum::<f64>() / (m.len() - 1) as f64
}

/// PSNR (dB, peak 255) of RGB against a reference frame (infinite for identical frames).
pub fn psnr(frame: &Tensor, reference: &Tensor) -> f64 {
    let _g = tch::no_grad_guard();
    let mse = (rgb255(frame) - rgb255(reference))
        .square()
        .mean(Kind::Double)
        .double_value(&[]);
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// Mean PSNR over frames against the clean clip.
pub fn mean_psnr(frames: &[Tensor], clean: &[Tensor]) -> f64 {
    assert_eq!(frames.len(), clean.len());
    frames
        .iter()
        .zip(clean)
        .map(|(f, c)| psnr(f, c))
        .sum::<f64>()
        / frames.len() as f64
}

/// Mean over consecutive pairs (t, t+1) of the RGB MSE between frame t and frame t+1 warped
/// onto t with the clip's known motion, over pixels whose source lies inside frame t+1.
pub fn warping_error(frames: &[Tensor], clip: &TestClip) -> f64 {
    let _g = tch::no_grad_guard();
    if frames.len() < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    for t in 0..frames.len() - 1 {
        let (warped, valid) = clip.warp_known(&frames[t + 1].narrow(0, 0, 3), t + 1, t);
        let d = (rgb255(&warped) - rgb255(&frames[t]))
            .square()
            .sum_dim_intlist(0, false, Kind::Double);
        let valid = valid.to_kind(Kind::Double);
        let n = valid.sum(Kind::Double).double_value(&[]) * 3.0;
        total += (d * &valid).sum(Kind::Double).double_value(&[]) / n.max(1.0);
    }
    total / (frames.len() - 1) as f64
}

/// The three figures of a clip: (warping error, flicker index, mean PSNR vs clean).
pub fn figures(frames: &[Tensor], clip: &TestClip) -> (f64, f64, f64) {
    (
        warping_error(frames, clip),
        flicker_index(frames),
        mean_psnr(frames, &clip.clean),
    )
}

/// Edge sharpness of `frame` against the ground truth `reference` (same size), in %: the mean
/// luminance gradient magnitude of `frame` over the reference's strongest edges (its top 10 %
/// gradients) relative to the reference's own there. 100 = as crisp as the truth; a blurred
/// upscale scores lower, an over-sharpened one can exceed 100.
pub fn edge_sharpness(frame: &Tensor, reference: &Tensor) -> f64 {
    let _g = tch::no_grad_guard();
    let grad = |f: &Tensor| {
        let y = super::ops::luma(&rgb255(f).to_kind(Kind::Float).unsqueeze(0));
        let (gx, gy) = super::ops::gradients(&y);
        (gx.square() + gy.square()).sqrt().flatten(0, -1)
    };
    let (g, r) = (grad(frame), grad(reference));
    let n = r.size()[0];
    let threshold = r
        .kthvalue(((n as f64) * 0.9) as i64 + 1, 0, false)
        .0
        .double_value(&[]);
    let edges = r.ge(threshold).to_kind(Kind::Float);
    (g * &edges).sum(Kind::Double).double_value(&[])
        / (r * &edges).sum(Kind::Double).double_value(&[]).max(1e-9)
        * 100.0
}

/// The global translation d (pixels) with a(x) ≈ b(x + d), measured on the middle half of the
/// frames (a small zoom about the centre moves nothing there) by coarse-to-fine Gauss–Newton on
/// contrast-normalised luminance. An estimator of its own, independent of Temporal Refine's
/// flow, for judging stabilisers.
pub fn global_shift(a: &Tensor, b: &Tensor) -> [f64; 2] {
    use super::ops::{blur, down2, gradients, luma, warp};
    let _g = tch::no_grad_guard();
    let prep = |f: &Tensor| {
        let y = luma(&f.narrow(0, 0, 3).to_kind(Kind::Float).unsqueeze(0));
        let y = &y - y.mean(Kind::Float);
        &y / (y.square().mean(Kind::Float).sqrt() + 1e-6)
    };
    let mut pyr = vec![(prep(a), prep(b))];
    while pyr.last().unwrap().0.size()[2].min(pyr.last().unwrap().0.size()[3]) >= 64 {
        let (x, y) = pyr.last().unwrap();
        pyr.push((down2(x), down2(y)));
    }
    let mut d = [0.0f64; 2];
    for (level, (ya, yb)) in pyr.iter().enumerate().rev() {
        let unit = (1u64 << level) as f64;
        let (ya, yb) = (blur(ya, 1.0), blur(yb, 1.0));
        let s = ya.size();
        let (h, w) = (s[2], s[3]);
        let inner = |t: &Tensor| t.narrow(2, h / 4, h / 2).narrow(3, w / 4, w / 2);
        for _ in 0..8 {
            let flow = Tensor::from_slice(&[(d[0] / unit) as f32, (d[1] / unit) as f32])
                .view([1, 2, 1, 1])
                .expand([1, 2, h, w], false);
            let bw = warp(&yb, &flow);
            let (gx, gy) = gradients(&bw);
            let (gx, gy, r) = (inner(&gx), inner(&gy), inner(&(&bw - &ya)));
            let sum = |t: Tensor| t.sum(Kind::Double).double_value(&[]);
            let (a11, a12, a22) = (sum(gx.square()), sum(&gx * &gy), sum(gy.square()));
            let (b1, b2) = (sum(&gx * &r), sum(&gy * &r));
            let det = a11 * a22 - a12 * a12;
            if det.abs() < 1e-12 {
                break;
            }
            let du = -(a22 * b1 - a12 * b2) / det;
            let dv = -(a11 * b2 - a12 * b1) / det;
            d[0] += du * unit;
            d[1] += dv * unit;
            if du.abs().max(dv.abs()) < 1e-3 {
                break;
            }
        }
    }
    d
}

/// Residual camera jitter (pixels RMS) of `frames`, a version of `clip` (same size, one frame
/// per clip frame): each frame's content position against the clip's jitter-free path (its
/// offset from the clean frame by [`global_shift`] plus the clip's known jitter), then the RMS
/// length of its frame-to-frame change. A steady offset or a slow drift does not count; for the
/// unprocessed clip this is the injected jitter's frame-to-frame RMS (√2·σ per axis).
pub fn residual_jitter(frames: &[Tensor], clip: &TestClip) -> f64 {
    let pos: Vec<[f64; 2]> = frames
        .iter()
        .zip(&clip.clean)
        .zip(&clip.jitter_shift)
        .map(|((f, c), j)| {
            let d = global_shift(f, c);
            [d[0] + j[0], d[1] + j[1]]
        })
        .collect();
    if pos.len() < 2 {
        return 0.0;
    }
    let sq: f64 = pos
        .windows(2)
        .map(|p| (p[1][0] - p[0][0]).powi(2) + (p[1][1] - p[0][1]).powi(2))
        .sum();
    (sq / (pos.len() - 1) as f64).sqrt()
}
