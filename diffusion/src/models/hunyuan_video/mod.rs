//! HunyuanVideo (diffusers `HunyuanVideoPipeline`): the dual-/single-stream DiT and the causal
//! 3-D VAE decoder.
pub mod transformer;
pub mod vae;
