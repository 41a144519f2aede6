//! `dreamfx.ofx`: the OFX entry points of the dreamfx bundle. Thin by design: it describes the
//! effects, gathers their inputs from the host, and asks the shared runtime process for pixels.
//! It never links libtorch. One file per effect in `effects/`; the plugin table comes from
//! [`effects::REGISTRY`].
mod describe;
mod effects;
mod generate;
mod job_params;
mod runtime_link;

use std::ffi::{c_int, CString};
use std::sync::OnceLock;

use dreamfx_host_adapter::host;
use dreamfx_host_adapter::sys::{self, OfxHost, OfxPlugin};

struct PluginTable(Vec<OfxPlugin>);
// SAFETY: the table is never changed once built; its pointers are to leaked strings and to
// functions.
unsafe impl Sync for PluginTable {}
unsafe impl Send for PluginTable {}

unsafe extern "C" fn set_host(h: *mut OfxHost) {
    host::set_host(h);
}

/// Built on first use from the registry; the identifiers live as long as the library.
fn plugins() -> &'static [OfxPlugin] {
    static TABLE: OnceLock<PluginTable> = OnceLock::new();
    &TABLE
        .get_or_init(|| {
            PluginTable(
                effects::REGISTRY
                    .iter()
                    .map(|r| OfxPlugin {
                        pluginApi: sys::kOfxImageEffectPluginApi.as_ptr(),
                        apiVersion: 1,
                        pluginIdentifier: CString::new(r.spec.id)
                            .expect("effect ids have no NUL")
                            .into_raw(),
                        pluginVersionMajor: r.spec.version_major,
                        pluginVersionMinor: r.spec.version_minor,
                        setHost: Some(set_host),
                        mainEntry: Some(r.main_entry),
                    })
                    .collect(),
            )
        })
        .0
}

#[no_mangle]
pub extern "C" fn OfxGetNumberOfPlugins() -> c_int {
    plugins().len() as c_int
}

#[no_mangle]
pub extern "C" fn OfxGetPlugin(nth: c_int) -> *mut OfxPlugin {
    match usize::try_from(nth).ok().and_then(|n| plugins().get(n)) {
        Some(p) => p as *const OfxPlugin as *mut OfxPlugin,
        None => std::ptr::null_mut(),
    }
}
