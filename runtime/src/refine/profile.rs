//! Per-stage timers for Temporal Refine (`dreamfx refine-report --profile`).
//!
//! Off by default: then a timed section costs one relaxed atomic load. When on, every
//! [`time`]d section adds its wall time to a process-wide total for its [`Stage`]. libtorch runs
//! CPU ops eagerly, so the time of a section is the time of its tensor ops. (On a GPU, ops are
//! asynchronous and the totals would only show launch times.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The stages of one refine, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Input conversion, RGB slicing and the final cat with alpha.
    Transfer,
    /// Downsampling to the flow resolution, luminance, pyramids and their normalisation.
    Pyramids,
    /// The Lucas–Kanade iterations (their target warps included) and flow upsampling between
    /// levels.
    Flow,
    /// Forward–backward consistency and the in-frame mask.
    Consistency,
    /// Warping the neighbours: at the working resolution and at full resolution (flow upsampling
    /// included).
    Warps,
    /// Brightness: masked low-pass of the aligned frames and per-frame gains.
    Brightness,
    /// Photometric check, blend weights and the full-resolution weighted average.
    Blend,
}

pub const STAGES: [Stage; 7] = [
    Stage::Transfer,
    Stage::Pyramids,
    Stage::Flow,
    Stage::Consistency,
    Stage::Warps,
    Stage::Brightness,
    Stage::Blend,
];

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Transfer => "transfer",
            Stage::Pyramids => "pyramids",
            Stage::Flow => "flow",
            Stage::Consistency => "consistency",
            Stage::Warps => "warps",
            Stage::Brightness => "brightness",
            Stage::Blend => "blend",
        }
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static NANOS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

/// Turns the timers on or off (process-wide).
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Sets all totals to zero.
pub fn reset() {
    NANOS.iter().for_each(|n| n.store(0, Ordering::Relaxed));
}

/// The totals so far, in [`STAGES`] order.
pub fn totals() -> Vec<(Stage, Duration)> {
    STAGES
        .iter()
        .map(|&s| {
            (
                s,
                Duration::from_nanos(NANOS[s as usize].load(Ordering::Relaxed)),
            )
        })
        .collect()
}

/// Starts a timed section that [`stop`] ends (for sections with early returns inside);
/// `None` when profiling is off.
#[inline]
pub fn start() -> Option<Instant> {
    ENABLED.load(Ordering::Relaxed).then(Instant::now)
}

/// Ends a section begun with [`start`], adding its wall time to `stage`.
#[inline]
pub fn stop(stage: Stage, t0: Option<Instant>) {
    if let Some(t0) = t0 {
        let ns = t0.elapsed().as_nanos() as u64;
        NANOS[stage as usize].fetch_add(ns, Ordering::Relaxed);
    }
}

/// Runs `f`, adding its wall time to `stage` when profiling is on.
#[inline]
pub fn time<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let t0 = Instant::now();
    let out = f();
    let ns = t0.elapsed().as_nanos() as u64;
    NANOS[stage as usize].fetch_add(ns, Ordering::Relaxed);
    out
}
