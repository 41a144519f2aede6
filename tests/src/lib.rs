//! `dreamfx-test-host`: a real OFX 1.4 host for tests.
//!
//! It loads a built `*.ofx.bundle` with `libloading` exactly as a host does (OfxGetNumberOfPlugins,
//! OfxGetPlugin, setHost, kOfxActionLoad), hands the plugin real suites (property, image effect,
//! parameter, message V1/V2, progress V1/V2; memory and multithread are absent, as some hosts do)
//! and drives it through describe, instances, clip preferences, frames needed, renders and
//! instance-changed. Everything it sees is recorded for tests: images fetched (and leaked),
//! messages, progress, abort polls, actions.
//!
//! ```no_run
//! use dreamfx_test_host::*;
//! let host = TestHost::new(HostProfile::default());
//! let bundle = host.load_bundle("target/dreamfx.ofx.bundle")?;
//! let plugin = bundle.plugin("dreamfx.TemporalRefine")?;
//! let desc = plugin.describe_in_context(Context::Filter)?;
//! assert!(desc.param("radius").is_some());
//! let src = ClipSetup::new(|t| Some(Frame::solid(8, 8, [t as f32 / 10.0, 0.0, 0.0, 1.0])));
//! let inst = plugin.create_instance(Context::Filter, InstanceSetup::new(8, 8).source(src))?;
//! inst.set_param("radius", 2)?;
//! let out = inst.render(5.0, inst.project_rect(), &OutputSpec::default())?;
//! assert_eq!(inst.fetched_times("Source"), vec![3.0, 4.0, 5.0, 6.0, 7.0]);
//! assert_eq!(inst.outstanding_images(), 0);
//! # let _ = out;
//! # Ok::<(), HostError>(())
//! ```
//!
//! The crate relies on the x86-64 System V calling convention to implement the suites' C
//! variadic functions (see `params.rs`), hence:
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "dreamfx-test-host implements OFX's variadic suite functions (paramGetValue, message, ...) as \
     non-variadic functions, which is only valid on the x86-64 System V ABI (Linux x86-64)"
);

mod effect;
mod host;
mod instance;
mod params;
mod pixels;
mod props;
mod registry;
#[cfg(test)]
mod selftest;

pub use dreamfx_host_adapter::sys::{OfxRangeD, OfxRectD, OfxRectI};
pub use effect::{FrameSource, Message, ProgressEvent};
pub use host::{
    scan_bundles, scan_ofx_plugin_path, Bundle, ClipDescriptor, Context, Descriptor, HostError,
    HostProfile, ParamDescriptor, Plugin, PluginInfo, ProgressSuite, Result, Status, TestHost,
};
pub use instance::{
    ClipPreference, ClipPreferences, ClipSetup, Instance, InstanceSetup, OutputImage, OutputSpec,
};
pub use params::{ParamType, ParamValue};
pub use pixels::{BitDepth, Components, Frame, Premult};
pub use props::{PropSnapshot, PropValue};
