//! The OFX 1.4 C ABI and host suites in safe Rust.
pub mod sys;
pub mod pixels;
