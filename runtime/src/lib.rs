//! The dreamfx runtime: everything that touches libtorch lives in this crate.
pub mod cache;
pub mod engine;
pub mod logging;
pub mod refine;
pub mod server;
pub mod testclips;
pub mod tiny;
pub mod wan;
