//! Image effect, clip, image and parameter handles.
use std::ffi::{c_int, c_uint, c_void, CStr, CString};

use crate::host::{suites, Suites};
use crate::pixels::{BitDepth, Components, HostImageDesc, Rect};
use crate::props::PropSet;
use crate::sys::*;
use crate::Error;

fn ok(status: OfxStatus, what: impl FnOnce() -> String) -> Result<(), Error> {
    if status == kOfxStatOK {
        Ok(())
    } else {
        Err(Error::status(status, what()))
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap()
}

/// An effect descriptor or instance.
#[derive(Clone, Copy)]
pub struct Effect {
    handle: OfxImageEffectHandle,
    suites: &'static Suites,
}

// SAFETY: OFX handles are opaque tokens the host accepts from any render thread.
unsafe impl Send for Effect {}
unsafe impl Sync for Effect {}

impl Effect {
    pub fn from_raw(handle: *const c_void) -> Result<Effect, Error> {
        if handle.is_null() {
            return Err(Error::status(kOfxStatErrBadHandle, "NULL effect handle"));
        }
        Ok(Effect {
            handle: handle as OfxImageEffectHandle,
            suites: suites()?,
        })
    }
    pub fn raw(&self) -> OfxImageEffectHandle {
        self.handle
    }

    pub fn props(&self) -> Result<PropSet, Error> {
        let mut p = std::ptr::null_mut();
        ok(
            unsafe { (self.suites.effect.getPropertySet)(self.handle, &mut p) },
            || "getPropertySet failed".into(),
        )?;
        Ok(PropSet::new(p, self.suites.property))
    }

    pub fn params(&self) -> Result<ParamSet, Error> {
        let mut p = std::ptr::null_mut();
        ok(
            unsafe { (self.suites.effect.getParamSet)(self.handle, &mut p) },
            || "getParamSet failed".into(),
        )?;
        Ok(ParamSet {
            handle: p,
            suites: self.suites,
        })
    }

    /// Declares a clip on a descriptor; returns its property set to describe it.
    pub fn define_clip(&self, name: &str) -> Result<PropSet, Error> {
        let mut p = std::ptr::null_mut();
        let n = cstring(name);
        ok(
            unsafe { (self.suites.effect.clipDefine)(self.handle, n.as_ptr(), &mut p) },
            || format!("clipDefine({name}) failed"),
        )?;
        Ok(PropSet::new(p, self.suites.property))
    }

    pub fn clip(&self, name: &str) -> Result<Clip, Error> {
        let mut clip = std::ptr::null_mut();
        let mut p = std::ptr::null_mut();
        let n = cstring(name);
        ok(
            unsafe {
                (self.suites.effect.clipGetHandle)(self.handle, n.as_ptr(), &mut clip, &mut p)
            },
            || format!("the host has no clip named {name}"),
        )?;
        Ok(Clip {
            handle: clip,
            props: PropSet::new(p, self.suites.property),
            suites: self.suites,
        })
    }

    /// Whether the host asks the render to stop.
    pub fn aborted(&self) -> bool {
        unsafe { (self.suites.effect.abort)(self.handle) != 0 }
    }

    /// Sets (or with `None` clears) the persistent message shown on the node. Uses the V2
    /// message suite when its pointer is set, else posts a plain V1 error message.
    /// A one-off message to the user (message suite V2 or V1; a host without one gets the
    /// log). Unlike a persistent message this also works on descriptors, e.g. when describe
    /// fails.
    pub fn message(&self, kind: &CStr, text: &str) {
        let s = self.suites;
        let f = s
            .message_v2
            .and_then(|m| m.message)
            .or_else(|| s.message_v1.and_then(|m| m.message));
        match f {
            Some(f) => {
                let text = cstring(text);
                unsafe {
                    f(
                        self.handle,
                        kind.as_ptr(),
                        std::ptr::null(),
                        c"%s".as_ptr(),
                        text.as_ptr(),
                    )
                };
            }
            None => log::warn!("{text}"),
        }
    }

    pub fn set_persistent_message(&self, message: Option<(&CStr, &str)>) {
        let s = self.suites;
        let fmt = c"%s";
        match message {
            Some((kind, text)) => {
                let text = cstring(text);
                if let Some(f) = s.message_v2.and_then(|m| m.setPersistentMessage) {
                    unsafe {
                        f(
                            self.handle,
                            kind.as_ptr(),
                            std::ptr::null(),
                            fmt.as_ptr(),
                            text.as_ptr(),
                        )
                    };
                } else if let Some(f) = s
                    .message_v2
                    .and_then(|m| m.message)
                    .or_else(|| s.message_v1.and_then(|m| m.message))
                {
                    unsafe {
                        f(
                            self.handle,
                            kind.as_ptr(),
                            std::ptr::null(),
                            fmt.as_ptr(),
                            text.as_ptr(),
                        )
                    };
                } else {
                    log::error!("{}", text.to_string_lossy());
                }
            }
            None => {
                if let Some(f) = s.message_v2.and_then(|m| m.clearPersistentMessage) {
                    unsafe { f(self.handle) };
                }
            }
        }
    }

    pub fn progress_start(&self, label: &str) {
        let l = cstring(label);
        let s = self.suites;
        if let Some(f) = s.progress_v2.and_then(|p| p.progressStart) {
            unsafe { f(self.handle, l.as_ptr(), c"dreamfx.progress".as_ptr()) };
        } else if let Some(f) = s.progress_v1.and_then(|p| p.progressStart) {
            unsafe { f(self.handle, l.as_ptr()) };
        }
    }
    /// Returns false when the user cancelled through the progress dialog.
    pub fn progress_update(&self, fraction: f64) -> bool {
        let s = self.suites;
        let f = s
            .progress_v2
            .and_then(|p| p.progressUpdate)
            .or_else(|| s.progress_v1.and_then(|p| p.progressUpdate));
        match f {
            Some(f) => (unsafe { f(self.handle, fraction) }) != kOfxStatReplyNo,
            None => true,
        }
    }
    pub fn progress_end(&self) {
        let s = self.suites;
        if let Some(f) = s
            .progress_v2
            .and_then(|p| p.progressEnd)
            .or_else(|| s.progress_v1.and_then(|p| p.progressEnd))
        {
            unsafe { f(self.handle) };
        }
    }
}

pub struct Clip {
    handle: OfxImageClipHandle,
    props: PropSet,
    suites: &'static Suites,
}

impl Clip {
    pub fn props(&self) -> PropSet {
        self.props
    }
    pub fn connected(&self) -> bool {
        self.props
            .get_int(kOfxImageClipPropConnected, 0)
            .map(|v| v != 0)
            .unwrap_or(true)
    }
    /// The clip's frame range (in the effect's time).
    pub fn frame_range(&self) -> Result<(f64, f64), Error> {
        let [a, b] = self.props.get_doubles::<2>(kOfxImageEffectPropFrameRange)?;
        Ok((a, b))
    }

    /// kOfxImageEffectPropFrameRate of the clip, when the host gives a usable one.
    pub fn frame_rate(&self) -> Option<f64> {
        self.props
            .get_double(kOfxImageEffectPropFrameRate, 0)
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0)
    }

    /// kOfxImagePropPixelAspectRatio of the clip, when the host gives a usable one.
    pub fn pixel_aspect(&self) -> Option<f64> {
        self.props
            .get_double(kOfxImagePropPixelAspectRatio, 0)
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0)
    }

    /// The clip's region of definition at `time`, in canonical coordinates.
    pub fn region_of_definition(&self, time: f64) -> Result<OfxRectD, Error> {
        let mut rod = OfxRectD {
            x1: 0.0,
            y1: 0.0,
            x2: 0.0,
            y2: 0.0,
        };
        ok(
            unsafe { (self.suites.effect.clipGetRegionOfDefinition)(self.handle, time, &mut rod) },
            || format!("clipGetRegionOfDefinition at time {time} failed"),
        )?;
        Ok(rod)
    }

    /// Fetches the image at `time`, or None where the clip has none there.
    pub fn image(&self, time: f64, region: Option<Rect>) -> Result<Option<Image>, Error> {
        let rect = region.map(|r| OfxRectD {
            x1: r.x1 as f64,
            y1: r.y1 as f64,
            x2: r.x2 as f64,
            y2: r.y2 as f64,
        });
        let mut p = std::ptr::null_mut();
        let status = unsafe {
            (self.suites.effect.clipGetImage)(
                self.handle,
                time,
                rect.as_ref().map_or(std::ptr::null(), |r| r as *const _),
                &mut p,
            )
        };
        if status == kOfxStatFailed || (status == kOfxStatOK && p.is_null()) {
            return Ok(None);
        }
        ok(status, || format!("clipGetImage at time {time} failed"))?;
        let props = PropSet::new(p, self.suites.property);
        let image = Image {
            props,
            suites: self.suites,
            desc: None,
        };
        Ok(Some(image.describe()?))
    }
}

/// A host image; released back to the host on drop.
pub struct Image {
    props: PropSet,
    suites: &'static Suites,
    desc: Option<HostImageDesc>,
}

impl Image {
    fn describe(mut self) -> Result<Image, Error> {
        let p = self.props;
        let data = p.get_pointer(kOfxImagePropData, 0)? as *mut u8;
        let row_bytes = p.get_int(kOfxImagePropRowBytes, 0)? as isize;
        let [x1, y1, x2, y2] = p.get_ints::<4>(kOfxImagePropBounds)?;
        let depth = parse_depth(&p.get_string(kOfxImageEffectPropPixelDepth, 0)?)?;
        let components = parse_components(&p.get_string(kOfxImageEffectPropComponents, 0)?)?;
        self.desc = Some(HostImageDesc {
            data,
            row_bytes,
            bounds: Rect { x1, y1, x2, y2 },
            depth,
            components,
        });
        Ok(self)
    }
    pub fn desc(&self) -> &HostImageDesc {
        self.desc.as_ref().unwrap()
    }
    pub fn props(&self) -> PropSet {
        self.props
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        unsafe { (self.suites.effect.clipReleaseImage)(self.props.raw()) };
    }
}

pub fn parse_depth(s: &str) -> Result<BitDepth, Error> {
    let is = |name: &CStr| name.to_bytes() == s.as_bytes();
    Ok(match s {
        _ if is(kOfxBitDepthByte) => BitDepth::U8,
        _ if is(kOfxBitDepthShort) => BitDepth::U16,
        _ if is(kOfxBitDepthHalf) => BitDepth::F16,
        _ if is(kOfxBitDepthFloat) => BitDepth::F32,
        other => {
            return Err(Error::status(
                kOfxStatErrUnsupported,
                format!("unsupported pixel depth {other}"),
            ))
        }
    })
}

pub fn parse_components(s: &str) -> Result<Components, Error> {
    let is = |name: &CStr| name.to_bytes() == s.as_bytes();
    Ok(match s {
        _ if is(kOfxImageComponentRGBA) => Components::Rgba,
        _ if is(kOfxImageComponentRGB) => Components::Rgb,
        _ if is(kOfxImageComponentAlpha) => Components::Alpha,
        other => {
            return Err(Error::status(
                kOfxStatErrUnsupported,
                format!("unsupported components {other}"),
            ))
        }
    })
}

#[derive(Clone, Copy)]
pub struct ParamSet {
    handle: OfxParamSetHandle,
    suites: &'static Suites,
}

impl ParamSet {
    /// Declares a parameter on a descriptor; returns its property set to describe it.
    pub fn define(&self, kind: &CStr, name: &str) -> Result<PropSet, Error> {
        let mut p = std::ptr::null_mut();
        let n = cstring(name);
        ok(
            unsafe {
                (self.suites.param.paramDefine)(self.handle, kind.as_ptr(), n.as_ptr(), &mut p)
            },
            || format!("paramDefine({name}) failed"),
        )?;
        Ok(PropSet::new(p, self.suites.property))
    }

    pub fn param(&self, name: &str) -> Result<Param, Error> {
        let mut h = std::ptr::null_mut();
        let mut p = std::ptr::null_mut();
        let n = cstring(name);
        ok(
            unsafe { (self.suites.param.paramGetHandle)(self.handle, n.as_ptr(), &mut h, &mut p) },
            || format!("the host has no parameter named {name}"),
        )?;
        Ok(Param {
            handle: h,
            suites: self.suites,
            name: name.to_string(),
        })
    }
}

pub struct Param {
    handle: OfxParamHandle,
    suites: &'static Suites,
    name: String,
}

impl Param {
    pub fn double_at(&self, time: f64) -> Result<f64, Error> {
        let mut v: f64 = 0.0;
        ok(
            unsafe {
                (self.suites.param.paramGetValueAtTime)(self.handle, time, &mut v as *mut f64)
            },
            || format!("could not read {} at {time}", self.name),
        )?;
        Ok(v)
    }
    /// Integer, boolean and choice parameters are all read as an int.
    pub fn int_at(&self, time: f64) -> Result<i32, Error> {
        let mut v: c_int = 0;
        ok(
            unsafe {
                (self.suites.param.paramGetValueAtTime)(self.handle, time, &mut v as *mut c_int)
            },
            || format!("could not read {} at {time}", self.name),
        )?;
        Ok(v)
    }
    /// A String parameter's value at `time` (hosts that animate no strings give the value).
    pub fn string_at(&self, time: f64) -> Result<String, Error> {
        let mut v: *const std::ffi::c_char = std::ptr::null();
        ok(
            unsafe {
                (self.suites.param.paramGetValueAtTime)(
                    self.handle,
                    time,
                    &mut v as *mut *const std::ffi::c_char,
                )
            },
            || format!("could not read {} at {time}", self.name),
        )?;
        if v.is_null() {
            return Ok(String::new());
        }
        // SAFETY: the host keeps the string alive at least until the next call on the param.
        Ok(unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
    }

    /// Sets a String parameter (allowed in kOfxActionInstanceChanged, not during a render).
    pub fn set_string(&self, value: &str) -> Result<(), Error> {
        let v = cstring(value);
        ok(
            unsafe { (self.suites.param.paramSetValue)(self.handle, v.as_ptr()) },
            || format!("could not set {}", self.name),
        )
    }

    pub fn num_keys(&self) -> Result<u32, Error> {
        let mut n: c_uint = 0;
        ok(
            unsafe { (self.suites.param.paramGetNumKeys)(self.handle, &mut n) },
            || format!("could not count keys of {}", self.name),
        )?;
        Ok(n)
    }
    pub fn key_times(&self) -> Result<Vec<f64>, Error> {
        (0..self.num_keys()?)
            .map(|i| {
                let mut t = 0.0;
                ok(
                    unsafe { (self.suites.param.paramGetKeyTime)(self.handle, i, &mut t) },
                    || format!("could not read key {i} of {}", self.name),
                )?;
                Ok(t)
            })
            .collect()
    }
}
