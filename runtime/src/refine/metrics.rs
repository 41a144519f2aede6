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
