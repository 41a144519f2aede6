//! Effect instances: creation from a setup, the actions a host sends, and what tests read back.

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dreamfx_host_adapter::sys::*;
use parking_lot::Mutex;

use crate::effect::{
    purge_images_of, ClipInput, ClipObj, EffectKind, EffectObj, FrameSource, InstanceShared,
    Message, PendingOutput, ProgressEvent,
};
use crate::host::*;
use crate::params::{ParamObj, ParamSetObj, ParamValue};
use crate::pixels::{
    fill_image, image_to_frame, BitDepth, Components, Frame, ImageLayout, Premult,
};
use crate::props::{PropSnapshot, PropertySet};
use crate::registry::AlignedBuf;

/// An input clip of an instance: where its frames come from and how the host lays them out.
#[derive(Clone)]
pub struct ClipSetup {
    /// time → frame (RGBA f32, top-down). None: clipGetImage fails at that time.
    pub source: FrameSource,
    /// Depth of the host's images for this clip.
    pub depth: BitDepth,
    /// Components of the host's images for this clip.
    pub components: Components,
    /// Premultiplication state reported.
    pub premult: Premult,
    /// Extra bytes at the end of each row.
    pub row_padding: usize,
    /// Negative kOfxImagePropRowBytes (data points at the last row of the allocation).
    pub negative_row_bytes: bool,
    /// The clip's region of definition in pixels (default: project size).
    pub size: Option<(usize, usize)>,
    /// The clip's frame range (default: the instance's).
    pub frame_range: Option<(f64, f64)>,
}

impl ClipSetup {
    /// A float RGBA premultiplied clip from a function of time.
    pub fn new(source: impl Fn(f64) -> Option<Frame> + Send + Sync + 'static) -> ClipSetup {
        ClipSetup {
            source: Arc::new(source),
            depth: BitDepth::Float,
            components: Components::Rgba,
            premult: Premult::PreMultiplied,
            row_padding: 0,
            negative_row_bytes: false,
            size: None,
            frame_range: None,
        }
    }
    /// A clip whose frame at time `first + i` is `frames[i]` (times are rounded to the nearest
    /// frame; outside the list there is no frame). Sets size and frame range from the frames.
    pub fn from_frames(first: f64, frames: Vec<Frame>) -> ClipSetup {
        let n = frames.len();
        let size = frames.first().map(|f| (f.width, f.height));
        let frames = Arc::new(frames);
        let mut c = ClipSetup::new(move |t| {
            let i = (t - first).round();
            (i >= 0.0 && (i as usize) < frames.len()).then(|| frames[i as usize].clone())
        });
        c.size = size;
        c.frame_range = (n > 0).then_some((first, first + n as f64 - 1.0));
        c
    }
    /// Sets the depth.
    pub fn depth(mut self, d: BitDepth) -> Self {
        self.depth = d;
        self
    }
    /// Sets the components.
    pub fn components(mut self, c: Components) -> Self {
        self.components = c;
        self
    }
    /// Sets the premultiplication state.
    pub fn premult(mut self, p: Premult) -> Self {
        self.premult = p;
        self
    }
    /// Sets the row padding in bytes.
    pub fn row_padding(mut self, bytes: usize) -> Self {
        self.row_padding = bytes;
        self
    }
    /// Uses negative row bytes.
    pub fn negative_row_bytes(mut self, yes: bool) -> Self {
        self.negative_row_bytes = yes;
        self
    }
    /// Sets the region of definition size.
    pub fn size(mut self, w: usize, h: usize) -> Self {
        self.size = Some((w, h));
        self
    }
}

/// What a new instance is connected to.
#[derive(Clone)]
pub struct InstanceSetup {
    /// Project size in pixels (PAR 1, offset 0).
    pub project_size: (usize, usize),
    /// Frame range of the instance (inclusive).
    pub frame_range: (f64, f64),
    /// Frames per second.
    pub frame_rate: f64,
    /// The host's current time (paramGetValue, instance-changed).
    pub time: f64,
    /// Input clips by name (e.g. "Source"); clips the plugin defines but not listed here are
    /// not connected.
    pub clips: Vec<(String, ClipSetup)>,
    /// Output depth until a render's [`OutputSpec`] says otherwise.
    pub output_depth: BitDepth,
    /// Output components until a render's [`OutputSpec`] says otherwise.
    pub output_components: Components,
    /// Output premultiplication.
    pub output_premult: Premult,
    /// kOfxPropIsInteractive / interactive render status.
    pub interactive: bool,
    /// Sequential render status.
    pub sequential: bool,
}

impl InstanceSetup {
    /// A project of `w × h`, frames 0..=9 at 24 fps, float RGBA output, no clips.
    pub fn new(w: usize, h: usize) -> InstanceSetup {
        InstanceSetup {
            project_size: (w, h),
            frame_range: (0.0, 9.0),
            frame_rate: 24.0,
            time: 0.0,
            clips: vec![],
            output_depth: BitDepth::Float,
            output_components: Components::Rgba,
            output_premult: Premult::PreMultiplied,
            interactive: false,
            sequential: false,
        }
    }
    /// Connects a clip.
    pub fn clip(mut self, name: &str, clip: ClipSetup) -> Self {
        self.clips.retain(|(n, _)| n != name);
        self.clips.push((name.to_owned(), clip));
        self
    }
    /// Connects the "Source" clip.
    pub fn source(self, clip: ClipSetup) -> Self {
        self.clip("Source", clip)
    }
    /// Sets the frame range.
    pub fn frame_range(mut self, first: f64, last: f64) -> Self {
        self.frame_range = (first, last);
        self
    }
    /// Sets the frame rate.
    pub fn frame_rate(mut self, fps: f64) -> Self {
        self.frame_rate = fps;
        self
    }
    /// Sets the output format.
    pub fn output(mut self, depth: BitDepth, components: Components) -> Self {
        self.output_depth = depth;
        self.output_components = components;
        self
    }
    fn project_rect(&self) -> OfxRectI {
        OfxRectI {
            x1: 0,
            y1: 0,
            x2: self.project_size.0 as i32,
            y2: self.project_size.1 as i32,
        }
    }
}

/// The output image a render allocates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputSpec {
    /// Depth.
    pub depth: BitDepth,
    /// Components.
    pub components: Components,
    /// Extra bytes at the end of each row.
    pub row_bytes_padding: usize,
    /// Negative kOfxImagePropRowBytes.
    pub negative_row_bytes: bool,
    /// Image bounds (default: the render window).
    pub bounds: Option<OfxRectI>,
    /// The colour the host fills the image with before the render (default transparent black).
    pub fill: [f32; 4],
    /// kOfxImageEffectPropRenderScale (both axes): below 1 the host renders a proxy, as
    /// Resolve's Edit page does. Input images come scaled (area average) to
    /// ceil(size × scale); the window is in scaled pixels.
    pub render_scale: f64,
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            depth: BitDepth::Float,
            components: Components::Rgba,
            row_bytes_padding: 0,
            negative_row_bytes: false,
            bounds: None,
            fill: [0.0; 4],
            render_scale: 1.0,
        }
    }
}

/// A rendered output image, converted back to RGBA f32.
#[derive(Debug, Clone)]
pub struct OutputImage {
    /// The image bounds.
    pub bounds: OfxRectI,
    /// The pixels of the bounds, rows top-down (RGB output gets alpha 1, Alpha output RGB 0).
    pub frame: Frame,
    /// The depth the plugin wrote.
    pub depth: BitDepth,
    /// The components the plugin wrote.
    pub components: Components,
}

impl OutputImage {
    /// The pixel at OFX coordinates (x, y), y up.
    pub fn pixel(&self, x: i32, y: i32) -> [f32; 4] {
        let b = self.bounds;
        assert!(
            x >= b.x1 && x < b.x2 && y >= b.y1 && y < b.y2,
            "({x}, {y}) outside {b:?}"
        );
        self.frame
            .pixel((x - b.x1) as usize, (b.y2 - 1 - y) as usize)
    }
}

/// One clip's answer in getClipPreferences.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipPreference {
    /// Clip name.
    pub name: String,
    /// kOfxImageClipPropComponents_<name>.
    pub components: String,
    /// kOfxImageClipPropDepth_<name>.
    pub depth: String,
    /// kOfxImageClipPropPAR_<name>.
    pub par: f64,
}

/// The answer to kOfxImageEffectActionGetClipPreferences (the defaults on kOfxStatReplyDefault).
/// The test host does not apply it: clips keep the formats the test configured.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipPreferences {
    /// Per clip.
    pub clips: Vec<ClipPreference>,
    /// kOfxImageEffectPropFrameRate.
    pub frame_rate: f64,
    /// kOfxImageEffectPropPreMultiplication.
    pub premultiplication: String,
    /// kOfxImageClipPropFieldOrder.
    pub field_order: String,
    /// kOfxImageClipPropContinuousSamples.
    pub continuous_samples: bool,
    /// kOfxImageEffectFrameVarying.
    pub frame_varying: bool,
    /// What the action returned.
    pub status: Status,
}

impl ClipPreferences {
    /// One clip's preference.
    pub fn clip(&self, name: &str) -> Option<&ClipPreference> {
        self.clips.iter().find(|c| c.name == name)
    }
}

fn s(c: &CStr) -> &str {
    c.to_str().unwrap_or_default()
}

/// An effect instance. `Send + Sync`: render from several threads with `&Instance`.
/// Dropping it sends kOfxActionDestroyInstance (unless [`Instance::destroy`] did).
pub struct Instance {
    plugin: Arc<PluginInner>,
    ctx: Context,
    setup: InstanceSetup,
    effect: Box<EffectObj>,
    shared: Arc<InstanceShared>,
    destroyed: AtomicBool,
    /// A short-lived instance of `new_instance_per_frame`: shares the record of its parent.
    temporary: bool,
    sequence: Mutex<Option<(f64, f64)>>,
}

impl Plugin {
    /// Creates an instance in `ctx` (describing the plugin first when needed): builds the
    /// instance, its clips and params (at their defaults) and sends kOfxActionCreateInstance.
    pub fn create_instance(&self, ctx: Context, setup: InstanceSetup) -> Result<Instance> {
        let shared = InstanceShared::new(setup.time);
        Instance::create(self.inner.clone(), ctx, setup, shared, None)
    }
}

impl Instance {
    fn create(
        plugin: Arc<PluginInner>,
        ctx: Context,
        setup: InstanceSetup,
        shared: Arc<InstanceShared>,
        copy_params_from: Option<&Instance>,
    ) -> Result<Instance> {
        let temporary = copy_params_from.is_some();
        let profile = plugin.host.profile().clone();
        let effect = plugin.context_descriptor(ctx, |desc| {
            let (w, h) = setup.project_size;
            let props = desc.props.clone_boxed(true);
            props.def_cstr(kOfxPropType, kOfxTypeImageEffectInstance);
            props.def_cstr(kOfxImageEffectPropContext, ctx.ofx_name());
            props.def_ptr(kOfxPropInstanceData, std::ptr::null_mut());
            props.def_double(kOfxImageEffectPropProjectSize, &[w as f64, h as f64]);
            props.def_double(kOfxImageEffectPropProjectOffset, &[0.0, 0.0]);
            props.def_double(kOfxImageEffectPropProjectExtent, &[w as f64, h as f64]);
            props.def_double(kOfxImageEffectPropProjectPixelAspectRatio, &[1.0]);
            props.def_double(
                kOfxImageEffectInstancePropEffectDuration,
                &[setup.frame_range.1 - setup.frame_range.0 + 1.0],
            );
            props.def_double(kOfxImageEffectPropFrameRate, &[setup.frame_rate]);
            props.def_int(kOfxPropIsInteractive, &[setup.interactive as i32]);
            if desc
                .props
                .get_int(s(kOfxImageEffectInstancePropSequentialRender))
                .is_none()
            {
                props.def_int(kOfxImageEffectInstancePropSequentialRender, &[0]);
            }
            let params = ParamSetObj::new_boxed(false, Some(shared.clone()));
            {
                let mut list = params.params.lock();
                for p in desc.params.params.lock().iter() {
                    let pp = p.props.clone_boxed(true);
                    let value = ParamObj::default_from_props(p.ptype, &pp);
                    let obj =
                        ParamObj::new_boxed(&p.name, p.ptype, pp, value, Some(shared.clone()));
                    if let Some(src) = copy_params_from {
                        src.effect
                            .params
                            .with_param(&p.name, |sp| *obj.curve.lock() = sp.curve.lock().clone());
                    }
                    list.push(obj);
                }
            }
            let e = EffectObj::new_boxed(EffectKind::Instance, props, params, shared.clone());
            let project = OfxRectD {
                x1: 0.0,
                y1: 0.0,
                x2: w as f64,
                y2: h as f64,
            };
            let mut clips = e.clips.lock();
            for c in desc.clips.lock().iter() {
                let is_output = c.name == s(kOfxImageEffectOutputClipName);
                let input = if is_output {
                    None
                } else {
                    setup
                        .clips
                        .iter()
                        .find(|(n, _)| *n == c.name)
                        .map(|(_, cs)| ClipInput {
                            source: cs.source.clone(),
                            depth: cs.depth,
                            components: cs.components,
                            premult: cs.premult,
                            padding: cs.row_padding,
                            negative: cs.negative_row_bytes,
                            crop_to_region: profile.crop_images_to_region,
                            only_at_render_time: profile.images_only_at_render_time,
                            size: cs.size.unwrap_or(setup.project_size),
                        })
                };
                let cfg = setup
                    .clips
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, cs)| cs);
                let (depth, comps, premult) = match &input {
                    Some(i) => (i.depth, i.components, i.premult),
                    None => (
                        setup.output_depth,
                        setup.output_components,
                        setup.output_premult,
                    ),
                };
                let range = cfg.and_then(|c| c.frame_range).unwrap_or(setup.frame_range);
                let rod = match &input {
                    Some(i) => OfxRectD {
                        x1: 0.0,
                        y1: 0.0,
                        x2: i.size.0 as f64,
                        y2: i.size.1 as f64,
                    },
                    None => project,
                };
                let p = c.props.clone_boxed(true);
                p.def_int(
                    kOfxImageClipPropConnected,
                    &[(is_output || input.is_some()) as i32],
                );
                p.def_cstr(kOfxImageEffectPropPixelDepth, depth.ofx_name());
                p.def_cstr(kOfxImageEffectPropComponents, comps.ofx_name());
                p.def_cstr(kOfxImageClipPropUnmappedPixelDepth, depth.ofx_name());
                p.def_cstr(kOfxImageClipPropUnmappedComponents, comps.ofx_name());
                p.def_cstr(kOfxImageEffectPropPreMultiplication, premult.ofx_name());
                p.def_double(kOfxImagePropPixelAspectRatio, &[1.0]);
                p.def_double(kOfxImageEffectPropFrameRate, &[setup.frame_rate]);
                p.def_double(kOfxImageEffectPropUnmappedFrameRate, &[setup.frame_rate]);
                p.def_double(kOfxImageEffectPropFrameRange, &[range.0, range.1]);
                p.def_double(kOfxImageEffectPropUnmappedFrameRange, &[range.0, range.1]);
                p.def_cstr(kOfxImageClipPropFieldOrder, kOfxImageFieldNone);
                p.def_int(kOfxImageClipPropContinuousSamples, &[0]);
                clips.push(ClipObj::new_boxed(
                    &c.name,
                    p,
                    input,
                    is_output,
                    Some(shared.clone()),
                    rod,
                ));
            }
            drop(clips);
            e
        })?;
        let inst = Instance {
            plugin,
            ctx,
            setup,
            effect,
            shared,
            destroyed: AtomicBool::new(true),
            temporary,
            sequence: Mutex::new(None),
        };
        inst.plugin
            .call_ok(kOfxActionCreateInstance, inst.handle(), None, None)?;
        inst.destroyed.store(false, Ordering::SeqCst);
        Ok(inst)
    }

    fn handle(&self) -> OfxImageEffectHandle {
        self.effect.handle()
    }

    fn call(
        &self,
        action: &CStr,
        i: Option<&PropertySet>,
        o: Option<&PropertySet>,
    ) -> Result<OfxStatus> {
        if self.destroyed.load(Ordering::SeqCst) {
            return Err(HostError::Other("the instance was destroyed".into()));
        }
        self.plugin.call_ok(action, self.handle(), i, o)
    }

    fn in_args() -> Box<PropertySet> {
        PropertySet::new_boxed(true)
    }

    /// The context.
    pub fn context(&self) -> Context {
        self.ctx
    }
    /// The plugin.
    pub fn plugin(&self) -> Plugin {
        Plugin {
            inner: self.plugin.clone(),
        }
    }
    /// The project rectangle (0, 0, w, h).
    pub fn project_rect(&self) -> OfxRectI {
        self.setup.project_rect()
    }
    /// The instance's property set.
    pub fn properties(&self) -> PropSnapshot {
        self.effect.props.snapshot()
    }
    /// A clip instance's property set.
    pub fn clip_properties(&self, clip: &str) -> Option<PropSnapshot> {
        self.effect
            .clips
            .lock()
            .iter()
            .find(|c| c.name == clip)
            .map(|c| c.props.snapshot())
    }
    /// A parameter instance's property set.
    pub fn param_properties(&self, name: &str) -> Option<PropSnapshot> {
        self.effect.params.with_param(name, |p| p.props.snapshot())
    }
    /// Clip names in the plugin's definition order.
    pub fn clip_names(&self) -> Vec<String> {
        self.effect
            .clips
            .lock()
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }
    /// Parameter names in definition order.
    pub fn param_names(&self) -> Vec<String> {
        self.effect
            .params
            .params
            .lock()
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    // ---- actions ----

    /// kOfxImageEffectActionGetClipPreferences.
    pub fn clip_preferences(&self) -> Result<ClipPreferences> {
        let out = PropertySet::new_boxed(true);
        let clips: Vec<(String, String, String)> = self
            .effect
            .clips
            .lock()
            .iter()
            .map(|c| {
                let d = c
                    .props
                    .get_str(s(kOfxImageEffectPropPixelDepth))
                    .unwrap_or_default();
                let k = c
                    .props
                    .get_str(s(kOfxImageEffectPropComponents))
                    .unwrap_or_default();
                (c.name.clone(), k, d)
            })
            .collect();
        let pre = |p: &CStr, n: &str| crate::host::cstring(&format!("{}{n}", s(p)));
        for (n, k, d) in &clips {
            out.def_str(&pre(kOfxImageClipPropComponents_, n), &[k]);
            out.def_str(&pre(kOfxImageClipPropDepth_, n), &[d]);
            out.def_double(&pre(kOfxImageClipPropPAR_, n), &[1.0]);
        }
        let premult = self
            .setup
            .clips
            .first()
            .map(|c| c.1.premult)
            .unwrap_or(self.setup.output_premult);
        out.def_double(kOfxImageEffectPropFrameRate, &[self.setup.frame_rate]);
        out.def_cstr(kOfxImageEffectPropPreMultiplication, premult.ofx_name());
        out.def_cstr(kOfxImageClipPropFieldOrder, kOfxImageFieldNone);
        out.def_int(kOfxImageClipPropContinuousSamples, &[0]);
        out.def_int(kOfxImageEffectFrameVarying, &[0]);
        let st = self.call(kOfxImageEffectActionGetClipPreferences, None, Some(&out))?;
        let get = |p: &CStr, n: &str| out.get_str(&format!("{}{n}", s(p))).unwrap_or_default();
        Ok(ClipPreferences {
            clips: clips
                .iter()
                .map(|(n, _, _)| ClipPreference {
                    name: n.clone(),
                    components: get(kOfxImageClipPropComponents_, n),
                    depth: get(kOfxImageClipPropDepth_, n),
                    par: out
                        .get_double(&format!("{}{n}", s(kOfxImageClipPropPAR_)))
                        .unwrap_or(1.0),
                })
                .collect(),
            frame_rate: out
                .get_double(s(kOfxImageEffectPropFrameRate))
                .unwrap_or_default(),
            premultiplication: out
                .get_str(s(kOfxImageEffectPropPreMultiplication))
                .unwrap_or_default(),
            field_order: out
                .get_str(s(kOfxImageClipPropFieldOrder))
                .unwrap_or_default(),
            continuous_samples: out
                .get_int(s(kOfxImageClipPropContinuousSamples))
                .unwrap_or(0)
                != 0,
            frame_varying: out.get_int(s(kOfxImageEffectFrameVarying)).unwrap_or(0) != 0,
            status: Status(st),
        })
    }

    fn input_clip_names(&self) -> Vec<String> {
        self.effect
            .clips
            .lock()
            .iter()
            .filter(|c| !c.is_output)
            .map(|c| c.name.clone())
            .collect()
    }

    /// kOfxImageEffectActionGetFramesNeeded: for each input clip the frame ranges it needs at
    /// `time` (default `[time, time]`).
    pub fn frames_needed(&self, time: f64) -> Result<Vec<(String, Vec<OfxRangeD>)>> {
        let i = Self::in_args();
        i.def_double(kOfxPropTime, &[time]);
        let out = PropertySet::new_boxed(true);
        let names = self.input_clip_names();
        let key = |n: &str| format!("{}{n}", s(kOfxImageClipPropFrameRange_));
        for n in &names {
            out.def_double_var(&crate::host::cstring(&key(n)), &[time, time]);
        }
        self.call(kOfxImageEffectActionGetFramesNeeded, Some(&i), Some(&out))?;
        Ok(names
            .iter()
            .map(|n| {
                let v = out.get_doubles(&key(n)).unwrap_or_default();
                (
                    n.clone(),
                    v.chunks_exact(2)
                        .map(|c| OfxRangeD {
                            min: c[0],
                            max: c[1],
                        })
                        .collect(),
                )
            })
            .collect())
    }

    /// kOfxImageEffectActionGetRegionsOfInterest for a render window: per input clip.
    pub fn regions_of_interest(
        &self,
        time: f64,
        window: OfxRectD,
    ) -> Result<Vec<(String, OfxRectD)>> {
        let i = Self::in_args();
        i.def_double(kOfxPropTime, &[time]);
        i.def_double(kOfxImageEffectPropRenderScale, &[1.0, 1.0]);
        i.def_double(
            kOfxImageEffectPropRegionOfInterest,
            &[window.x1, window.y1, window.x2, window.y2],
        );
        let out = PropertySet::new_boxed(true);
        let names = self.input_clip_names();
        let key = |n: &str| format!("{}{n}", s(kOfxImageClipPropRoI_));
        for n in &names {
            out.def_double(
                &crate::host::cstring(&key(n)),
                &[window.x1, window.y1, window.x2, window.y2],
            );
        }
        self.call(
            kOfxImageEffectActionGetRegionsOfInterest,
            Some(&i),
            Some(&out),
        )?;
        Ok(names
            .iter()
            .map(|n| {
                let v = out.get_doubles(&key(n)).unwrap_or_default();
                (
                    n.clone(),
                    OfxRectD {
                        x1: v[0],
                        y1: v[1],
                        x2: v[2],
                        y2: v[3],
                    },
                )
            })
            .collect())
    }

    /// kOfxImageEffectActionGetTimeDomain (default: the instance's frame range).
    pub fn time_domain(&self) -> Result<OfxRangeD> {
        let out = PropertySet::new_boxed(true);
        let r = self.setup.frame_range;
        out.def_double(kOfxImageEffectPropFrameRange, &[r.0, r.1]);
        self.call(kOfxImageEffectActionGetTimeDomain, None, Some(&out))?;
        let v = out
            .get_doubles(s(kOfxImageEffectPropFrameRange))
            .unwrap_or_default();
        Ok(OfxRangeD {
            min: v[0],
            max: v[1],
        })
    }

    /// kOfxImageEffectActionIsIdentity over the whole project: `Some((clip, time))` when the
    /// plugin says the output is that clip at that time.
    pub fn is_identity(&self, time: f64) -> Result<Option<(String, f64)>> {
        self.is_identity_in(time, self.project_rect())
    }

    /// kOfxImageEffectActionIsIdentity for a render window.
    pub fn is_identity_in(&self, time: f64, window: OfxRectI) -> Result<Option<(String, f64)>> {
        let i = Self::in_args();
        i.def_double(kOfxPropTime, &[time]);
        i.def_cstr(kOfxImageEffectPropFieldToRender, kOfxImageFieldNone);
        i.def_int(
            kOfxImageEffectPropRenderWindow,
            &[window.x1, window.y1, window.x2, window.y2],
        );
        i.def_double(kOfxImageEffectPropRenderScale, &[1.0, 1.0]);
        let out = PropertySet::new_boxed(true);
        out.def_str(kOfxPropName, &[""]);
        out.def_double(kOfxPropTime, &[time]);
        let st = self.call(kOfxImageEffectActionIsIdentity, Some(&i), Some(&out))?;
        if st != kOfxStatOK {
            return Ok(None);
        }
        let name = out.get_str(s(kOfxPropName)).unwrap_or_default();
        if name.is_empty() {
            return Err(HostError::Other(
                "isIdentity returned kOfxStatOK but no clip name".into(),
            ));
        }
        Ok(Some((
            name,
            out.get_double(s(kOfxPropTime)).unwrap_or(time),
        )))
    }

    /// kOfxImageEffectActionGetRegionOfDefinition (default: the Source clip's RoD in filter and
    /// general contexts, else the project).
    pub fn region_of_definition(&self, time: f64) -> Result<OfxRectD> {
        let i = Self::in_args();
        i.def_double(kOfxPropTime, &[time]);
        i.def_double(kOfxImageEffectPropRenderScale, &[1.0, 1.0]);
        let (w, h) = self.setup.project_size;
        let mut d = OfxRectD {
            x1: 0.0,
            y1: 0.0,
            x2: w as f64,
            y2: h as f64,
        };
        if self.ctx != Context::Generator {
            let clips = self.effect.clips.lock();
            if let Some(c) = clips
                .iter()
                .find(|c| c.name == s(kOfxImageEffectSimpleSourceClipName) && c.input.is_some())
            {
                d = c.rod;
            }
        }
        let out = PropertySet::new_boxed(true);
        out.def_double(
            kOfxImageEffectPropRegionOfDefinition,
            &[d.x1, d.y1, d.x2, d.y2],
        );
        self.call(
            kOfxImageEffectActionGetRegionOfDefinition,
            Some(&i),
            Some(&out),
        )?;
        let v = out
            .get_doubles(s(kOfxImageEffectPropRegionOfDefinition))
            .unwrap_or_default();
        Ok(OfxRectD {
            x1: v[0],
            y1: v[1],
            x2: v[2],
            y2: v[3],
        })
    }

    fn sequence_args(&self, range: (f64, f64)) -> Box<PropertySet> {
        let i = Self::in_args();
        i.def_double(kOfxImageEffectPropFrameRange, &[range.0, range.1]);
        i.def_double(kOfxImageEffectPropFrameStep, &[1.0]);
        i.def_int(kOfxPropIsInteractive, &[self.setup.interactive as i32]);
        i.def_double(kOfxImageEffectPropRenderScale, &[1.0, 1.0]);
        i.def_int(
            kOfxImageEffectPropSequentialRenderStatus,
            &[self.setup.sequential as i32],
        );
        i.def_int(
            kOfxImageEffectPropInteractiveRenderStatus,
            &[self.setup.interactive as i32],
        );
        i
    }

    /// kOfxImageEffectActionBeginSequenceRender.
    pub fn begin_sequence(&self, range: (f64, f64)) -> Result<()> {
        self.call(
            kOfxImageEffectActionBeginSequenceRender,
            Some(&self.sequence_args(range)),
            None,
        )?;
        *self.sequence.lock() = Some(range);
        Ok(())
    }

    /// kOfxImageEffectActionEndSequenceRender for the range of the last begin_sequence.
    pub fn end_sequence(&self) -> Result<()> {
        let range = self
            .sequence
            .lock()
            .take()
            .unwrap_or(self.setup.frame_range);
        self.call(
            kOfxImageEffectActionEndSequenceRender,
            Some(&self.sequence_args(range)),
            None,
        )?;
        Ok(())
    }

    /// Renders the whole project at `time` into a float RGBA image.
    pub fn render_full(&self, time: f64) -> Result<OutputImage> {
        self.render(time, self.project_rect(), &OutputSpec::default())
    }

    /// kOfxImageEffectActionRender: allocates the output image as `spec` says, renders
    /// `window` at `time` (render scale 1, field none) and returns the output pixels.
    /// With `new_instance_per_frame` this runs on a fresh instance with the same parameters.
    pub fn render(&self, time: f64, window: OfxRectI, spec: &OutputSpec) -> Result<OutputImage> {
        if self.plugin.host.profile().new_instance_per_frame && !self.temporary {
            let tmp = Instance::create(
                self.plugin.clone(),
                self.ctx,
                self.setup.clone(),
                self.shared.clone(),
                Some(self),
            )?;
            let seq = *self.sequence.lock();
            if let Some(r) = seq {
                tmp.begin_sequence(r)?;
            }
            let out = tmp.render(time, window, spec);
            if seq.is_some() {
                tmp.end_sequence()?;
            }
            tmp.destroy()?;
            return out;
        }
        let bounds = spec.bounds.unwrap_or(window);
        let layout = ImageLayout::new(
            bounds,
            spec.depth,
            spec.components,
            spec.row_bytes_padding,
            spec.negative_row_bytes,
        );
        let buf = Arc::new(
            AlignedBuf::new(layout.alloc_len())
                .ok_or_else(|| HostError::Other("out of memory".into()))?,
        );
        buf.bytes_mut().fill(0xCD);
        fill_image(
            &layout,
            &mut buf.bytes_mut()[..layout.alloc_len()],
            spec.fill,
        );
        if let Some(c) = self.effect.clips.lock().iter().find(|c| c.is_output) {
            c.props
                .def_cstr(kOfxImageEffectPropPixelDepth, spec.depth.ofx_name());
            c.props
                .def_cstr(kOfxImageEffectPropComponents, spec.components.ofx_name());
            c.props
                .def_cstr(kOfxImageClipPropUnmappedPixelDepth, spec.depth.ofx_name());
            c.props.def_cstr(
                kOfxImageClipPropUnmappedComponents,
                spec.components.ofx_name(),
            );
        }
        self.shared.pending_outputs.lock().push(PendingOutput {
            time,
            thread: std::thread::current().id(),
            buf: buf.clone(),
            layout,
            premult: self.setup.output_premult,
            rod: scaled_rect(self.project_rect(), spec.render_scale),
            render_scale: spec.render_scale,
        });
        let i = Self::in_args();
        i.def_double(kOfxPropTime, &[time]);
        i.def_cstr(kOfxImageEffectPropFieldToRender, kOfxImageFieldNone);
        i.def_int(
            kOfxImageEffectPropRenderWindow,
            &[window.x1, window.y1, window.x2, window.y2],
        );
        i.def_double(
            kOfxImageEffectPropRenderScale,
            &[spec.render_scale, spec.render_scale],
        );
        i.def_int(
            kOfxImageEffectPropSequentialRenderStatus,
            &[self.setup.sequential as i32],
        );
        i.def_int(
            kOfxImageEffectPropInteractiveRenderStatus,
            &[self.setup.interactive as i32],
        );
        i.def_int(kOfxImageEffectPropRenderQualityDraft, &[0]);
        let r = self.call(kOfxImageEffectActionRender, Some(&i), None);
        self.shared
            .pending_outputs
            .lock()
            .retain(|p| !Arc::ptr_eq(&p.buf, &buf));
        r?;
        let frame = image_to_frame(&layout, &buf.bytes()[..layout.alloc_len()]);
        Ok(OutputImage {
            bounds,
            frame,
            depth: spec.depth,
            components: spec.components,
        })
    }

    /// kOfxActionPurgeCaches.
    pub fn purge_caches(&self) -> Result<()> {
        self.call(kOfxActionPurgeCaches, None, None).map(drop)
    }

    /// kOfxActionSyncPrivateData.
    pub fn sync_private_data(&self) -> Result<()> {
        self.call(kOfxActionSyncPrivateData, None, None).map(drop)
    }

    /// kOfxActionDestroyInstance (also sent on drop).
    pub fn destroy(self) -> Result<()> {
        self.destroy_inner()
    }

    fn destroy_inner(&self) -> Result<()> {
        if self.destroyed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let r = self.call(kOfxActionDestroyInstance, None, None).map(drop);
        self.destroyed.store(true, Ordering::SeqCst);
        r
    }

    // ---- parameters ----

    /// Sends the instance-changed actions for a change of `name` of type `kind`.
    fn changed(&self, kind: &CStr, name: &str, reason: &CStr) -> Result<OfxStatus> {
        let send_begin_end = self.plugin.host.profile().send_begin_end_instance_changed;
        let time = self.shared.time();
        let ba = Self::in_args();
        ba.def_cstr(kOfxPropChangeReason, reason);
        if send_begin_end {
            self.call(kOfxActionBeginInstanceChanged, Some(&ba), None)?;
        }
        let i = Self::in_args();
        i.def_cstr(kOfxPropType, kind);
        i.def_str(kOfxPropName, &[name]);
        i.def_cstr(kOfxPropChangeReason, reason);
        i.def_double(kOfxPropTime, &[time]);
        i.def_double(kOfxImageEffectPropRenderScale, &[1.0, 1.0]);
        let r = self.call(kOfxActionInstanceChanged, Some(&i), None);
        if send_begin_end {
            self.call(kOfxActionEndInstanceChanged, Some(&ba), None)?;
        }
        r
    }

    fn edit_param(&self, name: &str, f: impl FnOnce(&ParamObj) -> Result<()>) -> Result<OfxStatus> {
        self.effect
            .params
            .with_param(name, f)
            .ok_or_else(|| HostError::Other(format!("no parameter {name:?}")))??;
        self.changed(kOfxTypeParameter, name, kOfxChangeUserEdited)
    }

    /// Sets a parameter's value as a user would (removing its keys), then sends the
    /// instance-changed action(s). Ints are accepted for double/bool/choice parameters.
    pub fn set_param(&self, name: &str, value: impl Into<ParamValue>) -> Result<OfxStatus> {
        let value = value.into();
        self.edit_param(name, |p| {
            let v = value.coerce(p.ptype).map_err(HostError::Other)?;
            let mut c = p.curve.lock();
            c.keys.clear();
            c.value = v;
            p.props.def_int(kOfxParamPropIsAnimating, &[0]);
            Ok(())
        })
    }

    /// Sets a key on a parameter, then sends the instance-changed action(s).
    pub fn set_key(
        &self,
        name: &str,
        time: f64,
        value: impl Into<ParamValue>,
    ) -> Result<OfxStatus> {
        let value = value.into();
        self.edit_param(name, |p| {
            let v = value.coerce(p.ptype).map_err(HostError::Other)?;
            p.curve.lock().set_key(time, v);
            p.props.def_int(kOfxParamPropIsAnimating, &[1]);
            Ok(())
        })
    }

    /// Presses a push button (sends the instance-changed action(s)).
    pub fn press_button(&self, name: &str) -> Result<OfxStatus> {
        self.edit_param(name, |_| Ok(()))
    }

    /// Tells the plugin a clip changed (instance-changed with kOfxTypeClip).
    pub fn clip_changed(&self, clip: &str) -> Result<OfxStatus> {
        self.changed(kOfxTypeClip, clip, kOfxChangeUserEdited)
    }

    /// A parameter's value at the host's current time.
    pub fn param(&self, name: &str) -> Option<ParamValue> {
        self.param_at(name, self.shared.time())
    }

    /// A parameter's value at `time`.
    pub fn param_at(&self, name: &str, time: f64) -> Option<ParamValue> {
        self.effect
            .params
            .with_param(name, |p| p.curve.lock().value_at(p.ptype, time))
    }

    /// A parameter's key times.
    pub fn param_keys(&self, name: &str) -> Vec<f64> {
        self.effect
            .params
            .with_param(name, |p| p.curve.lock().keys.iter().map(|k| k.0).collect())
            .unwrap_or_default()
    }

    /// The host's current time.
    pub fn time(&self) -> f64 {
        self.shared.time()
    }

    /// Moves the host's current time (no action is sent).
    pub fn set_time(&self, t: f64) {
        self.shared.set_time(t)
    }

    /// Parameter changes the plugin made itself: (name, Some(time) for paramSetValueAtTime).
    pub fn plugin_param_edits(&self) -> Vec<(String, Option<f64>)> {
        self.shared.plugin_edits.lock().clone()
    }

    /// (open, completed) paramEditBegin/End blocks.
    pub fn param_edit_blocks(&self) -> (u32, u32) {
        *self.shared.edit_depth.lock()
    }

    // ---- abort ----

    /// The flag `abort()` returns; set it from any thread.
    pub fn abort_flag(&self) -> Arc<AtomicBool> {
        self.shared.abort.clone()
    }
    /// Sets or clears the abort flag.
    pub fn set_abort(&self, abort: bool) {
        self.shared.abort.store(abort, Ordering::SeqCst)
    }
    /// Sets the abort flag automatically at the `n`-th call to abort() (counting from the
    /// calls already made); `None` disables it.
    pub fn abort_after_calls(&self, n: Option<u64>) {
        let base = self.shared.abort_calls.load(Ordering::SeqCst);
        self.shared
            .abort_after
            .store(n.map(|n| (base + n) as i64).unwrap_or(-1), Ordering::SeqCst)
    }
    /// How many times the plugin called abort().
    pub fn abort_calls(&self) -> u64 {
        self.shared.abort_calls.load(Ordering::SeqCst)
    }

    // ---- records ----

    /// The persistent message: (type, text).
    pub fn persistent_message(&self) -> Option<(String, String)> {
        self.shared.messages.lock().persistent.clone()
    }
    /// Transient messages, in order.
    pub fn messages(&self) -> Vec<Message> {
        self.shared.messages.lock().transient.clone()
    }
    /// Progress suite calls, in order.
    pub fn progress_events(&self) -> Vec<ProgressEvent> {
        self.shared.progress.lock().clone()
    }
    /// The times clipGetImage was called with for `clip`, in call order.
    pub fn fetched_times(&self, clip: &str) -> Vec<f64> {
        self.shared
            .fetches
            .lock()
            .get(clip)
            .cloned()
            .unwrap_or_default()
    }
    /// Forgets the fetch log and the progress and message lists.
    pub fn clear_logs(&self) {
        self.shared.fetches.lock().clear();
        self.shared.progress.lock().clear();
        self.shared.messages.lock().transient.clear();
    }
    /// Images fetched and not released.
    pub fn outstanding_images(&self) -> usize {
        self.shared.outstanding_images.load(Ordering::SeqCst)
    }
    /// Images fetched in all.
    pub fn images_fetched(&self) -> usize {
        self.shared.images_fetched.load(Ordering::SeqCst)
    }
    /// imageMemoryAlloc allocations (with this instance's handle) not freed.
    pub fn outstanding_image_memory(&self) -> usize {
        self.shared.outstanding_memory.load(Ordering::SeqCst)
    }
    /// Every action sent to this instance (and its per-frame instances): (name, status).
    pub fn actions(&self) -> Vec<(String, i32)> {
        self.shared.actions.lock().clone()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.destroy_inner();
        if !self.temporary {
            purge_images_of(self.shared.id);
        }
    }
}

/// A rect of full-resolution pixels at a render scale (outer bounds, as hosts round).
pub(crate) fn scaled_rect(r: OfxRectI, scale: f64) -> OfxRectI {
    if scale == 1.0 {
        return r;
    }
    OfxRectI {
        x1: (r.x1 as f64 * scale).floor() as i32,
        y1: (r.y1 as f64 * scale).floor() as i32,
        x2: (r.x2 as f64 * scale).ceil() as i32,
        y2: (r.y2 as f64 * scale).ceil() as i32,
    }
}
