//! Host time onto model time. A generator's clip is made at the model's own rate and length
//! (its native clip) and resampled to the host's rate: host frame `p` (since the clip's start)
//! is at `p / rate` seconds, model frame `p / rate × fps`, blended from the two model frames
//! around it. Clips longer than one model window are segments of `frames − 1` new frames each:
//! segment k starts from the last frame of segment k − 1 (first-frame conditioning), so frame
//! `k × (frames − 1)` is shared by both.
use std::ops::RangeInclusive;

use dreamfx_diffusion::pipelines::wan::NativeClip;
use dreamfx_effects::clip_host_frames;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    /// Host frames in the clip.
    pub host_frames: usize,
    /// Host frames per second.
    pub rate: f64,
    /// Model frames per second.
    pub fps: f64,
    /// New model frames per segment (`frames − 1` of the native clip).
    pub stride: usize,
    pub segments: usize,
}

/// Where one host frame comes from: `(1 − weight) × frame a + weight × frame b` of a segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub segment: usize,
    pub a: usize,
    pub b: usize,
    pub weight: f64,
}

impl Timeline {
    pub fn new(duration: f64, rate: f64, native: &NativeClip) -> Timeline {
        let host_frames = clip_host_frames(duration, rate);
        let stride = (native.frames - 1).max(1) as usize;
        let last = (host_frames - 1) as f64 / rate * native.fps;
        // A tiny tolerance: 47 host frames at 24/s onto 8/s is exactly 15.666…, not a segment
        // more for a rounding error.
        let segments = ((last - 1e-9) / stride as f64).ceil().max(1.0) as usize;
        Timeline {
            host_frames,
            rate,
            fps: native.fps,
            stride,
            segments,
        }
    }

    /// The model frames that make host frame `p` (clamped to the clip: before it the first
    /// frame holds, after it the last).
    pub fn locate(&self, p: f64) -> Sample {
        let p = p.clamp(0.0, (self.host_frames - 1) as f64);
        let m = p / self.rate * self.fps;
        let segment = ((m / self.stride as f64).floor() as usize).min(self.segments - 1);
        let local = (m - (segment * self.stride) as f64).clamp(0.0, self.stride as f64);
        let a = (local.floor() as usize).min(self.stride);
        let b = (a + 1).min(self.stride);
        Sample {
            segment,
            a,
            b,
            weight: if a == b { 0.0 } else { local - a as f64 },
        }
    }

    /// The host frames whose time lies in segment `k`: what an animated parameter is averaged
    /// over for that segment, so a keyframe in one segment changes no other segment's key.
    pub fn host_range(&self, k: usize) -> RangeInclusive<usize> {
        let to_host = |m: f64| m / self.fps * self.rate;
        let last = self.host_frames - 1;
        let start = (to_host((k * self.stride) as f64).ceil() as usize).min(last);
        let end = if k + 1 == self.segments {
            last
        } else {
            // The shared boundary frame belongs to the later segment.
            let end = to_host(((k + 1) * self.stride) as f64);
            ((end.ceil() as usize).saturating_sub(1)).min(last)
        };
        start..=end.max(start)
    }

    /// The mean of `curve` (one value per host frame) over segment `k`.
    pub fn segment_mean(&self, curve: &[f64], k: usize) -> f64 {
        let range = self.host_range(k);
        let values = &curve[*range.start()..=(*range.end()).min(curve.len() - 1)];
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: NativeClip = NativeClip {
        width: 64,
        height: 64,
        frames: 17,
        fps: 8.0,
    };

    #[test]
    fn two_seconds_at_24_fps_is_one_tiny_segment() {
        let t = Timeline::new(2.0, 24.0, &TINY);
        assert_eq!((t.host_frames, t.segments), (48, 1));
        assert_eq!(
            t.locate(0.0),
            Sample {
                segment: 0,
                a: 0,
                b: 1,
                weight: 0.0
            }
        );
        // 3 host frames per model frame.
        let s = t.locate(4.0);
        assert_eq!((s.segment, s.a, s.b), (0, 1, 2));
        assert!((s.weight - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            t.locate(1e6).segment,
            0,
            "past the end holds the last frame"
        );
        assert_eq!(t.host_range(0), 0..=47);
    }

    #[test]
    fn ten_seconds_make_segments_that_share_their_boundary_frames() {
        let t = Timeline::new(10.0, 24.0, &TINY);
        assert_eq!((t.host_frames, t.segments), (240, 5));
        // Host frame 48 is 2 s: model frame 16, the first frame of segment 1.
        let s = t.locate(48.0);
        assert_eq!((s.segment, s.a, s.weight), (1, 0, 0.0));
        let s = t.locate(47.0);
        assert_eq!((s.segment, s.a, s.b), (0, 15, 16));
        // The segments' host ranges tile the clip without overlap.
        let mut next = 0;
        for k in 0..t.segments {
            let r = t.host_range(k);
            assert_eq!(*r.start(), next, "segment {k}");
            next = r.end() + 1;
        }
        assert_eq!(next, 240);
    }

    #[test]
    fn a_keyframe_in_one_segment_moves_only_that_segments_mean() {
        let t = Timeline::new(6.0, 24.0, &TINY);
        assert_eq!(t.segments, 3);
        let flat = vec![4.0; t.host_frames];
        let mut keyed = flat.clone();
        for v in &mut keyed[t.host_range(1)] {
            *v = 8.0;
        }
        assert_eq!(t.segment_mean(&keyed, 0), t.segment_mean(&flat, 0));
        assert_eq!(t.segment_mean(&keyed, 2), t.segment_mean(&flat, 2));
        assert_eq!(t.segment_mean(&keyed, 1), 8.0);
    }
}
