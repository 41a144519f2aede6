//! Multi-frame super-resolution for Temporal Refine's `scale` (2×, 4×).
//!
//! A frame is a pixel-integrated (box-filtered) sampling of the scene; its neighbours sample the
//! same scene at other sub-pixel phases, so together they hold detail that no single frame has
//! (in one frame it is folded into aliasing). With the flows and blend weights the 1× refine
//! already computed:
//! 1. Shift-and-add: every frame of the window is sampled (bicubic) at the output grid's
//!    positions, mapped into that frame by its flow, and averaged with the blend weights
//!    (consistency × photometric × temporal, brightness-corrected): aligned and denoised, but
//!    as soft as one frame.
//! 2. Iterative back-projection (Irani & Peleg): each frame is simulated from the estimate (moved
//!    into that frame's geometry along its frame→centre flow, then box-downsampled by the scale),
//!    and the difference to the real frame is spread back onto the output grid along the
//!    centre→frame flow, weighted as in 1. Differences that agree between frames (detail) build
//!    up; noise, different in every frame, averages out.
//!
//! Everything is tensor ops over whole frames; one frame of the window at a time keeps the
//! working set at a few output-sized images.

use super::ops::{down, resize, resize_flow, warp};
use tch::{Kind, Tensor};

/// Internal knobs of the upscale (see [`super::Tuning`]).
#[derive(Clone, Debug)]
pub struct UpscaleTuning {
    /// Flow working resolution when upscaling (wider than the 1× one: sub-pixel accuracy of
    /// the alignment is what super-resolution feeds on).
    pub flow_max_width: i64,
    /// Lucas–Kanade iterations on the finest flow level when upscaling.
    pub flow_iters_fine: usize,
    /// Back-projection iterations and the step of each.
    pub backprojection_iters: usize,
    pub backprojection_step: f64,
}

impl Default for UpscaleTuning {
    fn default() -> Self {
        UpscaleTuning {
            flow_max_width: 640,
            flow_iters_fine: 3,
            backprojection_iters: 4,
            backprojection_step: 1.0,
        }
    }
}

/// `grid_sampler_2d` interpolation modes.
pub(super) const BILINEAR: i64 = 0;
pub(super) const BICUBIC: i64 = 2;

/// Samples `img` (`[B, C, H, W]`, input resolution) on the grid of an output `s` times larger
/// (`[B, C, H·s, W·s]`): the output pixel x shows the input at (x + 0.5)/s − 0.5 (pixel centres
/// aligned, as `upsample_*2d(align_corners = false)` and ffmpeg's scaler), moved by `flow`
/// (`[B, 2, H·s, W·s]`, input pixels) when given. Borders replicate.
pub fn sample_up(img: &Tensor, flow: Option<&Tensor>, s: i64, mode: i64) -> Tensor {
    let sz = img.size();
    let (b, h, w) = (sz[0], sz[2], sz[3]);
    let (hs, ws) = (h * s, w * s);
    let opts = (Kind::Float, img.device());
    let inv = 1.0 / s as f64;
    let xs = ((Tensor::arange(ws, opts) + 0.5) * inv - 0.5).view([1, 1, ws]);
    let ys = ((Tensor::arange(hs, opts) + 0.5) * inv - 0.5).view([1, hs, 1]);
    let (px, py) = match flow {
        Some(f) => (f.select(1, 0) + xs, f.select(1, 1) + ys),
        None => (xs.expand([b, hs, ws], false), ys.expand([b, hs, ws], false)),
    };
    let gx = (px + 0.5) * (2.0 / w as f64) - 1.0;
    let gy = (py + 0.5) * (2.0 / h as f64) - 1.0;
    let grid = Tensor::stack(&[gx, gy], 3);
    img.grid_sampler_2d(&grid, mode, 1, false)
}

/// Plain bicubic upscale by `s` (`[B, C, H, W]` → `[B, C, H·s, W·s]`): what a single frame gives.
pub fn bicubic(img: &Tensor, s: i64) -> Tensor {
    if s <= 1 {
        return img.shallow_clone();
    }
    sample_up(img, None, s, BICUBIC)
}

/// The window as the blend sees it, for [`reconstruct`].
pub(super) struct Window<'a> {
    /// Every frame's RGB `[3, H, W]`, in window order.
    pub rgb: &'a [Tensor],
    /// Per frame, the flow centre→frame and frame→centre at the working resolution
    /// (`[1, 2, h, w]`, working pixels); `None` for the centre itself.
    pub to_frame: Vec<Option<Tensor>>,
    pub from_frame: Vec<Option<Tensor>>,
    /// Blend weight `[N, 1, h, w]` and brightness gain `[N, 3, h, w]`, in the centre's geometry.
    pub weight: &'a Tensor,
    pub gain: &'a Tensor,
}

/// The upscaled, refined RGB `[1, 3, H·s, W·s]`; `None` when `should_continue` said stop.
pub(super) fn reconstruct(
    win: &Window<'_>,
    s: i64,
    tu: &UpscaleTuning,
    should_continue: &mut dyn FnMut(f32) -> bool,
) -> Option<Tensor> {
    let sz = win.rgb[0].size();
    let (h, w) = (sz[1], sz[2]);
    let (hs, ws) = (h * s, w * s);
    let inv_s = 1.0 / s as f64;
    // Flow centre→frame on the output grid, in input pixels.
    let to_frame = |i: usize| {
        win.to_frame[i]
            .as_ref()
            .map(|f| resize_flow(f, hs, ws) * inv_s)
    };
    let weight_up = |i: usize| resize(&win.weight.narrow(0, i as i64, 1), hs, ws);
    let wsum = resize(&win.weight.sum_dim_intlist(0, true, Kind::Float), hs, ws) + 1e-6;
    let frames = win.rgb.len();
    let steps = (1 + tu.backprojection_iters) * frames;
    let mut done = 0;
    let mut tick = |done: &mut usize| {
        *done += 1;
        should_continue(0.75 + 0.2 * *done as f32 / steps as f32)
    };

    // 1. Shift-and-add.
    let mut x = Tensor::zeros([1, 3, hs, ws], (Kind::Float, win.rgb[0].device()));
    for i in 0..frames {
        let sampled = sample_up(&win.rgb[i].unsqueeze(0), to_frame(i).as_ref(), s, BICUBIC);
        let mult = resize(
            &(win.weight.narrow(0, i as i64, 1) * win.gain.narrow(0, i as i64, 1)),
            hs,
            ws,
        );
        let _ = x.addcmul_(&sampled, &mult);
        if !tick(&mut done) {
            return None;
        }
    }
    x /= &wsum;

    // 2. Back-projection.
    for _ in 0..tu.backprojection_iters {
        let mut acc = x.zeros_like();
        for i in 0..frames {
            // The estimate in frame i's geometry, integrated over its pixels.
            let seen = match &win.from_frame[i] {
                Some(f) => warp(&x, &resize_flow(f, hs, ws)),
                None => x.shallow_clone(),
            };
            let simulated = down(&seen, s);
            // Frame i brought to the window's brightness (its gain, moved into its geometry).
            let gain = win.gain.narrow(0, i as i64, 1);
            let gain = match &win.from_frame[i] {
                Some(f) => warp(&gain, f),
                None => gain,
            };
            let residual = win.rgb[i].unsqueeze(0) * resize(&gain, h, w) - simulated;
            let back = sample_up(&residual, to_frame(i).as_ref(), s, BILINEAR);
            let _ = acc.addcmul_(&back, &weight_up(i));
            if !tick(&mut done) {
                return None;
            }
        }
        x += acc / &wsum * tu.backprojection_step;
    }
    Some(x)
}
