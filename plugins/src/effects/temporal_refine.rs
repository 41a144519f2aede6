//! Temporal Refine inside the host: gathers t−radius … t+radius from the Source clip, sends
//! them with the parameters sampled at t to the runtime, and writes the answer to Output.
use std::sync::Arc;

use dreamfx_effects::{EffectSpec, ParamKind, SCALE_FACTORS, TEMPORAL_REFINE};
use dreamfx_host_adapter::effect::Effect;
use dreamfx_host_adapter::pixels::{read_into, write_from, Rect};
use dreamfx_host_adapter::sys::*;
use dreamfx_host_adapter::{host, ActionCall, Error, Reply};
use dreamfx_protocol::client::{ClientError, InputFrame};
use dreamfx_protocol::job::Job;

use super::OfxEffect;
use crate::job_params::job_params;
use crate::runtime_link::{self, HostHooks};

pub struct TemporalRefine;

const SPEC: &EffectSpec = &TEMPORAL_REFINE;

impl OfxEffect for TemporalRefine {
    const SPEC: &'static EffectSpec = SPEC;

    fn render(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        let t = call.in_args.get_double(kOfxPropTime, 0)?;
        render_frame(effect, t)
    }

    fn frames_needed(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        let t = call.in_args.get_double(kOfxPropTime, 0)?;
        let r = radius_at(effect, t)? as f64;
        let (first, last) = effect
            .clip("Source")
            .and_then(|c| c.frame_range())
            .unwrap_or((f64::MIN, f64::MAX));
        let range = [(t - r).max(first).min(t), (t + r).min(last).max(t)];
        call.out_args
            .set_doubles(&clip_prop(kOfxImageClipPropFrameRange_, "Source"), &range)?;
        Ok(Reply::Ok)
    }

    fn regions_of_interest(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        // Flow needs the whole neighbouring frames, whatever the render window.
        let source = effect.clip("Source")?;
        let rod = source
            .props()
            .get_doubles::<4>(kOfxImagePropRegionOfDefinition)
            .or_else(|_| {
                call.in_args
                    .get_doubles::<4>(kOfxImageEffectPropRegionOfDefinition)
            });
        if let Ok(rod) = rod {
            call.out_args
                .set_doubles(&clip_prop(kOfxImageClipPropRoI_, "Source"), &rod)?;
            return Ok(Reply::Ok);
        }
        Ok(Reply::Default)
    }

    fn region_of_definition(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        // An upscale tells the host the output's new size through its region of definition:
        // the Source's, times the scale.
        let t = call.in_args.get_double(kOfxPropTime, 0)?;
        let scale = scale_at(effect, t)? as f64;
        if scale == 1.0 {
            return Ok(Reply::Default);
        }
        let Ok(r) = effect.clip("Source")?.region_of_definition(t) else {
            return Ok(Reply::Default);
        };
        call.out_args.set_doubles(
            kOfxImageEffectPropRegionOfDefinition,
            &[r.x1 * scale, r.y1 * scale, r.x2 * scale, r.y2 * scale],
        )?;
        Ok(Reply::Ok)
    }

    fn is_identity(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        let t = call.in_args.get_double(kOfxPropTime, 0)?;
        let strength = effect.params()?.param("strength")?.double_at(t)?;
        // An upscale or a stabilisation changes the frame even at strength 0.
        let stabilise = effect
            .params()?
            .param("stabilise")
            .and_then(|p| p.double_at(t))
            .unwrap_or(0.0);
        if strength <= 0.0 && stabilise <= 0.0 && scale_at(effect, t)? == 1 {
            call.out_args.set_string(kOfxPropName, 0, "Source")?;
            call.out_args.set_double(kOfxPropTime, 0, t)?;
            return Ok(Reply::Ok);
        }
        Ok(Reply::Default)
    }

    fn clip_preferences(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        // Output follows Source; the filter never changes premultiplication or frame rate.
        let source = effect.clip("Source")?;
        if let Ok(premult) = source
            .props()
            .get_string(kOfxImageEffectPropPreMultiplication, 0)
        {
            call.out_args
                .set_string(kOfxImageEffectPropPreMultiplication, 0, &premult)?;
        }
        call.out_args.set_int(kOfxImageEffectFrameVarying, 0, 0)?;
        Ok(Reply::Ok)
    }
}

/// The output's size factor: 1, 2 or 4.
fn scale_at(effect: &Effect, t: f64) -> Result<u32, Error> {
    let Ok(param) = effect.params()?.param("scale") else {
        return Ok(1);
    };
    let i = param.int_at(t)?.max(0) as usize;
    Ok(SCALE_FACTORS.get(i).copied().unwrap_or(1))
}

fn radius_at(effect: &Effect, t: f64) -> Result<i64, Error> {
    let (lo, hi) = match SPEC.param("radius").map(|p| p.kind) {
        Some(ParamKind::Int { min, max, .. }) => (min, max),
        _ => (1, 15),
    };
    Ok((effect.params()?.param("radius")?.int_at(t)? as i64).clamp(lo, hi))
}

fn render_frame(effect: &Effect, t: f64) -> Result<Reply, Error> {
    let radius = radius_at(effect, t)?;
    let source = effect.clip("Source")?;
    let output = effect.clip("Output")?;
    let (first, last) = source.frame_range().unwrap_or((f64::MIN, f64::MAX));

    let centre_image = source
        .image(t, None)?
        .ok_or_else(|| Error::failed(format!("Temporal Refine: the Source has no frame at {t}")))?;
    let bounds = centre_image.desc().bounds;
    let (w, h) = (bounds.width() as u32, bounds.height() as u32);
    // Shared, not copied: the remembered frames of the no-neighbour mode are the same buffers.
    let mut frames: Vec<Arc<Vec<f32>>> = Vec::new();
    let mut centre = 0;
    // A host without temporal access (MLT) answers every time with the frame being rendered:
    // then only the centre is fetched, and the neighbours come from the frames rendered just
    // before (below).
    let temporal = host::temporal_clip_access();
    for dt in -radius..=radius {
        let time = t + dt as f64;
        if time < first || time > last || (!temporal && dt != 0) {
            continue;
        }
        let owned;
        let image = if dt == 0 {
            &centre_image
        } else {
            match source.image(time, None)? {
                Some(img) if img.desc().bounds == bounds => {
                    owned = img;
                    &owned
                }
                // A neighbour of another size or missing (cut, gap): refine without it.
                _ => continue,
            }
        };
        if effect.aborted() {
            return Err(Error::status(kOfxStatOK, "aborted"));
        }
        let mut pixels = vec![0f32; w as usize * h as usize * 4];
        // SAFETY: the host owns the image memory as described until the image is released.
        unsafe { read_into(image.desc(), bounds, &mut pixels) }
            .map_err(|e| Error::failed(format!("Temporal Refine: source frame at {time}: {e}")))?;
        if dt == 0 {
            centre = frames.len();
        }
        frames.push(Arc::new(pixels));
    }
    drop(centre_image);
    // A "neighbour" byte-identical to the centre carries nothing (a host that ignores the time
    // asked for, or a still): leave it out.
    let centre_pixels = Arc::clone(&frames[centre]);
    let before = frames.len();
    frames.retain(|f| Arc::ptr_eq(f, &centre_pixels) || **f != *centre_pixels);
    let identical_neighbours = before - frames.len();
    centre = frames
        .iter()
        .position(|f| Arc::ptr_eq(f, &centre_pixels))
        .unwrap_or(0);
    if frames.len() == 1 {
        // No real neighbours: refine causally over the source frames rendered just before, in
        // order (MLT renders in order), as the centre's past.
        // A remembered frame equal to the centre carries nothing either (a still, a repeated
        // frame).
        let past: Vec<_> = causal::window(t, w, h, radius as usize, &centre_pixels)
            .into_iter()
            .filter(|p| **p != *centre_pixels)
            .collect();
        // Identical neighbours alone may be a still; a past that differs from what the host
        // answered for those times shows the host ignored the time asked for.
        let host_ignored_time = identical_neighbours > 0 && !past.is_empty();
        if !temporal || host_ignored_time {
            causal::say_once(effect, !temporal);
        }
        frames = past;
        centre = frames.len();
        frames.push(centre_pixels);
    }

    let job = Job {
        effect: SPEC.id.into(),
        effect_version: SPEC.algorithm_version,
        params: job_params(SPEC, &effect.params()?, t, None)?,
        width: w,
        height: h,
        inputs: Vec::new(),
        centre: centre as u32,
        position: None,
    };
    let inputs: Vec<InputFrame<'_>> = frames
        .iter()
        .map(|p| InputFrame {
            width: w,
            height: h,
            pixels: p.as_slice(),
        })
        .collect();

    // The runtime answers the frame at the effect's output size: the Source's times the scale.
    let scale = scale_at(effect, t)? as i32;
    if scale > 1 && !host::supports_multi_resolution() {
        return Err(Error::failed(
            "Temporal Refine: this host takes no output larger than its input \
             (no multi-resolution support), so Scale must stay 1x here",
        ));
    }
    let out_bounds = Rect::new(
        bounds.x1 * scale,
        bounds.y1 * scale,
        bounds.x2 * scale,
        bounds.y2 * scale,
    );
    effect.progress_start("Temporal Refine");
    let mut hooks = HostHooks::new(effect);
    let outcome = runtime_link::with_connection(|conn| {
        // The whole frame is computed (flow needs it); writing clips to the output's bounds,
        // which cover the render window.
        let frame = conn.render(&job, &inputs, &mut hooks)?;
        Ok(output
            .image(t, None)
            .and_then(|img| img.ok_or_else(|| Error::failed("the host gave no output image")))
            .and_then(|img| {
                // SAFETY: the host owns the output image memory until it is released.
                unsafe { write_from(img.desc(), out_bounds, frame.pixels) }
                    .map_err(|e| Error::failed(format!("writing the output: {e}")))
            }))
    });
    effect.progress_end();
    match outcome {
        Ok(Ok(())) => Ok(Reply::Ok),
        Ok(Err(e)) => Err(e),
        Err(ClientError::Cancelled) => Err(Error::status(kOfxStatOK, "render aborted")),
        Err(e) => Err(Error::failed(format!("Temporal Refine: {e}"))),
    }
}

/// Temporal Refine's neighbours when the host gives none: the source frames rendered just
/// before, remembered across instances (MLT renders each frame with a fresh instance, in
/// order). A remembered frame is used only as part of an unbroken run t−1, t−2, … of the same
/// size whose content matches the current frame (a coarse thumbnail within a scene-cut
/// threshold), so a seek, a cut or another clip of the same size never leaks in.
mod causal {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use dreamfx_host_adapter::effect::Effect;
    use dreamfx_host_adapter::sys::kOfxMessageWarning;
    use parking_lot::Mutex;

    struct Seen {
        time: f64,
        width: u32,
        height: u32,
        thumb: Vec<f32>,
        pixels: Arc<Vec<f32>>,
    }

    /// At most this many frames and bytes are remembered (the oldest go first).
    const MAX_FRAMES: usize = 32;
    const MAX_BYTES: usize = 512 << 20;
    /// Mean absolute difference of 16×16 block-mean luma above which two frames are
    /// different shots. Flicker and noise stay well below (8 % gain flicker: ~0.04).
    const CUT: f32 = 0.1;
    const THUMB: usize = 16;

    static SEEN: Mutex<VecDeque<Seen>> = Mutex::new(VecDeque::new());
    static SAID: AtomicBool = AtomicBool::new(false);

    fn thumbnail(pixels: &[f32], width: u32, height: u32) -> Vec<f32> {
        let (w, h) = (width as usize, height as usize);
        let mut sum = vec![0f32; THUMB * THUMB];
        let mut count = vec![0u32; THUMB * THUMB];
        for y in 0..h {
            let by = y * THUMB / h;
            for x in 0..w {
                let p = &pixels[(y * w + x) * 4..][..3];
                let cell = by * THUMB + x * THUMB / w;
                sum[cell] += 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
                count[cell] += 1;
            }
        }
        sum.iter()
            .zip(&count)
            .map(|(s, n)| if *n > 0 { s / *n as f32 } else { 0.0 })
            .collect()
    }

    fn distance(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len().max(1) as f32
    }

    /// The frames before `t` (oldest first, at most `radius`), and remembers `current` as `t`.
    pub fn window(
        t: f64,
        width: u32,
        height: u32,
        radius: usize,
        current: &Arc<Vec<f32>>,
    ) -> Vec<Arc<Vec<f32>>> {
        let thumb = thumbnail(current, width, height);
        let mut seen = SEEN.lock();
        let mut past = Vec::new();
        for k in 1..=radius {
            let best = seen
                .iter()
                .filter(|s| {
                    s.width == width && s.height == height && (t - k as f64 - s.time).abs() < 1e-6
                })
                .map(|s| (distance(&s.thumb, &thumb), s))
                .filter(|(d, _)| *d < CUT)
                .min_by(|a, b| a.0.total_cmp(&b.0));
            match best {
                Some((_, s)) => past.push(Arc::clone(&s.pixels)),
                None => break,
            }
        }
        past.reverse();
        let duplicate = seen.iter().any(|s| {
            s.width == width
                && s.height == height
                && s.time == t
                && distance(&s.thumb, &thumb) == 0.0
        });
        if !duplicate {
            seen.push_back(Seen {
                time: t,
                width,
                height,
                thumb,
                pixels: Arc::clone(current),
            });
        }
        let bytes = |q: &VecDeque<Seen>| q.iter().map(|s| s.pixels.len() * 4).sum::<usize>();
        while seen.len() > MAX_FRAMES || (seen.len() > 1 && bytes(&seen) > MAX_BYTES) {
            seen.pop_front();
        }
        past
    }

    /// Once per process: the user learns why the result differs from a host with neighbours.
    pub fn say_once(effect: &Effect, host_has_no_temporal_access: bool) {
        if SAID.swap(true, Ordering::Relaxed) {
            return;
        }
        let why = if host_has_no_temporal_access {
            "this host gives no neighbouring frames (no temporal clip access)"
        } else {
            "the frames this host gave at other times equal the current one"
        };
        let text = format!(
            "Temporal Refine: {why}; refining from the frames it rendered just before, in order. \
             Render the clip from its start, in order, for the full effect."
        );
        // A warning, once: hosts without temporal access (MLT) write it to their log.
        effect.message(kOfxMessageWarning, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::causal::window;
    use std::sync::Arc;

    // The history is process-wide: each test uses its own frame size so that tests running
    // in parallel never see each other's frames.
    fn frame(w: u32, h: u32, level: f32, t: u32) -> Arc<Vec<f32>> {
        Arc::new(
            (0..w * h * 4)
                .map(|i| level + 0.01 * ((i + 13 * t) % 7) as f32)
                .collect(),
        )
    }

    #[test]
    fn consecutive_frames_become_the_past_oldest_first() {
        let (w, h) = (21, 11);
        let frames: Vec<_> = (0..5).map(|t| frame(w, h, 0.5, t)).collect();
        for (t, f) in frames.iter().enumerate() {
            let past = window(t as f64, w, h, 3, f);
            let want = &frames[t.saturating_sub(3)..t];
            assert_eq!(past.len(), want.len(), "t = {t}");
            assert!(past.iter().zip(want).all(|(a, b)| Arc::ptr_eq(a, b)));
        }
        // Rendering a frame again adds no second copy of it.
        assert_eq!(window(4.0, w, h, 3, &frames[4]).len(), 3);
    }

    #[test]
    fn a_seek_a_size_change_or_a_cut_starts_without_a_past() {
        let (w, h) = (23, 9);
        for t in 0..3 {
            window(t as f64, w, h, 2, &frame(w, h, 0.5, t));
        }
        assert!(
            window(7.0, w, h, 2, &frame(w, h, 0.5, 7)).is_empty(),
            "seek"
        );
        assert!(
            window(3.0, w + 2, h, 2, &frame(w + 2, h, 0.5, 3)).is_empty(),
            "size"
        );
        assert!(window(3.0, w, h, 2, &frame(w, h, 0.9, 3)).is_empty(), "cut");
        assert_eq!(
            window(3.0, w, h, 2, &frame(w, h, 0.5, 3)).len(),
            2,
            "in order"
        );
    }
}
