//! The plugin's link to the shared runtime: a pool of connections (one per concurrent render),
//! and where the runtime executable is (beside `dreamfx.ofx` in the bundle).
use std::path::PathBuf;

use dreamfx_host_adapter::effect::Effect;
use dreamfx_protocol::client::{ClientError, Connection, RenderHooks, RuntimeLocation};
use parking_lot::Mutex;

static POOL: Mutex<Vec<Connection>> = Mutex::new(Vec::new());

/// A connection for one render; give it back with [`release`] when it is still healthy.
pub fn acquire() -> Result<Connection, ClientError> {
    if let Some(c) = POOL.lock().pop() {
        return Ok(c);
    }
    Connection::connect_or_start(&RuntimeLocation::new(runtime_executable()))
}

pub fn release(c: Connection) {
    POOL.lock().push(c);
}

/// Drops every pooled connection (after the runtime went away, they are all dead).
pub fn reset() {
    POOL.lock().clear();
}

/// Runs `work` on a pooled connection. A healthy connection goes back to the pool; a dead or
/// confused one is dropped, and the whole pool with it when the runtime itself went away.
pub fn with_connection<T>(
    work: impl FnOnce(&mut Connection) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let mut conn = acquire()?;
    let result = work(&mut conn);
    match &result {
        Ok(_) | Err(ClientError::RenderFailed(_)) | Err(ClientError::Cancelled) => release(conn),
        Err(ClientError::RuntimeGone { .. }) => reset(),
        Err(_) => {}
    }
    result
}

/// A render's progress goes to the host's progress bar; the host's abort (or a cancel in the
/// progress dialog) cancels the request.
pub struct HostHooks<'a> {
    effect: &'a Effect,
    cancelled_by_user: bool,
}

impl<'a> HostHooks<'a> {
    pub fn new(effect: &'a Effect) -> Self {
        HostHooks {
            effect,
            cancelled_by_user: false,
        }
    }
}

impl RenderHooks for HostHooks<'_> {
    fn progress(&mut self, fraction: f32) {
        if !self.effect.progress_update(fraction as f64) {
            self.cancelled_by_user = true;
        }
    }
    fn should_abort(&mut self) -> bool {
        self.cancelled_by_user || self.effect.aborted()
    }
}

/// `$DREAMFX_RUNTIME_EXE`, else `dreamfx-runtime` in the directory this library was loaded from.
fn runtime_executable() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DREAMFX_RUNTIME_EXE") {
        return Some(PathBuf::from(p));
    }
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let addr = runtime_executable as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables for an address inside this library.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    let lib = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let lib = PathBuf::from(std::ffi::OsStr::new(
        std::str::from_utf8(lib.to_bytes()).ok()?,
    ));
    Some(lib.parent()?.join("dreamfx-runtime"))
}
