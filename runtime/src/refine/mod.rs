//! Temporal Refine: flow-guided temporal filtering that removes flicker and noise/micro-jitter
//! and restores detail, using the neighbouring frames t−r … t+r.
//!
//! Per call (no state between calls, so render order does not matter):
//! 1. Flow. Frames are box-downsampled to a working resolution (≤ 640 px wide), and the flow
//!    centre→n and n→centre for every neighbour n is estimated in one batch by coarse-to-fine
//!    Lucas–Kanade on flicker-robust (locally normalised) luminance ([`flow`]).
//! 2. Confidence. Forward–backward consistency (F_c→n(x) + F_n→c(x + F_c→n(x)) ≈ 0), the match
//!    staying inside the frame, and a photometric check after brightness correction (the warped
//!    neighbour must agree with the centre up to the noise level) give a per-pixel confidence.
//! 3. Brightness. At low resolution the aligned frames' low-frequency colour (a masked Gaussian,
//!    so occluded/outside pixels do not count) is averaged over the whole window with smooth
//!    temporal weights; each frame gets a smooth per-channel gain taking its low frequencies to
//!    that average. This removes global and local flicker.
//! 4. Blend at full resolution: neighbours are warped with `grid_sample` (bilinear) along the
//!    upsampled flow, gain-corrected and averaged with weights confidence × temporal weight;
//!    `detail` adds unsharp-mask sharpening, `strength` mixes with the input. Alpha is the
//!    centre frame's alpha, unchanged.
//! 5. `scale` 2×/4×: step 4 becomes multi-frame super-resolution ([`upscale`]); the result is
//!    (scale·W)×(scale·H), alpha upscaled bilinearly.
//! 6. `stabilise`: the camera's translation to each neighbour (the robust mean of the flow),
//!    smoothed over the window, moves the result onto the smooth path ([`stabilise`]); alpha
//!    moves with it.

pub mod flow;
pub mod metrics;
pub mod ops;
pub mod profile;
pub mod stabilise;
#[cfg(test)]
mod tests;
pub mod upscale;

use ops::{blur, box3, down, in_frame, luma, resize, resize_flow, warp};
use profile::{time, Stage};
pub use stabilise::StabiliseEdges;
use stabilise::{Stabilisation, StabiliseTuning};
use tch::{Kind, Tensor};
use upscale::UpscaleTuning;

/// What [`refine`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RefineOutput {
    /// The refined frame.
    #[default]
    Refined,
    /// Debug: the flow from the centre frame to the next frame (the previous one at the clip's
    /// end) as colour: R = 0.5 + u / (2·[`FLOW_VIEW_RANGE`]), G = 0.5 + v / (2·range) (u, v in
    /// pixels, +x right, +y down; the centre's pixel x is seen at x + (u, v) in the neighbour),
    /// B = 0.5 + |flow| / (2·range); alpha = 1.
    Flow,
    /// Debug: the mean blend confidence of the neighbours (0..1) as grey, alpha = 1.
    Confidence,
}

/// Flow debug view range: ±this many pixels map to 0..1.
pub const FLOW_VIEW_RANGE: f64 = 16.0;

#[derive(Clone, Debug, PartialEq)]
pub struct RefineParams {
    /// Temporal radius r: frames t−r … t+r are used (the window given may be shorter).
    pub radius: usize,
    /// 0..1, 0 = passthrough (the centre frame exactly), 1 = fully refined.
    pub strength: f64,
    /// 0..1, detail preservation: unsharp-mask sharpening amount of the result.
    pub detail: f64,
    pub output: RefineOutput,
    /// Output size factor (1, 2 or 4): the result is (scale·W)×(scale·H).
    pub scale: u32,
    /// 0..1: how much of the camera's micro-jitter is removed (0 = off).
    pub stabilise: f64,
    /// What fills the border a stabilised frame uncovers.
    pub edges: StabiliseEdges,
}

impl Default for RefineParams {
    /// The tuned defaults (tuned on test clip seed 1 at 1280×720, see `dreamfx refine-report`).
    fn default() -> Self {
        RefineParams {
            radius: 7,
            strength: 1.0,
            detail: 0.0,
            output: RefineOutput::Refined,
            scale: 1,
            stabilise: 0.0,
            edges: StabiliseEdges::Crop,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefineError {
    #[error("cancelled")]
    Cancelled,
    #[error("bad input: {0}")]
    BadInput(String),
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Internal knobs (not exposed as OFX parameters). `Default` holds the tuned values (tuned on
/// test clip seed 1, 1280×720, 40 frames; see `dreamfx refine-report`).
#[derive(Clone, Debug)]
pub struct Tuning {
    pub flow: flow::FlowConfig,
    /// The flow is computed at a resolution at most this wide (power-of-two box downsampling).
    pub flow_max_width: i64,
    /// Forward–backward tolerance (pixels of the flow resolution) and its relative part.
    pub fb_tol: f64,
    pub fb_rel: f64,
    /// Temporal Gaussian sigma, as a fraction of the radius, for the detail blend and for the
    /// brightness average.
    pub temporal_sigma: f64,
    pub gain_temporal_sigma: f64,
    /// Brightness low-pass: extra downsampling below the flow resolution and Gaussian sigma
    /// as a fraction of the smaller side of the frame.
    pub gain_down: i64,
    pub gain_sigma_frac: f64,
    /// Photometric check: weight = exp(−d² / (k · noise²)).
    pub photo_k: f64,
    /// Unsharp mask: sigma (full-resolution pixels) and gain at detail = 1.
    pub sharpen_sigma: f64,
    pub sharpen_gain: f64,
    pub upscale: UpscaleTuning,
    pub stabilise: StabiliseTuning,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            flow: flow::FlowConfig::default(),
            flow_max_width: 320,
            fb_tol: 0.5,
            fb_rel: 0.01,
            temporal_sigma: 1.0,
            gain_temporal_sigma: 0.7,
            gain_down: 4,
            gain_sigma_frac: 0.06,
            photo_k: 12.0,
            sharpen_sigma: 1.0,
            sharpen_gain: 1.0,
            upscale: UpscaleTuning::default(),
            stabilise: StabiliseTuning::default(),
        }
    }
}

/// Refines `frames[centre]` using its neighbours.
///
/// `frames`: the available window in time order (at clip edges it is shorter on one side),
/// each `[4, H, W]` float RGBA (other float kinds are converted), all of one shape and device.
/// `centre`: index of the frame being refined. Frames further than `params.radius` from the
/// centre are ignored. `should_continue(fraction_done)` is called between expensive steps;
/// returning false cancels. The result is `[4, s·H, s·W]` float on the frames' device
/// (s = `params.scale`).
pub fn refine(
    frames: &[Tensor],
    centre: usize,
    params: &RefineParams,
    should_continue: &mut dyn FnMut(f32) -> bool,
) -> Result<Tensor, RefineError> {
    refine_with(frames, centre, params, &Tuning::default(), should_continue)
}

/// [`refine`] with explicit internal knobs (for tuning).
pub fn refine_with(
    frames: &[Tensor],
    centre: usize,
    params: &RefineParams,
    tuning: &Tuning,
    should_continue: &mut dyn FnMut(f32) -> bool,
) -> Result<Tensor, RefineError> {
    validate(frames, centre, params)?;
    let _guard = tch::no_grad_guard();
    if !should_continue(0.0) {
        return Err(RefineError::Cancelled);
    }
    let c_frame = time(Stage::Transfer, || frames[centre].to_kind(Kind::Float));
    let moves = params.scale > 1 || params.stabilise > 0.0;
    if params.output == RefineOutput::Refined && params.strength <= 0.0 && !moves {
        return Ok(c_frame.copy());
    }
    let lo = centre.saturating_sub(params.radius);
    let hi = (centre + params.radius).min(frames.len() - 1);
    let window: Vec<Tensor> = time(Stage::Transfer, || {
        frames[lo..=hi]
            .iter()
            .map(|f| f.to_kind(Kind::Float))
            .collect()
    });
    let offsets: Vec<i64> = (lo..=hi).map(|i| i as i64 - centre as i64).collect();
    let (out, stabilisation) = Core {
        window: &window,
        offsets: &offsets,
        c: centre - lo,
        params,
        tuning,
    }
    .run(should_continue)?;
    Ok(time(Stage::Transfer, || {
        let alpha = c_frame.narrow(0, 3, 1);
        let alpha = match params.output {
            RefineOutput::Refined => {
                let sz = out.size();
                let up = resize(&alpha.unsqueeze(0), sz[1], sz[2]);
                match stabilisation {
                    Some(st) => st
                        .apply(&up, params.scale as i64)
                        .clamp(0.0, 1.0)
                        .squeeze_dim(0),
                    None => up.squeeze_dim(0),
                }
            }
            _ => out.narrow(0, 0, 1).ones_like(),
        };
        Tensor::cat(&[out, alpha], 0)
    }))
}

fn validate(frames: &[Tensor], centre: usize, params: &RefineParams) -> Result<(), RefineError> {
    let bad = |s: String| Err(RefineError::BadInput(s));
    if frames.is_empty() {
        return bad("empty frame window".into());
    }
    if centre >= frames.len() {
        return bad(format!(
            "centre {centre} outside a window of {} frames",
            frames.len()
        ));
    }
    if !(0.0..=1.0).contains(&params.strength)
        || !(0.0..=1.0).contains(&params.detail)
        || !(0.0..=1.0).contains(&params.stabilise)
    {
        return bad(format!(
            "strength {} / detail {} / stabilise {} outside 0..1",
            params.strength, params.detail, params.stabilise
        ));
    }
    if ![1, 2, 4].contains(&params.scale) {
        return bad(format!("scale {} is not 1, 2 or 4", params.scale));
    }
    let s0 = frames[centre].size();
    if s0.len() != 3 || s0[0] != 4 || s0[1] < 1 || s0[2] < 1 {
        return bad(format!("frames must be [4, H, W], centre is {s0:?}"));
    }
    let dev = frames[centre].device();
    for (i, f) in frames.iter().enumerate() {
        if f.size() != s0 {
            return bad(format!("frame {i} is {:?}, centre is {s0:?}", f.size()));
        }
        if f.device() != dev {
            return bad(format!(
                "frame {i} is on {:?}, centre on {dev:?}",
                f.device()
            ));
        }
        if !f.is_floating_point() {
            return bad(format!(
                "frame {i} is {:?}, expected a float kind",
                f.kind()
            ));
        }
    }
    Ok(())
}

/// Normalised temporal Gaussian weights for the offsets.
fn temporal_weights(offsets: &[i64], radius: usize, frac: f64) -> Vec<f64> {
    let s = (radius as f64 * frac).max(0.5);
    offsets
        .iter()
        .map(|&d| (-((d * d) as f64) / (2.0 * s * s)).exp())
        .collect()
}

fn weights_tensor(w: &[f64], like: &Tensor) -> Tensor {
    let v: Vec<f32> = w.iter().map(|&x| x as f32).collect();
    Tensor::from_slice(&v)
        .to_device(like.device())
        .view([-1, 1, 1, 1])
}

struct Core<'a> {
    window: &'a [Tensor],
    offsets: &'a [i64],
    c: usize,
    params: &'a RefineParams,
    tuning: &'a Tuning,
}

impl Core<'_> {
    /// The result's RGB `[3, s·H, s·W]` and the stabilisation applied to it (for alpha).
    fn run(
        &self,
        should_continue: &mut dyn FnMut(f32) -> bool,
    ) -> Result<(Tensor, Option<Stabilisation>), RefineError> {
        let tu = self.tuning;
        let scale = self.params.scale.max(1) as i64;
        let n = self.window.len();
        let c = self.c;
        let rgb: Vec<Tensor> = self.window.iter().map(|f| f.narrow(0, 0, 3)).collect();
        let centre_rgb = rgb[c].shallow_clone();
        let size = centre_rgb.size();
        let (hh, ww) = (size[1], size[2]);
        // Debug views are computed at the input size and shown at the output size.
        let output_size = |view: Tensor| {
            if scale > 1 {
                resize(&view.unsqueeze(0), hh * scale, ww * scale).squeeze_dim(0)
            } else {
                view
            }
        };
        let nb: Vec<usize> = (0..n).filter(|&i| i != c).collect();
        let k = nb.len() as i64;

        if k == 0 {
            // Nothing to blend with: only the detail step applies; the debug views are empty.
            return Ok((
                match self.params.output {
                    RefineOutput::Refined => {
                        let up = upscale::bicubic(&centre_rgb.unsqueeze(0), scale);
                        let r = self.sharpen(&up).squeeze_dim(0);
                        self.finish(&up.squeeze_dim(0), r)
                    }
                    RefineOutput::Flow => output_size(centre_rgb.full_like(0.5)),
                    RefineOutput::Confidence => output_size(centre_rgb.zeros_like()),
                },
                None,
            ));
        }

        // 1. Flow at the working resolution.
        let (flow_max_width, flow_cfg) = if scale > 1 {
            let mut cfg = tu.flow.clone();
            cfg.iters_fine = tu.upscale.flow_iters_fine;
            (tu.upscale.flow_max_width, cfg)
        } else {
            (tu.flow_max_width, tu.flow.clone())
        };
        let mut fdown = 1;
        while ww / fdown > flow_max_width {
            fdown *= 2;
        }
        let (xs_all, ys_all) = time(Stage::Pyramids, || {
            let xs = Tensor::cat(
                &rgb.iter()
                    .map(|f| down(&f.unsqueeze(0), fdown))
                    .collect::<Vec<_>>(),
                0,
            ); // [N,3,h,w]
            let ys = luma(&xs);
            (xs, ys)
        });
        let ssz = xs_all.size();
        let (h, w) = (ssz[2], ssz[3]);
        let nb_idx = Tensor::from_slice(&nb.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(xs_all.device());
        // Pairs centre → neighbour, then neighbour → centre.
        let pairs: Vec<(usize, usize)> = nb
            .iter()
            .map(|&i| (c, i))
            .chain(nb.iter().map(|&i| (i, c)))
            .collect();
        let mut cancelled = false;
        let flows = flow::estimate(&ys_all, &pairs, &flow_cfg, &mut |done, levels| {
            let ok = should_continue(0.05 + 0.55 * done as f32 / levels as f32);
            cancelled |= !ok;
            ok
        });
        let flows = match flows {
            Some(f) if !cancelled => f,
            _ => return Err(RefineError::Cancelled),
        };
        let ff = flows.narrow(0, 0, k); // centre → neighbour
        let fb = flows.narrow(0, k, k); // neighbour → centre

        if self.params.output == RefineOutput::Flow {
            // The next frame, else the previous one.
            let j = nb.iter().position(|&i| i == c + 1).unwrap_or(nb.len() - 1) as i64;
            let f = resize_flow(&ff.narrow(0, j, 1), hh, ww).squeeze_dim(0);
            let mag = f.square().sum_dim_intlist(0, true, Kind::Float).sqrt();
            let s = 0.5 / FLOW_VIEW_RANGE;
            let vis = Tensor::cat(&[f * s + 0.5, mag * s + 0.5], 0);
            return Ok((output_size(vis), None));
        }

        // 2. Geometric confidence: forward–backward consistency and staying inside the frame.
        let conf_nb = time(Stage::Consistency, || {
            let back = warp(&fb, &ff);
            let e2 = (&ff + &back).square().sum_dim_intlist(1, true, Kind::Float);
            let tol2 = (ff.square().sum_dim_intlist(1, true, Kind::Float)
                + back.square().sum_dim_intlist(1, true, Kind::Float))
                * tu.fb_rel
                + tu.fb_tol * tu.fb_tol;
            (-e2 / (tol2 * 2.0)).exp() * in_frame(&ff) // [K,1,h,w]
        });
        if !should_continue(0.65) {
            return Err(RefineError::Cancelled);
        }
        let stabilisation =
            (self.params.stabilise > 0.0 && self.params.output == RefineOutput::Refined).then(
                || self.stabilisation(&ff, &conf_nb, [ww as f64 / w as f64, hh as f64 / h as f64]),
            );

        // Aligned frames at the working resolution, in window order.
        let xs_nb = xs_all.index_select(0, &nb_idx);
        let warped_nb = time(Stage::Warps, || warp(&xs_nb, &ff));
        let ones = Tensor::ones([1, 1, h, w], (Kind::Float, xs_all.device()));
        let mut al = Vec::with_capacity(n);
        let mut ml = Vec::with_capacity(n);
        for i in 0..n {
            if i == c {
                al.push(xs_all.narrow(0, c as i64, 1));
                ml.push(ones.shallow_clone());
            } else {
                let j = nb.iter().position(|&q| q == i).unwrap() as i64;
                al.push(warped_nb.narrow(0, j, 1));
                ml.push(conf_nb.narrow(0, j, 1));
            }
        }
        let aligned_s = Tensor::cat(&al, 0); // [N,3,h,w]
        let mask_s = Tensor::cat(&ml, 0); // [N,1,h,w]

        // 3. Brightness: low-frequency colour averaged over the window at low resolution.
        let ratio_s = time(Stage::Brightness, || {
            let gd = tu.gain_down.max(1);
            let am = down(&(&aligned_s * &mask_s), gd);
            let mm = down(&mask_s, gd);
            let lsz = mm.size();
            let sigma_l = (tu.gain_sigma_frac * lsz[2].min(lsz[3]) as f64).max(0.5);
            let am = blur(&am, sigma_l);
            let mm = blur(&mm, sigma_l);
            let lp = &am / (&mm + 1e-4); // per-frame low-pass [N,3,hl,wl]
            let gw = weights_tensor(
                &temporal_weights(self.offsets, self.params.radius, tu.gain_temporal_sigma),
                &mm,
            );
            let sw = &mm * &gw;
            let lavg = (&lp * &sw).sum_dim_intlist(0, true, Kind::Float)
                / (sw.sum_dim_intlist(0, true, Kind::Float) + 1e-6);
            let ratio_l = (lavg / (lp + 1e-3)).clamp(0.5, 2.0);
            resize(&ratio_l, h, w) // [N,3,h,w]
        });
        if !should_continue(0.72) {
            return Err(RefineError::Cancelled);
        }

        // Photometric check after brightness correction, relative to the noise level.
        let blend_t0 = profile::start();
        let corr = &aligned_s * &ratio_s;
        let yc = luma(&corr);
        let d2 = box3(&(&yc - yc.narrow(0, c as i64, 1)).square()); // [N,1,h,w]
        let near: Vec<i64> = (0..n as i64)
            .filter(|&i| (self.offsets[i as usize]).abs() == 1)
            .collect();
        let near = if near.is_empty() {
            vec![nb[0] as i64]
        } else {
            near
        };
        let near_t = Tensor::from_slice(&near).to_device(d2.device());
        let noise2 = (d2.index_select(0, &near_t) * mask_s.index_select(0, &near_t).gt(0.5))
            .median()
            .double_value(&[]);
        let noise2 = noise2.max(1e-6);
        let photo = (-&d2 / (tu.photo_k * noise2)).exp();

        // 4. Blend weights at the working resolution.
        let tw = weights_tensor(
            &temporal_weights(self.offsets, self.params.radius, tu.temporal_sigma),
            &mask_s,
        );
        let wgt = &mask_s * photo * &tw; // centre: mask 1, d2 0 → tw[c]
        if self.params.output == RefineOutput::Confidence {
            let conf = (&mask_s * (-&d2 / (tu.photo_k * noise2)).exp())
                .index_select(0, &nb_idx)
                .mean_dim(0, true, Kind::Float);
            let g = resize(&conf, hh, ww).squeeze_dim(0).clamp(0.0, 1.0);
            return Ok((output_size(g.expand([3, hh, ww], false).contiguous()), None));
        }
        if scale > 1 {
            profile::stop(Stage::Blend, blend_t0);
            return self.upscaled(
                &rgb,
                &nb,
                &ff,
                &fb,
                &wgt,
                &ratio_s,
                stabilisation,
                should_continue,
            );
        }
        let mult_s = &wgt * &ratio_s; // [N,3,h,w]
        let wsum = resize(&wgt.sum_dim_intlist(0, true, Kind::Float), hh, ww); // [1,1,H,W]
        profile::stop(Stage::Blend, blend_t0);
        if !should_continue(0.75) {
            return Err(RefineError::Cancelled);
        }
        // Full resolution, one neighbour at a time (keeps the working set small).
        let mut acc = time(Stage::Blend, || {
            centre_rgb.unsqueeze(0) * resize(&mult_s.narrow(0, c as i64, 1), hh, ww)
        });
        for (j, &i) in nb.iter().enumerate() {
            let warped = time(Stage::Warps, || {
                let f = resize_flow(&ff.narrow(0, j as i64, 1), hh, ww);
                warp(&rgb[i].unsqueeze(0), &f)
            });
            time(Stage::Blend, || {
                let _ = acc.addcmul_(&warped, &resize(&mult_s.narrow(0, i as i64, 1), hh, ww));
            });
            if !should_continue(0.75 + 0.2 * (j + 1) as f32 / nb.len() as f32) {
                return Err(RefineError::Cancelled);
            }
        }
        let r = time(Stage::Blend, || {
            let r = acc / (wsum + 1e-6);
            self.sharpen(&r).squeeze_dim(0)
        });
        if !should_continue(1.0) {
            return Err(RefineError::Cancelled);
        }
        Ok(self.placed(self.finish(&centre_rgb, r), stabilisation))
    }

    /// Where the centre's content belongs on the smooth camera path, as a move of the frame.
    fn stabilisation(&self, ff: &Tensor, conf_nb: &Tensor, unit: [f64; 2]) -> Stabilisation {
        let st = &self.tuning.stabilise;
        let mut shifts = stabilise::translations(ff, conf_nb, unit, st.outlier);
        let mut offsets: Vec<i64> = (0..self.window.len())
            .filter(|&i| i != self.c)
            .map(|i| self.offsets[i])
            .collect();
        // The centre's own position (0) is a sample like the others: leaving it out would
        // punch a hole in the smoothing kernel that moves with the frame, and the jitter of
        // each frame would then enter its neighbours' corrections but not its own.
        offsets.push(0);
        shifts.push([0.0, 0.0]);
        let sigma = (st.path_sigma * self.params.radius as f64).max(0.5);
        let smooth = stabilise::smooth_position(&offsets, &shifts, sigma);
        let size = self.window[self.c].size();
        Stabilisation::new(
            smooth,
            self.params.stabilise,
            self.params.edges,
            st.margin,
            size[2],
            size[1],
        )
    }

    /// The result moved onto the smooth camera path, when stabilising.
    fn placed(
        &self,
        rgb: Tensor,
        stabilisation: Option<Stabilisation>,
    ) -> (Tensor, Option<Stabilisation>) {
        match stabilisation {
            Some(st) => (
                time(Stage::Warps, || {
                    st.apply(&rgb.unsqueeze(0), self.params.scale as i64)
                        .squeeze_dim(0)
                }),
                Some(st),
            ),
            None => (rgb, None),
        }
    }

    /// Step 4 at `scale` > 1: multi-frame super-resolution instead of the 1× blend.
    #[allow(clippy::too_many_arguments)]
    fn upscaled(
        &self,
        rgb: &[Tensor],
        nb: &[usize],
        ff: &Tensor,
        fb: &Tensor,
        wgt: &Tensor,
        ratio_s: &Tensor,
        stabilisation: Option<Stabilisation>,
        should_continue: &mut dyn FnMut(f32) -> bool,
    ) -> Result<(Tensor, Option<Stabilisation>), RefineError> {
        let scale = self.params.scale as i64;
        let flow_of = |flows: &Tensor, i: usize| {
            nb.iter()
                .position(|&q| q == i)
                .map(|j| flows.narrow(0, j as i64, 1))
        };
        let window = upscale::Window {
            rgb,
            to_frame: (0..rgb.len()).map(|i| flow_of(ff, i)).collect(),
            from_frame: (0..rgb.len()).map(|i| flow_of(fb, i)).collect(),
            weight: wgt,
            gain: ratio_s,
        };
        let r = time(Stage::Blend, || {
            upscale::reconstruct(&window, scale, &self.tuning.upscale, should_continue)
        })
        .ok_or(RefineError::Cancelled)?;
        let r = time(Stage::Blend, || self.sharpen(&r).squeeze_dim(0));
        if !should_continue(1.0) {
            return Err(RefineError::Cancelled);
        }
        let centre_up = upscale::bicubic(&rgb[self.c].unsqueeze(0), scale).squeeze_dim(0);
        Ok(self.placed(self.finish(&centre_up, r), stabilisation))
    }

    fn sharpen(&self, r: &Tensor) -> Tensor {
        let amount = self.params.detail * self.tuning.sharpen_gain;
        if amount <= 0.0 {
            return r.shallow_clone();
        }
        r + (r - blur(r, self.tuning.sharpen_sigma)) * amount
    }

    fn finish(&self, centre_rgb: &Tensor, refined: Tensor) -> Tensor {
        match self.params.output {
            RefineOutput::Refined => {
                let s = self.params.strength;
                if s >= 1.0 {
                    refined
                } else {
                    centre_rgb + (refined - centre_rgb) * s
                }
            }
            _ => refined,
        }
    }
}
