//! Pipelines: text encoder + scheduler + denoiser + VAE, from a prompt to frames.
pub mod wan;
