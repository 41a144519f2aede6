//! Raw OFX 1.4 C ABI. Every name and status code is generated from the official headers
//! (`names.rs`, see `tests/ofx_names.rs`); the structs below are the headers' suite layouts for
//! what dreamfx and its test host use, checked against the C compiler's layout by
//! `tests/ofx_layout.rs`. Both sides of the ABI (the plugin and `dreamfx-test-host`) share them.
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    missing_docs
)]

use std::ffi::{c_char, c_double, c_int, c_uint, c_void, CStr};

pub type OfxStatus = c_int;
pub type OfxTime = c_double;

#[repr(C)]
pub struct OfxPropertySetStruct {
    _opaque: [u8; 0],
}
pub type OfxPropertySetHandle = *mut OfxPropertySetStruct;
pub type OfxImageEffectHandle = *mut c_void;
pub type OfxImageClipHandle = *mut c_void;
pub type OfxParamSetHandle = *mut c_void;
pub type OfxParamHandle = *mut c_void;
pub type OfxImageMemoryHandle = *mut c_void;

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OfxRectD {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfxRectI {
    pub x1: c_int,
    pub y1: c_int,
    pub x2: c_int,
    pub y2: c_int,
}
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OfxRangeD {
    pub min: f64,
    pub max: f64,
}

#[repr(C)]
pub struct OfxHost {
    pub host: OfxPropertySetHandle,
    pub fetchSuite:
        Option<unsafe extern "C" fn(OfxPropertySetHandle, *const c_char, c_int) -> *const c_void>,
}

pub type OfxPluginEntryPoint = unsafe extern "C" fn(
    action: *const c_char,
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxStatus;

#[repr(C)]
pub struct OfxPlugin {
    pub pluginApi: *const c_char,
    pub apiVersion: c_int,
    pub pluginIdentifier: *const c_char,
    pub pluginVersionMajor: c_uint,
    pub pluginVersionMinor: c_uint,
    pub setHost: Option<unsafe extern "C" fn(*mut OfxHost)>,
    pub mainEntry: Option<OfxPluginEntryPoint>,
}

pub type OfxGetNumberOfPluginsFn = unsafe extern "C" fn() -> c_int;
pub type OfxGetPluginFn = unsafe extern "C" fn(c_int) -> *mut OfxPlugin;

type P = OfxPropertySetHandle;
type S = *const c_char;

#[repr(C)]
pub struct OfxPropertySuiteV1 {
    pub propSetPointer: unsafe extern "C" fn(P, S, c_int, *mut c_void) -> OfxStatus,
    pub propSetString: unsafe extern "C" fn(P, S, c_int, S) -> OfxStatus,
    pub propSetDouble: unsafe extern "C" fn(P, S, c_int, f64) -> OfxStatus,
    pub propSetInt: unsafe extern "C" fn(P, S, c_int, c_int) -> OfxStatus,
    pub propSetPointerN: unsafe extern "C" fn(P, S, c_int, *const *mut c_void) -> OfxStatus,
    pub propSetStringN: unsafe extern "C" fn(P, S, c_int, *const S) -> OfxStatus,
    pub propSetDoubleN: unsafe extern "C" fn(P, S, c_int, *const f64) -> OfxStatus,
    pub propSetIntN: unsafe extern "C" fn(P, S, c_int, *const c_int) -> OfxStatus,
    pub propGetPointer: unsafe extern "C" fn(P, S, c_int, *mut *mut c_void) -> OfxStatus,
    pub propGetString: unsafe extern "C" fn(P, S, c_int, *mut *mut c_char) -> OfxStatus,
    pub propGetDouble: unsafe extern "C" fn(P, S, c_int, *mut f64) -> OfxStatus,
    pub propGetInt: unsafe extern "C" fn(P, S, c_int, *mut c_int) -> OfxStatus,
    pub propGetPointerN: unsafe extern "C" fn(P, S, c_int, *mut *mut c_void) -> OfxStatus,
    pub propGetStringN: unsafe extern "C" fn(P, S, c_int, *mut *mut c_char) -> OfxStatus,
    pub propGetDoubleN: unsafe extern "C" fn(P, S, c_int, *mut f64) -> OfxStatus,
    pub propGetIntN: unsafe extern "C" fn(P, S, c_int, *mut c_int) -> OfxStatus,
    pub propReset: unsafe extern "C" fn(P, S) -> OfxStatus,
    pub propGetDimension: unsafe extern "C" fn(P, S, *mut c_int) -> OfxStatus,
}

#[repr(C)]
pub struct OfxImageEffectSuiteV1 {
    pub getPropertySet: unsafe extern "C" fn(OfxImageEffectHandle, *mut P) -> OfxStatus,
    pub getParamSet:
        unsafe extern "C" fn(OfxImageEffectHandle, *mut OfxParamSetHandle) -> OfxStatus,
    pub clipDefine: unsafe extern "C" fn(OfxImageEffectHandle, S, *mut P) -> OfxStatus,
    pub clipGetHandle:
        unsafe extern "C" fn(OfxImageEffectHandle, S, *mut OfxImageClipHandle, *mut P) -> OfxStatus,
    pub clipGetPropertySet: unsafe extern "C" fn(OfxImageClipHandle, *mut P) -> OfxStatus,
    pub clipGetImage:
        unsafe extern "C" fn(OfxImageClipHandle, OfxTime, *const OfxRectD, *mut P) -> OfxStatus,
    pub clipReleaseImage: unsafe extern "C" fn(P) -> OfxStatus,
    pub clipGetRegionOfDefinition:
        unsafe extern "C" fn(OfxImageClipHandle, OfxTime, *mut OfxRectD) -> OfxStatus,
    pub abort: unsafe extern "C" fn(OfxImageEffectHandle) -> c_int,
    pub imageMemoryAlloc:
        unsafe extern "C" fn(OfxImageEffectHandle, usize, *mut OfxImageMemoryHandle) -> OfxStatus,
    pub imageMemoryFree: unsafe extern "C" fn(OfxImageMemoryHandle) -> OfxStatus,
    pub imageMemoryLock: unsafe extern "C" fn(OfxImageMemoryHandle, *mut *mut c_void) -> OfxStatus,
    pub imageMemoryUnlock: unsafe extern "C" fn(OfxImageMemoryHandle) -> OfxStatus,
}

/// The parameter suite. Value getters and setters are C variadic functions: the plugin calls
/// them through these variadic pointer types. (A Rust host cannot define variadic functions on
/// stable Rust; see `dreamfx-test-host` for how it implements them on the x86-64 System V ABI.)
#[repr(C)]
pub struct OfxParameterSuiteV1 {
    pub paramDefine: unsafe extern "C" fn(OfxParamSetHandle, S, S, *mut P) -> OfxStatus,
    pub paramGetHandle:
        unsafe extern "C" fn(OfxParamSetHandle, S, *mut OfxParamHandle, *mut P) -> OfxStatus,
    pub paramSetGetPropertySet: unsafe extern "C" fn(OfxParamSetHandle, *mut P) -> OfxStatus,
    pub paramGetPropertySet: unsafe extern "C" fn(OfxParamHandle, *mut P) -> OfxStatus,
    pub paramGetValue: unsafe extern "C" fn(OfxParamHandle, ...) -> OfxStatus,
    pub paramGetValueAtTime: unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
    pub paramGetDerivative: unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
    pub paramGetIntegral: unsafe extern "C" fn(OfxParamHandle, OfxTime, OfxTime, ...) -> OfxStatus,
    pub paramSetValue: unsafe extern "C" fn(OfxParamHandle, ...) -> OfxStatus,
    pub paramSetValueAtTime: unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
    pub paramGetNumKeys: unsafe extern "C" fn(OfxParamHandle, *mut c_uint) -> OfxStatus,
    pub paramGetKeyTime: unsafe extern "C" fn(OfxParamHandle, c_uint, *mut OfxTime) -> OfxStatus,
    pub paramGetKeyIndex:
        unsafe extern "C" fn(OfxParamHandle, OfxTime, c_int, *mut c_int) -> OfxStatus,
    pub paramDeleteKey: unsafe extern "C" fn(OfxParamHandle, OfxTime) -> OfxStatus,
    pub paramDeleteAllKeys: unsafe extern "C" fn(OfxParamHandle) -> OfxStatus,
    pub paramCopy: unsafe extern "C" fn(
        OfxParamHandle,
        OfxParamHandle,
        OfxTime,
        *const OfxRangeD,
    ) -> OfxStatus,
    pub paramEditBegin: unsafe extern "C" fn(OfxParamSetHandle, S) -> OfxStatus,
    pub paramEditEnd: unsafe extern "C" fn(OfxParamSetHandle) -> OfxStatus,
}

/// Message suites: `format` is printf-like and variadic; dreamfx always passes "%s" and one
/// string argument.
#[repr(C)]
pub struct OfxMessageSuiteV1 {
    pub message: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
}
#[repr(C)]
pub struct OfxMessageSuiteV2 {
    pub message: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
    pub setPersistentMessage: Option<unsafe extern "C" fn(*mut c_void, S, S, S, ...) -> OfxStatus>,
    pub clearPersistentMessage: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}

#[repr(C)]
pub struct OfxProgressSuiteV1 {
    pub progressStart: Option<unsafe extern "C" fn(*mut c_void, S) -> OfxStatus>,
    pub progressUpdate: Option<unsafe extern "C" fn(*mut c_void, f64) -> OfxStatus>,
    pub progressEnd: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}
#[repr(C)]
pub struct OfxProgressSuiteV2 {
    pub progressStart: Option<unsafe extern "C" fn(*mut c_void, S, S) -> OfxStatus>,
    pub progressUpdate: Option<unsafe extern "C" fn(*mut c_void, f64) -> OfxStatus>,
    pub progressEnd: Option<unsafe extern "C" fn(*mut c_void) -> OfxStatus>,
}

// Every #define of the official headers: names, status codes, flags.
#[rustfmt::skip]
mod names;
pub use names::*;

// Per-clip out-argument prefixes. ofxImageEffect.h documents them in its text (``OfxImageClipPropRoI_``
// "with the clip name post pended") but #defines none, so they are spelled here, once, and
// `tests/ofx_names.rs` checks each against the header's text.
pub const kOfxImageClipPropRoI_: &CStr = c"OfxImageClipPropRoI_";
pub const kOfxImageClipPropFrameRange_: &CStr = c"OfxImageClipPropFrameRange_";
pub const kOfxImageClipPropComponents_: &CStr = c"OfxImageClipPropComponents_";
pub const kOfxImageClipPropDepth_: &CStr = c"OfxImageClipPropDepth_";
pub const kOfxImageClipPropPAR_: &CStr = c"OfxImageClipPropPAR_";

/// The name of a status code, for messages.
pub fn status_name(status: OfxStatus) -> &'static str {
    match status {
        kOfxStatOK => "kOfxStatOK",
        kOfxStatFailed => "kOfxStatFailed",
        kOfxStatErrFatal => "kOfxStatErrFatal",
        kOfxStatErrUnknown => "kOfxStatErrUnknown",
        kOfxStatErrMissingHostFeature => "kOfxStatErrMissingHostFeature",
        kOfxStatErrUnsupported => "kOfxStatErrUnsupported",
        kOfxStatErrExists => "kOfxStatErrExists",
        kOfxStatErrFormat => "kOfxStatErrFormat",
        kOfxStatErrMemory => "kOfxStatErrMemory",
        kOfxStatErrBadHandle => "kOfxStatErrBadHandle",
        kOfxStatErrBadIndex => "kOfxStatErrBadIndex",
        kOfxStatErrValue => "kOfxStatErrValue",
        kOfxStatReplyYes => "kOfxStatReplyYes",
        kOfxStatReplyNo => "kOfxStatReplyNo",
        kOfxStatReplyDefault => "kOfxStatReplyDefault",
        _ => "an unknown status",
    }
}

/// A per-clip out-argument name: the header's prefix (e.g. `kOfxImageClipPropRoI_`) followed by
/// the clip's name, as GetRegionsOfInterest, GetFramesNeeded and GetClipPreferences expect.
pub fn clip_prop(prefix: &CStr, clip: &str) -> std::ffi::CString {
    let mut bytes = prefix.to_bytes().to_vec();
    bytes.extend(clip.bytes().filter(|b| *b != 0));
    std::ffi::CString::new(bytes).expect("NULs were filtered out")
}
