//! The host's suites, fetched once at load. Optional suites are `None` when the host lacks them
//! (or hands out a suite whose function pointers are NULL: callers check each pointer).
use std::ffi::CStr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;

use crate::props::PropSet;
use crate::sys::*;
use crate::Error;

pub struct Suites {
    pub host_props: PropSet,
    pub property: &'static OfxPropertySuiteV1,
    pub effect: &'static OfxImageEffectSuiteV1,
    pub param: &'static OfxParameterSuiteV1,
    pub message_v2: Option<&'static OfxMessageSuiteV2>,
    pub message_v1: Option<&'static OfxMessageSuiteV1>,
    pub progress_v2: Option<&'static OfxProgressSuiteV2>,
    pub progress_v1: Option<&'static OfxProgressSuiteV1>,
}

// SAFETY: suites are tables of function pointers the host keeps alive and thread-safe for as
// long as the plugin is loaded (OFX contract).
unsafe impl Send for Suites {}
unsafe impl Sync for Suites {}

static HOST: AtomicPtr<OfxHost> = AtomicPtr::new(std::ptr::null_mut());
static SUITES: OnceLock<Suites> = OnceLock::new();

/// Stores the host pointer handed to `setHost`.
pub fn set_host(host: *mut OfxHost) {
    HOST.store(host, Ordering::SeqCst);
}

unsafe fn fetch<T>(host: &OfxHost, name: &CStr, version: i32) -> Option<&'static T> {
    let fetch = host.fetchSuite?;
    let p = fetch(host.host, name.as_ptr(), version) as *const T;
    p.as_ref()
}

/// Fetches the suites (at kOfxActionLoad). Fails when a required suite is missing.
pub fn load() -> Result<&'static Suites, Error> {
    if let Some(s) = SUITES.get() {
        return Ok(s);
    }
    let host = HOST.load(Ordering::SeqCst);
    // SAFETY: the host pointer stays valid while the plugin is loaded.
    let host = unsafe { host.as_ref() }
        .ok_or_else(|| Error::status(kOfxStatErrMissingHostFeature, "setHost was not called"))?;
    let missing = |name: &str| {
        Error::status(
            kOfxStatErrMissingHostFeature,
            format!("the host does not provide the {name} suite that dreamfx needs"),
        )
    };
    unsafe {
        let property: &OfxPropertySuiteV1 =
            fetch(host, kOfxPropertySuite, 1).ok_or_else(|| missing("property"))?;
        let suites = Suites {
            host_props: PropSet::new(host.host, property),
            property,
            effect: fetch(host, kOfxImageEffectSuite, 1).ok_or_else(|| missing("image effect"))?,
            param: fetch(host, kOfxParameterSuite, 1).ok_or_else(|| missing("parameter"))?,
            message_v2: fetch(host, kOfxMessageSuite, 2),
            message_v1: fetch(host, kOfxMessageSuite, 1),
            progress_v2: fetch(host, kOfxProgressSuite, 2),
            progress_v1: fetch(host, kOfxProgressSuite, 1),
        };
        Ok(SUITES.get_or_init(|| suites))
    }
}

/// The suites, once loaded.
pub fn suites() -> Result<&'static Suites, Error> {
    SUITES.get().map_or_else(load, Ok)
}

/// A property set handed to an action, wrapped with the property suite.
pub fn props(handle: OfxPropertySetHandle) -> Result<PropSet, Error> {
    Ok(PropSet::new(handle, suites()?.property))
}

/// Whether the host says it can give frames at other times than the one rendered
/// (kOfxImageEffectPropTemporalClipAccess; a host that does not say is taken at its word of
/// OFX 1.0, where it was mandatory to answer).
pub fn temporal_clip_access() -> bool {
    suites()
        .ok()
        .and_then(|s| {
            s.host_props
                .get_int(kOfxImageEffectPropTemporalClipAccess, 0)
                .ok()
        })
        .is_none_or(|v| v != 0)
}

/// Whether the host takes an output of another size than the input (kOfxImageEffectPropSupportsMultiResolution;
/// a host that does not say is taken to, as the standard's default is 1).
pub fn supports_multi_resolution() -> bool {
    suites()
        .ok()
        .and_then(|s| {
            s.host_props
                .get_int(kOfxImageEffectPropSupportsMultiResolution, 0)
                .ok()
        })
        .is_none_or(|v| v != 0)
}
