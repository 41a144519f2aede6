//! Deterministic synthetic test clips with ground truth, for Temporal Refine's tests and report.
//!
//! A clip is an analytic, colourful texture (a sum of oriented sinusoids with random phases and
//! a 1/f-like spectrum, plus soft-edged discs) seen through a camera whose motion is known
//! exactly: per frame a smoothly varying sub-pixel translation plus a slight zoom and rotation.
//! Every frame samples the analytic texture at transformed coordinates, so there is no
//! resampling error anywhere. The degraded clip adds a multiplicative global brightness flicker,
//! a smooth multiplicative local gain field per frame and per-pixel Gaussian noise.
//!
//! Everything is seeded by [`ClipSpec::seed`]: the same spec gives bitwise the same clip, and
//! different seeds give different content, motion and flicker.

use tch::{Device, Kind, Tensor};

/// SplitMix64: small, fast, good enough for test data, and identical on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The camera of one frame: the pixel at (x, y) (pixel centres at integers, rows top-down)
/// shows the scene point `a · (x, y) + b`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Motion {
    pub a: [[f64; 2]; 2],
    pub b: [f64; 2],
}

impl Motion {
    pub fn to_scene(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a[0][0] * x + self.a[0][1] * y + self.b[0],
            self.a[1][0] * x + self.a[1][1] * y + self.b[1],
        )
    }
    pub fn to_pixel(&self, sx: f64, sy: f64) -> (f64, f64) {
        let det = self.a[0][0] * self.a[1][1] - self.a[0][1] * self.a[1][0];
        let (dx, dy) = (sx - self.b[0], sy - self.b[1]);
        (
            (self.a[1][1] * dx - self.a[0][1] * dy) / det,
            (-self.a[1][0] * dx + self.a[0][0] * dy) / det,
        )
    }
    /// The affine map taking a pixel of the frame with motion `self` to the pixel of the frame
    /// with motion `to` that shows the same scene point: returns (m, c) with x' = m·x + c.
    pub fn pixel_map_to(&self, to: &Motion) -> ([[f64; 2]; 2], [f64; 2]) {
        let (c0, c1) = to.to_pixel(self.b[0], self.b[1]);
        let (e0x, e0y) = to.to_pixel(self.a[0][0] + self.b[0], self.a[1][0] + self.b[1]);
        let (e1x, e1y) = to.to_pixel(self.a[0][1] + self.b[0], self.a[1][1] + self.b[1]);
        ([[e0x - c0, e1x - c0], [e0y - c1, e1y - c1]], [c0, c1])
    }
}

/// What to generate. [`ClipSpec::new`] gives the default severity (degraded PSNR around 31 dB,
/// flicker index around 5–7 on a 0–255 scale).
#[derive(Clone, Debug)]
pub struct ClipSpec {
    pub width: usize,
    pub height: usize,
    pub frames: usize,
    pub seed: u64,
    /// Standard deviation of the per-pixel Gaussian noise (0–1 scale).
    pub noise_sigma: f64,
    /// Standard deviation of the per-frame global multiplicative gain.
    pub global_flicker: f64,
    /// Amplitude of the per-frame smooth local gain field.
    pub local_flicker: f64,
    /// Mean camera speed in pixels per frame (the actual speed varies smoothly around it).
    pub speed: f64,
    /// Zoom amplitude (relative) and rotation amplitude (radians) over the clip.
    pub zoom: f64,
    pub rotation: f64,
    /// The shortest wave period of the texture, in pixels (smaller: sharper, finer detail).
    pub finest_period: f64,
    /// Camera micro-jitter: per frame an independent Gaussian translation of this standard
    /// deviation (pixels) on top of the smooth motion (0: none). Drawn from its own random
    /// stream, so it changes nothing else of the clip.
    pub jitter: f64,
}

impl ClipSpec {
    pub fn new(width: usize, height: usize, frames: usize, seed: u64) -> Self {
        ClipSpec {
            width,
            height,
            frames,
            seed,
            noise_sigma: 4.5 / 255.0,
            global_flicker: 0.045,
            local_flicker: 0.04,
            speed: 1.5,
            zoom: 0.01,
            rotation: 0.004,
            finest_period: 4.5,
            jitter: 0.0,
        }
    }
    /// The same clip without any motion (a static scene).
    pub fn static_scene(mut self) -> Self {
        self.speed = 0.0;
        self.zoom = 0.0;
        self.rotation = 0.0;
        self
    }
}

/// A generated clip: frames are `[4, H, W]` float RGBA tensors on the CPU, alpha = 1.
pub struct TestClip {
    pub width: usize,
    pub height: usize,
    pub clean: Vec<Tensor>,
    pub degraded: Vec<Tensor>,
    pub motion: Vec<Motion>,
    /// Per frame, how far the injected jitter moved the content: the frame's pixel x shows
    /// what the jitter-free (smooth-path) frame shows at x + `jitter_shift[t]`. Zero without
    /// jitter.
    pub jitter_shift: Vec<[f64; 2]>,
}

struct Wave {
    fx: f64,
    fy: f64,
    phase: f64,
    colour: [f64; 3],
}

struct Disc {
    cx: f64,
    cy: f64,
    r: f64,
    colour: [f64; 3],
}

struct Scene {
    waves: Vec<Wave>,
    discs: Vec<Disc>,
    base: [f64; 3],
}

impl Scene {
    fn new(rng: &mut Rng, w: usize, h: usize, finest_period: f64) -> Scene {
        let min_dim = w.min(h) as f64;
        let f_lo = 1.0 / (0.6 * min_dim);
        let f_hi: f64 = 1.0 / finest_period;
        let n_waves = 40;
        let mut waves = Vec::new();
        let mut total = 0.0;
        for _ in 0..n_waves {
            let f = (f_lo.ln() + (f_hi.ln() - f_lo.ln()) * rng.uniform()).exp();
            let th = rng.range(0.0, std::f64::consts::PI);
            let amp = f.powf(-0.45);
            let lum = rng.range(-1.0, 1.0);
            let colour = [0, 1, 2].map(|_| amp * (0.6 * lum + 0.5 * rng.range(-1.0, 1.0)));
            total += colour.iter().map(|c| c * c).sum::<f64>() / 3.0;
            waves.push(Wave {
                fx: f * th.cos(),
                fy: f * th.sin(),
                phase: rng.range(0.0, std::f64::consts::TAU),
                colour,
            });
        }
        // Normalise so that each channel's texture has a standard deviation of about 0.11.
        let norm = 0.11 / (total / 2.0).sqrt();
        for wv in &mut waves {
            for c in &mut wv.colour {
                *c *= norm;
            }
        }
        let mut discs = Vec::new();
        for _ in 0..14 {
            discs.push(Disc {
                cx: rng.range(-0.5, 1.5) * w as f64,
                cy: rng.range(-0.5, 1.5) * h as f64,
                r: rng.range(0.04, 0.16) * min_dim,
                colour: [0, 1, 2].map(|_| rng.range(0.2, 0.8)),
            });
        }
        let base = [0, 1, 2].map(|_| rng.range(0.38, 0.55));
        Scene { waves, discs, base }
    }

    /// Samples the scene at scene coordinates `sx, sy` (`[H, W]` tensors, f64) → `[3, H, W]` f64.
    fn sample(&self, sx: &Tensor, sy: &Tensor) -> Tensor {
        let mut chans: Vec<Tensor> = self.base.iter().map(|b| sx.zeros_like() + *b).collect();
        let tau = std::f64::consts::TAU;
        for wv in &self.waves {
            let s = ((sx * (tau * wv.fx)) + (sy * (tau * wv.fy)) + wv.phase).sin();
            for (chan, colour) in chans.iter_mut().zip(wv.colour) {
                *chan = &*chan + &s * colour;
            }
        }
        for d in &self.discs {
            let dist = ((sx - d.cx).square() + (sy - d.cy).square()).sqrt();
            // Soft edge about 0.7 px wide: anti-aliased but sharp.
            let alpha = ((-dist + d.r) / 0.35).sigmoid();
            for ((chan, base), colour) in chans.iter_mut().zip(self.base).zip(d.colour) {
                // Inside the disc: its own colour, keeping half of the texture.
                let inside = (&*chan - base) * 0.5 + colour;
                *chan = &*chan + (inside - &*chan) * &alpha;
            }
        }
        Tensor::stack(&chans, 0).clamp(0.0, 1.0)
    }
}

fn pixel_grid(w: usize, h: usize) -> (Tensor, Tensor) {
    let opts = (Kind::Double, Device::Cpu);
    let xs = Tensor::arange(w as i64, opts)
        .view([1, w as i64])
        .expand([h as i64, w as i64], false);
    let ys = Tensor::arange(h as i64, opts)
        .view([h as i64, 1])
        .expand([h as i64, w as i64], false);
    (xs, ys)
}

impl TestClip {
    pub fn generate(spec: &ClipSpec) -> TestClip {
        let _guard = tch::no_grad_guard();
        let (w, h) = (spec.width, spec.height);
        let mut rng = Rng::new(spec.seed);
        let scene = Scene::new(&mut rng, w, h, spec.finest_period);
        let mut jitter_rng = Rng::new(spec.seed ^ 0x4A17_7E42);

        // Smoothly varying camera motion.
        let dir = rng.range(0.0, std::f64::consts::TAU);
        let (v0x, v0y) = (spec.speed * dir.cos(), spec.speed * dir.sin());
        let wob =
            [0, 1, 2, 3].map(|_| (rng.range(0.08, 0.3), rng.range(0.0, std::f64::consts::TAU)));
        let wob_amp = 0.6 * spec.speed;
        let (zw, zp) = (rng.range(0.05, 0.15), rng.range(0.0, std::f64::consts::TAU));
        let (rw, rp) = (rng.range(0.05, 0.15), rng.range(0.0, std::f64::consts::TAU));
        let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
        let mut motion = Vec::new();
        let mut jitter_shift = Vec::new();
        let (mut tx, mut ty) = (0.0, 0.0);
        for t in 0..spec.frames {
            let tf = t as f64;
            if t > 0 {
                tx += v0x + wob_amp * (wob[0].0 * tf + wob[0].1).sin();
                ty += v0y + wob_amp * (wob[1].0 * tf + wob[1].1).sin();
            }
            let s = (spec.zoom * (zw * tf + zp).sin()).exp();
            let th = spec.rotation * (rw * tf + rp).sin();
            let a = [[s * th.cos(), -s * th.sin()], [s * th.sin(), s * th.cos()]];
            // Rotate/zoom about the frame centre, then translate.
            let (jx, jy) = if spec.jitter > 0.0 {
                (
                    spec.jitter * jitter_rng.normal(),
                    spec.jitter * jitter_rng.normal(),
                )
            } else {
                (0.0, 0.0)
            };
            let b = [
                cx - (a[0][0] * cx + a[0][1] * cy) + tx + jx,
                cy - (a[1][0] * cx + a[1][1] * cy) + ty + jy,
            ];
            // Scene offset j shows at pixel x what the smooth frame shows at x + a⁻¹·j.
            let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
            jitter_shift.push([
                (a[1][1] * jx - a[0][1] * jy) / det,
                (-a[1][0] * jx + a[0][0] * jy) / det,
            ]);
            motion.push(Motion { a, b });
        }

        let (xs, ys) = pixel_grid(w, h);
        let ones = Tensor::ones([1, h as i64, w as i64], (Kind::Float, Device::Cpu));
        let mut clean = Vec::new();
        let mut degraded = Vec::new();
        let tau = std::f64::consts::TAU;
        for m in &motion {
            let sx = &xs * m.a[0][0] + &ys * m.a[0][1] + m.b[0];
            let sy = &xs * m.a[1][0] + &ys * m.a[1][1] + m.b[1];
            let rgb = scene.sample(&sx, &sy);

            // Degradation: global gain × smooth local gain field, then noise.
            let g = 1.0 + spec.global_flicker * rng.normal().clamp(-2.5, 2.5);
            let mut field = xs.zeros_like();
            for _ in 0..4 {
                let kx = rng.range(-1.2, 1.2) / w as f64;
                let ky = rng.range(-1.2, 1.2) / h as f64;
                let amp = spec.local_flicker * rng.normal() * 0.5;
                let ph = rng.range(0.0, tau);
                field += ((&xs * (tau * kx)) + (&ys * (tau * ky)) + ph).cos() * amp;
            }
            let gain = (field + 1.0) * g;
            let noise: Vec<f32> = (0..3 * w * h)
                .map(|_| (rng.normal() * spec.noise_sigma) as f32)
                .collect();
            let noise = Tensor::from_slice(&noise)
                .view([3, h as i64, w as i64])
                .to_kind(Kind::Double);
            let deg = (&rgb * gain.unsqueeze(0) + noise).clamp(0.0, 1.0);

            clean.push(Tensor::cat(&[rgb.to_kind(Kind::Float), ones.copy()], 0));
            degraded.push(Tensor::cat(&[deg.to_kind(Kind::Float), ones.copy()], 0));
        }
        TestClip {
            width: w,
            height: h,
            clean,
            degraded,
            motion,
            jitter_shift,
        }
    }

    /// The true flow `[2, H, W]` (x then y, pixels): the pixel x of frame `from` shows the same
    /// scene point as the position x + flow(x) of frame `to`.
    pub fn true_flow(&self, from: usize, to: usize) -> Tensor {
        let (m, c) = self.motion[from].pixel_map_to(&self.motion[to]);
        let (xs, ys) = pixel_grid(self.width, self.height);
        let fx = &xs * (m[0][0] - 1.0) + &ys * m[0][1] + c[0];
        let fy = &xs * m[1][0] + &ys * (m[1][1] - 1.0) + c[1];
        Tensor::stack(&[fx, fy], 0).to_kind(Kind::Float)
    }

    /// Warps `frame` (a frame of this clip's time `from`, `[C, H, W]`) onto the frame at time
    /// `onto` with the known motion (bilinear). Returns the warped frame and the `[H, W]` mask
    /// (1.0 / 0.0) of pixels whose source lies inside the frame.
    pub fn warp_known(&self, frame: &Tensor, from: usize, onto: usize) -> (Tensor, Tensor) {
        let _guard = tch::no_grad_guard();
        let flow = self.true_flow(onto, from).to_device(frame.device());
        let (w, h) = (self.width as f64, self.height as f64);
        let opts = (Kind::Float, frame.device());
        let xs = Tensor::arange(self.width as i64, opts).view([1, -1]);
        let ys = Tensor::arange(self.height as i64, opts).view([-1, 1]);
        let px = flow.get(0) + xs;
        let py = flow.get(1) + ys;
        let valid = px
            .ge(0.0)
            .logical_and(&px.le(w - 1.0))
            .logical_and(&py.ge(0.0))
            .logical_and(&py.le(h - 1.0));
        let gx = &px * (2.0 / w) + (1.0 / w - 1.0);
        let gy = &py * (2.0 / h) + (1.0 / h - 1.0);
        let grid = Tensor::stack(&[gx, gy], 2).unsqueeze(0);
        let warped = frame
            .to_kind(Kind::Float)
            .unsqueeze(0)
            .grid_sampler_2d(&grid, 0, 1, false)
            .squeeze_dim(0);
        (warped, valid.to_kind(Kind::Float))
    }
}

/// `[4, H, W]` (or `[C, H, W]`) float tensor → interleaved RGBA f32, rows top-down.
pub fn tensor_to_rgba_vec(t: &Tensor) -> Vec<f32> {
    let t = t
        .to_kind(Kind::Float)
        .to_device(Device::Cpu)
        .permute([1, 2, 0])
        .contiguous();
    let n = t.numel();
    let mut v = vec![0f32; n];
    t.copy_data(&mut v, n);
    v
}

/// Interleaved RGBA f32 (rows top-down) → `[4, H, W]` float tensor on the CPU.
pub fn rgba_vec_to_tensor(v: &[f32], width: usize, height: usize) -> Tensor {
    assert_eq!(v.len(), width * height * 4, "RGBA buffer size");
    Tensor::from_slice(v)
        .view([height as i64, width as i64, 4])
        .permute([2, 0, 1])
        .contiguous()
}
