//! Temporal Refine
