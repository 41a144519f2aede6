//! Video diffusion on tch, numerically equal to the diffusers/transformers reference: weight
//! loading from the diffusers layout ([`loading`]), samplers ([`schedulers`]), text encoders
//! ([`text`]), model families ([`models`]) and the pipelines that join them ([`pipelines`]).
//! No server, no OFX: the runtime's job runners and the CLI call in here. Families: Wan,
//! Mochi-1 and HunyuanVideo (text-to-video) ([`pipelines::detect`] tells them apart by
//! `model_index.json`). The parity fixtures are in `diffusion/fixtures/{wan,mochi,hunyuan_video}/`.
pub mod loading;
pub mod models;
pub mod pipelines;
pub mod schedulers;
pub mod text;
