//! The Wan video model family (Wan2.1 T2V, Wan2.2 TI2V) on tch, numerically equal to the
//! diffusers/transformers reference. See runtime/fixtures/wan/ for the parity fixtures.
pub mod loading;
pub mod pipeline;
pub mod scheduler;
pub mod text_encoder;
pub mod transformer;
pub mod vae;
