//! Deterministic checkers: what a generated clip shows, measured from its pixels alone (no
//! access to the ground-truth render), and whether that matches a caption.
//!
//! Pipeline ([`detect`]):
//! 1. **Background**: per row, the median over all frames of the four outermost columns' pixels
//!    (objects move, the background does not), then a robust straight-line fit over the rows
//!    (plain and vertical-gradient backgrounds are both linear in the row). The fitted top and
//!    bottom colours name the background (nearest named plain or gradient background).
//! 2. **Unmixing**: each pixel `p` farther than 0.12 from the background `b` of its row is
//!    explained as `b + α·(c − b)` for each named colour `c` (least-squares `α` clamped to
//!    0..1); the colour with the smallest residual labels the pixel and `α` is its coverage.
//!    This reads anti-aliased and blurred edges as partial coverage of the right colour instead
//!    of as a different, darker hue.
//! 3. **Colour**: the label with the largest coverage mass over the clip (the dominant object is
//!    the largest one).
//! 4. **Segmentation**: per frame, the 8-connected component of that label with the largest
//!    coverage mass; its coverage field gives area and centroid.
//! 5. **Shape**: per frame, the outline radius `r(θ)` on 64 rays from the centroid (outermost
//!    0.5-crossing of the bilinearly sampled coverage) and its Fourier magnitudes `a_k =
//!    |R_k| / R_0`. A square's outline only has harmonics that are multiples of 4, a triangle's
//!    of 3, a five-point star's of 5 and a circle's none, so the largest of `a_3, a_4, a_5`
//!    (coverage-weighted mean over frames) names the polygon, and a small one (< 0.025) a
//!    circle; a ring is a circle with an empty centre (in most frames).
//! 6. **Motion**, in order: *bounce* (the vertical centroid track reverses at least once, with
//!    hysteresis, over a range ≥ 12 % of the frame), *grow*/*shrink* (least-squares area trend
//!    over the clip ≥ ×1.5 / ≤ ÷1.5), the eight *directions* (least-squares centroid velocity,
//!    travel ≥ 10 % of the frame, nearest 45° sector), *spin* (unwrapped phase of the shape's
//!    symmetry harmonic turns ≥ 0.7 rad), else *still*.
#![allow(clippy::needless_range_loop)]

use super::world::{parse_caption, Background, CaptionFacts, Colour, Motion, Shape};
use serde::Serialize;

/// A borrowed `F×H×W×3` RGB clip in 0..1.
#[derive(Clone, Copy, Debug)]
pub struct ClipRef<'a> {
    pub pixels: &'a [f32],
    pub frames: usize,
    pub height: usize,
    pub width: usize,
}

impl<'a> ClipRef<'a> {
    pub fn new(pixels: &'a [f32], frames: usize, height: usize, width: usize) -> Self {
        assert_eq!(pixels.len(), frames * height * width * 3, "clip size");
        ClipRef {
            pixels,
            frames,
            height,
            width,
        }
    }
    fn px(&self, t: usize, y: usize, x: usize) -> [f32; 3] {
        let i = ((t * self.height + y) * self.width + x) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }
    /// The pixels of frame `t`.
    pub fn frame(&self, t: usize) -> &'a [f32] {
        let n = self.height * self.width * 3;
        &self.pixels[t * n..(t + 1) * n]
    }
}

impl<'a> From<&'a super::world::Clip> for ClipRef<'a> {
    fn from(c: &'a super::world::Clip) -> Self {
        ClipRef::new(&c.frames, c.num_frames, c.height, c.width)
    }
}

/// The background as a colour per row.
#[derive(Clone, Debug, Serialize)]
pub struct BackgroundModel {
    pub rows: Vec<[f32; 3]>,
}

impl BackgroundModel {
    pub fn top(&self) -> [f32; 3] {
        self.rows[0]
    }
    pub fn bottom(&self) -> [f32; 3] {
        self.rows[self.rows.len() - 1]
    }
    /// The nearest named background (plain or gradient), comparing top and bottom colours.
    pub fn name(&self) -> Background {
        let (t, b) = (self.top(), self.bottom());
        let mut best = (f32::INFINITY, Background::all()[0]);
        for bg in Background::all() {
            let (bt, bb) = bg.top_bottom();
            let d = dist2(t, bt) + dist2(b, bb);
            if d < best.0 {
                best = (d, bg);
            }
        }
        best.1
    }
}

fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (0..3).map(|k| (a[k] - b[k]) * (a[k] - b[k])).sum()
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Estimates the background (step 1 of the module docs).
pub fn estimate_background(clip: &ClipRef) -> BackgroundModel {
    let (h, w) = (clip.height, clip.width);
    let cols: Vec<usize> = if w >= 4 {
        vec![0, 1, w - 2, w - 1]
    } else {
        (0..w).collect()
    };
    let mut raw = vec![[0.0f32; 3]; h];
    let mut buf = Vec::with_capacity(cols.len() * clip.frames);
    for y in 0..h {
        for k in 0..3 {
            buf.clear();
            for t in 0..clip.frames {
                for &x in &cols {
                    buf.push(clip.px(t, y, x)[k]);
                }
            }
            raw[y][k] = median(&mut buf);
        }
    }
    // Straight-line fit per channel, refitted without outlying rows.
    let mut use_row = vec![true; h];
    let mut fit = [(0.0f32, 0.0f32); 3];
    for _pass in 0..2 {
        for k in 0..3 {
            let (mut n, mut sy, mut sv, mut syy, mut syv) = (0.0f32, 0.0, 0.0, 0.0, 0.0);
            for y in 0..h {
                if use_row[y] {
                    let (yy, v) = (y as f32, raw[y][k]);
                    n += 1.0;
                    sy += yy;
                    sv += v;
                    syy += yy * yy;
                    syv += yy * v;
                }
            }
            let den = n * syy - sy * sy;
            let slope = if den.abs() > 1e-6 {
                (n * syv - sy * sv) / den
            } else {
                0.0
            };
            fit[k] = ((sv - slope * sy) / n.max(1.0), slope);
        }
        for y in 0..h {
            let pred = [0, 1, 2].map(|k| fit[k].0 + fit[k].1 * y as f32);
            use_row[y] = dist2(pred, raw[y]) < 0.06 * 0.06;
        }
        if use_row.iter().filter(|u| **u).count() < h / 3 {
            break;
        }
    }
    BackgroundModel {
        rows: (0..h)
            .map(|y| [0, 1, 2].map(|k| (fit[k].0 + fit[k].1 * y as f32).clamp(0.0, 1.0)))
            .collect(),
    }
}

/// Per-frame measurements of the dominant object.
#[derive(Clone, Debug, Serialize)]
pub struct FrameObs {
    /// Coverage mass (pixels); 0 when nothing was found.
    pub area: f32,
    pub centroid: [f32; 2],
    /// `|R_k| / R_0` for k = 0..=6 of the outline radius `r(θ)`.
    pub harmonics: [f32; 7],
    /// Phase of `R_k` (k = 0..=6).
    pub phases: [f32; 7],
    /// Mean outline radius (pixels).
    pub mean_radius: f32,
    /// Whether the coverage at the centroid is below 0.35 (a ring's hole).
    pub hole: bool,
}

impl FrameObs {
    /// The shape this frame's outline alone names (the clip's [`Detection::shape`] pools the
    /// frames); `None` when the frame has no object. Shows where in a clip a shape is lost.
    pub fn shape(&self) -> Option<Shape> {
        (self.area > 0.0).then(|| {
            let [_, _, _, a3, a4, a5, _] = self.harmonics;
            shape_from([a3, a4, a5], self.hole)
        })
    }
}

/// The shape named by an outline's symmetry harmonics `[a_3, a_4, a_5]` and whether it has a
/// hole: a ring, a circle when no harmonic stands out, else the polygon of the largest.
fn shape_from(harmonics: [f32; 3], hole: bool) -> Shape {
    let (kbest, hbest) = (0..3).fold((0usize, -1.0f32), |a, k| {
        if harmonics[k] > a.1 {
            (k, harmonics[k])
        } else {
            a
        }
    });
    if hole {
        Shape::Ring
    } else if hbest < CIRCLE_MAX_HARMONIC {
        Shape::Circle
    } else {
        [Shape::Triangle, Shape::Square, Shape::Star][kbest]
    }
}

/// The harmonic that carries a polygon's orientation (its rotational symmetry order).
fn symmetry_order(shape: Shape) -> Option<usize> {
    match shape {
        Shape::Triangle => Some(3),
        Shape::Square => Some(4),
        Shape::Star => Some(5),
        Shape::Circle | Shape::Ring => None,
    }
}

/// Everything [`detect`] found. Fields are `None` when no object was found.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    pub colour: Option<Colour>,
    pub shape: Option<Shape>,
    pub motion: Option<Motion>,
    pub background: Background,
    pub frames: Vec<FrameObs>,
    /// Least-squares centroid velocity (pixels per frame).
    pub velocity: [f32; 2],
    /// Least-squares area ratio last / first frame.
    pub area_ratio: f32,
    /// Total rotation over the clip (radians, sign arbitrary).
    pub rotation: f32,
    /// Direction reversals of the vertical track and its range (pixels).
    pub y_reversals: usize,
    pub y_range: f32,
    /// Coverage-weighted mean of `a_3, a_4, a_5`, and the fraction of frames with a hole.
    pub shape_harmonics: [f32; 3],
    pub hole_fraction: f32,
}

impl Detection {
    /// The detection as caption facts, if colour, shape and motion were all found.
    pub fn facts(&self) -> Option<CaptionFacts> {
        Some(CaptionFacts {
            colour: self.colour?,
            shape: self.shape?,
            motion: self.motion?,
            background: Some(self.background),
            others: Vec::new(),
        })
    }
}

/// Foreground threshold (RGB distance from the background), residual limit of the unmixing,
/// rays of the radial profile, harmonics kept.
const FG_DIST: f32 = 0.12;
const MAX_RESIDUAL: f32 = 0.25;
const RAYS: usize = 64;
const HARMONICS: usize = 7;
const CIRCLE_MAX_HARMONIC: f32 = 0.025;

/// Measures the dominant object of a clip (see the module docs).
pub fn detect(clip: &ClipRef) -> Detection {
    let (nf, h, w) = (clip.frames, clip.height, clip.width);
    let bg = estimate_background(clip);
    let palette: Vec<[f32; 3]> = Colour::ALL.iter().map(|c| c.rgb()).collect();
    let nc = palette.len();

    // Unmix every pixel.
    let npx = nf * h * w;
    let mut label = vec![u8::MAX; npx];
    let mut alpha = vec![0.0f32; npx];
    let mut mass = vec![0.0f32; nc];
    let mut dirs = vec![[0.0f32; 3]; nc];
    let mut inv = vec![0.0f32; nc];
    for y in 0..h {
        let b = bg.rows[y];
        for c in 0..nc {
            dirs[c] = [0, 1, 2].map(|k| palette[c][k] - b[k]);
            inv[c] = 1.0 / dist2(dirs[c], [0.0; 3]).max(1e-6);
        }
        for t in 0..nf {
            for x in 0..w {
                let p = clip.px(t, y, x);
                let q = [p[0] - b[0], p[1] - b[1], p[2] - b[2]];
                let qq = q[0] * q[0] + q[1] * q[1] + q[2] * q[2];
                if qq < FG_DIST * FG_DIST {
                    continue;
                }
                let mut best = (f32::INFINITY, 0usize, 0.0f32);
                for c in 0..nc {
                    let d = dirs[c];
                    let a = ((q[0] * d[0] + q[1] * d[1] + q[2] * d[2]) * inv[c]).clamp(0.0, 1.0);
                    let r = [q[0] - a * d[0], q[1] - a * d[1], q[2] - a * d[2]];
                    let res = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
                    if res < best.0 {
                        best = (res, c, a);
                    }
                }
                if best.0 <= MAX_RESIDUAL * MAX_RESIDUAL {
                    let i = (t * h + y) * w + x;
                    label[i] = best.1 as u8;
                    alpha[i] = best.2;
                    mass[best.1] += best.2;
                }
            }
        }
    }
    let (dom, dom_mass) = mass
        .iter()
        .copied()
        .enumerate()
        .fold((0, 0.0f32), |a, (i, m)| if m > a.1 { (i, m) } else { a });
    let background = bg.name();
    let mut det = Detection {
        colour: None,
        shape: None,
        motion: None,
        background,
        frames: Vec::new(),
        velocity: [0.0; 2],
        area_ratio: 1.0,
        rotation: 0.0,
        y_reversals: 0,
        y_range: 0.0,
        shape_harmonics: [0.0; 3],
        hole_fraction: 0.0,
    };
    if dom_mass < 2.0 * nf as f32 {
        return det;
    }
    det.colour = Some(Colour::ALL[dom]);

    // Per-frame segmentation and outline.
    let mut field = vec![0.0f32; h * w];
    let mut seen = vec![false; h * w];
    let mut stack: Vec<usize> = Vec::new();
    let mut comp: Vec<usize> = Vec::new();
    let mut best_comp: Vec<usize> = Vec::new();
    let trig: Vec<(f32, f32)> = (0..RAYS)
        .map(|j| {
            let a = std::f32::consts::TAU * j as f32 / RAYS as f32;
            (a.cos(), a.sin())
        })
        .collect();
    for t in 0..nf {
        let lab = &label[t * h * w..(t + 1) * h * w];
        let alp = &alpha[t * h * w..(t + 1) * h * w];
        seen.iter_mut().for_each(|s| *s = false);
        best_comp.clear();
        let mut best_mass = 0.0f32;
        for start in 0..h * w {
            if seen[start] || lab[start] as usize != dom {
                continue;
            }
            comp.clear();
            let mut m = 0.0;
            seen[start] = true;
            stack.push(start);
            while let Some(i) = stack.pop() {
                comp.push(i);
                m += alp[i];
                let (y, x) = ((i / w) as isize, (i % w) as isize);
                for dy in -1..=1isize {
                    for dx in -1..=1isize {
                        let (yy, xx) = (y + dy, x + dx);
                        if yy < 0 || xx < 0 || yy >= h as isize || xx >= w as isize {
                            continue;
                        }
                        let j = yy as usize * w + xx as usize;
                        if !seen[j] && lab[j] as usize == dom {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
            if m > best_mass {
                best_mass = m;
                std::mem::swap(&mut best_comp, &mut comp);
            }
        }
        field.iter_mut().for_each(|f| *f = 0.0);
        let (mut sx, mut sy, mut max_d2) = (0.0f32, 0.0f32, 0.0f32);
        for &i in &best_comp {
            field[i] = alp[i];
            sx += alp[i] * ((i % w) as f32 + 0.5);
            sy += alp[i] * ((i / w) as f32 + 0.5);
        }
        let mut obs = FrameObs {
            area: best_mass,
            centroid: [0.0; 2],
            harmonics: [0.0; HARMONICS],
            phases: [0.0; HARMONICS],
            mean_radius: 0.0,
            hole: false,
        };
        if best_mass >= 4.0 {
            let c = [sx / best_mass, sy / best_mass];
            obs.centroid = c;
            for &i in &best_comp {
                let (dx, dy) = ((i % w) as f32 + 0.5 - c[0], (i / w) as f32 + 0.5 - c[1]);
                max_d2 = max_d2.max(dx * dx + dy * dy);
            }
            let reach = max_d2.sqrt() + 2.0;
            let mut radial = [0.0f32; RAYS];
            for (j, &(co, si)) in trig.iter().enumerate() {
                let mut prev = sample(&field, h, w, c[0], c[1]);
                let mut last = 0.0;
                let mut s = 0.25;
                while s <= reach {
                    let a = sample(&field, h, w, c[0] + s * co, c[1] + s * si);
                    if prev >= 0.5 && a < 0.5 {
                        last = s - 0.25 + 0.25 * (prev - 0.5) / (prev - a);
                    }
                    prev = a;
                    s += 0.25;
                }
                radial[j] = last;
            }
            for k in 0..HARMONICS {
                let (mut re, mut im) = (0.0f32, 0.0f32);
                for j in 0..RAYS {
                    let a = std::f32::consts::TAU * (k * j) as f32 / RAYS as f32;
                    re += radial[j] * a.cos();
                    im -= radial[j] * a.sin();
                }
                obs.harmonics[k] = (re * re + im * im).sqrt() / RAYS as f32;
                obs.phases[k] = im.atan2(re);
            }
            let r0 = obs.harmonics[0];
            obs.mean_radius = r0;
            if r0 > 0.0 {
                for k in 1..HARMONICS {
                    obs.harmonics[k] /= r0;
                }
                obs.harmonics[0] = 1.0;
            }
            obs.hole = sample(&field, h, w, c[0], c[1]) < 0.35;
        } else {
            obs.area = 0.0;
        }
        det.frames.push(obs);
    }

    let valid: Vec<usize> = (0..nf).filter(|&t| det.frames[t].area > 0.0).collect();
    if valid.is_empty() {
        return det;
    }

    // Shape.
    let (mut wsum, mut hsum, mut holes) = (0.0f32, [0.0f32; 3], 0usize);
    for &t in &valid {
        let o = &det.frames[t];
        wsum += o.area;
        for k in 0..3 {
            hsum[k] += o.area * o.harmonics[k + 3];
        }
        holes += o.hole as usize;
    }
    det.shape_harmonics = hsum.map(|v| v / wsum);
    det.hole_fraction = holes as f32 / valid.len() as f32;
    let shape = shape_from(det.shape_harmonics, det.hole_fraction >= 0.5);
    det.shape = Some(shape);

    // Tracks.
    let ts: Vec<f32> = valid.iter().map(|&t| t as f32).collect();
    let xs: Vec<f32> = valid.iter().map(|&t| det.frames[t].centroid[0]).collect();
    let ys: Vec<f32> = valid.iter().map(|&t| det.frames[t].centroid[1]).collect();
    let la: Vec<f32> = valid.iter().map(|&t| det.frames[t].area.ln()).collect();
    let span = (nf.max(2) - 1) as f32;
    det.velocity = [slope(&ts, &xs), slope(&ts, &ys)];
    det.area_ratio = (slope(&ts, &la) * span).exp();
    let (ymin, ymax) = ys.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |a, &y| {
        (a.0.min(y), a.1.max(y))
    });
    det.y_range = ymax - ymin;
    det.y_reversals = reversals(&ys, (0.25 * det.y_range).max(1.0));
    if let Some(k) = symmetry_order(shape) {
        let mut unwrapped = Vec::with_capacity(valid.len());
        let mut acc = 0.0f32;
        let mut prev = det.frames[valid[0]].phases[k];
        for &t in &valid {
            let p = det.frames[t].phases[k];
            let mut d = p - prev;
            while d > std::f32::consts::PI {
                d -= std::f32::consts::TAU;
            }
            while d < -std::f32::consts::PI {
                d += std::f32::consts::TAU;
            }
            acc += d;
            prev = p;
            unwrapped.push(acc / k as f32);
        }
        det.rotation = (slope(&ts, &unwrapped) * span).abs();
    }

    // Motion.
    let size = h.min(w) as f32;
    let travel = (det.velocity[0].powi(2) + det.velocity[1].powi(2)).sqrt() * span;
    let motion = if det.y_reversals >= 1 && det.y_range >= 0.12 * size {
        Motion::Bounce
    } else if det.area_ratio >= 1.5 {
        Motion::Grow
    } else if det.area_ratio <= 1.0 / 1.5 {
        Motion::Shrink
    } else if travel >= 0.1 * size {
        let ang = (-det.velocity[1]).atan2(det.velocity[0]);
        let sector = ((ang / std::f32::consts::FRAC_PI_4).round() as i32).rem_euclid(8);
        [
            Motion::Right,
            Motion::UpRight,
            Motion::Up,
            Motion::UpLeft,
            Motion::Left,
            Motion::DownLeft,
            Motion::Down,
            Motion::DownRight,
        ][sector as usize]
    } else if det.rotation >= 0.7 {
        Motion::Spin
    } else {
        Motion::Still
    };
    det.motion = Some(motion);
    det
}

/// Bilinear sample of an `H×W` field at continuous coordinates (pixel centres at +0.5), zero
/// outside.
fn sample(f: &[f32], h: usize, w: usize, x: f32, y: f32) -> f32 {
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = (fx - x0, fy - y0);
    let get = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= w as f32 || yi >= h as f32 {
            0.0
        } else {
            f[yi as usize * w + xi as usize]
        }
    };
    let top = get(x0, y0) * (1.0 - ax) + get(x0 + 1.0, y0) * ax;
    let bot = get(x0, y0 + 1.0) * (1.0 - ax) + get(x0 + 1.0, y0 + 1.0) * ax;
    top * (1.0 - ay) + bot * ay
}

/// Least-squares slope of `v` against `t`.
fn slope(t: &[f32], v: &[f32]) -> f32 {
    let n = t.len() as f32;
    if t.len() < 2 {
        return 0.0;
    }
    let (mt, mv) = (t.iter().sum::<f32>() / n, v.iter().sum::<f32>() / n);
    let (mut num, mut den) = (0.0, 0.0);
    for (a, b) in t.iter().zip(v) {
        num += (a - mt) * (b - mv);
        den += (a - mt) * (a - mt);
    }
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

/// Direction reversals of a track, ignoring wiggles smaller than `hyst`.
fn reversals(v: &[f32], hyst: f32) -> usize {
    let Some(&first) = v.first() else { return 0 };
    let (mut lo, mut hi) = (first, first);
    let mut dir = 0i32;
    let mut extreme = first;
    let mut count = 0;
    for &y in &v[1..] {
        match dir {
            0 => {
                lo = lo.min(y);
                hi = hi.max(y);
                if y - lo > hyst {
                    dir = 1;
                    extreme = y;
                } else if hi - y > hyst {
                    dir = -1;
                    extreme = y;
                }
            }
            1 => {
                if y > extreme {
                    extreme = y;
                } else if extreme - y > hyst {
                    count += 1;
                    dir = -1;
                    extreme = y;
                }
            }
            _ => {
                if y < extreme {
                    extreme = y;
                } else if y - extreme > hyst {
                    count += 1;
                    dir = 1;
                    extreme = y;
                }
            }
        }
    }
    count
}

/// How a clip matches a caption.
#[derive(Clone, Debug, Serialize)]
pub struct Scores {
    pub colour_ok: bool,
    pub shape_ok: bool,
    pub motion_ok: bool,
    /// The caption's facts.
    pub expected: CaptionFacts,
    pub detected: Detection,
}

impl Scores {
    pub fn all_ok(&self) -> bool {
        self.colour_ok && self.shape_ok && self.motion_ok
    }
}

/// Scores a clip against a caption (its dominant object's colour, shape and motion). `None` if
/// the caption does not parse.
pub fn score(clip: &ClipRef, caption: &str) -> Option<Scores> {
    let expected = parse_caption(caption)?;
    let detected = detect(clip);
    Some(Scores {
        colour_ok: detected.colour == Some(expected.colour),
        shape_ok: detected.shape == Some(expected.shape),
        motion_ok: detected.motion == Some(expected.motion),
        expected,
        detected,
    })
}

/// Peak signal-to-noise ratio (dB, peak 1.0) between two equally long buffers; infinite when
/// they are equal.
pub fn psnr(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "psnr of buffers of different sizes");
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((x - y) as f64).powi(2))
        .sum::<f64>()
        / a.len().max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        -10.0 * mse.log10()
    }
}

/// Frame-0 fidelity for image-to-video: PSNR of the clip's first frame against the given
/// `H×W×3` image.
pub fn frame0_psnr(clip: &ClipRef, image: &[f32]) -> f64 {
    psnr(clip.frame(0), image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversal_counting() {
        assert_eq!(reversals(&[0.0, 1.0, 2.0, 3.0, 4.0], 1.0), 0);
        assert_eq!(reversals(&[0.0, 3.0, 6.0, 3.0, 0.0], 1.0), 1);
        assert_eq!(reversals(&[0.0, 5.0, 0.0, 5.0, 0.0], 1.0), 3);
        assert_eq!(reversals(&[0.0, 0.3, 0.0, 0.3, 0.0, 0.2], 1.0), 0);
    }

    #[test]
    fn psnr_values() {
        let a = vec![0.5f32; 12];
        let mut b = a.clone();
        assert!(psnr(&a, &b).is_infinite());
        b[0] = 0.6;
        let expected = -10.0 * (0.01f64 / 12.0).log10();
        assert!((psnr(&a, &b) - expected).abs() < 1e-3);
    }

    #[test]
    fn slope_fit() {
        let t = [0.0, 1.0, 2.0, 3.0];
        let v = [1.0, 3.0, 5.0, 7.0];
        assert!((slope(&t, &v) - 2.0).abs() < 1e-6);
    }
}
