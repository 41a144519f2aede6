//! Every handle the host gives the plugin is registered here with its kind, so that a handle the
//! plugin passes back is checked before it is dereferenced (`kOfxStatErrBadHandle` otherwise).
//! Also: a zeroed, 64-byte aligned byte buffer for images and image memory.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::LazyLock;

use parking_lot::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    PropSet,
    Effect,
    Clip,
    ParamSet,
    Param,
    Memory,
}

static REGISTRY: LazyLock<Mutex<HashMap<usize, Kind>>> = LazyLock::new(Default::default);

pub(crate) fn register(addr: *const c_void, kind: Kind) {
    REGISTRY.lock().insert(addr as usize, kind);
}

pub(crate) fn unregister(addr: *const c_void) {
    REGISTRY.lock().remove(&(addr as usize));
}

/// Turns a handle from the plugin back into a reference when it is a live object of `kind`.
///
/// # Safety
/// `T` must be the type registered under `kind`, and the object must stay alive while the
/// reference is used (true for handles used inside an action the host is running).
pub(crate) unsafe fn lookup<'a, T>(handle: *const c_void, kind: Kind) -> Option<&'a T> {
    if handle.is_null() {
        return None;
    }
    if REGISTRY.lock().get(&(handle as usize)) == Some(&kind) {
        Some(unsafe { &*(handle as *const T) })
    } else {
        None
    }
}

/// A zero-initialised heap buffer aligned to 64 bytes (never empty: at least 64 bytes).
pub(crate) struct AlignedBuf {
    ptr: *mut u8,
    len: usize,
    layout: Layout,
}

// SAFETY: the buffer is plain bytes owned by this struct; concurrent writes through `ptr` are the
// plugin's business, exactly as with a real host's image memory.
unsafe impl Send for AlignedBuf {}
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    pub(crate) fn new(len: usize) -> Option<Self> {
        let layout = Layout::from_size_align(len.max(64), 64).ok()?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return None;
        }
        Some(AlignedBuf { ptr, len, layout })
    }
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes were allocated and zeroed.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
    #[allow(clippy::mut_from_ref)]
    pub(crate) fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: callers use this only while no one else (the plugin) touches the buffer.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// Runs a callback body, turning a panic into `kOfxStatErrFatal` instead of aborting the process
/// (a panic must not unwind through the plugin's C frames).
pub(crate) fn guard(f: impl FnOnce() -> i32) -> i32 {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or(dreamfx_host_adapter::sys::kOfxStatErrFatal)
}
