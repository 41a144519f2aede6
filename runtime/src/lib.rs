//! The dreamfx runtime: everything that touches libtorch lives in this crate.
pub mod refine;
