//! Parameters: descriptors and instances, keyframes, and `OfxParameterSuiteV1`.
//!
//! # Variadic functions
//! `paramGetValue(handle, ...)`, `paramSetValue(handle, ...)` and friends are C variadic
//! functions, which stable Rust cannot define. They are implemented as ordinary `extern "C"`
//! functions with enough trailing arguments and transmuted to the variadic pointer types of
//! `sys::OfxParameterSuiteV1`. That is sound only on the x86-64 System V ABI (Linux): there,
//! integer/pointer arguments and floating-point arguments are assigned to their own register
//! files independently (rdi, rsi, rdx, rcx, r8, r9 / xmm0–xmm7), and a variadic call passes each
//! argument exactly where a non-variadic call with the same argument types would (a variadic
//! caller only also sets `al`, which a non-variadic callee ignores). Every signature here fits in
//! registers (at most 5 integer and 5 floating-point arguments), so nothing goes to the stack.
//! Reading a register the caller did not fill gives an unspecified value that is never used:
//! the parameter's type decides how many arguments are read. On any other target the crate
//! refuses to compile (see `lib.rs`).

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::sync::Arc;

use dreamfx_host_adapter::sys::*;
use parking_lot::Mutex;

use crate::effect::InstanceShared;
use crate::props::PropertySet;
use crate::registry::{self, guard, Kind};

// Not in sys.rs.

/// The parameter types the test host supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamType {
    /// OfxParamTypeInteger
    Integer,
    /// OfxParamTypeDouble
    Double,
    /// OfxParamTypeBoolean
    Boolean,
    /// OfxParamTypeChoice
    Choice,
    /// OfxParamTypeString
    String,
    /// OfxParamTypePushButton
    PushButton,
    /// OfxParamTypeGroup
    Group,
    /// OfxParamTypePage
    Page,
    /// OfxParamTypeDouble2D
    Double2D,
    /// OfxParamTypeDouble3D
    Double3D,
    /// OfxParamTypeInteger2D
    Integer2D,
    /// OfxParamTypeInteger3D
    Integer3D,
    /// OfxParamTypeRGB
    Rgb,
    /// OfxParamTypeRGBA
    Rgba,
    /// OfxParamTypeCustom (a string value)
    Custom,
}

impl ParamType {
    const ALL: [ParamType; 15] = [
        ParamType::Integer,
        ParamType::Double,
        ParamType::Boolean,
        ParamType::Choice,
        ParamType::String,
        ParamType::PushButton,
        ParamType::Group,
        ParamType::Page,
        ParamType::Double2D,
        ParamType::Double3D,
        ParamType::Integer2D,
        ParamType::Integer3D,
        ParamType::Rgb,
        ParamType::Rgba,
        ParamType::Custom,
    ];
    /// The OFX name.
    pub fn ofx_name(self) -> &'static CStr {
        match self {
            ParamType::Integer => kOfxParamTypeInteger,
            ParamType::Double => kOfxParamTypeDouble,
            ParamType::Boolean => kOfxParamTypeBoolean,
            ParamType::Choice => kOfxParamTypeChoice,
            ParamType::String => kOfxParamTypeString,
            ParamType::PushButton => kOfxParamTypePushButton,
            ParamType::Group => kOfxParamTypeGroup,
            ParamType::Page => kOfxParamTypePage,
            ParamType::Double2D => kOfxParamTypeDouble2D,
            ParamType::Double3D => kOfxParamTypeDouble3D,
            ParamType::Integer2D => kOfxParamTypeInteger2D,
            ParamType::Integer3D => kOfxParamTypeInteger3D,
            ParamType::Rgb => kOfxParamTypeRGB,
            ParamType::Rgba => kOfxParamTypeRGBA,
            ParamType::Custom => kOfxParamTypeCustom,
        }
    }
    /// From the OFX name.
    pub fn from_ofx(s: &CStr) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.ofx_name() == s)
    }
    /// Number of double components (0 when not a double type).
    fn double_dim(self) -> usize {
        match self {
            ParamType::Double => 1,
            ParamType::Double2D => 2,
            ParamType::Double3D | ParamType::Rgb => 3,
            ParamType::Rgba => 4,
            _ => 0,
        }
    }
    fn int_dim(self) -> usize {
        match self {
            ParamType::Integer2D => 2,
            ParamType::Integer3D => 3,
            _ => 0,
        }
    }
    fn has_value(self) -> bool {
        !matches!(
            self,
            ParamType::PushButton | ParamType::Group | ParamType::Page
        )
    }
    fn interpolates(self) -> bool {
        self.double_dim() > 0
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A Double param.
    Double(f64),
    /// An Integer param.
    Int(i32),
    /// A Boolean param.
    Bool(bool),
    /// A Choice param: the option index.
    Choice(i32),
    /// A String or Custom param.
    String(String),
    /// Double2D/3D, RGB, RGBA.
    Doubles(Vec<f64>),
    /// Integer2D/3D.
    Ints(Vec<i32>),
    /// Push buttons, groups, pages.
    None,
}

impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Double(v)
    }
}
impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(v)
    }
}
impl From<bool> for ParamValue {
    fn from(v: bool) -> Self {
        ParamValue::Bool(v)
    }
}
impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::String(v.to_owned())
    }
}
impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        ParamValue::String(v)
    }
}
impl<const N: usize> From<[f64; N]> for ParamValue {
    fn from(v: [f64; N]) -> Self {
        ParamValue::Doubles(v.to_vec())
    }
}

impl ParamValue {
    /// The value as f64 (Double, Int, Bool, Choice).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Double(v) => Some(*v),
            ParamValue::Int(v) | ParamValue::Choice(v) => Some(*v as f64),
            ParamValue::Bool(b) => Some(*b as i32 as f64),
            _ => None,
        }
    }
    /// The value as i32 (Int, Choice, Bool).
    pub fn as_i32(&self) -> Option<i32> {
        match self {
            ParamValue::Int(v) | ParamValue::Choice(v) => Some(*v),
            ParamValue::Bool(b) => Some(*b as i32),
            _ => None,
        }
    }
    /// The value as a string (String, Custom).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts a value given by a test to the canonical form for `t`.
    pub(crate) fn coerce(self, t: ParamType) -> Result<ParamValue, String> {
        let bad = |v: &ParamValue| Err(format!("value {v:?} does not fit a {t:?} parameter"));
        Ok(match (t, self) {
            (ParamType::Double, ParamValue::Double(v)) => ParamValue::Double(v),
            (ParamType::Double, ParamValue::Int(v)) => ParamValue::Double(v as f64),
            (ParamType::Integer, ParamValue::Int(v) | ParamValue::Choice(v)) => ParamValue::Int(v),
            (ParamType::Boolean, ParamValue::Bool(b)) => ParamValue::Bool(b),
            (ParamType::Boolean, ParamValue::Int(v)) => ParamValue::Bool(v != 0),
            (ParamType::Choice, ParamValue::Choice(v) | ParamValue::Int(v)) => {
                ParamValue::Choice(v)
            }
            (ParamType::String | ParamType::Custom, ParamValue::String(s)) => ParamValue::String(s),
            (t, ParamValue::Doubles(v)) if t.double_dim() > 1 && v.len() == t.double_dim() => {
                ParamValue::Doubles(v)
            }
            (t, ParamValue::Double(v)) if t.double_dim() > 1 => {
                ParamValue::Doubles(vec![v; t.double_dim()])
            }
            (t, ParamValue::Ints(v)) if t.int_dim() > 1 && v.len() == t.int_dim() => {
                ParamValue::Ints(v)
            }
            (t, v) if !t.has_value() => return bad(&v),
            (_, v) => return bad(&v),
        })
    }

    fn lerp(&self, other: &ParamValue, f: f64) -> ParamValue {
        match (self, other) {
            (ParamValue::Double(a), ParamValue::Double(b)) => ParamValue::Double(a + (b - a) * f),
            (ParamValue::Doubles(a), ParamValue::Doubles(b)) => {
                ParamValue::Doubles(a.iter().zip(b).map(|(a, b)| a + (b - a) * f).collect())
            }
            _ => self.clone(),
        }
    }
}

/// A value plus keyframes (sorted by time).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curve {
    pub value: ParamValue,
    pub keys: Vec<(f64, ParamValue)>,
}

const TIME_EPS: f64 = 1e-9;

impl Curve {
    /// The value at `t`: without keys the static value; between keys linear for doubles and
    /// the previous key otherwise; before the first / after the last key that key.
    pub fn value_at(&self, t: ParamType, time: f64) -> ParamValue {
        let k = &self.keys;
        if k.is_empty() {
            return self.value.clone();
        }
        if time <= k[0].0 {
            return k[0].1.clone();
        }
        let last = k.len() - 1;
        if time >= k[last].0 {
            return k[last].1.clone();
        }
        let i = k.partition_point(|(kt, _)| *kt <= time) - 1;
        let (t0, v0) = &k[i];
        let (t1, v1) = &k[i + 1];
        if t.interpolates() {
            v0.lerp(v1, (time - t0) / (t1 - t0))
        } else {
            v0.clone()
        }
    }
    pub fn set_key(&mut self, time: f64, v: ParamValue) {
        match self
            .keys
            .iter()
            .position(|(kt, _)| (kt - time).abs() < TIME_EPS)
        {
            Some(i) => self.keys[i].1 = v,
            None => {
                let i = self.keys.partition_point(|(kt, _)| *kt < time);
                self.keys.insert(i, (time, v));
            }
        }
    }
    /// Index of a key: exact (direction 0), the last before (< 0) or the first after (> 0).
    pub fn key_index(&self, time: f64, direction: i32) -> Option<usize> {
        let k = &self.keys;
        if direction == 0 {
            k.iter().position(|(kt, _)| (kt - time).abs() < TIME_EPS)
        } else if direction < 0 {
            k.iter().rposition(|(kt, _)| *kt < time - TIME_EPS)
        } else {
            k.iter().position(|(kt, _)| *kt > time + TIME_EPS)
        }
    }
}

/// A parameter: a descriptor (during describe-in-context) or an instance's parameter.
pub(crate) struct ParamObj {
    pub name: String,
    pub ptype: ParamType,
    pub props: Box<PropertySet>,
    pub curve: Mutex<Curve>,
    /// Strings handed out by paramGetValue (kept alive for the parameter's life).
    strings: Mutex<Vec<CString>>,
    pub owner: Option<Arc<InstanceShared>>,
}

impl ParamObj {
    pub fn new_boxed(
        name: &str,
        ptype: ParamType,
        props: Box<PropertySet>,
        value: ParamValue,
        owner: Option<Arc<InstanceShared>>,
    ) -> Box<ParamObj> {
        let b = Box::new(ParamObj {
            name: name.to_owned(),
            ptype,
            props,
            curve: Mutex::new(Curve {
                value,
                keys: vec![],
            }),
            strings: Mutex::new(vec![]),
            owner,
        });
        registry::register(b.handle(), Kind::Param);
        b
    }
    pub fn handle(&self) -> OfxParamHandle {
        self as *const ParamObj as OfxParamHandle
    }
    fn current_time(&self) -> f64 {
        self.owner.as_ref().map(|o| o.time()).unwrap_or(0.0)
    }
    /// The default from the descriptor's properties.
    pub fn default_from_props(ptype: ParamType, props: &PropertySet) -> ParamValue {
        let d = kOfxParamPropDefault.to_str().unwrap_or_default();
        match ptype {
            ParamType::Double => ParamValue::Double(props.get_double(d).unwrap_or(0.0)),
            ParamType::Integer => ParamValue::Int(props.get_int(d).unwrap_or(0)),
            ParamType::Boolean => ParamValue::Bool(props.get_int(d).unwrap_or(0) != 0),
            ParamType::Choice => ParamValue::Choice(props.get_int(d).unwrap_or(0)),
            ParamType::String | ParamType::Custom => {
                ParamValue::String(props.get_str(d).unwrap_or_default())
            }
            t if t.double_dim() > 1 => {
                let mut v = props.get_doubles(d).unwrap_or_default();
                v.resize(t.double_dim(), 0.0);
                ParamValue::Doubles(v)
            }
            t if t.int_dim() > 1 => {
                let mut v = props.get_ints(d).unwrap_or_default();
                v.resize(t.int_dim(), 0);
                ParamValue::Ints(v)
            }
            _ => ParamValue::None,
        }
    }
    fn record_plugin_edit(&self, time: Option<f64>) {
        if let Some(o) = &self.owner {
            o.plugin_edits.lock().push((self.name.clone(), time));
        }
    }
    fn update_is_animating(&self, curve: &Curve) {
        self.props
            .def_int(kOfxParamPropIsAnimating, &[!curve.keys.is_empty() as i32]);
    }

    /// Writes a value through the plugin's out pointers.
    unsafe fn write_out(&self, v: &ParamValue, p: [*mut c_void; 4]) -> OfxStatus {
        let n = match v {
            ParamValue::Doubles(d) => d.len(),
            ParamValue::Ints(i) => i.len(),
            ParamValue::None => return kOfxStatErrUnsupported,
            _ => 1,
        };
        if p[..n].iter().any(|p| p.is_null()) {
            return kOfxStatErrBadHandle;
        }
        unsafe {
            match v {
                ParamValue::Double(d) => *(p[0] as *mut f64) = *d,
                ParamValue::Int(i) | ParamValue::Choice(i) => *(p[0] as *mut c_int) = *i,
                ParamValue::Bool(b) => *(p[0] as *mut c_int) = *b as c_int,
                ParamValue::String(s) => {
                    let c = CString::new(s.replace('\0', "")).unwrap_or_default();
                    let ptr = c.as_ptr();
                    self.strings.lock().push(c);
                    *(p[0] as *mut *const c_char) = ptr;
                }
                ParamValue::Doubles(d) => {
                    for (i, v) in d.iter().enumerate() {
                        *(p[i] as *mut f64) = *v;
                    }
                }
                ParamValue::Ints(d) => {
                    for (i, v) in d.iter().enumerate() {
                        *(p[i] as *mut c_int) = *v;
                    }
                }
                ParamValue::None => {}
            }
        }
        kOfxStatOK
    }

    /// Reads a value from the registers of a variadic setter.
    unsafe fn read_in(&self, i: [usize; 4], d: [f64; 4]) -> Option<ParamValue> {
        Some(match self.ptype {
            ParamType::Double => ParamValue::Double(d[0]),
            ParamType::Integer => ParamValue::Int(i[0] as c_int),
            ParamType::Boolean => ParamValue::Bool(i[0] as c_int != 0),
            ParamType::Choice => ParamValue::Choice(i[0] as c_int),
            ParamType::String | ParamType::Custom => {
                let p = i[0] as *const c_char;
                if p.is_null() {
                    return None;
                }
                ParamValue::String(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            }
            t if t.double_dim() > 1 => ParamValue::Doubles(d[..t.double_dim()].to_vec()),
            t if t.int_dim() > 1 => {
                ParamValue::Ints(i[..t.int_dim()].iter().map(|v| *v as c_int).collect())
            }
            _ => return None,
        })
    }
}

impl Drop for ParamObj {
    fn drop(&mut self) {
        registry::unregister(self.handle());
    }
}

/// A parameter set (of a descriptor or of an instance).
pub(crate) struct ParamSetObj {
    pub props: Box<PropertySet>,
    /// Boxed: the plugin holds their addresses as handles.
    #[allow(clippy::vec_box)]
    pub params: Mutex<Vec<Box<ParamObj>>>,
    /// Descriptor sets accept paramDefine; instance sets do not.
    pub is_descriptor: bool,
    pub owner: Option<Arc<InstanceShared>>,
}

impl ParamSetObj {
    pub fn new_boxed(is_descriptor: bool, owner: Option<Arc<InstanceShared>>) -> Box<ParamSetObj> {
        let b = Box::new(ParamSetObj {
            props: PropertySet::new_boxed(!is_descriptor),
            params: Mutex::new(vec![]),
            is_descriptor,
            owner,
        });
        registry::register(b.handle(), Kind::ParamSet);
        b
    }
    pub fn handle(&self) -> OfxParamSetHandle {
        self as *const ParamSetObj as OfxParamSetHandle
    }
    /// Runs `f` on the named parameter.
    pub fn with_param<R>(&self, name: &str, f: impl FnOnce(&ParamObj) -> R) -> Option<R> {
        let params = self.params.lock();
        params.iter().find(|p| p.name == name).map(|p| f(p))
    }
}

impl Drop for ParamSetObj {
    fn drop(&mut self) {
        registry::unregister(self.handle());
    }
}

/// The properties a freshly defined parameter descriptor has.
pub(crate) fn descriptor_props(ptype: ParamType, name: &str) -> Box<PropertySet> {
    let p = PropertySet::new_boxed(false);
    p.def_cstr(kOfxPropType, kOfxTypeParameter);
    p.def_str(kOfxPropName, &[name]);
    p.def_str(kOfxPropLabel, &[name]);
    p.def_str(kOfxPropShortLabel, &[name]);
    p.def_str(kOfxPropLongLabel, &[name]);
    p.def_cstr(kOfxParamPropType, ptype.ofx_name());
    p.def_int(kOfxParamPropSecret, &[0]);
    p.def_int(kOfxParamPropEnabled, &[1]);
    p.def_str(kOfxParamPropHint, &[""]);
    p.def_str(kOfxParamPropScriptName, &[name]);
    p.def_str(kOfxParamPropParent, &[""]);
    p.def_ptr(kOfxParamPropDataPtr, std::ptr::null_mut());
    p.def_int(kOfxParamPropEvaluateOnChange, &[1]);
    if ptype.has_value() {
        p.def_int(kOfxParamPropAnimates, &[1]);
        p.def_int(kOfxParamPropIsAnimating, &[0]);
        p.def_int(kOfxParamPropIsAutoKeying, &[0]);
        p.def_int(kOfxParamPropPersistant, &[1]);
        p.def_int(kOfxParamPropCanUndo, &[1]);
    }
    let dd = ptype.double_dim();
    let id = if ptype == ParamType::Integer {
        1
    } else {
        ptype.int_dim()
    };
    if dd > 0 {
        p.def_double(kOfxParamPropDefault, &vec![0.0; dd]);
        p.def_double(kOfxParamPropMin, &vec![-f64::MAX; dd]);
        p.def_double(kOfxParamPropMax, &vec![f64::MAX; dd]);
        p.def_double(kOfxParamPropDisplayMin, &vec![-f64::MAX; dd]);
        p.def_double(kOfxParamPropDisplayMax, &vec![f64::MAX; dd]);
        p.def_double(kOfxParamPropIncrement, &[1.0]);
        p.def_int(kOfxParamPropDigits, &[2]);
        p.def_cstr(kOfxParamPropDoubleType, kOfxParamDoubleTypePlain);
    } else if id > 0 {
        p.def_int(kOfxParamPropDefault, &vec![0; id]);
        p.def_int(kOfxParamPropMin, &vec![i32::MIN; id]);
        p.def_int(kOfxParamPropMax, &vec![i32::MAX; id]);
        p.def_int(kOfxParamPropDisplayMin, &vec![i32::MIN; id]);
        p.def_int(kOfxParamPropDisplayMax, &vec![i32::MAX; id]);
    }
    if dd > 1 || id > 1 {
        p.def_str(
            kOfxParamPropDimensionLabel,
            &["x", "y", "z", "w"][..dd.max(id)],
        );
    }
    match ptype {
        ParamType::Boolean => p.def_int(kOfxParamPropDefault, &[0]),
        ParamType::Choice => {
            p.def_int(kOfxParamPropDefault, &[0]);
            p.def_str_var(kOfxParamPropChoiceOption, &[]);
        }
        ParamType::String => {
            p.def_str(kOfxParamPropDefault, &[""]);
            p.def_cstr(kOfxParamPropStringMode, kOfxParamStringIsSingleLine);
            p.def_int(kOfxParamPropStringFilePathExists, &[1]);
        }
        ParamType::Custom => p.def_str(kOfxParamPropDefault, &[""]),
        ParamType::Group => p.def_int(kOfxParamPropGroupOpen, &[1]),
        ParamType::Page => p.def_str_var(kOfxParamPropPageChild, &[]),
        _ => {}
    }
    p
}

// ---------------------------------------------------------------------------------------------
// OfxParameterSuiteV1
// ---------------------------------------------------------------------------------------------

unsafe fn param_set<'a>(h: OfxParamSetHandle) -> Option<&'a ParamSetObj> {
    unsafe { registry::lookup(h, Kind::ParamSet) }
}
unsafe fn param<'a>(h: OfxParamHandle) -> Option<&'a ParamObj> {
    unsafe { registry::lookup(h, Kind::Param) }
}
unsafe fn str_arg(s: *const c_char) -> Option<String> {
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
}

unsafe extern "C" fn param_define(
    set: OfxParamSetHandle,
    ptype: *const c_char,
    name: *const c_char,
    props: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(set) = (unsafe { param_set(set) }) else {
            return kOfxStatErrBadHandle;
        };
        let Some(name) = (unsafe { str_arg(name) }) else {
            return kOfxStatErrValue;
        };
        if ptype.is_null() {
            return kOfxStatErrUnknown;
        }
        let Some(pt) = ParamType::from_ofx(unsafe { CStr::from_ptr(ptype) }) else {
            return kOfxStatErrUnknown;
        };
        if !set.is_descriptor {
            return kOfxStatErrBadHandle;
        }
        let mut params = set.params.lock();
        if params.iter().any(|p| p.name == name) {
            return kOfxStatErrExists;
        }
        let descriptor = descriptor_props(pt, &name);
        descriptor.set_policy(set.props.policy());
        let obj = ParamObj::new_boxed(&name, pt, descriptor, ParamValue::None, None);
        if !props.is_null() {
            unsafe { *props = obj.props.handle() };
        }
        params.push(obj);
        kOfxStatOK
    })
}

unsafe extern "C" fn param_get_handle(
    set: OfxParamSetHandle,
    name: *const c_char,
    out: *mut OfxParamHandle,
    props: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(set) = (unsafe { param_set(set) }) else {
            return kOfxStatErrBadHandle;
        };
        let Some(name) = (unsafe { str_arg(name) }) else {
            return kOfxStatErrUnknown;
        };
        set.with_param(&name, |p| {
            if !out.is_null() {
                unsafe { *out = p.handle() };
            }
            if !props.is_null() {
                unsafe { *props = p.props.handle() };
            }
            kOfxStatOK
        })
        .unwrap_or(kOfxStatErrUnknown)
    })
}

unsafe extern "C" fn param_set_get_property_set(
    set: OfxParamSetHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(set) = (unsafe { param_set(set) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = set.props.handle() };
        kOfxStatOK
    })
}

unsafe extern "C" fn param_get_property_set(
    p: OfxParamHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(p) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = p.props.handle() };
        kOfxStatOK
    })
}

/// `paramGetValue(handle, ...)`: see the module docs for why this is not variadic.
unsafe extern "C" fn param_get_value(
    h: OfxParamHandle,
    p1: *mut c_void,
    p2: *mut c_void,
    p3: *mut c_void,
    p4: *mut c_void,
) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let v = p.curve.lock().value_at(p.ptype, p.current_time());
        unsafe { p.write_out(&v, [p1, p2, p3, p4]) }
    })
}

/// `paramGetValueAtTime(handle, time, ...)`.
unsafe extern "C" fn param_get_value_at_time(
    h: OfxParamHandle,
    time: OfxTime,
    p1: *mut c_void,
    p2: *mut c_void,
    p3: *mut c_void,
    p4: *mut c_void,
) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let v = p.curve.lock().value_at(p.ptype, time);
        unsafe { p.write_out(&v, [p1, p2, p3, p4]) }
    })
}

/// `paramGetDerivative(handle, time, ...)` / `paramGetIntegral(handle, t1, t2, ...)`.
unsafe extern "C" fn param_unsupported(h: OfxParamHandle) -> OfxStatus {
    guard(|| match unsafe { param(h) } {
        Some(_) => kOfxStatErrUnsupported,
        None => kOfxStatErrBadHandle,
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn set_value_common(
    h: OfxParamHandle,
    time: Option<f64>,
    i: [usize; 4],
    d: [f64; 4],
) -> OfxStatus {
    let Some(p) = (unsafe { param(h) }) else {
        return kOfxStatErrBadHandle;
    };
    let Some(v) = (unsafe { p.read_in(i, d) }) else {
        return if p.ptype.has_value() {
            kOfxStatErrValue
        } else {
            kOfxStatErrUnsupported
        };
    };
    let mut curve = p.curve.lock();
    match time {
        Some(t) => curve.set_key(t, v),
        // On an animated parameter, setting the value sets a key at the current time.
        None if !curve.keys.is_empty() => curve.set_key(p.current_time(), v),
        None => curve.value = v,
    }
    p.update_is_animating(&curve);
    drop(curve);
    p.record_plugin_edit(time);
    kOfxStatOK
}

/// `paramSetValue(handle, ...)`: ints (and string pointers) arrive in `i*`, doubles in `d*`.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn param_set_value(
    h: OfxParamHandle,
    i1: usize,
    i2: usize,
    i3: usize,
    i4: usize,
    d1: f64,
    d2: f64,
    d3: f64,
    d4: f64,
) -> OfxStatus {
    guard(|| unsafe { set_value_common(h, None, [i1, i2, i3, i4], [d1, d2, d3, d4]) })
}

/// `paramSetValueAtTime(handle, time, ...)`.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn param_set_value_at_time(
    h: OfxParamHandle,
    time: OfxTime,
    i1: usize,
    i2: usize,
    i3: usize,
    i4: usize,
    d1: f64,
    d2: f64,
    d3: f64,
    d4: f64,
) -> OfxStatus {
    guard(|| unsafe { set_value_common(h, Some(time), [i1, i2, i3, i4], [d1, d2, d3, d4]) })
}

unsafe extern "C" fn param_get_num_keys(h: OfxParamHandle, out: *mut c_uint) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = p.curve.lock().keys.len() as c_uint };
        kOfxStatOK
    })
}

unsafe extern "C" fn param_get_key_time(
    h: OfxParamHandle,
    n: c_uint,
    out: *mut OfxTime,
) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let curve = p.curve.lock();
        let Some((t, _)) = curve.keys.get(n as usize) else {
            return kOfxStatErrBadIndex;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = *t };
        kOfxStatOK
    })
}

unsafe extern "C" fn param_get_key_index(
    h: OfxParamHandle,
    time: OfxTime,
    direction: c_int,
    out: *mut c_int,
) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let Some(i) = p.curve.lock().key_index(time, direction) else {
            return kOfxStatFailed;
        };
        if out.is_null() {
            return kOfxStatErrBadHandle;
        }
        unsafe { *out = i as c_int };
        kOfxStatOK
    })
}

unsafe extern "C" fn param_delete_key(h: OfxParamHandle, time: OfxTime) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let mut curve = p.curve.lock();
        let Some(i) = curve.key_index(time, 0) else {
            return kOfxStatErrBadIndex;
        };
        let (_, v) = curve.keys.remove(i);
        if curve.keys.is_empty() {
            curve.value = v;
        }
        p.update_is_animating(&curve);
        kOfxStatOK
    })
}

unsafe extern "C" fn param_delete_all_keys(h: OfxParamHandle) -> OfxStatus {
    guard(|| {
        let Some(p) = (unsafe { param(h) }) else {
            return kOfxStatErrBadHandle;
        };
        let mut curve = p.curve.lock();
        let now = curve.value_at(p.ptype, p.current_time());
        curve.keys.clear();
        curve.value = now;
        p.update_is_animating(&curve);
        kOfxStatOK
    })
}

unsafe extern "C" fn param_copy(
    to: OfxParamHandle,
    from: OfxParamHandle,
    _offset: OfxTime,
    _range: *const OfxRangeD,
) -> OfxStatus {
    guard(|| match unsafe { (param(to), param(from)) } {
        (Some(_), Some(_)) => kOfxStatErrUnsupported,
        _ => kOfxStatErrBadHandle,
    })
}

unsafe extern "C" fn param_edit_begin(set: OfxParamSetHandle, _name: *const c_char) -> OfxStatus {
    guard(|| {
        let Some(set) = (unsafe { param_set(set) }) else {
            return kOfxStatErrBadHandle;
        };
        if let Some(o) = &set.owner {
            o.edit_depth.lock().0 += 1;
        }
        kOfxStatOK
    })
}

unsafe extern "C" fn param_edit_end(set: OfxParamSetHandle) -> OfxStatus {
    guard(|| {
        let Some(set) = (unsafe { param_set(set) }) else {
            return kOfxStatErrBadHandle;
        };
        if let Some(o) = &set.owner {
            let mut d = o.edit_depth.lock();
            if d.0 == 0 {
                return kOfxStatFailed;
            }
            d.0 -= 1;
            d.1 += 1;
        }
        kOfxStatOK
    })
}

type GetValue = unsafe extern "C" fn(
    OfxParamHandle,
    *mut c_void,
    *mut c_void,
    *mut c_void,
    *mut c_void,
) -> OfxStatus;
type GetValueAtTime = unsafe extern "C" fn(
    OfxParamHandle,
    OfxTime,
    *mut c_void,
    *mut c_void,
    *mut c_void,
    *mut c_void,
) -> OfxStatus;
type SetValue = unsafe extern "C" fn(
    OfxParamHandle,
    usize,
    usize,
    usize,
    usize,
    f64,
    f64,
    f64,
    f64,
) -> OfxStatus;
type SetValueAtTime = unsafe extern "C" fn(
    OfxParamHandle,
    OfxTime,
    usize,
    usize,
    usize,
    usize,
    f64,
    f64,
    f64,
    f64,
) -> OfxStatus;
type Unsupported = unsafe extern "C" fn(OfxParamHandle) -> OfxStatus;

/// The suite. The transmutes turn non-variadic functions into the variadic pointer types; see
/// the module docs (x86-64 System V only).
pub(crate) static PARAMETER_SUITE: OfxParameterSuiteV1 = unsafe {
    OfxParameterSuiteV1 {
        paramDefine: param_define,
        paramGetHandle: param_get_handle,
        paramSetGetPropertySet: param_set_get_property_set,
        paramGetPropertySet: param_get_property_set,
        paramGetValue: std::mem::transmute::<
            GetValue,
            unsafe extern "C" fn(OfxParamHandle, ...) -> OfxStatus,
        >(param_get_value),
        paramGetValueAtTime: std::mem::transmute::<
            GetValueAtTime,
            unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
        >(param_get_value_at_time),
        paramGetDerivative: std::mem::transmute::<
            Unsupported,
            unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
        >(param_unsupported),
        paramGetIntegral: std::mem::transmute::<
            Unsupported,
            unsafe extern "C" fn(OfxParamHandle, OfxTime, OfxTime, ...) -> OfxStatus,
        >(param_unsupported),
        paramSetValue: std::mem::transmute::<
            SetValue,
            unsafe extern "C" fn(OfxParamHandle, ...) -> OfxStatus,
        >(param_set_value),
        paramSetValueAtTime: std::mem::transmute::<
            SetValueAtTime,
            unsafe extern "C" fn(OfxParamHandle, OfxTime, ...) -> OfxStatus,
        >(param_set_value_at_time),
        paramGetNumKeys: param_get_num_keys,
        paramGetKeyTime: param_get_key_time,
        paramGetKeyIndex: param_get_key_index,
        paramDeleteKey: param_delete_key,
        paramDeleteAllKeys: param_delete_all_keys,
        paramCopy: param_copy,
        paramEditBegin: param_edit_begin,
        paramEditEnd: param_edit_end,
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframe_interpolation() {
        let mut c = Curve {
            value: ParamValue::Double(7.0),
            keys: vec![],
        };
        assert_eq!(c.value_at(ParamType::Double, 3.0), ParamValue::Double(7.0));
        c.set_key(10.0, ParamValue::Double(1.0));
        c.set_key(0.0, ParamValue::Double(0.0));
        c.set_key(20.0, ParamValue::Double(3.0));
        assert_eq!(
            c.keys.iter().map(|k| k.0).collect::<Vec<_>>(),
            vec![0.0, 10.0, 20.0]
        );
        assert_eq!(c.value_at(ParamType::Double, -5.0), ParamValue::Double(0.0));
        assert_eq!(c.value_at(ParamType::Double, 5.0), ParamValue::Double(0.5));
        assert_eq!(c.value_at(ParamType::Double, 10.0), ParamValue::Double(1.0));
        assert_eq!(c.value_at(ParamType::Double, 15.0), ParamValue::Double(2.0));
        assert_eq!(c.value_at(ParamType::Double, 25.0), ParamValue::Double(3.0));
        assert_eq!(c.key_index(10.0, 0), Some(1));
        assert_eq!(c.key_index(10.0, -1), Some(0));
        assert_eq!(c.key_index(10.0, 1), Some(2));
        assert_eq!(c.key_index(20.0, 1), None);
        assert_eq!(c.key_index(11.0, 0), None);

        let mut i = Curve {
            value: ParamValue::Int(0),
            keys: vec![],
        };
        i.set_key(0.0, ParamValue::Int(1));
        i.set_key(10.0, ParamValue::Int(5));
        assert_eq!(i.value_at(ParamType::Integer, 9.9), ParamValue::Int(1));
        assert_eq!(i.value_at(ParamType::Integer, 10.0), ParamValue::Int(5));
        assert_eq!(i.value_at(ParamType::Integer, -1.0), ParamValue::Int(1));

        let mut v = Curve {
            value: ParamValue::Doubles(vec![0.0, 0.0]),
            keys: vec![],
        };
        v.set_key(0.0, ParamValue::Doubles(vec![0.0, 10.0]));
        v.set_key(4.0, ParamValue::Doubles(vec![4.0, 30.0]));
        assert_eq!(
            v.value_at(ParamType::Double2D, 1.0),
            ParamValue::Doubles(vec![1.0, 15.0])
        );
    }

    #[test]
    fn variadic_calls_through_the_suite() {
        let s = &PARAMETER_SUITE;
        let set = ParamSetObj::new_boxed(true, None);
        unsafe {
            let mut props = std::ptr::null_mut();
            assert_eq!(
                (s.paramDefine)(
                    set.handle(),
                    kOfxParamTypeDouble.as_ptr(),
                    c"d".as_ptr(),
                    &mut props
                ),
                kOfxStatOK
            );
            assert_eq!(
                (s.paramDefine)(
                    set.handle(),
                    kOfxParamTypeDouble.as_ptr(),
                    c"d".as_ptr(),
                    &mut props
                ),
                kOfxStatErrExists
            );
            assert_eq!(
                (s.paramDefine)(set.handle(), c"Nope".as_ptr(), c"x".as_ptr(), &mut props),
                kOfxStatErrUnknown
            );
            (s.paramDefine)(
                set.handle(),
                kOfxParamTypeString.as_ptr(),
                c"s".as_ptr(),
                &mut props,
            );
            (s.paramDefine)(
                set.handle(),
                kOfxParamTypeChoice.as_ptr(),
                c"c".as_ptr(),
                &mut props,
            );
            (s.paramDefine)(
                set.handle(),
                kOfxParamTypeRGB.as_ptr(),
                c"rgb".as_ptr(),
                &mut props,
            );
            let mut h = std::ptr::null_mut();
            assert_eq!(
                (s.paramGetHandle)(set.handle(), c"d".as_ptr(), &mut h, std::ptr::null_mut()),
                kOfxStatOK
            );
            assert_eq!((s.paramSetValueAtTime)(h, 0.0, 2.0f64), kOfxStatOK);
            assert_eq!((s.paramSetValueAtTime)(h, 10.0, 4.0f64), kOfxStatOK);
            let mut d = 0.0f64;
            assert_eq!(
                (s.paramGetValueAtTime)(h, 5.0, &mut d as *mut f64),
                kOfxStatOK
            );
            assert_eq!(d, 3.0);
            let mut n = 0;
            (s.paramGetNumKeys)(h, &mut n);
            assert_eq!(n, 2);
            let mut t = 0.0;
            assert_eq!((s.paramGetKeyTime)(h, 2, &mut t), kOfxStatErrBadIndex);
            assert_eq!((s.paramDeleteKey)(h, 3.0), kOfxStatErrBadIndex);
            assert_eq!(
                (s.paramGetDerivative)(h, 0.0, &mut d as *mut f64),
                kOfxStatErrUnsupported
            );

            (s.paramGetHandle)(set.handle(), c"s".as_ptr(), &mut h, std::ptr::null_mut());
            assert_eq!((s.paramSetValue)(h, c"hello".as_ptr()), kOfxStatOK);
            let mut sp: *const c_char = std::ptr::null();
            assert_eq!(
                (s.paramGetValue)(h, &mut sp as *mut *const c_char),
                kOfxStatOK
            );
            assert_eq!(CStr::from_ptr(sp), c"hello");

            (s.paramGetHandle)(set.handle(), c"c".as_ptr(), &mut h, std::ptr::null_mut());
            assert_eq!((s.paramSetValue)(h, 2 as c_int), kOfxStatOK);
            let mut i: c_int = 0;
            (s.paramGetValue)(h, &mut i as *mut c_int);
            assert_eq!(i, 2);

            (s.paramGetHandle)(set.handle(), c"rgb".as_ptr(), &mut h, std::ptr::null_mut());
            assert_eq!((s.paramSetValue)(h, 0.25f64, 0.5f64, 0.75f64), kOfxStatOK);
            let (mut r, mut g, mut b) = (0.0f64, 0.0f64, 0.0f64);
            (s.paramGetValue)(
                h,
                &mut r as *mut f64,
                &mut g as *mut f64,
                &mut b as *mut f64,
            );
            assert_eq!((r, g, b), (0.25, 0.5, 0.75));
        }
    }
}
