//! Dense coarse-to-fine optical flow: an image pyramid with iterative (warping) Lucas–Kanade
//! updates, all in tensor ops and batched over image pairs. It runs on flicker-robust images:
//! luminance with its local mean removed and its local contrast normalised, so a brightness
//! change between the two frames (global or smooth local gain) does not look like motion.

use super::ops::{blur, down2, gradients, in_frame, resize_flow, warp};
use super::profile::{time, Stage};
use tch::{Kind, Tensor};

#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Stop adding pyramid levels when the smaller side would drop below this.
    pub min_size: i64,
    pub max_levels: usize,
    /// LK iterations on the coarser levels and on the finest level.
    pub iters_coarse: usize,
    pub iters_fine: usize,
    /// Gaussian LK window (pixels of the level).
    pub window_sigma: f64,
    /// Tikhonov regularisation of the 2×2 LK systems (normalised-image units).
    pub lambda: f64,
    /// Scale (pixels of the level) of the local mean / contrast normalisation.
    pub norm_sigma: f64,
    /// Pre-smoothing of the luminance before normalising (pixels of the level).
    pub presmooth: f64,
    /// Largest update per iteration (pixels of the level).
    pub max_step: f64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            min_size: 20,
            max_levels: 6,
            iters_coarse: 2,
            iters_fine: 1,
            window_sigma: 2.5,
            lambda: 0.02,
            norm_sigma: 4.0,
            presmooth: 0.7,
            max_step: 1.0,
        }
    }
}

/// Local mean removal and contrast normalisation of a `[B, 1, h, w]` luminance image.
pub fn normalise(y: &Tensor, cfg: &FlowConfig) -> Tensor {
    let y = blur(y, cfg.presmooth);
    let d = &y - blur(&y, cfg.norm_sigma);
    let v = blur(&d.square(), cfg.norm_sigma);
    // The floor keeps flat, noisy areas from being amplified into fake texture.
    d / (v + 2e-4).sqrt()
}

/// Estimates, for every pair `(a, b)` of `pairs`, the flow `[P, 2, h, w]` with
/// frames[a](x) ≈ frames[b](x + flow(x)). `frames`: `[N, 1, h, w]` luminance. Each frame's
/// pyramid is built and normalised once, however many pairs it is part of.
/// `on_level(level_done, levels)` is called after each pyramid level and may return false to
/// stop (then `None` is returned).
pub fn estimate(
    frames: &Tensor,
    pairs: &[(usize, usize)],
    cfg: &FlowConfig,
    on_level: &mut dyn FnMut(usize, usize) -> bool,
) -> Option<Tensor> {
    // Normalised luminance pyramids of all frames, finest first.
    let pyr = time(Stage::Pyramids, || {
        let mut levels = vec![frames.shallow_clone()];
        while levels.len() < cfg.max_levels {
            let s = levels.last().unwrap().size();
            if (s[2].min(s[3]) + 1) / 2 < cfg.min_size {
                break;
            }
            let d = down2(levels.last().unwrap());
            levels.push(d);
        }
        levels
            .iter()
            .map(|y| {
                let n = normalise(y, cfg);
                let (gx, gy) = gradients(&n);
                (n, gx, gy)
            })
            .collect::<Vec<_>>()
    });
    // On CPU, a few pairs at a time keep the working set in cache (2–3× faster than one big
    // batch); on a GPU one batch is best. The pairs are independent, so the result is the same.
    let s = frames.size();
    let p = pairs.len() as i64;
    let chunk = if frames.device() == tch::Device::Cpu {
        (800_000 / (5 * s[2] * s[3])).max(1)
    } else {
        p
    };
    let chunks = (p + chunk - 1) / chunk;
    let mut out = Vec::new();
    for i in 0..chunks {
        let start = i * chunk;
        let len = chunk.min(p - start);
        let sel = &pairs[start as usize..(start + len) as usize];
        let idx = |f: fn(&(usize, usize)) -> usize| {
            Tensor::from_slice(&sel.iter().map(|q| f(q) as i64).collect::<Vec<_>>())
                .to_device(frames.device())
        };
        let (ia, ib) = (idx(|q| q.0), idx(|q| q.1));
        let mut cb = |done: usize, levels: usize| {
            on_level(i as usize * levels + done, chunks as usize * levels)
        };
        out.push(estimate_batch(&pyr, &ia, &ib, cfg, &mut cb)?);
    }
    Some(Tensor::cat(&out, 0))
}

/// Coarse-to-fine LK for the pairs (ia[p], ib[p]) of the normalised pyramid `pyr`
/// (finest first; each level (image, d/dx, d/dy) of all frames).
fn estimate_batch(
    pyr: &[(Tensor, Tensor, Tensor)],
    ia: &Tensor,
    ib: &Tensor,
    cfg: &FlowConfig,
    on_level: &mut dyn FnMut(usize, usize) -> bool,
) -> Option<Tensor> {
    let levels = pyr.len();
    let mut flow: Option<Tensor> = None;
    for (done, l) in (0..levels).rev().enumerate() {
        let iters = if l == 0 {
            cfg.iters_fine
        } else {
            cfg.iters_coarse
        };
        flow = Some(time(Stage::Flow, || {
            let (yn, gx, gy) = &pyr[l];
            let r = yn.index_select(0, ia);
            let rx = gx.index_select(0, ia);
            let ry = gy.index_select(0, ia);
            let t = yn.index_select(0, ib);
            let s = r.size();
            let (h, w) = (s[2], s[3]);
            let mut f = match flow.take() {
                None => Tensor::zeros([s[0], 2, h, w], (Kind::Float, r.device())),
                Some(f) => resize_flow(&f, h, w),
            };
            for _ in 0..iters {
                f = lk_step(&r, &rx, &ry, &t, &f, cfg);
            }
            f
        }));
        if !on_level(done + 1, levels) {
            return None;
        }
    }
    flow
}

fn lk_step(
    r: &Tensor,
    rx: &Tensor,
    ry: &Tensor,
    t: &Tensor,
    f: &Tensor,
    cfg: &FlowConfig,
) -> Tensor {
    let tw = warp(t, f);
    let (tx, ty) = gradients(&tw);
    let ix = (rx + tx) * 0.5;
    let iy = (ry + ty) * 0.5;
    let it = tw - r;
    // Pixels whose match left the frame do not vote.
    let m = in_frame(f);
    let prods = Tensor::cat(
        &[ix.square(), &ix * &iy, iy.square(), &ix * &it, &iy * &it],
        1,
    ) * m;
    let sums = blur(&prods, cfg.window_sigma);
    let a11 = sums.narrow(1, 0, 1) + cfg.lambda;
    let a12 = sums.narrow(1, 1, 1);
    let a22 = sums.narrow(1, 2, 1) + cfg.lambda;
    let b1 = sums.narrow(1, 3, 1);
    let b2 = sums.narrow(1, 4, 1);
    let det = &a11 * &a22 - a12.square();
    let du = -(&a22 * &b1 - &a12 * &b2) / &det;
    let dv = -(&a11 * &b2 - &a12 * &b1) / &det;
    let step = Tensor::cat(&[du, dv], 1).clamp(-cfg.max_step, cfg.max_step);
    f + step
}
