//! What Text to Video and Image to Video share: a clip generated once from the parameters (and
//! the condition frame, for effects whose spec reads one) and served frame by frame. A frame's
//! job carries the whole clip's parameters (animated ones as curves over the clip's host frames)
//! plus the frame's position, so every frame of one clip names the same generation and the
//! runtime makes it once.
use dreamfx_effects::{Context, EffectSpec, InputWindow};
use dreamfx_host_adapter::effect::Effect;
use dreamfx_host_adapter::pixels::{read_into, write_from};
use dreamfx_host_adapter::sys::*;
use dreamfx_host_adapter::{ActionCall, Error, Reply};
use dreamfx_protocol::client::{ClientError, InputFrame};
use dreamfx_protocol::job::{ClipPosition, Job, ParamValue};

use crate::effects::instance_context;
use crate::job_params::{job_params, value_at, ClipFrames};
use crate::runtime_link::{self, HostHooks};

const SOURCE: &str = "Source";
/// Render scales at or below this are previews (thumbnails, quarter-resolution proxies).
const PREVIEW_SCALE: f64 = 0.25;
/// Frames per second when neither the Output clip nor the effect says.
const FALLBACK_RATE: f64 = 24.0;

fn output_name() -> &'static str {
    kOfxImageEffectOutputClipName
        .to_str()
        .expect("the header's clip name is ASCII")
}

/// The host's frame rate: the Output clip's, else the effect instance's, else 24.
pub fn frame_rate(effect: &Effect) -> f64 {
    effect
        .clip(output_name())
        .ok()
        .and_then(|c| c.frame_rate())
        .or_else(|| {
            effect
                .props()
                .and_then(|p| p.get_double(kOfxImageEffectPropFrameRate, 0))
                .ok()
                .filter(|r| r.is_finite() && *r > 0.0)
        })
        .unwrap_or(FALLBACK_RATE)
}

fn pixel_aspect(effect: &Effect) -> f64 {
    effect
        .clip(output_name())
        .ok()
        .and_then(|c| c.pixel_aspect())
        .unwrap_or(1.0)
}

/// The generated clip as the parameters at `t` place it in host time.
pub fn clip_frames(spec: &EffectSpec, effect: &Effect, t: f64) -> Result<ClipFrames, Error> {
    ClipFrames::read(spec, &effect.params()?, t, frame_rate(effect))
}

/// A connected Source clip, if this context has one.
fn connected_source(effect: &Effect) -> Option<dreamfx_host_adapter::effect::Clip> {
    if instance_context(effect) == Context::Generator {
        return None;
    }
    effect.clip(SOURCE).ok().filter(|c| c.connected())
}

/// The Source frame the clip starts from: `conditionFrame`, or with −1 the Source clip's first.
pub fn condition_time(spec: &EffectSpec, effect: &Effect, t: f64) -> Result<f64, Error> {
    let frame = match value_at(spec, &effect.params()?, "conditionFrame", t)? {
        ParamValue::Int(f) => f,
        _ => -1,
    };
    if frame >= 0 {
        return Ok(frame as f64);
    }
    Ok(effect
        .clip(SOURCE)
        .and_then(|c| c.frame_range())
        .map_or(0.0, |(first, _)| first))
}

/// An input frame in canonical RGBA f32.
pub struct OwnedFrame {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<f32>,
}

impl OwnedFrame {
    fn as_input(&self) -> InputFrame<'_> {
        InputFrame {
            width: self.width,
            height: self.height,
            pixels: &self.pixels,
        }
    }
}

/// The frames the job carries: none, or the condition frame (whole, at its own size: the
/// runtime fits it to the model). A host that ignores the time asked for (MLT) gives the
/// current frame; the runtime keys on content, so that is still one consistent clip per frame.
pub fn inputs(spec: &EffectSpec, effect: &Effect, t: f64) -> Result<Vec<OwnedFrame>, Error> {
    if !matches!(spec.inputs, InputWindow::Conditioning) {
        return Ok(vec![]);
    }
    let time = condition_time(spec, effect, t)?;
    let source = effect.clip(SOURCE)?;
    let image = source.image(time, None)?.ok_or_else(|| {
        Error::failed(format!(
            "{}: the Source has no frame at {time} to start the clip from (Condition Frame)",
            spec.label
        ))
    })?;
    let bounds = image.desc().bounds;
    let (width, height) = (bounds.width() as u32, bounds.height() as u32);
    let mut pixels = vec![0f32; bounds.width() * bounds.height() * 4];
    // SAFETY: the host owns the image memory as described until the image is released.
    unsafe { read_into(image.desc(), bounds, &mut pixels) }
        .map_err(|e| Error::failed(format!("{}: Source frame at {time}: {e}", spec.label)))?;
    Ok(vec![OwnedFrame {
        width,
        height,
        pixels,
    }])
}

/// The job for host frame `t` at `width` × `height` output pixels.
pub fn job_at(
    spec: &EffectSpec,
    effect: &Effect,
    t: f64,
    (width, height): (u32, u32),
    preview: bool,
) -> Result<Job, Error> {
    let params = effect.params()?;
    let rate = frame_rate(effect);
    let clip = ClipFrames::read(spec, &params, t, rate)?;
    Ok(Job {
        effect: spec.id.into(),
        effect_version: spec.algorithm_version,
        params: job_params(spec, &params, t, Some(clip))?,
        width,
        height,
        inputs: Vec::new(),
        centre: 0,
        position: Some(ClipPosition {
            frame: t - clip.start,
            rate,
            pixel_aspect: pixel_aspect(effect),
            preview,
        }),
    })
}

fn client_error(spec: &EffectSpec, e: ClientError) -> Error {
    match e {
        ClientError::Cancelled => Error::status(kOfxStatOK, "render aborted"),
        // The runtime's own words (a missing model directory, a prompt it cannot read) are
        // what the user must see on the node.
        e => Error::failed(format!("{}: {e}", spec.label)),
    }
}

/// kOfxImageEffectActionRender: the frame at `t`, at the output image's size.
pub fn render(spec: &EffectSpec, effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
    let t = call.in_args.get_double(kOfxPropTime, 0)?;
    let output = effect
        .clip(output_name())?
        .image(t, None)?
        .ok_or_else(|| Error::failed(format!("{}: the host gave no output image", spec.label)))?;
    let bounds = output.desc().bounds;
    // Thumbnails and quarter-resolution proxies come as renders at a small render scale: they
    // show the clip if it is made, else a draft, and never wait for a final generation.
    let preview = call
        .in_args
        .get_doubles::<2>(kOfxImageEffectPropRenderScale)
        .is_ok_and(|[x, y]| x.max(y) <= PREVIEW_SCALE);
    let job = job_at(
        spec,
        effect,
        t,
        (bounds.width() as u32, bounds.height() as u32),
        preview,
    )?;
    let frames = inputs(spec, effect, t)?;
    let inputs: Vec<InputFrame<'_>> = frames.iter().map(OwnedFrame::as_input).collect();

    effect.progress_start(spec.label);
    let mut hooks = HostHooks::new(effect);
    let outcome = runtime_link::with_connection(|conn| {
        let frame = conn.render(&job, &inputs, &mut hooks)?;
        // SAFETY: the host owns the output image memory until it is released.
        Ok(unsafe { write_from(output.desc(), bounds, frame.pixels) }
            .map_err(|e| Error::failed(format!("{}: writing the output: {e}", spec.label))))
    });
    effect.progress_end();
    match outcome {
        Ok(written) => written.map(|()| Reply::Ok),
        Err(e) => Err(client_error(spec, e)),
    }
}

/// A new frame every frame; premultiplied as the Source when there is one, else opaque (the
/// model's frames have alpha 1).
pub fn clip_preferences(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
    let premult = connected_source(effect)
        .and_then(|s| {
            s.props()
                .get_string(kOfxImageEffectPropPreMultiplication, 0)
                .ok()
        })
        .unwrap_or_else(|| kOfxImageOpaque.to_string_lossy().into_owned());
    call.out_args
        .optional()
        .set_string(kOfxImageEffectPropPreMultiplication, 0, &premult);
    call.out_args.set_int(kOfxImageEffectFrameVarying, 0, 1)?;
    Ok(Reply::Ok)
}

/// The generated clip's frames: `startFrame` to its last host frame.
pub fn time_domain(
    spec: &EffectSpec,
    effect: &Effect,
    call: &ActionCall<'_>,
) -> Result<Reply, Error> {
    let clip = clip_frames(spec, effect, 0.0)?;
    call.out_args
        .set_doubles(kOfxImageEffectPropFrameRange, &[clip.start, clip.last()])?;
    Ok(Reply::Ok)
}

/// On a clip (filter, general), the Source's frame; in the generator context the host's
/// default, the project.
pub fn region_of_definition(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
    let Some(source) = connected_source(effect) else {
        return Ok(Reply::Default);
    };
    let t = call.in_args.get_double(kOfxPropTime, 0)?;
    match source.region_of_definition(t) {
        Ok(r) => {
            call.out_args.set_doubles(
                kOfxImageEffectPropRegionOfDefinition,
                &[r.x1, r.y1, r.x2, r.y2],
            )?;
            Ok(Reply::Ok)
        }
        Err(_) => Ok(Reply::Default),
    }
}

/// Sets the read-only status line. A host that refuses (a parameter set outside
/// instance-changed) costs only the line: the log keeps it.
fn set_status(effect: &Effect, text: &str) {
    if let Err(e) = effect
        .params()
        .and_then(|p| p.param("status"))
        .and_then(|p| p.set_string(text))
    {
        log::info!("status not shown ({e}): {text}");
    }
}

/// Parameters that change what the model reads: checked against its vocabulary at once.
const PROMPT_PARAMS: [&str; 3] = ["prompt", "negativePrompt", "promptEnd"];

/// kOfxActionInstanceChanged: prompts checked as they are typed, Generate Now.
pub fn instance_changed(
    spec: &EffectSpec,
    effect: &Effect,
    call: &ActionCall<'_>,
    name: &str,
) -> Result<Reply, Error> {
    let t = call.in_args.get_double(kOfxPropTime, 0).unwrap_or(0.0);
    if PROMPT_PARAMS.contains(&name) || name == "model" {
        check_prompt(spec, effect, t)?;
        return Ok(Reply::Ok);
    }
    if name == "generateNow" {
        generate_now(spec, effect, t);
        return Ok(Reply::Ok);
    }
    Ok(Reply::Default)
}

fn check_prompt(spec: &EffectSpec, effect: &Effect, t: f64) -> Result<(), Error> {
    let params = effect.params()?;
    let text = |name: &str| match value_at(spec, &params, name, t) {
        Ok(ParamValue::Text(s)) => s,
        _ => String::new(),
    };
    let model = text("model");
    let prompts: Vec<String> = PROMPT_PARAMS.iter().map(|n| text(n)).collect();
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    match runtime_link::with_connection(|c| c.check_prompt(&model, &texts)) {
        Ok(notes) => {
            let unknown: Vec<String> = PROMPT_PARAMS
                .iter()
                .zip(&notes)
                .filter(|(_, note)| !note.is_empty())
                .map(|(name, note)| {
                    let label = spec.param(name).map_or(*name, |p| p.label);
                    format!("{label}: {note}")
                })
                .collect();
            if unknown.is_empty() {
                set_status(effect, "every word is known to the model");
                effect.set_persistent_message(None);
            } else {
                let text = unknown.join("; ");
                set_status(effect, &text);
                effect.set_persistent_message(Some((
                    kOfxMessageWarning,
                    &format!("{}: {text}", spec.label),
                )));
            }
        }
        // A wrong model directory: the runtime says which, and the user must see it.
        Err(ClientError::RenderFailed(why)) => {
            set_status(effect, &why);
            effect.set_persistent_message(Some((
                kOfxMessageError,
                &format!("{}: {why}", spec.label),
            )));
        }
        Err(e) => set_status(effect, &format!("prompt not checked: {e}")),
    }
    Ok(())
}

/// The output's size in pixels at render scale 1: the Output clip's region of definition,
/// else the project size.
fn full_size(effect: &Effect, t: f64) -> Result<(u32, u32), Error> {
    let par = pixel_aspect(effect);
    let to_pixels = |w: f64, h: f64| ((w / par).round() as u32, h.round() as u32);
    if let Ok(r) = effect
        .clip(output_name())
        .and_then(|c| c.region_of_definition(t))
    {
        if r.x2 > r.x1 && r.y2 > r.y1 {
            return Ok(to_pixels(r.x2 - r.x1, r.y2 - r.y1));
        }
    }
    let [w, h] = effect
        .props()?
        .get_doubles::<2>(kOfxImageEffectPropProjectSize)?;
    Ok(to_pixels(w, h))
}

/// Generate Now: the job of the clip's last frame (which needs every segment) goes to the
/// runtime to be made in the background, so playback finds the clip ready.
fn generate_now(spec: &EffectSpec, effect: &Effect, t: f64) {
    let attempt = || -> Result<(), Error> {
        let last = clip_frames(spec, effect, t)?.last();
        let (w, h) = full_size(effect, last)?;
        let job = job_at(spec, effect, last, (w, h), false)?;
        let frames = inputs(spec, effect, last)?;
        let inputs: Vec<InputFrame<'_>> = frames.iter().map(OwnedFrame::as_input).collect();
        runtime_link::with_connection(|c| c.prepare(&job, &inputs))
            .map_err(|e| client_error(spec, e))
    };
    match attempt() {
        Ok(()) => {
            set_status(effect, "generating in the runtime…");
            effect.set_persistent_message(None);
        }
        Err(e) => {
            set_status(effect, &e.message);
            effect.set_persistent_message(Some((kOfxMessageError, &e.message)));
        }
    }
}
