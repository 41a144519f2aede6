//! Helpers for the example programs: a demo clip with known clean frames, and image output.
use std::path::Path;

use dreamfx_test_host::Frame;

/// A colourful scene drifting diagonally, with discs, at time `t` (frames).
pub fn clean_frame(w: usize, h: usize, t: f64) -> Frame {
    Frame::from_fn(w, h, |x, y| {
        let (xs, ys) = (x as f64 - 0.8 * t, y as f64 - 0.3 * t);
        let wave = |a: f64, b: f64, p: f64| 0.5 + 0.2 * ((xs * a + ys * b) * 0.05 + p).sin();
        let mut c = [
            wave(1.3, 0.4, 0.0),
            wave(0.7, 1.1, 2.0),
            wave(0.5, -0.9, 4.0),
        ];
        for (k, (cx, cy, r, col)) in [
            (0.3, 0.4, 0.12, [0.95, 0.35, 0.2]),
            (0.65, 0.55, 0.09, [0.2, 0.6, 0.95]),
            (0.45, 0.75, 0.07, [0.95, 0.85, 0.2]),
        ]
        .iter()
        .enumerate()
        {
            let (dx, dy) = (xs - cx * w as f64, ys - cy * h as f64);
            let d = (dx * dx + dy * dy).sqrt() / (r * w as f64);
            let fine = 0.08 * ((xs * 0.9 + k as f64).sin() * (ys * 0.7).cos());
            if d < 1.0 {
                c = [col[0] + fine, col[1] + fine, col[2] + fine];
            }
        }
        [c[0] as f32, c[1] as f32, c[2] as f32, 1.0]
    })
}

/// The clean frame with brightness flicker (global and a soft local band) and noise.
pub fn degraded_frame(w: usize, h: usize, t: f64) -> Frame {
    let mut f = clean_frame(w, h, t);
    let seed = (t as u64).wrapping_mul(0x9E3779B97F4A7C15);
    let gain = 1.0 + 0.09 * (((seed >> 20) % 1000) as f32 / 500.0 - 1.0);
    let band_x = ((seed >> 40) % w as u64) as f32;
    let (fw, fh) = (f.width, f.height);
    for y in 0..fh {
        for x in 0..fw {
            let local = 1.0 + 0.06 * (-((x as f32 - band_x) / (w as f32 * 0.25)).powi(2)).exp();
            let i = (y * fw + x) * 4;
            for c in 0..3 {
                let n = (((i + c) as u64 ^ seed).wrapping_mul(0xD6E8FEB86659FD93) >> 40) as f32
                    / (1u64 << 24) as f32;
                f.rgba[i + c] = (f.rgba[i + c] * gain * local + (n - 0.5) * 0.08).clamp(0.0, 1.0);
            }
        }
    }
    f
}

pub fn to_rgb8(f: &Frame) -> image::RgbImage {
    image::RgbImage::from_fn(f.width as u32, f.height as u32, |x, y| {
        let i = (y as usize * f.width + x as usize) * 4;
        let q = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        image::Rgb([q(f.rgba[i]), q(f.rgba[i + 1]), q(f.rgba[i + 2])])
    })
}

/// Before | after, side by side with a 4-pixel gap.
pub fn side_by_side(before: &Frame, after: &Frame) -> image::RgbImage {
    let (a, b) = (to_rgb8(before), to_rgb8(after));
    let mut out =
        image::RgbImage::from_pixel(a.width() + 4 + b.width(), a.height(), image::Rgb([0, 0, 0]));
    image::imageops::replace(&mut out, &a, 0, 0);
    image::imageops::replace(&mut out, &b, (a.width() + 4) as i64, 0);
    out
}

pub fn save(img: &image::RgbImage, path: &Path) -> Result<(), String> {
    img.save(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

pub fn mean_luma(f: &Frame) -> f64 {
    let n = (f.width * f.height) as f64;
    f.rgba
        .chunks(4)
        .map(|p| 0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64)
        .sum::<f64>()
        / n
}

pub fn psnr(a: &Frame, b: &Frame) -> f64 {
    let mut s = 0.0;
    let mut n = 0usize;
    for (i, (x, y)) in a.rgba.iter().zip(&b.rgba).enumerate() {
        if i % 4 != 3 {
            s += ((x.clamp(0.0, 1.0) - y.clamp(0.0, 1.0)) as f64).powi(2);
            n += 1;
        }
    }
    10.0 * (1.0 / (s / n as f64)).log10()
}
