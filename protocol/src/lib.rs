//! The contract between the thin OFX plugin and the dreamfx runtime process: where the socket
//! lives, the handshake and framed messages on it, frames in shared memory, jobs and their keys,
//! and the client the plugin uses. No libtorch here.
pub mod client;
pub mod job;
pub mod paths;
pub mod shm;
pub mod wire;

/// Bumped whenever a message or the frame header changes shape.
pub const PROTOCOL_VERSION: u32 = 2;
