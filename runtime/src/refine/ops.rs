//! Small tensor building blocks for Temporal Refine. Images are `[B, C, H, W]` float tensors.

use tch::{Kind, Tensor};

/// Rec. 709 luminance weights.
pub const LUMA: [f64; 3] = [0.2126, 0.7152, 0.0722];

/// `[B, 3, H, W]` → `[B, 1, H, W]` luminance.
pub fn luma(rgb: &Tensor) -> Tensor {
    rgb.narrow(1, 0, 1) * LUMA[0] + rgb.narrow(1, 1, 1) * LUMA[1] + rgb.narrow(1, 2, 1) * LUMA[2]
}

fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as i64;
    let mut k: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k.into_iter().map(|v| v as f32).collect()
}

/// 1-D filtering along W (`horizontal`) or H by shifted, weighted sums (replicate borders).
/// On CPU this is much faster than libtorch's depthwise convolution for small kernels.
fn filter1d(x: &Tensor, k: &[f32], horizontal: bool) -> Tensor {
    let n = k.len() as i64;
    let r = (n - 1) / 2;
    let (dim, pad) = if horizontal {
        (3, [r, r, 0, 0])
    } else {
        (2, [0, 0, r, r])
    };
    let len = x.size()[dim as usize];
    let xp = x.replication_pad2d(pad);
    let mut acc = xp.narrow(dim, 0, len) * k[0] as f64;
    for (i, &w) in k.iter().enumerate().skip(1) {
        // Fused multiply-add in place: one pass, no temporary.
        let w = Tensor::from(w).to_device(x.device());
        let _ = acc.addcmul_(&xp.narrow(dim, i as i64, len), &w);
    }
    acc
}

/// Box mean of odd width `b` along W or H via a running sum (replicate borders).
fn box1d(x: &Tensor, b: i64, horizontal: bool) -> Tensor {
    let r = b / 2;
    let (dim, pad) = if horizontal {
        (3, [r + 1, r, 0, 0])
    } else {
        (2, [0, 0, r + 1, r])
    };
    let len = x.size()[dim as usize];
    let cs = x.replication_pad2d(pad).cumsum(dim, Kind::Float);
    (cs.narrow(dim, b, len) - cs.narrow(dim, 0, len)) * (1.0 / b as f64)
}

/// Gaussian blur with standard deviation `sigma` pixels (replicate borders).
pub fn blur(x: &Tensor, sigma: f64) -> Tensor {
    if sigma <= 0.0 {
        return x.shallow_clone();
    }
    let k = gaussian_kernel(sigma);
    filter1d(&filter1d(x, &k, true), &k, false)
}

/// Approximate Gaussian blur by three passes of a separable box filter (running sums, much
/// faster than a convolution on CPU). Replicate borders. The box width is the odd
/// width whose three passes come closest to `sigma`; tiny sigmas fall back to [`blur`].
pub fn fast_blur(x: &Tensor, sigma: f64) -> Tensor {
    // Three passes of width b: variance 3·(b² − 1)/12.
    let b = ((4.0 * sigma * sigma + 1.0).sqrt() / 2.0 - 0.5).round() as i64 * 2 + 1;
    if b < 3 {
        return blur(x, sigma);
    }
    let mut y = x.shallow_clone();
    for _ in 0..3 {
        y = box1d(&y, b, true);
    }
    for _ in 0..3 {
        y = box1d(&y, b, false);
    }
    y
}

/// 3×3 box mean (replicate borders).
pub fn box3(x: &Tensor) -> Tensor {
    let k = [1.0f32 / 3.0; 3];
    filter1d(&filter1d(x, &k, true), &k, false)
}

/// Halves the resolution by 2×2 averaging (odd sizes round up).
pub fn down2(x: &Tensor) -> Tensor {
    x.avg_pool2d([2, 2], [2, 2], [0, 0], true, false, None::<i64>)
}

/// Averages `f`×`f` blocks (odd sizes round up).
pub fn down(x: &Tensor, f: i64) -> Tensor {
    if f <= 1 {
        return x.shallow_clone();
    }
    x.avg_pool2d([f, f], [f, f], [0, 0], true, false, None::<i64>)
}

/// Bilinear resize to `h`×`w` (pixel-centre aligned, i.e. `align_corners = false`).
pub fn resize(x: &Tensor, h: i64, w: i64) -> Tensor {
    let s = x.size();
    if s[2] == h && s[3] == w {
        return x.shallow_clone();
    }
    x.upsample_bilinear2d([h, w], false, None, None)
}

/// Resizes a flow field `[B, 2, h, w]` to `H`×`W`, scaling the vectors to the new pixel size.
pub fn resize_flow(flow: &Tensor, h: i64, w: i64) -> Tensor {
    let s = flow.size();
    if s[2] == h && s[3] == w {
        return flow.shallow_clone();
    }
    let up = resize(flow, h, w);
    let sx = w as f64 / s[3] as f64;
    let sy = h as f64 / s[2] as f64;
    Tensor::cat(&[up.narrow(1, 0, 1) * sx, up.narrow(1, 1, 1) * sy], 1)
}

/// Sampling positions x + flow, in pixels: returns (px, py), each `[B, h, w]`.
fn positions(flow: &Tensor) -> (Tensor, Tensor) {
    let s = flow.size();
    let (h, w) = (s[2], s[3]);
    let opts = (Kind::Float, flow.device());
    let xs = Tensor::arange(w, opts).view([1, 1, w]);
    let ys = Tensor::arange(h, opts).view([1, h, 1]);
    (flow.select(1, 0) + xs, flow.select(1, 1) + ys)
}

/// Bilinear backward warp: out(x) = img(x + flow(x)); borders replicate.
/// `img` `[B, C, h, w]`, `flow` `[B, 2, h, w]` in pixels.
pub fn warp(img: &Tensor, flow: &Tensor) -> Tensor {
    let s = flow.size();
    let (h, w) = (s[2] as f64, s[3] as f64);
    let (px, py) = positions(flow);
    let gx = px * (2.0 / w) + (1.0 / w - 1.0);
    let gy = py * (2.0 / h) + (1.0 / h - 1.0);
    let grid = Tensor::stack(&[gx, gy], 3);
    img.grid_sampler_2d(&grid, 0, 1, false)
}

/// `[B, 1, h, w]` mask (1.0 / 0.0): x + flow(x) lies inside the frame.
pub fn in_frame(flow: &Tensor) -> Tensor {
    let s = flow.size();
    let (h, w) = (s[2] as f64, s[3] as f64);
    let (px, py) = positions(flow);
    px.ge(-0.5)
        .logical_and(&px.le(w - 0.5))
        .logical_and(&py.ge(-0.5))
        .logical_and(&py.le(h - 0.5))
        .to_kind(Kind::Float)
        .unsqueeze(1)
}

/// Central-difference gradients of a `[B, C, h, w]` image: (d/dx, d/dy), replicate borders.
pub fn gradients(x: &Tensor) -> (Tensor, Tensor) {
    let s = x.size();
    let (h, w) = (s[2], s[3]);
    let px = x.replication_pad2d([1, 1, 0, 0]);
    let py = x.replication_pad2d([0, 0, 1, 1]);
    let gx = (px.narrow(3, 2, w) - px.narrow(3, 0, w)) * 0.5;
    let gy = (py.narrow(2, 2, h) - py.narrow(2, 0, h)) * 0.5;
    (gx, gy)
}
