//! Property sets through the host's property suite.
use std::ffi::{c_char, c_void, CStr, CString};

use crate::sys::{self, OfxPropertySetHandle, OfxPropertySuiteV1};
use crate::Error;

/// A property set handle with the suite that reads it. Copyable: it borrows nothing of ours.
#[derive(Clone, Copy)]
pub struct PropSet {
    pub(crate) handle: OfxPropertySetHandle,
    pub(crate) suite: &'static OfxPropertySuiteV1,
}

fn check(status: sys::OfxStatus, what: &str, name: &CStr) -> Result<(), Error> {
    if status == sys::kOfxStatOK {
        Ok(())
    } else {
        Err(Error::status(
            status,
            format!(
                "the host refused to {what} property {} ({})",
                name.to_string_lossy(),
                sys::status_name(status)
            ),
        ))
    }
}

/// A property set whose setters accept a refusal: for properties the standard makes optional,
/// or that came after OFX 1.0. Hosts differ in which properties they define (the official
/// HostSupport library answers kOfxStatErrUnknown for a name it does not know), and the OFX
/// Support library sets such properties with failures ignored; a refusal here is logged, never
/// fatal. Mandatory properties go through [`PropSet`]'s own setters, whose error names them.
#[derive(Clone, Copy)]
pub struct OptionalProps(PropSet);

impl OptionalProps {
    fn note(result: Result<(), Error>) {
        if let Err(e) = result {
            log::debug!("{e}; optional, going on without it");
        }
    }
    pub fn set_string(&self, name: &CStr, index: i32, value: &str) {
        Self::note(self.0.set_string(name, index, value))
    }
    pub fn set_cstr(&self, name: &CStr, index: i32, value: &CStr) {
        Self::note(self.0.set_cstr(name, index, value))
    }
    pub fn set_int(&self, name: &CStr, index: i32, value: i32) {
        Self::note(self.0.set_int(name, index, value))
    }
    pub fn set_double(&self, name: &CStr, index: i32, value: f64) {
        Self::note(self.0.set_double(name, index, value))
    }
}

impl PropSet {
    pub fn new(handle: OfxPropertySetHandle, suite: &'static OfxPropertySuiteV1) -> Self {
        PropSet { handle, suite }
    }
    pub fn is_null(&self) -> bool {
        self.handle.is_null()
    }
    pub fn raw(&self) -> OfxPropertySetHandle {
        self.handle
    }
    /// The same set, for properties the host may not know (see [`OptionalProps`]).
    pub fn optional(&self) -> OptionalProps {
        OptionalProps(*self)
    }

    pub fn set_string(&self, name: &CStr, index: i32, value: &str) -> Result<(), Error> {
        let v = CString::new(value.replace('\0', " ")).unwrap();
        check(
            unsafe { (self.suite.propSetString)(self.handle, name.as_ptr(), index, v.as_ptr()) },
            "set",
            name,
        )
    }
    pub fn set_cstr(&self, name: &CStr, index: i32, value: &CStr) -> Result<(), Error> {
        check(
            unsafe {
                (self.suite.propSetString)(self.handle, name.as_ptr(), index, value.as_ptr())
            },
            "set",
            name,
        )
    }
    pub fn set_int(&self, name: &CStr, index: i32, value: i32) -> Result<(), Error> {
        check(
            unsafe { (self.suite.propSetInt)(self.handle, name.as_ptr(), index, value) },
            "set",
            name,
        )
    }
    pub fn set_double(&self, name: &CStr, index: i32, value: f64) -> Result<(), Error> {
        check(
            unsafe { (self.suite.propSetDouble)(self.handle, name.as_ptr(), index, value) },
            "set",
            name,
        )
    }
    pub fn set_doubles(&self, name: &CStr, values: &[f64]) -> Result<(), Error> {
        for (i, v) in values.iter().enumerate() {
            self.set_double(name, i as i32, *v)?;
        }
        Ok(())
    }
    pub fn get_string(&self, name: &CStr, index: i32) -> Result<String, Error> {
        let mut out: *mut c_char = std::ptr::null_mut();
        check(
            unsafe { (self.suite.propGetString)(self.handle, name.as_ptr(), index, &mut out) },
            "get",
            name,
        )?;
        if out.is_null() {
            return Ok(String::new());
        }
        Ok(unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned())
    }
    pub fn get_int(&self, name: &CStr, index: i32) -> Result<i32, Error> {
        let mut out = 0;
        check(
            unsafe { (self.suite.propGetInt)(self.handle, name.as_ptr(), index, &mut out) },
            "get",
            name,
        )?;
        Ok(out)
    }
    pub fn get_double(&self, name: &CStr, index: i32) -> Result<f64, Error> {
        let mut out = 0.0;
        check(
            unsafe { (self.suite.propGetDouble)(self.handle, name.as_ptr(), index, &mut out) },
            "get",
            name,
        )?;
        Ok(out)
    }
    pub fn get_doubles<const N: usize>(&self, name: &CStr) -> Result<[f64; N], Error> {
        let mut out = [0.0; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.get_double(name, i as i32)?;
        }
        Ok(out)
    }
    pub fn get_ints<const N: usize>(&self, name: &CStr) -> Result<[i32; N], Error> {
        let mut out = [0; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.get_int(name, i as i32)?;
        }
        Ok(out)
    }
    pub fn get_pointer(&self, name: &CStr, index: i32) -> Result<*mut c_void, Error> {
        let mut out = std::ptr::null_mut();
        check(
            unsafe { (self.suite.propGetPointer)(self.handle, name.as_ptr(), index, &mut out) },
            "get",
            name,
        )?;
        Ok(out)
    }
    pub fn dimension(&self, name: &CStr) -> Result<i32, Error> {
        let mut out = 0;
        check(
            unsafe { (self.suite.propGetDimension)(self.handle, name.as_ptr(), &mut out) },
            "count",
            name,
        )?;
        Ok(out)
    }
    pub fn get_strings(&self, name: &CStr) -> Result<Vec<String>, Error> {
        (0..self.dimension(name)?)
            .map(|i| self.get_string(name, i))
            .collect()
    }
}
