//! Model families: each a denoiser (transformer) and its VAE, plus the layers they share.
pub mod hunyuan_video;
pub(crate) mod layers;
pub mod mochi;
pub mod wan;

pub use layers::timestep_embedding;
