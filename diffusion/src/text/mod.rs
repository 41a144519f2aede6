//! Text encoders and their tokenizers.
pub mod t5;
pub mod umt5;
