//! Host frames between two model frames: motion-compensated, not cross-faded. A model makes 8
//! or 16 frames a second and a timeline wants 24 or 30; a cross-fade shows a moving object twice
//! (ghosting), so each in-between frame moves both neighbours along their optical flow (Temporal
//! Refine's estimator) to its own time and blends them.
use tch::{Kind, Tensor};

use crate::refine::flow::{estimate, FlowConfig};
use crate::refine::ops::{luma, warp};

/// The frame at `weight` (0 = `a`, 1 = `b`) between `a` and `b`, `[3, h, w]` in 0..1.
///
/// With F_ab the flow a → b (a(x) ≈ b(x + F_ab(x))) and F_ba the flow b → a, a point at x at the
/// in-between time was at x + w·F_ba(x) in a and is at x + (1 − w)·F_ab(x) in b (the flow at the
/// point itself standing in for the flow along its path, which holds for smooth motion).
pub fn between(a: &Tensor, b: &Tensor, weight: f64) -> Tensor {
    if weight <= 0.0 {
        return a.shallow_clone();
    }
    if weight >= 1.0 {
        return b.shallow_clone();
    }
    let pair = Tensor::stack(&[a, b], 0).to_kind(Kind::Float);
    let lum = luma(&pair);
    let flows = estimate(
        &lum,
        &[(0, 1), (1, 0)],
        &FlowConfig::default(),
        &mut |_, _| true,
    )
    .expect("never cancelled");
    let (f_ab, f_ba) = (flows.narrow(0, 0, 1), flows.narrow(0, 1, 1));
    let from_a = warp(&pair.narrow(0, 0, 1), &(f_ba * weight));
    let from_b = warp(&pair.narrow(0, 1, 1), &(f_ab * (1.0 - weight)));
    (from_a * (1.0 - weight) + from_b * weight)
        .squeeze_dim(0)
        .clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A soft bright square centred at `cx` on a dark frame, `[3, 48, 64]`.
    fn square(cx: f64) -> Tensor {
        let xs = Tensor::arange(64, (Kind::Float, tch::Device::Cpu)).view([1, 1, 64]);
        let ys = Tensor::arange(48, (Kind::Float, tch::Device::Cpu)).view([1, 48, 1]);
        let inside = |d: Tensor| (((d.abs() * -1.0) + 8.0) / 1.5).sigmoid();
        let mask = inside(xs - cx) * inside(ys - 24.0);
        (mask * 0.8 + 0.1).expand([3, 48, 64], false).contiguous()
    }

    fn mse(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).square().mean(Kind::Float).double_value(&[])
    }

    #[test]
    fn an_in_between_frame_puts_the_object_in_between_instead_of_showing_it_twice() {
        let (a, b) = (square(24.0), square(32.0));
        let truth = square(28.0);
        let moved = between(&a, &b, 0.5);
        let faded = &a * 0.5 + &b * 0.5;
        let (e_moved, e_faded) = (mse(&moved, &truth), mse(&faded, &truth));
        assert!(
            e_moved < e_faded / 4.0,
            "motion-compensated {e_moved:.6} vs cross-fade {e_faded:.6}"
        );
        assert_eq!(between(&a, &b, 0.0), a);
    }
}
