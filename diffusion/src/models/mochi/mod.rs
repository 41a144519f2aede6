//! Mochi-1 (diffusers `MochiPipeline`): the asymmetric joint-attention DiT and the VAE decoder.
pub mod transformer;
pub mod vae;
