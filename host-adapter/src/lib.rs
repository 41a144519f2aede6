//! The OFX 1.4 C ABI and host suites in safe Rust: typed handles over the host's suites, the
//! one place pixels are converted, and entry points that never let a panic cross the C ABI.
pub mod effect;
pub mod host;
pub mod pixels;
pub mod props;
pub mod sys;

use std::ffi::{c_char, c_void, CStr};

/// An error for the host: the status to return and what the user should be told.
#[derive(Debug, Clone)]
pub struct Error {
    pub status: sys::OfxStatus,
    pub message: String,
}

impl Error {
    pub fn status(status: sys::OfxStatus, message: impl Into<String>) -> Self {
        Error {
            status,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::status(sys::kOfxStatFailed, message)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Error {}

/// What an action handler answers when it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Ok,
    /// "Not handled, do the default" (kOfxStatReplyDefault).
    Default,
}

/// The arguments of one call to a plugin's main entry.
pub struct ActionCall<'a> {
    pub action: &'a CStr,
    pub handle: *const c_void,
    pub in_args: props::PropSet,
    pub out_args: props::PropSet,
}

/// Runs one action for the host: loads the suites when needed, catches every panic, and turns
/// errors into an OFX status (logging the message). Used by each plugin's `mainEntry`.
///
/// # Safety
/// Arguments are the raw ones the host passed to `mainEntry`.
pub unsafe fn dispatch(
    action: *const c_char,
    handle: *const c_void,
    in_args: sys::OfxPropertySetHandle,
    out_args: sys::OfxPropertySetHandle,
    handler: impl FnOnce(&ActionCall<'_>) -> Result<Reply, Error>,
) -> sys::OfxStatus {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if action.is_null() {
            return Err(Error::status(sys::kOfxStatErrBadHandle, "NULL action"));
        }
        let action = CStr::from_ptr(action);
        if action == sys::kOfxActionLoad {
            host::load()?;
        }
        let suites = host::suites()?;
        let call = ActionCall {
            action,
            handle,
            in_args: props::PropSet::new(in_args, suites.property),
            out_args: props::PropSet::new(out_args, suites.property),
        };
        handler(&call)
    }));
    match result {
        Ok(Ok(Reply::Ok)) => sys::kOfxStatOK,
        Ok(Ok(Reply::Default)) => sys::kOfxStatReplyDefault,
        Ok(Err(e)) => {
            log::warn!("{e}");
            e.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            log::error!("dreamfx internal error (caught, host unaffected): {what}");
            sys::kOfxStatFailed
        }
    }
}
