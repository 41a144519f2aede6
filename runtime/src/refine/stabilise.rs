//! Micro-jitter stabilisation for Temporal Refine's `stabilise`.
//!
//! The refine already has the flow from the centre frame to every neighbour. Its robust mean
//! is the camera's translation from the centre to that neighbour, i.e. where the centre's
//! content sits in each neighbour. A smooth camera path through these positions and the
//! centre's own (a Gaussian-weighted local linear fit in time) says where the content should
//! sit in the centre frame; the frame is moved by the difference (times the amount). The same
//! smooth kernel slides from frame to frame, so consecutive corrections agree and what is left
//! changes slowly. Translation only: micro-jitter is dominated by it, and a translation cannot
//! bend straight lines.

use super::upscale::{sample_up, BICUBIC};
use tch::{Kind, Tensor};

/// What fills the border a moved frame uncovers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StabiliseEdges {
    /// Zoom in by a fixed factor so the largest allowed correction never shows a border.
    #[default]
    Crop,
    /// No zoom: the uncovered border repeats the edge pixels.
    Fill,
}

/// Internal knobs of the stabiliser (see [`super::Tuning`]).
#[derive(Clone, Debug)]
pub struct StabiliseTuning {
    /// Temporal Gaussian sigma of the path fit, as a fraction of the radius.
    pub path_sigma: f64,
    /// Largest correction, as a fraction of the frame's width / height; in Crop mode also the
    /// zoom's margin (zoom = 1 / (1 − 2·margin)). Bigger moves are not jitter.
    pub margin: f64,
    /// Flow vectors further than this (working pixels) from the first mean are left out of the
    /// second (moving objects, bad matches).
    pub outlier: f64,
}

impl Default for StabiliseTuning {
    fn default() -> Self {
        StabiliseTuning {
            path_sigma: 1.0,
            margin: 0.03,
            outlier: 1.0,
        }
    }
}

/// Per neighbour, the camera translation centre→neighbour in input pixels: the mean flow
/// weighted by `conf`, then again without the vectors more than `outlier` from that mean.
/// `ff` `[K, 2, h, w]` and `conf` `[K, 1, h, w]` at the working resolution; `unit`: input
/// pixels per working pixel along x and y.
pub fn translations(ff: &Tensor, conf: &Tensor, unit: [f64; 2], outlier: f64) -> Vec<[f64; 2]> {
    let dims: &[i64] = &[2, 3];
    let weighted_mean = |w: &Tensor| {
        (ff * w).sum_dim_intlist(dims, true, Kind::Float)
            / (w.sum_dim_intlist(dims, true, Kind::Float) + 1e-6)
    };
    let first = weighted_mean(conf);
    let near = (ff - &first)
        .square()
        .sum_dim_intlist(1, true, Kind::Float)
        .le(outlier * outlier)
        .to_kind(Kind::Float);
    let mean = weighted_mean(&(conf * near)).flatten(0, -1);
    let v = Vec::<f64>::try_from(mean.to_kind(Kind::Double)).unwrap_or_default();
    v.chunks(2)
        .map(|p| [p[0] * unit[0], p[1] * unit[1]])
        .collect()
}

/// The smooth path's content position at the centre (offset 0), from the positions `shifts`
/// (relative to the centre's) at time `offsets`: a Gaussian-weighted (`sigma` frames) local linear fit evaluated
/// at 0. A linear fit follows a steady pan without lag, also at a clip's ends where all
/// neighbours lie on one side; with neighbours at a single time it is their mean.
pub fn smooth_position(offsets: &[i64], shifts: &[[f64; 2]], sigma: f64) -> [f64; 2] {
    let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
    let (mut y0, mut y1) = ([0.0; 2], [0.0; 2]);
    for (&n, t) in offsets.iter().zip(shifts) {
        let n = n as f64;
        let g = (-(n * n) / (2.0 * sigma * sigma)).exp();
        s0 += g;
        s1 += g * n;
        s2 += g * n * n;
        for k in 0..2 {
            y0[k] += g * t[k];
            y1[k] += g * n * t[k];
        }
    }
    if s0 <= 0.0 {
        return [0.0; 2];
    }
    let det = s0 * s2 - s1 * s1;
    if det <= 1e-9 * s0 * s0 {
        return [y0[0] / s0, y0[1] / s0];
    }
    [0, 1].map(|k| (s2 * y0[k] - s1 * y1[k]) / det)
}

/// How to move one output frame: out(x) = in(centre + zoom·(x − centre) + shift).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stabilisation {
    /// Input pixels.
    pub shift: [f64; 2],
    /// Sampling scale: 1 for Fill, 1 − 2·margin for Crop (a zoom in).
    pub zoom: f64,
}

impl Stabilisation {
    /// The correction for a content position `smooth` (from [`smooth_position`]) and `amount`
    /// 0..1, limited to the margin of a `w`×`h` input frame.
    pub fn new(
        smooth: [f64; 2],
        amount: f64,
        edges: StabiliseEdges,
        margin: f64,
        w: i64,
        h: i64,
    ) -> Stabilisation {
        let limit = [margin * w as f64, margin * h as f64];
        // The content sits at 0 and belongs at `smooth`: out(x + smooth) = in(x).
        let shift = [0, 1].map(|k| (-amount * smooth[k]).clamp(-limit[k], limit[k]));
        let zoom = match edges {
            StabiliseEdges::Crop => 1.0 - 2.0 * margin,
            StabiliseEdges::Fill => 1.0,
        };
        Stabilisation { shift, zoom }
    }

    /// Moves `img` (`[B, C, H, W]`, an output of `scale` times the input size); bicubic,
    /// borders replicate.
    pub fn apply(&self, img: &Tensor, scale: i64) -> Tensor {
        let sz = img.size();
        let (h, w) = (sz[2], sz[3]);
        let opts = (Kind::Float, img.device());
        let s = scale as f64;
        // sample_up's grid at scale 1 is the identity; its flow carries the move.
        let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        let xs = Tensor::arange(w, opts).view([1, 1, 1, w]);
        let ys = Tensor::arange(h, opts).view([1, 1, h, 1]);
        let k = self.zoom - 1.0;
        let fx = ((xs - cx) * k + self.shift[0] * s).expand([sz[0], 1, h, w], false);
        let fy = ((ys - cy) * k + self.shift[1] * s).expand([sz[0], 1, h, w], false);
        let flow = Tensor::cat(&[fx, fy], 1);
        sample_up(img, Some(&flow), 1, BICUBIC)
    }
}
