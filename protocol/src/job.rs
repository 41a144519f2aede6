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
}

impl Job {
    pub fn param(&self, name: &str) -> Option<&ParamValue> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sorts parameters by name so the canonical form does not depend on reading order.
    pub fn canonicalise(&mut self) {
        self.params.sort_by(|a, b| a.0.cmp(&b.0));
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
