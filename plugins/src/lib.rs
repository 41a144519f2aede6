//! `dreamfx.ofx`: the OFX entry points of the dreamfx bundle. Thin by design: it describes the
//! effects, gathers their inputs from the host, and asks the shared runtime process for pixels.
//! It never links libtorch.
mod describe;
mod runtime_link;
mod temporal_refine;

use std::ffi::{c_char, c_int, c_void};

use dreamfx_effects::TEMPORAL_REFINE;
use dreamfx_host_adapter::sys::{self, OfxHost, OfxPlugin, OfxPropertySetHandle};
use dreamfx_host_adapter::{dispatch, host};

struct PluginTable([OfxPlugin; 1]);
// SAFETY: the table is immutable; its pointers are to static strings and functions.
unsafe impl Sync for PluginTable {}

unsafe extern "C" fn set_host(h: *mut OfxHost) {
    host::set_host(h);
}

unsafe extern "C" fn temporal_refine_entry(
    action: *const c_char,
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> sys::OfxStatus {
    dispatch(
        action,
        handle,
        in_args,
        out_args,
        temporal_refine::main_entry,
    )
}

static PLUGINS: PluginTable = PluginTable([OfxPlugin {
    pluginApi: sys::kOfxImageEffectPluginApi.as_ptr(),
    apiVersion: 1,
    pluginIdentifier: c"dreamfx.TemporalRefine".as_ptr(),
    pluginVersionMajor: TEMPORAL_REFINE.version_major,
    pluginVersionMinor: TEMPORAL_REFINE.version_minor,
    setHost: Some(set_host),
    mainEntry: Some(temporal_refine_entry),
}]);

#[no_mangle]
pub extern "C" fn OfxGetNumberOfPlugins() -> c_int {
    PLUGINS.0.len() as c_int
}

#[no_mangle]
pub extern "C" fn OfxGetPlugin(nth: c_int) -> *mut OfxPlugin {
    match PLUGINS.0.get(nth as usize) {
        Some(p) => p as *const OfxPlugin as *mut OfxPlugin,
        None => std::ptr::null_mut(),
    }
}
