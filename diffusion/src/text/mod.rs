//! Text encoders and their tokenizers.
pub mod clip;
pub mod llama;
pub mod t5;
pub mod umt5;
