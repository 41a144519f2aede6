//! Text encoders and their tokenizers.
pub mod umt5;
