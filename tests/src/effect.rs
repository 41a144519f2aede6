//! Effects (descriptors and instances), clips, images, and the image effect, message and
//! progress suites.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::thread::ThreadId;

use dreamfx_host_adapter::sys::*;
use parking_lot::Mutex;

use crate::params::ParamSetObj;
use crate::pixels::{frame_to_image, BitDepth, Components, Frame, ImageLayout, Premult};
use crate::props::PropertySet;
use crate::registry::{self, guard, AlignedBuf, Kind};

// Not in sys.rs.

/// A message the plugin sent through the message suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// kOfxMessageError, kOfxMessageWarning, ...
    pub kind: String,
    /// The message id (may be empty).
    pub id: String,
    /// The text.
    pub text: String,
}

/// A call the plugin made to the progress suite.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// progressStart (V2 also gives a message id).
    Start {
        /// The label / message.
        label: String,
        /// The message id (V2 only).
        id: Option<String>,
    },
    /// progressUpdate with a value in 0..=1.
    Update(f64),
    /// progressEnd.
    End,
}

#[derive(Default)]
pub(crate) struct MessageLog {
    pub persistent: Option<(String, String)>,
    pub transient: Vec<Message>,
}

/// An output image a render is waiting for the plugin to fill.
pub(crate) struct PendingOutput {
    pub time: f64,
    pub thread: ThreadId,
    pub buf: Arc<AlignedBuf>,
    pub layout: ImageLayout,
    pub premult: Premult,
    pub rod: OfxRectI,
    pub render_scale: f64,
}

/// What the host records about one effect (descriptor or instance), shared by its clips and
/// params. With `new_instance_per_frame` the short-lived render instances share the record of
/// the instance the test holds.
pub(crate) struct InstanceShared {
    pub id: u64,
    time_bits: AtomicU64,
    pub abort: Arc<AtomicBool>,
    /// Set abort after this many abort() calls (negative: never).
    pub abort_after: AtomicI64,
    pub abort_calls: AtomicU64,
    pub messages: Mutex<MessageLog>,
    pub progress: Mutex<Vec<ProgressEvent>>,
    pub fetches: Mutex<HashMap<String, Vec<f64>>>,
    pub outstanding_images: AtomicUsize,
    pub images_fetched: AtomicUsize,
    pub outstanding_memory: AtomicUsize,
    pub plugin_edits: Mutex<Vec<(String, Option<f64>)>>,
    /// (open paramEditBegin blocks, completed blocks)
    pub edit_depth: Mutex<(u32, u32)>,
    pub pending_outputs: Mutex<Vec<PendingOutput>>,
    /// (action, status) of every action the host sent to this effect.
    pub actions: Mutex<Vec<(String, OfxStatus)>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl InstanceShared {
    pub fn new(time: f64) -> Arc<Self> {
        Arc::new(InstanceShared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            time_bits: AtomicU64::new(time.to_bits()),
            abort: Arc::new(AtomicBool::new(false)),
            abort_after: AtomicI64::new(-1),
            abort_calls: AtomicU64::new(0),
            messages: Mutex::default(),
            progress: Mutex::default(),
            fetches: Mutex::default(),
            outstanding_images: AtomicUsize::new(0),
            images_fetched: AtomicUsize::new(0),
            outstanding_memory: AtomicUsize::new(0),
            plugin_edits: Mutex::default(),
            edit_depth: Mutex::default(),
            pending_outputs: Mutex::default(),
            actions: Mutex::default(),
        })
    }
    pub fn time(&self) -> f64 {
        f64::from_bits(self.time_bits.load(Ordering::Relaxed))
    }
    pub fn set_time(&self, t: f64) {
        self.time_bits.store(t.to_bits(), Ordering::Relaxed)
    }
}

/// Messages sent with a NULL (or unknown) effect handle.
pub(crate) static UNOWNED_MESSAGES: LazyLock<Mutex<Vec<Message>>> = LazyLock::new(Default::default);

/// A test's source of frames for one clip: time → frame (None: no frame at that time, and
/// clipGetImage fails).
pub type FrameSource = Arc<dyn Fn(f64) -> Option<Frame> + Send + Sync>;

/// How an input clip's images are laid out in host memory.
#[derive(Clone)]
pub(crate) struct ClipInput {
    pub source: FrameSource,
    pub depth: BitDepth,
    pub components: Components,
    pub premult: Premult,
    pub padding: usize,
    pub negative: bool,
    pub crop_to_region: bool,
    /// Return the frame being rendered whatever time is asked (HostProfile).
    pub only_at_render_time: bool,
    pub size: (usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EffectKind {
    Descriptor,
    ContextDescriptor,
    Instance,
}

/// A clip: descriptor or instance.
pub(crate) struct ClipObj {
    pub name: String,
    pub props: Box<PropertySet>,
    pub input: Option<ClipInput>,
    pub is_output: bool,
    pub shared: Option<Arc<InstanceShared>>,
    pub rod: OfxRectD,
}

impl ClipObj {
    pub fn new_boxed(
        name: &str,
        props: Box<PropertySet>,
        input: Option<ClipInput>,
        is_output: bool,
        shared: Option<Arc<InstanceShared>>,
        rod: OfxRectD,
    ) -> Box<ClipObj> {
        let b = Box::new(ClipObj {
            name: name.to_owned(),
            props,
            input,
            is_output,
            shared,
            rod,
        });
        registry::register(b.handle(), Kind::Clip);
        b
    }
    pub fn handle(&self) -> OfxImageClipHandle {
        self as *const ClipObj as OfxImageClipHandle
    }
}

impl Drop for ClipObj {
    fn drop(&mut self) {
        registry::unregister(self.handle());
    }
}

/// An image effect: plugin descriptor, context descriptor or instance.
pub(crate) struct EffectObj {
    pub kind: EffectKind,
    pub props: Box<PropertySet>,
    pub params: Box<ParamSetObj>,
    /// Boxed: the plugin holds their addresses as handles.
    #[allow(clippy::vec_box)]
    pub clips: Mutex<Vec<Box<ClipObj>>>,
    pub shared: Arc<InstanceShared>,
}

impl EffectObj {
    pub fn new_boxed(
        kind: EffectKind,
        props: Box<PropertySet>,
        params: Box<ParamSetObj>,
        shared: Arc<InstanceShared>,
    ) -> Box<EffectObj> {
        let b = Box::new(EffectObj {
            kind,
            props,
            params,
            clips: Mutex::new(vec![]),
            shared,
        });
        registry::register(b.handle(), Kind::Effect);
        b
    }
    pub fn handle(&self) -> OfxImageEffectHandle {
        self as *const EffectObj as OfxImageEffectHandle
    }
}

impl Drop for EffectObj {
    fn drop(&mut self) {
        registry::unregister(self.handle());
    }
}

/// A live image handed to the plugin.
struct ImageObj {
    props: Box<PropertySet>,
    _buf: Arc<AlignedBuf>,
    owner: Arc<InstanceShared>,
}

static IMAGES: LazyLock<Mutex<HashMap<usize, ImageObj>>> = LazyLock::new(Default::default);

/// Frees the images an instance never released (its leak count stays as it was).
pub(crate) fn purge_images_of(id: u64) {
    let leaked: Vec<ImageObj> = {
        let mut images = IMAGES.lock();
        let keys: Vec<usize> = images
            .iter()
            .filter(|(_, i)| i.owner.id == id)
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter().filter_map(|k| images.remove(&k)).collect()
    };
    drop(leaked);
}

/// Image memory from imageMemoryAlloc.
struct MemObj {
    buf: AlignedBuf,
    locks: AtomicI64,
    owner: Option<Arc<InstanceShared>>,
}

pub(crate) static LIVE_IMAGE_MEMORY: AtomicUsize = AtomicUsize::new(0);

fn rect_to_i(r: OfxRectD) -> OfxRectI {
    OfxRectI {
        x1: r.x1.floor() as i32,
        y1: r.y1.floor() as i32,
        x2: r.x2.ceil() as i32,
        y2: r.y2.ceil() as i32,
    }
}

fn intersect(a: OfxRectI, b: OfxRectI) -> OfxRectI {
    let r = OfxRectI {
        x1: a.x1.max(b.x1),
        y1: a.y1.max(b.y1),
        x2: a.x2.min(b.x2),
        y2: a.y2.min(b.y2),
    };
    OfxRectI {
        x2: r.x2.max(r.x1),
        y2: r.y2.max(r.y1),
        ..r
    }
}

/// The property set of an image.
fn image_props(
    layout: &ImageLayout,
    data: *mut u8,
    premult: Premult,
    rod: OfxRectI,
    uid: &str,
) -> Box<PropertySet> {
    let p = PropertySet::new_boxed(true);
    let b = layout.bounds;
    p.def_cstr(kOfxPropType, kOfxTypeImage);
    p.def_cstr(kOfxImageEffectPropPixelDepth, layout.depth.ofx_name());
    p.def_cstr(kOfxImageEffectPropComponents, layout.components.ofx_name());
    p.def_cstr(kOfxImageEffectPropPreMultiplication, premult.ofx_name());
    p.def_double(kOfxImageEffectPropRenderScale, &[1.0, 1.0]);
    p.def_double(kOfxImagePropPixelAspectRatio, &[1.0]);
    p.def_ptr(kOfxImagePropData, data as *mut c_void);
    p.def_int(kOfxImagePropBounds, &[b.x1, b.y1, b.x2, b.y2]);
    p.def_int(
        kOfxImagePropRegionOfDefinition,
        &[rod.x1, rod.y1, rod.x2, rod.y2],
    );
    p.def_int(kOfxImagePropRowBytes, &[layout.row_bytes() as i32]);
    p.def_cstr(kOfxImagePropField, kOfxImageFieldNone);
    p.def_str(kOfxImagePropUniqueIdentifier, &[uid]);
    p
}

// ---------------------------------------------------------------------------------------------
// OfxImageEffectSuiteV1
// ---------------------------------------------------------------------------------------------

pub(crate) unsafe fn effect<'a>(h: *const c_void) -> Option<&'a EffectObj> {
    unsafe { registry::lookup(h, Kind::Effect) }
}
unsafe fn clip<'a>(h: OfxImageClipHandle) -> Option<&'a ClipObj> {
    unsafe { registry::lookup(h, Kind::Clip) }
}

unsafe extern "C" fn get_property_set(
    h: OfxImageEffectHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = e.props.handle() };
        kOfxStatOK
    })
}

unsafe extern "C" fn get_param_set(
    h: OfxImageEffectHandle,
    out: *mut OfxParamSetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = e.params.handle() };
        kOfxStatOK
    })
}

/// The properties of a new clip descriptor.
pub(crate) fn clip_descriptor_props(name: &str) -> Box<PropertySet> {
    let p = PropertySet::new_boxed(false);
    p.def_cstr(kOfxPropType, kOfxTypeClip);
    p.def_str(kOfxPropName, &[name]);
    p.def_str(kOfxPropLabel, &[name]);
    p.def_str(kOfxPropShortLabel, &[name]);
    p.def_str(kOfxPropLongLabel, &[name]);
    p.def_str_var(kOfxImageEffectPropSupportedComponents, &[]);
    p.def_int(kOfxImageEffectPropTemporalClipAccess, &[0]);
    p.def_int(kOfxImageClipPropOptional, &[0]);
    p.def_int(kOfxImageClipPropIsMask, &[0]);
    p.def_cstr(kOfxImageClipPropFieldExtraction, kOfxImageFieldDoubled);
    p.def_int(kOfxImageEffectPropSupportsTiles, &[1]);
    p
}

unsafe extern "C" fn clip_define(
    h: OfxImageEffectHandle,
    name: *const c_char,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if e.kind != EffectKind::ContextDescriptor || name.is_null() {
            return kOfxStatErrBadHandle;
        }
        let name = unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned();
        let mut clips = e.clips.lock();
        if clips.iter().any(|c| c.name == name) {
            return kOfxStatErrExists;
        }
        let props = clip_descriptor_props(&name);
        props.set_policy(e.props.policy());
        let c = ClipObj::new_boxed(&name, props, None, false, None, OfxRectD::default());
        if !out.is_null() {
            unsafe { *out = c.props.handle() };
        }
        clips.push(c);
        kOfxStatOK
    })
}

unsafe extern "C" fn clip_get_handle(
    h: OfxImageEffectHandle,
    name: *const c_char,
    out: *mut OfxImageClipHandle,
    props: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if e.kind != EffectKind::Instance {
            return kOfxStatErrBadHandle;
        }
        if name.is_null() {
            return kOfxStatErrUnknown;
        }
        let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
        let clips = e.clips.lock();
        let Some(c) = clips.iter().find(|c| c.name == name) else {
            return kOfxStatErrUnknown;
        };
        if !out.is_null() {
            unsafe { *out = c.handle() };
        }
        if !props.is_null() {
            unsafe { *props = c.props.handle() };
        }
        kOfxStatOK
    })
}

unsafe extern "C" fn clip_get_property_set(
    h: OfxImageClipHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(c) = (unsafe { clip(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = c.props.handle() };
        kOfxStatOK
    })
}

unsafe extern "C" fn clip_get_image(
    h: OfxImageClipHandle,
    time: OfxTime,
    region: *const OfxRectD,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(c) = (unsafe { clip(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let Some(owner) = c.shared.clone() else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        owner
            .fetches
            .lock()
            .entry(c.name.clone())
            .or_default()
            .push(time);
        let region = (!region.is_null()).then(|| unsafe { *region });
        let (props, buf) = if c.is_output {
            let pending = owner.pending_outputs.lock();
            let me = std::thread::current().id();
            let matching = |p: &&PendingOutput| (p.time - time).abs() < 1e-9;
            let found = pending
                .iter()
                .filter(matching)
                .find(|p| p.thread == me)
                .or_else(|| pending.iter().find(matching));
            let Some(p) = found else {
                return kOfxStatFailed;
            };
            let data = unsafe { p.buf.ptr().add(p.layout.data_offset()) };
            let uid = format!(
                "output/{}/{}",
                owner.id,
                NEXT_ID.fetch_add(1, Ordering::Relaxed)
            );
            (
                image_props(&p.layout, data, p.premult, p.rod, &uid),
                p.buf.clone(),
            )
        } else {
            let Some(input) = &c.input else {
                return kOfxStatFailed;
            };
            let me = std::thread::current().id();
            let scale = owner
                .pending_outputs
                .lock()
                .iter()
                .find(|p| p.thread == me)
                .map_or(1.0, |p| p.render_scale);
            let time = if input.only_at_render_time {
                let rendering = owner
                    .pending_outputs
                    .lock()
                    .iter()
                    .find(|p| p.thread == me)
                    .map(|p| p.time);
                rendering.unwrap_or(time)
            } else {
                time
            };
            let Some(frame) = (input.source)(time) else {
                return kOfxStatFailed;
            };
            if frame.rgba.len() != frame.width * frame.height * 4 {
                return kOfxStatErrFatal;
            }
            let frame = frame.scaled(scale);
            let full = OfxRectI {
                x1: 0,
                y1: 0,
                x2: frame.width as i32,
                y2: frame.height as i32,
            };
            let bounds = match region {
                Some(r) if input.crop_to_region => intersect(full, rect_to_i(r)),
                _ => full,
            };
            let layout = ImageLayout::new(
                bounds,
                input.depth,
                input.components,
                input.padding,
                input.negative,
            );
            let Some(buf) = AlignedBuf::new(layout.alloc_len()) else {
                return kOfxStatErrMemory;
            };
            frame_to_image(&frame, &layout, &mut buf.bytes_mut()[..layout.alloc_len()]);
            let data = unsafe { buf.ptr().add(layout.data_offset()) };
            let uid = format!(
                "{}/{}/{}@{}",
                owner.id,
                c.name,
                time,
                NEXT_ID.fetch_add(1, Ordering::Relaxed)
            );
            (
                image_props(&layout, data, input.premult, full, &uid),
                Arc::new(buf),
            )
        };
        let handle = props.handle();
        owner.outstanding_images.fetch_add(1, Ordering::SeqCst);
        owner.images_fetched.fetch_add(1, Ordering::SeqCst);
        IMAGES.lock().insert(
            handle as usize,
            ImageObj {
                props,
                _buf: buf,
                owner,
            },
        );
        unsafe { *out = handle };
        kOfxStatOK
    })
}

unsafe extern "C" fn clip_release_image(h: OfxPropertySetHandle) -> OfxStatus {
    guard(|| {
        let Some(img) = IMAGES.lock().remove(&(h as usize)) else {
            return kOfxStatErrBadHandle;
        };
        img.owner.outstanding_images.fetch_sub(1, Ordering::SeqCst);
        drop(img.props);
        kOfxStatOK
    })
}

unsafe extern "C" fn clip_get_region_of_definition(
    h: OfxImageClipHandle,
    _time: OfxTime,
    out: *mut OfxRectD,
) -> OfxStatus {
    guard(|| {
        let Some(c) = (unsafe { clip(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = c.rod };
        kOfxStatOK
    })
}

unsafe extern "C" fn abort(h: OfxImageEffectHandle) -> c_int {
    std::panic::catch_unwind(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return 0;
        };
        let s = &e.shared;
        let calls = s.abort_calls.fetch_add(1, Ordering::SeqCst) + 1;
        let after = s.abort_after.load(Ordering::SeqCst);
        if after >= 0 && calls >= after as u64 {
            s.abort.store(true, Ordering::SeqCst);
        }
        s.abort.load(Ordering::SeqCst) as c_int
    })
    .unwrap_or(0)
}

unsafe extern "C" fn image_memory_alloc(
    h: OfxImageEffectHandle,
    n: usize,
    out: *mut OfxImageMemoryHandle,
) -> OfxStatus {
    guard(|| {
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        let owner = if h.is_null() {
            None
        } else {
            match unsafe { effect(h) } {
                Some(e) => Some(e.shared.clone()),
                None => return kOfxStatErrBadHandle,
            }
        };
        let Some(buf) = AlignedBuf::new(n) else {
            return kOfxStatErrMemory;
        };
        if let Some(o) = &owner {
            o.outstanding_memory.fetch_add(1, Ordering::SeqCst);
        }
        LIVE_IMAGE_MEMORY.fetch_add(1, Ordering::SeqCst);
        let m = Box::into_raw(Box::new(MemObj {
            buf,
            locks: AtomicI64::new(0),
            owner,
        }));
        registry::register(m as *const c_void, Kind::Memory);
        unsafe { *out = m as OfxImageMemoryHandle };
        kOfxStatOK
    })
}

unsafe extern "C" fn image_memory_free(h: OfxImageMemoryHandle) -> OfxStatus {
    guard(|| {
        if unsafe { registry::lookup::<MemObj>(h, Kind::Memory) }.is_none() {
            return kOfxStatErrBadHandle;
        }
        registry::unregister(h);
        // SAFETY: registered by image_memory_alloc from Box::into_raw, and now unregistered.
        let m = unsafe { Box::from_raw(h as *mut MemObj) };
        if let Some(o) = &m.owner {
            o.outstanding_memory.fetch_sub(1, Ordering::SeqCst);
        }
        LIVE_IMAGE_MEMORY.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(m.buf.len() <= m.buf.bytes().len());
        kOfxStatOK
    })
}

unsafe extern "C" fn image_memory_lock(
    h: OfxImageMemoryHandle,
    out: *mut *mut c_void,
) -> OfxStatus {
    guard(|| {
        let Some(m) = (unsafe { registry::lookup::<MemObj>(h, Kind::Memory) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        m.locks.fetch_add(1, Ordering::SeqCst);
        unsafe { *out = m.buf.ptr() as *mut c_void };
        kOfxStatOK
    })
}

unsafe extern "C" fn image_memory_unlock(h: OfxImageMemoryHandle) -> OfxStatus {
    guard(|| {
        let Some(m) = (unsafe { registry::lookup::<MemObj>(h, Kind::Memory) }) else {
            return kOfxStatErrBadHandle;
        };
        if m.locks.fetch_sub(1, Ordering::SeqCst) <= 0 {
            m.locks.fetch_add(1, Ordering::SeqCst);
            return kOfxStatErrBadHandle;
        }
        kOfxStatOK
    })
}

pub(crate) static IMAGE_EFFECT_SUITE: OfxImageEffectSuiteV1 = OfxImageEffectSuiteV1 {
    getPropertySet: get_property_set,
    getParamSet: get_param_set,
    clipDefine: clip_define,
    clipGetHandle: clip_get_handle,
    clipGetPropertySet: clip_get_property_set,
    clipGetImage: clip_get_image,
    clipReleaseImage: clip_release_image,
    clipGetRegionOfDefinition: clip_get_region_of_definition,
    abort,
    imageMemoryAlloc: image_memory_alloc,
    imageMemoryFree: image_memory_free,
    imageMemoryLock: image_memory_lock,
    imageMemoryUnlock: image_memory_unlock,
};

// ---------------------------------------------------------------------------------------------
// Message suites V1/V2. `message(handle, type, id, format, ...)` is variadic: implemented as a
// non-variadic function reading one vararg (a `char*`) from the next integer register, valid on
// x86-64 System V (see params.rs). When format is exactly "%s" the text is that argument;
// otherwise the text is the format itself (not expanded).
// ---------------------------------------------------------------------------------------------

unsafe fn text_of(format: *const c_char, arg1: *const c_char) -> String {
    if format.is_null() {
        return String::new();
    }
    let f = unsafe { CStr::from_ptr(format) };
    if f == c"%s" {
        if arg1.is_null() {
            return String::new();
        }
        return unsafe { CStr::from_ptr(arg1) }
            .to_string_lossy()
            .into_owned();
    }
    f.to_string_lossy().into_owned()
}

unsafe fn lossy(s: *const c_char) -> String {
    if s.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
    }
}

unsafe extern "C" fn message(
    h: *mut c_void,
    kind: *const c_char,
    id: *const c_char,
    format: *const c_char,
    arg1: *const c_char,
) -> OfxStatus {
    guard(|| {
        let m = unsafe {
            Message {
                kind: lossy(kind),
                id: lossy(id),
                text: text_of(format, arg1),
            }
        };
        let question = m.kind == kOfxMessageQuestion.to_str().unwrap_or_default();
        match unsafe { effect(h) } {
            Some(e) => e.shared.messages.lock().transient.push(m),
            None => UNOWNED_MESSAGES.lock().push(m),
        }
        if question {
            kOfxStatReplyYes
        } else {
            kOfxStatOK
        }
    })
}

unsafe extern "C" fn set_persistent_message(
    h: *mut c_void,
    kind: *const c_char,
    _id: *const c_char,
    format: *const c_char,
    arg1: *const c_char,
) -> OfxStatus {
    guard(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return kOfxStatErrBadHandle;
        };
        e.shared.messages.lock().persistent = Some(unsafe { (lossy(kind), text_of(format, arg1)) });
        kOfxStatOK
    })
}

unsafe extern "C" fn clear_persistent_message(h: *mut c_void) -> OfxStatus {
    guard(|| {
        let Some(e) = (unsafe { effect(h) }) else {
            return kOfxStatErrBadHandle;
        };
        e.shared.messages.lock().persistent = None;
        kOfxStatOK
    })
}

type MessageFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
) -> OfxStatus;
type VarMessageFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const c_char,
    *const c_char,
    ...
) -> OfxStatus;

const MESSAGE_FN: VarMessageFn = unsafe { std::mem::transmute::<MessageFn, VarMessageFn>(message) };
const PERSISTENT_FN: VarMessageFn =
    unsafe { std::mem::transmute::<MessageFn, VarMessageFn>(set_persistent_message) };

pub(crate) static MESSAGE_SUITE_V1: OfxMessageSuiteV1 = OfxMessageSuiteV1 {
    message: Some(MESSAGE_FN),
};
pub(crate) static MESSAGE_SUITE_V2: OfxMessageSuiteV2 = OfxMessageSuiteV2 {
    message: Some(MESSAGE_FN),
    setPersistentMessage: Some(PERSISTENT_FN),
    clearPersistentMessage: Some(clear_persistent_message),
};
/// What some hosts hand out: a V2 suite whose persistent-message entries are NULL.
pub(crate) static MESSAGE_SUITE_V2_NULL_PERSISTENT: OfxMessageSuiteV2 = OfxMessageSuiteV2 {
    message: Some(MESSAGE_FN),
    setPersistentMessage: None,
    clearPersistentMessage: None,
};

// ---------------------------------------------------------------------------------------------
// Progress suites V1/V2. progressUpdate answers kOfxStatReplyNo while the instance's abort flag
// is set.
// ---------------------------------------------------------------------------------------------

fn push_progress(h: *mut c_void, ev: ProgressEvent) -> OfxStatus {
    let Some(e) = (unsafe { effect(h) }) else {
        return kOfxStatErrBadHandle;
    };
    e.shared.progress.lock().push(ev);
    kOfxStatOK
}

unsafe extern "C" fn progress_start_v1(h: *mut c_void, label: *const c_char) -> OfxStatus {
    guard(|| {
        push_progress(
            h,
            ProgressEvent::Start {
                label: unsafe { lossy(label) },
                id: None,
            },
        )
    })
}
unsafe extern "C" fn progress_start_v2(
    h: *mut c_void,
    label: *const c_char,
    id: *const c_char,
) -> OfxStatus {
    guard(|| {
        push_progress(
            h,
            ProgressEvent::Start {
                label: unsafe { lossy(label) },
                id: Some(unsafe { lossy(id) }),
            },
        )
    })
}
unsafe extern "C" fn progress_update(h: *mut c_void, v: f64) -> OfxStatus {
    guard(|| {
        let s = push_progress(h, ProgressEvent::Update(v));
        if s != kOfxStatOK {
            return s;
        }
        let e = unsafe { effect(h) }.expect("checked by push_progress");
        if e.shared.abort.load(Ordering::SeqCst) {
            kOfxStatReplyNo
        } else {
            kOfxStatOK
        }
    })
}
unsafe extern "C" fn progress_end(h: *mut c_void) -> OfxStatus {
    guard(|| push_progress(h, ProgressEvent::End))
}

pub(crate) static PROGRESS_SUITE_V1: OfxProgressSuiteV1 = OfxProgressSuiteV1 {
    progressStart: Some(progress_start_v1),
    progressUpdate: Some(progress_update),
    progressEnd: Some(progress_end),
};
pub(crate) static PROGRESS_SUITE_V2: OfxProgressSuiteV2 = OfxProgressSuiteV2 {
    progressStart: Some(progress_start_v2),
    progressUpdate: Some(progress_update),
    progressEnd: Some(progress_end),
};
