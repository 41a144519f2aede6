//! The plugin's link to the shared runtime: a pool of connections (one per concurrent render),
//! and where the runtime executable is (beside `dreamfx.ofx` in the bundle).
use std::path::PathBuf;

use dreamfx_protocol::client::{ClientError, Connection, RuntimeLocation};
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
