//! Model families: each a denoiser (transformer) and its VAE.
pub mod wan;
