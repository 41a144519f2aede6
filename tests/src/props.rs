//! The host's property store and `OfxPropertySuiteV1`.
//!
//! A [`PropertySet`] maps names to typed arrays (string / int / double / pointer). Sets handed to
//! the plugin are boxed (stable address) and registered, so every suite function first checks the
//! handle. Strings returned by `propGetString` stay valid while the set lives: an overwritten
//! string is moved to a graveyard instead of being freed.
//!
//! A set is *open* (setting an unknown property creates it: descriptors) or *closed* (setting an
//! unknown property is `kOfxStatErrUnknown`: host, instances, clips, images, action arguments).

use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use dreamfx_host_adapter::sys::*;
use parking_lot::Mutex;

use crate::registry::{self, guard, Kind};

/// A property value as tests see it.
#[derive(Debug, Clone, PartialEq)]
pub enum PropValue {
    /// Strings.
    Str(Vec<String>),
    /// Integers.
    Int(Vec<i32>),
    /// Doubles.
    Double(Vec<f64>),
    /// Pointers (as addresses).
    Pointer(Vec<usize>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stored {
    Str(Vec<CString>),
    Int(Vec<c_int>),
    Double(Vec<f64>),
    Pointer(Vec<usize>),
}

impl Stored {
    fn len(&self) -> usize {
        match self {
            Stored::Str(v) => v.len(),
            Stored::Int(v) => v.len(),
            Stored::Double(v) => v.len(),
            Stored::Pointer(v) => v.len(),
        }
    }
    fn to_public(&self) -> PropValue {
        match self {
            Stored::Str(v) => {
                PropValue::Str(v.iter().map(|s| s.to_string_lossy().into_owned()).collect())
            }
            Stored::Int(v) => PropValue::Int(v.clone()),
            Stored::Double(v) => PropValue::Double(v.clone()),
            Stored::Pointer(v) => PropValue::Pointer(v.clone()),
        }
    }
}

#[derive(Debug, Clone)]
struct Prop {
    value: Stored,
    default: Stored,
    /// `Some(n)`: fixed dimension n; `None`: variable dimension (grows on set).
    dim: Option<usize>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Prop>,
    graveyard: Vec<CString>,
}

/// Which property names a host knows, beyond those a set already holds (host behaviours:
/// the official HostSupport refuses names the standard does not define; an older host refuses
/// newer properties).
#[derive(Debug, Clone, Default)]
pub(crate) struct NamePolicy {
    /// Creating a property whose name the official headers do not define is kOfxStatErrUnknown.
    pub official_only: bool,
    /// Names this host does not know: setting one is kOfxStatErrUnknown, even on a set that
    /// holds a default for it.
    pub unknown: Arc<Vec<String>>,
}

impl NamePolicy {
    fn unknown(&self, name: &str) -> bool {
        self.unknown.iter().any(|n| n == name)
    }
    fn may_create(&self, name: &str) -> bool {
        !self.official_only
            || ALL_STRING_DEFINES
                .iter()
                .any(|d| d.to_bytes() == name.as_bytes())
    }
}

/// A property set (see the module docs). Create with [`PropertySet::new_boxed`].
pub(crate) struct PropertySet {
    inner: Mutex<Inner>,
    closed: bool,
    policy: Mutex<NamePolicy>,
    /// Free for the owner (e.g. the clip an image belongs to).
    pub(crate) aux: AtomicUsize,
}

/// A read-only copy of a property set, for tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropSnapshot(pub BTreeMap<String, PropValue>);

impl PropSnapshot {
    /// The raw value of a property.
    pub fn get(&self, name: &str) -> Option<&PropValue> {
        self.0.get(name)
    }
    /// All strings of a string property.
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        match self.0.get(name)? {
            PropValue::Str(v) => Some(v.clone()),
            _ => None,
        }
    }
    /// The first string of a string property.
    pub fn string(&self, name: &str) -> Option<String> {
        self.strings(name)?.into_iter().next()
    }
    /// All ints of an int property.
    pub fn ints(&self, name: &str) -> Option<Vec<i32>> {
        match self.0.get(name)? {
            PropValue::Int(v) => Some(v.clone()),
            _ => None,
        }
    }
    /// The first int of an int property.
    pub fn int(&self, name: &str) -> Option<i32> {
        self.ints(name)?.first().copied()
    }
    /// All doubles of a double property.
    pub fn doubles(&self, name: &str) -> Option<Vec<f64>> {
        match self.0.get(name)? {
            PropValue::Double(v) => Some(v.clone()),
            _ => None,
        }
    }
    /// The first double of a double property.
    pub fn double(&self, name: &str) -> Option<f64> {
        self.doubles(name)?.first().copied()
    }
    /// Property names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

fn cs(s: &str) -> CString {
    CString::new(s.replace('\0', "")).expect("no NUL")
}

impl PropertySet {
    pub(crate) fn new_boxed(closed: bool) -> Box<PropertySet> {
        let b = Box::new(PropertySet {
            inner: Mutex::new(Inner::default()),
            closed,
            policy: Mutex::new(NamePolicy::default()),
            aux: AtomicUsize::new(0),
        });
        registry::register(b.handle() as *const c_void, Kind::PropSet);
        b
    }

    /// A new boxed set with the same properties as `self`.
    pub(crate) fn clone_boxed(&self, closed: bool) -> Box<PropertySet> {
        let b = Self::new_boxed(closed);
        b.inner.lock().map = self.inner.lock().map.clone();
        b.set_policy(self.policy());
        b
    }

    pub(crate) fn policy(&self) -> NamePolicy {
        self.policy.lock().clone()
    }
    pub(crate) fn set_policy(&self, policy: NamePolicy) {
        *self.policy.lock() = policy;
    }

    pub(crate) fn handle(&self) -> OfxPropertySetHandle {
        self as *const PropertySet as OfxPropertySetHandle
    }

    /// Looks up a handle given by the plugin.
    ///
    /// # Safety
    /// See [`registry::lookup`].
    pub(crate) unsafe fn from_handle<'a>(h: OfxPropertySetHandle) -> Option<&'a PropertySet> {
        unsafe { registry::lookup(h as *const c_void, Kind::PropSet) }
    }

    fn define(&self, name: &CStr, value: Stored, dim: Option<usize>) {
        let name = name.to_string_lossy().into_owned();
        let mut inner = self.inner.lock();
        if let Some(old) = inner.map.insert(
            name,
            Prop {
                default: value.clone(),
                value,
                dim,
            },
        ) {
            if let Stored::Str(v) = old.value {
                inner.graveyard.extend(v);
            }
        }
    }

    // Host-side definers: they (re)define a property with a fixed dimension = the value's length.
    pub(crate) fn def_str(&self, name: &CStr, v: &[&str]) {
        self.define(
            name,
            Stored::Str(v.iter().map(|s| cs(s)).collect()),
            Some(v.len()),
        );
    }
    pub(crate) fn def_cstr(&self, name: &CStr, v: &CStr) {
        self.define(name, Stored::Str(vec![v.to_owned()]), Some(1));
    }
    pub(crate) fn def_int(&self, name: &CStr, v: &[i32]) {
        self.define(name, Stored::Int(v.to_vec()), Some(v.len()));
    }
    pub(crate) fn def_double(&self, name: &CStr, v: &[f64]) {
        self.define(name, Stored::Double(v.to_vec()), Some(v.len()));
    }
    pub(crate) fn def_ptr(&self, name: &CStr, v: *mut c_void) {
        self.define(name, Stored::Pointer(vec![v as usize]), Some(1));
    }
    /// Variable-dimension definers.
    pub(crate) fn def_str_var(&self, name: &CStr, v: &[&str]) {
        self.define(name, Stored::Str(v.iter().map(|s| cs(s)).collect()), None);
    }
    pub(crate) fn def_double_var(&self, name: &CStr, v: &[f64]) {
        self.define(name, Stored::Double(v.to_vec()), None);
    }

    /// Host-side reads.
    pub(crate) fn get_strs(&self, name: &str) -> Option<Vec<String>> {
        match &self.inner.lock().map.get(name)?.value {
            Stored::Str(v) => Some(v.iter().map(|s| s.to_string_lossy().into_owned()).collect()),
            _ => None,
        }
    }
    pub(crate) fn get_str(&self, name: &str) -> Option<String> {
        self.get_strs(name)?.into_iter().next()
    }
    pub(crate) fn get_ints(&self, name: &str) -> Option<Vec<i32>> {
        match &self.inner.lock().map.get(name)?.value {
            Stored::Int(v) => Some(v.clone()),
            _ => None,
        }
    }
    pub(crate) fn get_int(&self, name: &str) -> Option<i32> {
        self.get_ints(name)?.first().copied()
    }
    pub(crate) fn get_doubles(&self, name: &str) -> Option<Vec<f64>> {
        match &self.inner.lock().map.get(name)?.value {
            Stored::Double(v) => Some(v.clone()),
            _ => None,
        }
    }
    pub(crate) fn get_double(&self, name: &str) -> Option<f64> {
        self.get_doubles(name)?.first().copied()
    }
    pub(crate) fn snapshot(&self) -> PropSnapshot {
        PropSnapshot(
            self.inner
                .lock()
                .map
                .iter()
                .map(|(k, p)| (k.clone(), p.value.to_public()))
                .collect(),
        )
    }

    // ---- the suite's semantics ----

    fn set_one(&self, name: &str, index: c_int, v: Stored) -> OfxStatus {
        if index < 0 {
            return kOfxStatErrBadIndex;
        }
        self.set_many(name, index as usize, v)
    }

    /// Sets `v`'s values starting at `start` (HostSupport semantics: fixed-dimension properties
    /// reject indices past their dimension; variable ones grow).
    fn set_many(&self, name: &str, start: usize, v: Stored) -> OfxStatus {
        let policy = self.policy();
        if policy.unknown(name) {
            return kOfxStatErrUnknown;
        }
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let prop = match inner.map.get_mut(name) {
            Some(p) => p,
            None if self.closed || !policy.may_create(name) => return kOfxStatErrUnknown,
            None => {
                let empty = match &v {
                    Stored::Str(_) => Stored::Str(vec![]),
                    Stored::Int(_) => Stored::Int(vec![]),
                    Stored::Double(_) => Stored::Double(vec![]),
                    Stored::Pointer(_) => Stored::Pointer(vec![]),
                };
                inner.map.entry(name.to_owned()).or_insert(Prop {
                    value: empty.clone(),
                    default: empty,
                    dim: None,
                })
            }
        };
        let end = start + v.len();
        if let Some(d) = prop.dim {
            if end > d {
                return kOfxStatErrBadIndex;
            }
        }
        match (&mut prop.value, v) {
            (Stored::Str(dst), Stored::Str(src)) => {
                if dst.len() < end {
                    dst.resize(end, CString::default());
                }
                for (i, s) in src.into_iter().enumerate() {
                    let old = std::mem::replace(&mut dst[start + i], s);
                    inner.graveyard.push(old);
                }
            }
            (Stored::Int(dst), Stored::Int(src)) => {
                if dst.len() < end {
                    dst.resize(end, 0);
                }
                dst[start..end].copy_from_slice(&src);
            }
            (Stored::Double(dst), Stored::Double(src)) => {
                if dst.len() < end {
                    dst.resize(end, 0.0);
                }
                dst[start..end].copy_from_slice(&src);
            }
            (Stored::Pointer(dst), Stored::Pointer(src)) => {
                if dst.len() < end {
                    dst.resize(end, 0);
                }
                dst[start..end].copy_from_slice(&src);
            }
            _ => return kOfxStatErrValue,
        }
        kOfxStatOK
    }

    /// Reads `count` values from index `start` with `f`, which sees the stored value.
    fn get_with(
        &self,
        name: &str,
        start: c_int,
        count: c_int,
        f: impl FnOnce(&Stored, usize, usize) -> OfxStatus,
    ) -> OfxStatus {
        let inner = self.inner.lock();
        let Some(prop) = inner.map.get(name) else {
            return kOfxStatErrUnknown;
        };
        if start < 0 || count < 0 {
            return kOfxStatErrBadIndex;
        }
        let (start, count) = (start as usize, count as usize);
        if start + count > prop.value.len() {
            return kOfxStatErrBadIndex;
        }
        f(&prop.value, start, count)
    }

    fn reset(&self, name: &str) -> OfxStatus {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let Some(prop) = inner.map.get_mut(name) else {
            return kOfxStatErrUnknown;
        };
        let old = std::mem::replace(&mut prop.value, prop.default.clone());
        if let Stored::Str(v) = old {
            inner.graveyard.extend(v);
        }
        kOfxStatOK
    }

    fn dimension(&self, name: &str) -> Option<usize> {
        self.inner.lock().map.get(name).map(|p| p.value.len())
    }
}

impl Drop for PropertySet {
    fn drop(&mut self) {
        registry::unregister(self.handle() as *const c_void);
    }
}

// ---------------------------------------------------------------------------------------------
// OfxPropertySuiteV1
// ---------------------------------------------------------------------------------------------

/// Resolves the handle and the property name, or returns the status to give back.
unsafe fn target<'a>(
    h: OfxPropertySetHandle,
    name: *const c_char,
) -> Result<(&'a PropertySet, String), OfxStatus> {
    let set = unsafe { PropertySet::from_handle(h) }.ok_or(kOfxStatErrBadHandle)?;
    if name.is_null() {
        return Err(kOfxStatErrUnknown);
    }
    let name = unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned();
    Ok((set, name))
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(s) => return s,
        }
    };
}

unsafe extern "C" fn prop_set_pointer(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *mut c_void,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.set_one(&name, i, Stored::Pointer(vec![v as usize]))
    })
}
unsafe extern "C" fn prop_set_string(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *const c_char,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        if v.is_null() {
            return kOfxStatErrValue;
        }
        set.set_one(
            &name,
            i,
            Stored::Str(vec![unsafe { CStr::from_ptr(v) }.to_owned()]),
        )
    })
}
unsafe extern "C" fn prop_set_double(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: f64,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.set_one(&name, i, Stored::Double(vec![v]))
    })
}
unsafe extern "C" fn prop_set_int(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: c_int,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.set_one(&name, i, Stored::Int(vec![v]))
    })
}

/// Reads `count` items from a C array (`kOfxStatErrBadIndex` for a negative count).
unsafe fn c_array<'a, T>(count: c_int, p: *const T) -> Result<&'a [T], OfxStatus> {
    if count < 0 {
        return Err(kOfxStatErrBadIndex);
    }
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(kOfxStatErrValue);
    }
    Ok(unsafe { std::slice::from_raw_parts(p, count as usize) })
}

unsafe extern "C" fn prop_set_pointer_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const *mut c_void,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        let v = tri!(unsafe { c_array(c, v) });
        set.set_many(
            &name,
            0,
            Stored::Pointer(v.iter().map(|p| *p as usize).collect()),
        )
    })
}
unsafe extern "C" fn prop_set_string_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const *const c_char,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        let v = tri!(unsafe { c_array(c, v) });
        if v.iter().any(|p| p.is_null()) {
            return kOfxStatErrValue;
        }
        let v = v
            .iter()
            .map(|p| unsafe { CStr::from_ptr(*p) }.to_owned())
            .collect();
        set.set_many(&name, 0, Stored::Str(v))
    })
}
unsafe extern "C" fn prop_set_double_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const f64,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        let v = tri!(unsafe { c_array(c, v) });
        set.set_many(&name, 0, Stored::Double(v.to_vec()))
    })
}
unsafe extern "C" fn prop_set_int_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const c_int,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        let v = tri!(unsafe { c_array(c, v) });
        set.set_many(&name, 0, Stored::Int(v.to_vec()))
    })
}

unsafe extern "C" fn prop_get_pointer(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    out: *mut *mut c_void,
) -> OfxStatus {
    unsafe { prop_get_pointer_at(h, n, i, 1, out) }
}
unsafe fn prop_get_pointer_at(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    c: c_int,
    out: *mut *mut c_void,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.get_with(&name, i, c, |v, s, c| match v {
            Stored::Pointer(v) if !out.is_null() => {
                for k in 0..c {
                    unsafe { *out.add(k) = v[s + k] as *mut c_void };
                }
                kOfxStatOK
            }
            Stored::Pointer(_) => kOfxStatErrBadHandle,
            _ => kOfxStatErrValue,
        })
    })
}
unsafe extern "C" fn prop_get_string(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    out: *mut *mut c_char,
) -> OfxStatus {
    unsafe { prop_get_string_at(h, n, i, 1, out) }
}
unsafe fn prop_get_string_at(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    c: c_int,
    out: *mut *mut c_char,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.get_with(&name, i, c, |v, s, c| match v {
            Stored::Str(v) if !out.is_null() => {
                for k in 0..c {
                    // Valid while the set lives: overwritten strings go to the graveyard.
                    unsafe { *out.add(k) = v[s + k].as_ptr() as *mut c_char };
                }
                kOfxStatOK
            }
            Stored::Str(_) => kOfxStatErrBadHandle,
            _ => kOfxStatErrValue,
        })
    })
}
unsafe extern "C" fn prop_get_double(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    out: *mut f64,
) -> OfxStatus {
    unsafe { prop_get_double_at(h, n, i, 1, out) }
}
unsafe fn prop_get_double_at(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    c: c_int,
    out: *mut f64,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.get_with(&name, i, c, |v, s, c| match v {
            Stored::Double(v) if !out.is_null() => {
                for k in 0..c {
                    unsafe { *out.add(k) = v[s + k] };
                }
                kOfxStatOK
            }
            Stored::Double(_) => kOfxStatErrBadHandle,
            _ => kOfxStatErrValue,
        })
    })
}
unsafe extern "C" fn prop_get_int(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    out: *mut c_int,
) -> OfxStatus {
    unsafe { prop_get_int_at(h, n, i, 1, out) }
}
unsafe fn prop_get_int_at(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    c: c_int,
    out: *mut c_int,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.get_with(&name, i, c, |v, s, c| match v {
            Stored::Int(v) if !out.is_null() => {
                for k in 0..c {
                    unsafe { *out.add(k) = v[s + k] };
                }
                kOfxStatOK
            }
            Stored::Int(_) => kOfxStatErrBadHandle,
            _ => kOfxStatErrValue,
        })
    })
}
unsafe extern "C" fn prop_get_pointer_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    out: *mut *mut c_void,
) -> OfxStatus {
    unsafe { prop_get_pointer_at(h, n, 0, c, out) }
}
unsafe extern "C" fn prop_get_string_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    out: *mut *mut c_char,
) -> OfxStatus {
    unsafe { prop_get_string_at(h, n, 0, c, out) }
}
unsafe extern "C" fn prop_get_double_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    out: *mut f64,
) -> OfxStatus {
    unsafe { prop_get_double_at(h, n, 0, c, out) }
}
unsafe extern "C" fn prop_get_int_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    out: *mut c_int,
) -> OfxStatus {
    unsafe { prop_get_int_at(h, n, 0, c, out) }
}
unsafe extern "C" fn prop_reset(h: OfxPropertySetHandle, n: *const c_char) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        set.reset(&name)
    })
}
unsafe extern "C" fn prop_get_dimension(
    h: OfxPropertySetHandle,
    n: *const c_char,
    out: *mut c_int,
) -> OfxStatus {
    guard(|| {
        let (set, name) = tri!(unsafe { target(h, n) });
        match set.dimension(&name) {
            None => kOfxStatErrUnknown,
            Some(_) if out.is_null() => kOfxStatErrBadHandle,
            Some(d) => {
                unsafe { *out = d as c_int };
                kOfxStatOK
            }
        }
    })
}

pub(crate) static PROPERTY_SUITE: OfxPropertySuiteV1 = OfxPropertySuiteV1 {
    propSetPointer: prop_set_pointer,
    propSetString: prop_set_string,
    propSetDouble: prop_set_double,
    propSetInt: prop_set_int,
    propSetPointerN: prop_set_pointer_n,
    propSetStringN: prop_set_string_n,
    propSetDoubleN: prop_set_double_n,
    propSetIntN: prop_set_int_n,
    propGetPointer: prop_get_pointer,
    propGetString: prop_get_string,
    propGetDouble: prop_get_double,
    propGetInt: prop_get_int,
    propGetPointerN: prop_get_pointer_n,
    propGetStringN: prop_get_string_n,
    propGetDoubleN: prop_get_double_n,
    propGetIntN: prop_get_int_n,
    propReset: prop_reset,
    propGetDimension: prop_get_dimension,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        let s = PropertySet::new_boxed(true);
        let h = s.handle();
        let p = &PROPERTY_SUITE;
        s.def_int(c"I", &[1, 2]);
        s.def_str_var(c"S", &["a"]);
        s.def_double(c"D", &[0.5]);
        unsafe {
            let mut i = 0;
            assert_eq!((p.propGetInt)(h, c"I".as_ptr(), 1, &mut i), kOfxStatOK);
            assert_eq!(i, 2);
            assert_eq!(
                (p.propGetInt)(h, c"I".as_ptr(), 2, &mut i),
                kOfxStatErrBadIndex
            );
            assert_eq!(
                (p.propGetInt)(h, c"I".as_ptr(), -1, &mut i),
                kOfxStatErrBadIndex
            );
            assert_eq!(
                (p.propGetInt)(h, c"Nope".as_ptr(), 0, &mut i),
                kOfxStatErrUnknown
            );
            assert_eq!(
                (p.propSetInt)(h, c"Nope".as_ptr(), 0, 1),
                kOfxStatErrUnknown
            );
            assert_eq!(
                (p.propGetInt)(h, c"D".as_ptr(), 0, &mut i),
                kOfxStatErrValue
            );
            assert_eq!(
                (p.propSetDouble)(h, c"I".as_ptr(), 0, 1.0),
                kOfxStatErrValue
            );
            assert_eq!((p.propSetInt)(h, c"I".as_ptr(), 2, 1), kOfxStatErrBadIndex);
            let mut d = 0;
            assert_eq!((p.propGetDimension)(h, c"I".as_ptr(), &mut d), kOfxStatOK);
            assert_eq!(d, 2);
            // A variable-dimension property grows.
            assert_eq!(
                (p.propSetString)(h, c"S".as_ptr(), 1, c"b".as_ptr()),
                kOfxStatOK
            );
            assert_eq!((p.propGetDimension)(h, c"S".as_ptr(), &mut d), kOfxStatOK);
            assert_eq!(d, 2);
            let mut sp: *mut c_char = std::ptr::null_mut();
            assert_eq!((p.propGetString)(h, c"S".as_ptr(), 0, &mut sp), kOfxStatOK);
            // Overwriting keeps the old pointer valid.
            assert_eq!(
                (p.propSetString)(h, c"S".as_ptr(), 0, c"zz".as_ptr()),
                kOfxStatOK
            );
            assert_eq!(CStr::from_ptr(sp), c"a");
            assert_eq!((p.propReset)(h, c"S".as_ptr()), kOfxStatOK);
            assert_eq!(s.get_strs("NoSuchProperty"), None);
            assert_eq!(s.get_strs("S"), Some(vec!["a".to_owned()]));
            let mut vals = [0; 2];
            assert_eq!(
                (p.propGetIntN)(h, c"I".as_ptr(), 2, vals.as_mut_ptr()),
                kOfxStatOK
            );
            assert_eq!(vals, [1, 2]);
            assert_eq!(
                (p.propGetIntN)(h, c"I".as_ptr(), 3, vals.as_mut_ptr()),
                kOfxStatErrBadIndex
            );
            let bogus = 0x1234usize as OfxPropertySetHandle;
            assert_eq!(
                (p.propGetInt)(bogus, c"I".as_ptr(), 0, &mut i),
                kOfxStatErrBadHandle
            );
        }
        // An open set creates properties on set.
        let o = PropertySet::new_boxed(false);
        unsafe {
            assert_eq!(
                (p.propSetDouble)(o.handle(), c"X".as_ptr(), 1, 2.0),
                kOfxStatOK
            );
        }
        assert_eq!(o.get_doubles("X"), Some(vec![0.0, 2.0]));
    }
}
