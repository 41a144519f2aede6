//! Jobs and their keys. A job is everything that determines an effect's output; its key is a
//! hash of the job's canonical serialisation plus the engine that runs it, so the same key means
//! the same pixels in any render order, any host and on every node of the same device kind.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ParamValue {
    Double(f64),
    Int(i64),
    Bool(bool),
    Choice(u32),
    Text(String),
    /// An animatable parameter of a generator sampled at every host frame of the clip (the
    /// first value at the clip's first frame): keyframes shape the whole clip, so the whole
    /// curve is part of the job.
    Curve(Vec<f64>),
}

impl ParamValue {
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ParamValue::Double(v) => Some(v),
            ParamValue::Int(v) => Some(v as f64),
            _ => None,
        }
    }
}

/// Widest or tallest frame a job may name: 16K, past any camera or host format.
pub const MAX_DIMENSION: u32 = 16384;
/// Most pixels a frame may hold: 8192 × 8192 (1 GiB as RGBA f32), room for DCI 8K. A job's size
/// is checked before anything is allocated, so an absurd one costs nothing.
pub const MAX_FRAME_PIXELS: u64 = 8192 * 8192;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Job {
    /// The effect's OFX identifier, e.g. `dreamfx.TemporalRefine`.
    pub effect: String,
    /// Bumped when the effect's algorithm changes its pixels.
    pub effect_version: u32,
    /// Every parameter that shapes the output, sampled where the effect reads it, sorted by name.
    pub params: Vec<(String, ParamValue)>,
    pub width: u32,
    pub height: u32,
    /// Content hashes of the input frames, in time order (filled in by the client).
    pub inputs: Vec<[u8; 32]>,
    /// Index into `inputs` of the frame being rendered, for temporal effects.
    pub centre: u32,
    /// Where in a generated clip the frame lies, for generators (None for filters).
    pub position: Option<ClipPosition>,
}

/// A generator's frame in host time: the runtime maps it onto the model's own frame rate.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ClipPosition {
    /// Host frames since the clip's first frame (fractional for fields or retimes).
    pub frame: f64,
    /// Host frames per second.
    pub rate: f64,
    /// The output's pixel aspect ratio (width of a pixel / its height).
    pub pixel_aspect: f64,
    /// A thumbnail or a low render-scale preview: the final clip when it is already made,
    /// else a draft; never starts a final generation, and its frame is never cached.
    pub preview: bool,
}

impl Job {
    pub fn param(&self, name: &str) -> Option<&ParamValue> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sorts parameters by name so the canonical form does not depend on reading order.
    pub fn canonicalise(&mut self) {
        self.params.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// Refuses empty frames and frames past [`MAX_DIMENSION`] or [`MAX_FRAME_PIXELS`].
    pub fn check_size(&self) -> Result<(), String> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 {
            return Err(format!("the job's frame size {w}x{h} is empty"));
        }
        if w > MAX_DIMENSION || h > MAX_DIMENSION || w as u64 * h as u64 > MAX_FRAME_PIXELS {
            return Err(format!(
                "the job's frame size {w}x{h} is larger than dreamfx renders: at most \
                 {MAX_DIMENSION} pixels a side and {MAX_FRAME_PIXELS} pixels (8192x8192) in \
                 all; render at a lower resolution or render scale"
            ));
        }
        Ok(())
    }

    pub fn key(&self, engine: &EngineIdentity) -> JobKey {
        let mut job = self.clone();
        job.canonicalise();
        let bytes = postcard::to_stdvec(&(engine, &job)).expect("jobs always serialise");
        JobKey(*blake3::hash(&bytes).as_bytes())
    }
}

/// What runs a job: part of its key because it changes the pixels.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EngineIdentity {
    /// Model weights' identity (hash), or the algorithm's name and version for weightless effects.
    pub model: String,
    /// `cpu` or `cuda`: CPU and GPU results are different jobs.
    pub device: String,
    pub precision: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobKey(pub [u8; 32]);

impl std::fmt::Display for JobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            effect: "dreamfx.TemporalRefine".into(),
            effect_version: 1,
            params: vec![
                ("strength".into(), ParamValue::Double(0.5)),
                ("radius".into(), ParamValue::Int(2)),
            ],
            width: 4,
            height: 4,
            inputs: vec![[1; 32], [2; 32]],
            centre: 0,
            position: None,
        }
    }
    fn cpu() -> EngineIdentity {
        EngineIdentity {
            model: "refine-1".into(),
            device: "cpu".into(),
            precision: "f32".into(),
        }
    }

    #[test]
    fn key_ignores_parameter_order_but_not_values_inputs_or_engine() {
        let a = job();
        let mut b = job();
        b.params.reverse();
        assert_eq!(a.key(&cpu()), b.key(&cpu()));
        let mut c = job();
        c.params[0].1 = ParamValue::Double(0.5000001);
        assert_ne!(a.key(&cpu()), c.key(&cpu()));
        let mut d = job();
        d.inputs[1] = [3; 32];
        assert_ne!(a.key(&cpu()), d.key(&cpu()));
        let mut gpu = cpu();
        gpu.device = "cuda".into();
        assert_ne!(a.key(&cpu()), a.key(&gpu));
    }
}
