//! dreamfx-tiny's data side: the procedural "shape world" the built-in model is trained on
//! ([`world`]) and the deterministic checkers that score generated clips against captions
//! ([`checkers`]).
//!
//! The world renders captioned clips (by default 17 frames of 64×64 RGB) of one to three
//! anti-aliased shapes in named colours on plain or gradient backgrounds, moving in one of
//! thirteen ways. Everything is seeded and bit-reproducible: a spec depends only on its seed and
//! config, and a render only on its spec (no libm transcendental enters either).
//!
//! The caption space is split into train and held-out (colour, shape, motion) triples
//! ([`world::is_held_out`]); the training sampler never shows a held-out triple, and the
//! evaluation asks the model for held-out ones, which the checkers then score from the pixels
//! alone.
pub mod checkers;
pub mod train;
pub mod world;
