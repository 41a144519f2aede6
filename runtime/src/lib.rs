//! The dreamfx runtime process: the socket server, the frame cache and the job runners.
//! Model code lives in `dreamfx-diffusion`; the built-in model's world and training in
//! `dreamfx-tiny`.
pub mod cache;
pub mod logging;
pub mod refine;
pub mod runners;
pub mod server;
pub mod testclips;
