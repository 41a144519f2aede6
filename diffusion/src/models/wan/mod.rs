//! The Wan family (Wan2.1 T2V, Wan2.2 TI2V): the DiT with 3-axis RoPE and the causal 3D VAE.
pub mod transformer;
pub mod vae;
