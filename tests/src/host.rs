//! The host: profiles, host properties, `fetchSuite`, bundle scanning and loading, plugins and
//! their descriptors.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dreamfx_host_adapter::sys::*;
use libloading::Library;
use parking_lot::Mutex;

use crate::effect::{self, EffectKind, EffectObj, InstanceShared, Message};
use crate::params::{ParamSetObj, ParamType};
use crate::pixels::{BitDepth, Components};
use crate::props::{PropSnapshot, PropertySet};

// Host properties not in sys.rs.

/// An OFX context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// OfxImageEffectContextFilter
    Filter,
    /// OfxImageEffectContextGeneral
    General,
    /// OfxImageEffectContextGenerator
    Generator,
}

impl Context {
    /// The OFX name.
    pub fn ofx_name(self) -> &'static CStr {
        match self {
            Context::Filter => kOfxImageEffectContextFilter,
            Context::General => kOfxImageEffectContextGeneral,
            Context::Generator => kOfxImageEffectContextGenerator,
        }
    }
    /// From the OFX name.
    pub fn from_ofx(s: &str) -> Option<Context> {
        [Context::Filter, Context::General, Context::Generator]
            .into_iter()
            .find(|c| c.ofx_name().to_str() == Ok(s))
    }
}

/// Which progress suites `fetchSuite` hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressSuite {
    /// fetchSuite returns NULL for the progress suite.
    None,
    /// Only version 1.
    V1,
    /// Versions 1 and 2.
    V2,
}

/// How the host behaves. Quirks are by behaviour, never by host name (DESIGN.md §5).
#[derive(Debug, Clone)]
pub struct HostProfile {
    /// kOfxPropName of the host.
    pub name: String,
    /// kOfxPropLabel of the host.
    pub label: String,
    /// Wrap each kOfxActionInstanceChanged in Begin/EndInstanceChanged.
    pub send_begin_end_instance_changed: bool,
    /// Offer OfxMessageSuite version 2 (version 1 is always offered).
    pub message_suite_v2: bool,
    /// The V2 message suite's setPersistentMessage/clearPersistentMessage are NULL.
    pub persistent_message_fn_null: bool,
    /// Which progress suites exist.
    pub progress_suite: ProgressSuite,
    /// Each `Instance::render` creates a fresh instance (same params), renders and destroys it.
    pub new_instance_per_frame: bool,
    /// clipGetImage returns only the requested region of a source frame (else the whole frame).
    pub crop_images_to_region: bool,
    /// kOfxImageEffectPropSupportedContexts.
    pub contexts: Vec<Context>,
    /// kOfxImageEffectPropSupportedPixelDepths.
    pub depths: Vec<BitDepth>,
    /// kOfxImageEffectPropSupportedComponents.
    pub components: Vec<Components>,
    /// kOfxImageEffectPropTemporalClipAccess.
    pub temporal_clip_access: bool,
    /// kOfxImageEffectPropSupportsMultiResolution.
    pub multi_resolution: bool,
    /// kOfxImageEffectPropSupportsTiles.
    pub tiles: bool,
    /// kOfxImageEffectPropSupportsMultipleClipDepths.
    pub multiple_clip_depths: bool,
    /// kOfxImageEffectHostPropIsBackground.
    pub is_background: bool,
    /// dlclose the plugin when the last user is gone (default false: like many hosts, never
    /// unload the binary, so plugin threads that outlive kOfxActionUnload cannot crash).
    pub dlclose_on_drop: bool,
    /// Descriptors refuse (kOfxStatErrUnknown) a property name the official headers do not
    /// define, as the official HostSupport library (Natron) does; else any name is accepted, as
    /// MLT and this host's default do.
    pub strict_property_names: bool,
    /// Property names this host does not know (an older host): setting one is
    /// kOfxStatErrUnknown.
    pub unknown_properties: Vec<String>,
    /// clipGetImage on an input returns the frame at the time being rendered, whatever time is
    /// asked for (MLT: no temporal access in practice).
    pub images_only_at_render_time: bool,
}

impl HostProfile {
    /// What descriptors accept, from `strict_property_names` and `unknown_properties`.
    pub(crate) fn name_policy(&self) -> crate::props::NamePolicy {
        crate::props::NamePolicy {
            official_only: self.strict_property_names,
            unknown: Arc::new(self.unknown_properties.clone()),
        }
    }

    /// The official HostSupport library (the host code Natron is built on): strict property
    /// names.
    pub fn hostsupport() -> Self {
        HostProfile {
            name: "dreamfx.testhost.hostsupport".into(),
            strict_property_names: true,
            ..Self::default()
        }
    }

    /// DaVinci Resolve, as its SDK notes and users describe it: the message suite V2's
    /// persistent-message functions may be NULL and instances are recreated often (a fresh
    /// instance per render here). (Its scaled Edit-page renders are not modelled yet.)
    pub fn resolve() -> Self {
        HostProfile {
            name: "dreamfx.testhost.resolve".into(),
            contexts: vec![Context::General, Context::Filter, Context::Generator],
            persistent_message_fn_null: true,
            new_instance_per_frame: true,
            ..Self::default()
        }
    }

    /// MLT 7.40 (Kdenlive, Shotcut), as measured (DESIGN.md §7): filter context only, no
    /// temporal access (it says so, and clipGetImage ignores the time asked for), a fresh
    /// instance for every frame (its frame-threaded mode), any property name accepted,
    /// Begin/EndInstanceChanged not sent.
    pub fn mlt() -> Self {
        HostProfile {
            name: "dreamfx.testhost.mlt".into(),
            contexts: vec![Context::Filter],
            temporal_clip_access: false,
            images_only_at_render_time: true,
            new_instance_per_frame: true,
            send_begin_end_instance_changed: false,
            ..Self::default()
        }
    }

    /// Nuke: no generator context, float images only.
    pub fn nuke() -> Self {
        HostProfile {
            name: "dreamfx.testhost.nuke".into(),
            contexts: vec![Context::Filter, Context::General],
            depths: vec![BitDepth::Float],
            ..Self::default()
        }
    }
}

impl Default for HostProfile {
    fn default() -> Self {
        HostProfile {
            name: "dreamfx.testhost".into(),
            label: "dreamfx test host".into(),
            send_begin_end_instance_changed: true,
            message_suite_v2: true,
            persistent_message_fn_null: false,
            progress_suite: ProgressSuite::V2,
            new_instance_per_frame: false,
            crop_images_to_region: false,
            contexts: vec![Context::Filter, Context::General, Context::Generator],
            depths: BitDepth::ALL.to_vec(),
            components: Components::ALL.to_vec(),
            temporal_clip_access: true,
            multi_resolution: true,
            tiles: true,
            multiple_clip_depths: false,
            is_background: false,
            dlclose_on_drop: false,
            strict_property_names: false,
            unknown_properties: Vec::new(),
            images_only_at_render_time: false,
        }
    }
}

/// An OFX status code.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Status(pub i32);

impl Status {
    /// The kOfxStat* name.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 15] = [
            "kOfxStatOK",
            "kOfxStatFailed",
            "kOfxStatErrFatal",
            "kOfxStatErrUnknown",
            "kOfxStatErrMissingHostFeature",
            "kOfxStatErrUnsupported",
            "kOfxStatErrExists",
            "kOfxStatErrFormat",
            "kOfxStatErrMemory",
            "kOfxStatErrBadHandle",
            "kOfxStatErrBadIndex",
            "kOfxStatErrValue",
            "kOfxStatReplyYes",
            "kOfxStatReplyNo",
            "kOfxStatReplyDefault",
        ];
        NAMES
            .get(self.0 as usize)
            .copied()
            .unwrap_or("unknown status")
    }
}
impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What can go wrong driving a plugin.
#[derive(Debug)]
pub enum HostError {
    /// The bundle or binary could not be loaded.
    Load(String),
    /// No plugin with that id in the bundle.
    NoSuchPlugin(String),
    /// An action returned a failure status.
    Action {
        /// The action name.
        action: String,
        /// What it returned.
        status: Status,
    },
    /// Misuse of the test host or a broken plugin answer.
    Other(String),
}

impl HostError {
    /// The status of a failed action.
    pub fn status(&self) -> Option<Status> {
        match self {
            HostError::Action { status, .. } => Some(*status),
            _ => None,
        }
    }
}
impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Load(m) => write!(f, "cannot load: {m}"),
            HostError::NoSuchPlugin(id) => write!(f, "no plugin {id:?} in the bundle"),
            HostError::Action { action, status } => write!(f, "{action} returned {status}"),
            HostError::Other(m) => f.write_str(m),
        }
    }
}
impl std::error::Error for HostError {}

/// Result of the test host.
pub type Result<T, E = HostError> = std::result::Result<T, E>;

/// Host-wide state. Its property set's `aux` points back at it (for fetchSuite).
pub(crate) struct HostShared {
    pub profile: HostProfile,
    pub props: Box<PropertySet>,
    ofx_host: Box<OfxHost>,
    pub fetched_suites: Mutex<Vec<(String, i32, bool)>>,
}

// SAFETY: `ofx_host` holds only a pointer to `props` (owned here, internally locked) and a
// function pointer; nothing in it is mutated after construction.
unsafe impl Send for HostShared {}
unsafe impl Sync for HostShared {}

impl HostShared {
    pub fn ofx_host_ptr(&self) -> *mut OfxHost {
        &*self.ofx_host as *const OfxHost as *mut OfxHost
    }
}

fn host_props(p: &HostProfile) -> Box<PropertySet> {
    let s = PropertySet::new_boxed(true);
    s.def_cstr(kOfxPropType, kOfxTypeImageEffectHost);
    s.def_str(kOfxPropName, &[&p.name]);
    s.def_str(kOfxPropLabel, &[&p.label]);
    s.def_int(kOfxPropVersion, &[1, 0, 0]);
    s.def_str(kOfxPropVersionLabel, &["1.0"]);
    s.def_int(kOfxPropAPIVersion, &[1, 4]);
    s.def_int(
        kOfxImageEffectHostPropIsBackground,
        &[p.is_background as i32],
    );
    let ctx: Vec<&str> = p
        .contexts
        .iter()
        .map(|c| c.ofx_name().to_str().unwrap_or_default())
        .collect();
    s.def_str(kOfxImageEffectPropSupportedContexts, &ctx);
    let d: Vec<&str> = p
        .depths
        .iter()
        .map(|d| d.ofx_name().to_str().unwrap_or_default())
        .collect();
    s.def_str(kOfxImageEffectPropSupportedPixelDepths, &d);
    let c: Vec<&str> = p
        .components
        .iter()
        .map(|c| c.ofx_name().to_str().unwrap_or_default())
        .collect();
    s.def_str(kOfxImageEffectPropSupportedComponents, &c);
    s.def_int(
        kOfxImageEffectPropTemporalClipAccess,
        &[p.temporal_clip_access as i32],
    );
    s.def_int(
        kOfxImageEffectPropSupportsMultiResolution,
        &[p.multi_resolution as i32],
    );
    s.def_int(kOfxImageEffectPropSupportsTiles, &[p.tiles as i32]);
    s.def_int(
        kOfxImageEffectPropSupportsMultipleClipDepths,
        &[p.multiple_clip_depths as i32],
    );
    s.def_int(kOfxImageEffectPropSupportsMultipleClipPARs, &[0]);
    s.def_int(kOfxImageEffectPropSupportsOverlays, &[0]);
    s.def_int(kOfxImageEffectPropSetableFrameRate, &[0]);
    s.def_int(kOfxImageEffectPropSetableFielding, &[0]);
    s.def_int(kOfxImageEffectInstancePropSequentialRender, &[1]);
    s.def_int(kOfxParamHostPropSupportsCustomInteract, &[0]);
    s.def_int(kOfxParamHostPropSupportsCustomAnimation, &[0]);
    s.def_int(kOfxParamHostPropSupportsStringAnimation, &[1]);
    s.def_int(kOfxParamHostPropSupportsChoiceAnimation, &[1]);
    s.def_int(kOfxParamHostPropSupportsBooleanAnimation, &[1]);
    s.def_int(kOfxParamHostPropSupportsParametricAnimation, &[0]);
    s.def_int(kOfxParamHostPropMaxParameters, &[-1]);
    s.def_int(kOfxParamHostPropMaxPages, &[0]);
    s.def_int(kOfxParamHostPropPageRowColumnCount, &[0, 0]);
    s
}

unsafe extern "C" fn fetch_suite(
    host: OfxPropertySetHandle,
    name: *const c_char,
    version: c_int,
) -> *const c_void {
    std::panic::catch_unwind(|| {
        let set = unsafe { PropertySet::from_handle(host) }?;
        let shared = set.aux.load(std::sync::atomic::Ordering::SeqCst) as *const HostShared;
        if shared.is_null() || name.is_null() {
            return None;
        }
        // SAFETY: aux is set by TestHost::new to the Arc<HostShared> that owns this set.
        let shared = unsafe { &*shared };
        let p = &shared.profile;
        let name = unsafe { CStr::from_ptr(name) };
        let suite: *const c_void = match (name, version) {
            (n, 1) if n == kOfxPropertySuite => &crate::props::PROPERTY_SUITE as *const _ as _,
            (n, 1) if n == kOfxImageEffectSuite => &effect::IMAGE_EFFECT_SUITE as *const _ as _,
            (n, 1) if n == kOfxParameterSuite => &crate::params::PARAMETER_SUITE as *const _ as _,
            (n, 1) if n == kOfxMessageSuite => &effect::MESSAGE_SUITE_V1 as *const _ as _,
            (n, 2) if n == kOfxMessageSuite && p.message_suite_v2 => {
                if p.persistent_message_fn_null {
                    &effect::MESSAGE_SUITE_V2_NULL_PERSISTENT as *const _ as _
                } else {
                    &effect::MESSAGE_SUITE_V2 as *const _ as _
                }
            }
            (n, 1) if n == kOfxProgressSuite && p.progress_suite != ProgressSuite::None => {
                &effect::PROGRESS_SUITE_V1 as *const _ as _
            }
            (n, 2) if n == kOfxProgressSuite && p.progress_suite == ProgressSuite::V2 => {
                &effect::PROGRESS_SUITE_V2 as *const _ as _
            }
            _ => std::ptr::null(),
        };
        shared.fetched_suites.lock().push((
            name.to_string_lossy().into_owned(),
            version,
            !suite.is_null(),
        ));
        Some(suite)
    })
    .ok()
    .flatten()
    .unwrap_or(std::ptr::null())
}

/// A host. Cheap to clone; bundles, plugins and instances keep it alive.
#[derive(Clone)]
pub struct TestHost {
    pub(crate) shared: Arc<HostShared>,
}

impl TestHost {
    /// A host behaving as `profile` says.
    pub fn new(profile: HostProfile) -> TestHost {
        let props = host_props(&profile);
        let ofx_host = Box::new(OfxHost {
            host: props.handle(),
            fetchSuite: Some(fetch_suite),
        });
        let shared = Arc::new(HostShared {
            profile,
            props,
            ofx_host,
            fetched_suites: Mutex::default(),
        });
        shared.props.aux.store(
            Arc::as_ptr(&shared) as usize,
            std::sync::atomic::Ordering::SeqCst,
        );
        TestHost { shared }
    }

    /// The profile.
    pub fn profile(&self) -> &HostProfile {
        &self.shared.profile
    }

    /// The host property set as the plugin sees it.
    pub fn properties(&self) -> PropSnapshot {
        self.shared.props.snapshot()
    }

    /// Every fetchSuite call: (suite name, version, whether a suite was returned).
    pub fn fetched_suites(&self) -> Vec<(String, i32, bool)> {
        self.shared.fetched_suites.lock().clone()
    }

    /// Messages sent with a NULL or unknown handle (process-wide).
    pub fn unowned_messages() -> Vec<Message> {
        effect::UNOWNED_MESSAGES.lock().clone()
    }

    /// Image memory allocated with imageMemoryAlloc and not freed (process-wide).
    pub fn live_image_memory() -> usize {
        effect::LIVE_IMAGE_MEMORY.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Loads `X.ofx.bundle`: dlopens `Contents/Linux-x86-64/X.ofx` and reads its plugins.
    /// setHost and kOfxActionLoad are sent when a plugin is first taken with [`Bundle::plugin`].
    pub fn load_bundle(&self, bundle: impl AsRef<Path>) -> Result<Bundle> {
        let bundle = bundle.as_ref().to_path_buf();
        let file = bundle
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(stem) = file.strip_suffix(".ofx.bundle") else {
            return Err(HostError::Load(format!(
                "{} is not a *.ofx.bundle directory",
                bundle.display()
            )));
        };
        let binary = bundle
            .join("Contents")
            .join("Linux-x86-64")
            .join(format!("{stem}.ofx"));
        if !binary.is_file() {
            return Err(HostError::Load(format!(
                "{} does not exist",
                binary.display()
            )));
        }
        // SAFETY: loading a plugin runs its initialisers; that is what this host is for.
        let lib = unsafe { Library::new(&binary) }
            .map_err(|e| HostError::Load(format!("{}: {e}", binary.display())))?;
        let (count, get) = unsafe {
            let n = lib
                .get::<OfxGetNumberOfPluginsFn>(b"OfxGetNumberOfPlugins")
                .map_err(|e| HostError::Load(format!("OfxGetNumberOfPlugins: {e}")))?;
            let g = lib
                .get::<OfxGetPluginFn>(b"OfxGetPlugin")
                .map_err(|e| HostError::Load(format!("OfxGetPlugin: {e}")))?;
            (*n, *g)
        };
        // SAFETY: the entry points come from the library, which the bundle keeps loaded.
        unsafe { self.bundle_from_entry_points(bundle, binary, Some(lib), count, get) }
    }

    /// A bundle from entry points already in the process (no dlopen): for testing the host
    /// itself with an in-process plugin.
    ///
    /// # Safety
    /// The functions must behave as OfxGetNumberOfPlugins / OfxGetPlugin and stay valid (and
    /// the plugins they describe alive) while the bundle or anything from it lives.
    #[doc(hidden)]
    pub unsafe fn bundle_from_entry_points(
        &self,
        path: PathBuf,
        binary: PathBuf,
        lib: Option<Library>,
        count: OfxGetNumberOfPluginsFn,
        get: OfxGetPluginFn,
    ) -> Result<Bundle> {
        let count = unsafe { count() };
        let mut plugins = vec![];
        for i in 0..count.max(0) {
            let raw = unsafe { get(i) };
            if raw.is_null() {
                return Err(HostError::Load(format!("OfxGetPlugin({i}) returned NULL")));
            }
            let p = unsafe { &*raw };
            let s = |c: *const c_char| {
                if c.is_null() {
                    String::new()
                } else {
                    unsafe { CStr::from_ptr(c) }.to_string_lossy().into_owned()
                }
            };
            plugins.push((
                PluginInfo {
                    index: i as usize,
                    api: s(p.pluginApi),
                    api_version: p.apiVersion,
                    id: s(p.pluginIdentifier),
                    version: (p.pluginVersionMajor, p.pluginVersionMinor),
                },
                RawPlugin(raw),
            ));
        }
        Ok(Bundle {
            path,
            binary,
            lib: Arc::new(LibHolder {
                lib,
                dlclose: self.shared.profile.dlclose_on_drop,
            }),
            plugins,
            host: self.clone(),
            loaded: Mutex::default(),
        })
    }
}

/// Finds `*.ofx.bundle` directories under each directory of `search_path` (recursively, not
/// looking inside bundles), like a host scanning OFX_PLUGIN_PATH. Sorted, no duplicates.
pub fn scan_bundles<P: AsRef<Path>>(search_path: &[P]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".ofx.bundle"))
            {
                out.push(p);
            } else if depth < 8 {
                walk(&p, out, depth + 1);
            }
        }
    }
    let mut out = vec![];
    for d in search_path {
        let d = d.as_ref();
        if d.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".ofx.bundle"))
        {
            out.push(d.to_path_buf());
        } else {
            walk(d, &mut out, 0);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// [`scan_bundles`] over the directories of `$OFX_PLUGIN_PATH` (colon separated).
pub fn scan_ofx_plugin_path() -> Vec<PathBuf> {
    let v = std::env::var_os("OFX_PLUGIN_PATH").unwrap_or_default();
    scan_bundles(&std::env::split_paths(&v).collect::<Vec<_>>())
}

/// What OfxGetPlugin said about one plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// Index for OfxGetPlugin.
    pub index: usize,
    /// pluginApi ("OfxImageEffectPluginAPI").
    pub api: String,
    /// apiVersion.
    pub api_version: i32,
    /// pluginIdentifier.
    pub id: String,
    /// (major, minor).
    pub version: (u32, u32),
}

#[derive(Clone, Copy)]
struct RawPlugin(*mut OfxPlugin);
// SAFETY: the OfxPlugin struct is static data in the plugin binary, read-only for the host.
unsafe impl Send for RawPlugin {}
unsafe impl Sync for RawPlugin {}

struct LibHolder {
    lib: Option<Library>,
    dlclose: bool,
}
impl Drop for LibHolder {
    fn drop(&mut self) {
        if let Some(lib) = self.lib.take() {
            if !self.dlclose {
                std::mem::forget(lib);
            }
        }
    }
}

/// A loaded bundle.
pub struct Bundle {
    path: PathBuf,
    binary: PathBuf,
    lib: Arc<LibHolder>,
    plugins: Vec<(PluginInfo, RawPlugin)>,
    host: TestHost,
    loaded: Mutex<HashMap<String, Arc<PluginInner>>>,
}

impl Bundle {
    /// The bundle directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The binary inside it.
    pub fn binary(&self) -> &Path {
        &self.binary
    }
    /// What each plugin in the binary reported.
    pub fn plugin_infos(&self) -> Vec<PluginInfo> {
        self.plugins.iter().map(|(i, _)| i.clone()).collect()
    }
    /// Plugin identifiers.
    pub fn plugins(&self) -> Vec<String> {
        self.plugins.iter().map(|(i, _)| i.id.clone()).collect()
    }
    /// Takes a plugin: on first use checks its API, calls setHost and sends kOfxActionLoad
    /// (kOfxActionUnload is sent when the bundle, the plugin and its instances are all gone).
    pub fn plugin(&self, id: &str) -> Result<Plugin> {
        let mut loaded = self.loaded.lock();
        if let Some(p) = loaded.get(id) {
            return Ok(Plugin { inner: p.clone() });
        }
        let Some((info, raw)) = self.plugins.iter().find(|(i, _)| i.id == id) else {
            return Err(HostError::NoSuchPlugin(id.to_owned()));
        };
        if info.api != kOfxImageEffectPluginApi.to_str().unwrap_or_default() {
            return Err(HostError::Load(format!(
                "plugin {id} has API {:?}",
                info.api
            )));
        }
        let p = unsafe { &*raw.0 };
        let (Some(set_host), Some(main)) = (p.setHost, p.mainEntry) else {
            return Err(HostError::Load(format!(
                "plugin {id} has a NULL setHost or mainEntry"
            )));
        };
        unsafe { set_host(self.host.shared.ofx_host_ptr()) };
        let inner = Arc::new(PluginInner {
            info: info.clone(),
            main,
            loaded: std::sync::atomic::AtomicBool::new(false),
            shared: InstanceShared::new(0.0),
            descriptor: Mutex::new(None),
            contexts: Mutex::default(),
            host: self.host.clone(),
            bundle_path: self.path.clone(),
            _lib: self.lib.clone(),
        });
        let st = inner.call(kOfxActionLoad, std::ptr::null(), None, None);
        if st != kOfxStatOK && st != kOfxStatReplyDefault {
            return Err(HostError::Action {
                action: "OfxActionLoad".into(),
                status: Status(st),
            });
        }
        inner
            .loaded
            .store(true, std::sync::atomic::Ordering::SeqCst);
        loaded.insert(id.to_owned(), inner.clone());
        Ok(Plugin { inner })
    }
}

pub(crate) struct PluginInner {
    pub info: PluginInfo,
    main: OfxPluginEntryPoint,
    loaded: std::sync::atomic::AtomicBool,
    /// Records of the descriptors (messages, actions).
    pub shared: Arc<InstanceShared>,
    descriptor: Mutex<Option<Box<EffectObj>>>,
    pub contexts: Mutex<HashMap<Context, Box<EffectObj>>>,
    pub host: TestHost,
    bundle_path: PathBuf,
    _lib: Arc<LibHolder>,
}

impl PluginInner {
    /// Sends an action.
    pub fn call(
        &self,
        action: &CStr,
        handle: *const c_void,
        in_args: Option<&PropertySet>,
        out_args: Option<&PropertySet>,
    ) -> OfxStatus {
        let h = |s: Option<&PropertySet>| s.map(|s| s.handle()).unwrap_or(std::ptr::null_mut());
        // SAFETY: mainEntry from the plugin; handles are live host objects.
        let st = unsafe { (self.main)(action.as_ptr(), handle, h(in_args), h(out_args)) };
        let target = unsafe { effect::effect(handle) }
            .map(|e| e.shared.clone())
            .unwrap_or_else(|| self.shared.clone());
        target
            .actions
            .lock()
            .push((action.to_string_lossy().into_owned(), st));
        st
    }

    pub fn call_ok(
        &self,
        action: &CStr,
        handle: *const c_void,
        i: Option<&PropertySet>,
        o: Option<&PropertySet>,
    ) -> Result<OfxStatus> {
        let st = self.call(action, handle, i, o);
        if st == kOfxStatOK || st == kOfxStatReplyDefault {
            Ok(st)
        } else {
            Err(HostError::Action {
                action: action.to_string_lossy().into_owned(),
                status: Status(st),
            })
        }
    }

    fn ensure_described(&self) -> Result<()> {
        let mut d = self.descriptor.lock();
        if d.is_some() {
            return Ok(());
        }
        let props = PropertySet::new_boxed(false);
        props.set_policy(self.host.shared.profile.name_policy());
        props.def_cstr(kOfxPropType, kOfxTypeImageEffect);
        props.def_str(kOfxPropLabel, &[&self.info.id]);
        props.def_str(kOfxPropShortLabel, &[&self.info.id]);
        props.def_str(kOfxPropLongLabel, &[&self.info.id]);
        props.def_int(
            kOfxPropVersion,
            &[self.info.version.0 as i32, self.info.version.1 as i32],
        );
        props.def_str(kOfxPropVersionLabel, &[""]);
        props.def_str(kOfxPropPluginDescription, &[""]);
        props.def_str(kOfxImageEffectPluginPropGrouping, &[""]);
        props.def_str_var(kOfxImageEffectPropSupportedContexts, &[]);
        props.def_str_var(kOfxImageEffectPropSupportedPixelDepths, &[]);
        props.def_int(kOfxImageEffectPluginPropSingleInstance, &[0]);
        props.def_cstr(
            kOfxImageEffectPluginRenderThreadSafety,
            kOfxImageEffectRenderInstanceSafe,
        );
        props.def_int(kOfxImageEffectPluginPropHostFrameThreading, &[1]);
        props.def_int(kOfxImageEffectPropSupportsMultiResolution, &[1]);
        props.def_int(kOfxImageEffectPropSupportsTiles, &[1]);
        props.def_int(kOfxImageEffectPropTemporalClipAccess, &[0]);
        props.def_int(kOfxImageEffectPropSupportsMultipleClipDepths, &[0]);
        props.def_int(kOfxImageEffectPropSupportsMultipleClipPARs, &[0]);
        props.def_int(kOfxImageEffectPluginPropFieldRenderTwiceAlways, &[1]);
        props.def_str_var(kOfxImageEffectPropClipPreferencesSlaveParam, &[]);
        props.def_str(
            kOfxPluginPropFilePath,
            &[&self.bundle_path.to_string_lossy()],
        );
        let params = ParamSetObj::new_boxed(true, None);
        params.props.set_policy(props.policy());
        let e = EffectObj::new_boxed(EffectKind::Descriptor, props, params, self.shared.clone());
        self.call_ok(kOfxActionDescribe, e.handle(), None, None)?;
        *d = Some(e);
        Ok(())
    }

    fn ensure_context(&self, ctx: Context) -> Result<()> {
        self.ensure_described()?;
        if self.contexts.lock().contains_key(&ctx) {
            return Ok(());
        }
        let base = self.descriptor.lock();
        let base = base.as_ref().expect("described");
        let supported = base
            .props
            .get_strs("OfxImageEffectPropSupportedContexts")
            .unwrap_or_default();
        if !supported.iter().any(|s| Context::from_ofx(s) == Some(ctx)) {
            return Err(HostError::Other(format!(
                "plugin {} does not support {ctx:?} (it supports {supported:?})",
                self.info.id
            )));
        }
        let props = base.props.clone_boxed(false);
        props.def_cstr(kOfxImageEffectPropContext, ctx.ofx_name());
        let params = ParamSetObj::new_boxed(true, None);
        params.props.set_policy(props.policy());
        let e = EffectObj::new_boxed(
            EffectKind::ContextDescriptor,
            props,
            params,
            self.shared.clone(),
        );
        let in_args = PropertySet::new_boxed(true);
        in_args.def_cstr(kOfxImageEffectPropContext, ctx.ofx_name());
        self.call_ok(
            kOfxImageEffectActionDescribeInContext,
            e.handle(),
            Some(&in_args),
            None,
        )?;
        self.contexts.lock().insert(ctx, e);
        Ok(())
    }

    pub fn context_descriptor<R>(
        &self,
        ctx: Context,
        f: impl FnOnce(&EffectObj) -> R,
    ) -> Result<R> {
        self.ensure_context(ctx)?;
        let c = self.contexts.lock();
        Ok(f(c.get(&ctx).expect("described")))
    }
}

impl Drop for PluginInner {
    fn drop(&mut self) {
        if self.loaded.load(std::sync::atomic::Ordering::SeqCst) {
            self.call(kOfxActionUnload, std::ptr::null(), None, None);
        }
    }
}

/// A clip as described by the plugin.
#[derive(Debug, Clone)]
pub struct ClipDescriptor {
    /// Clip name.
    pub name: String,
    /// Its properties.
    pub props: PropSnapshot,
}

/// A parameter as described by the plugin.
#[derive(Debug, Clone)]
pub struct ParamDescriptor {
    /// Parameter name.
    pub name: String,
    /// Its type.
    pub param_type: ParamType,
    /// Its properties (kOfxParamPropDefault, Min, Max, DisplayMin, Hint, ...).
    pub props: PropSnapshot,
}

/// A plugin descriptor or a context descriptor, as the plugin left it.
#[derive(Debug, Clone)]
pub struct Descriptor {
    /// The context (None for the plugin's base descriptor).
    pub context: Option<Context>,
    /// The effect's properties.
    pub props: PropSnapshot,
    /// Clips in definition order.
    pub clips: Vec<ClipDescriptor>,
    /// Parameters in definition order.
    pub params: Vec<ParamDescriptor>,
}

impl Descriptor {
    /// A clip by name.
    pub fn clip(&self, name: &str) -> Option<&ClipDescriptor> {
        self.clips.iter().find(|c| c.name == name)
    }
    /// A parameter by name.
    pub fn param(&self, name: &str) -> Option<&ParamDescriptor> {
        self.params.iter().find(|p| p.name == name)
    }
    /// kOfxImageEffectPropSupportedContexts.
    pub fn supported_contexts(&self) -> Vec<Context> {
        self.props
            .strings("OfxImageEffectPropSupportedContexts")
            .unwrap_or_default()
            .iter()
            .filter_map(|s| Context::from_ofx(s))
            .collect()
    }
}

fn snapshot(e: &EffectObj, context: Option<Context>) -> Descriptor {
    Descriptor {
        context,
        props: e.props.snapshot(),
        clips: e
            .clips
            .lock()
            .iter()
            .map(|c| ClipDescriptor {
                name: c.name.clone(),
                props: c.props.snapshot(),
            })
            .collect(),
        params: e
            .params
            .params
            .lock()
            .iter()
            .map(|p| ParamDescriptor {
                name: p.name.clone(),
                param_type: p.ptype,
                props: p.props.snapshot(),
            })
            .collect(),
    }
}

/// A loaded plugin. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

impl Plugin {
    /// What OfxGetPlugin said.
    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }
    /// Sends kOfxActionDescribe (once) and returns the descriptor.
    pub fn describe(&self) -> Result<Descriptor> {
        self.inner.ensure_described()?;
        let d = self.inner.descriptor.lock();
        Ok(snapshot(d.as_ref().expect("described"), None))
    }
    /// Sends kOfxImageEffectActionDescribeInContext (once per context) and returns the
    /// context descriptor. Fails when the plugin does not list the context.
    pub fn describe_in_context(&self, ctx: Context) -> Result<Descriptor> {
        self.inner
            .context_descriptor(ctx, |e| snapshot(e, Some(ctx)))
    }
    /// Messages the plugin sent with a descriptor handle.
    pub fn descriptor_messages(&self) -> Vec<Message> {
        self.inner.shared.messages.lock().transient.clone()
    }
    /// Actions sent to the plugin's descriptors (and load/unload): (action, status).
    pub fn descriptor_actions(&self) -> Vec<(String, i32)> {
        self.inner.shared.actions.lock().clone()
    }
    /// The host.
    pub fn host(&self) -> &TestHost {
        &self.inner.host
    }
}

/// Makes an owned C string (NULs removed).
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}
