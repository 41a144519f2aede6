//! Runs jobs on libtorch: turns shared-memory frames into tensors, calls the effect, and
//! returns canonical pixels.
use dreamfx_protocol::effects::TEMPORAL_REFINE;
use dreamfx_protocol::job::{EngineIdentity, Job, ParamValue};
use tch::{Device, Kind, Tensor};

use crate::refine::{refine, RefineError, RefineOutput, RefineParams};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    BadJob(String),
    #[error("{0}")]
    Failed(String),
}

/// An input frame copied out of shared memory, canonical RGBA f32 top-down.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<f32>,
}

pub struct Engine {
    device: Device,
}

impl Engine {
    pub fn new() -> Self {
        // CPU by default: deterministic and always there. (CUDA comes with the model issues.)
        Engine {
            device: Device::Cpu,
        }
    }

    pub fn device_name(&self) -> &'static str {
        match self.device {
            Device::Cpu => "cpu",
            _ => "cuda",
        }
    }

    pub fn identity(&self, job: &Job) -> EngineIdentity {
        EngineIdentity {
            model: format!("{}@{}", job.effect, job.effect_version),
            device: self.device_name().into(),
            precision: "f32".into(),
        }
    }

    /// Runs `job` on `inputs`; `should_continue(fraction)` reports progress and cancels.
    pub fn run(
        &self,
        job: &Job,
        inputs: &[Frame],
        should_continue: &mut dyn FnMut(f32) -> bool,
    ) -> Result<Vec<f32>, EngineError> {
        if job.effect != TEMPORAL_REFINE.id {
            return Err(EngineError::BadJob(format!(
                "this runtime does not know the effect {}",
                job.effect
            )));
        }
        let _guard = tch::no_grad_guard();
        let frames: Vec<Tensor> = inputs.iter().map(|f| self.to_tensor(f)).collect();
        let int = |name| job.param(name).and_then(ParamValue::as_f64).unwrap_or(0.0);
        let output = match job.param("output") {
            Some(ParamValue::Choice(1)) => RefineOutput::Flow,
            Some(ParamValue::Choice(2)) => RefineOutput::Confidence,
            _ => RefineOutput::Refined,
        };
        let params = RefineParams {
            radius: int("radius") as usize,
            strength: int("strength"),
            detail: int("detail"),
            output,
        };
        let out =
            refine(&frames, job.centre as usize, &params, should_continue).map_err(
                |e| match e {
                    RefineError::Cancelled => EngineError::Cancelled,
                    other => EngineError::Failed(other.to_string()),
                },
            )?;
        let hwc = out
            .to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .permute([1, 2, 0])
            .contiguous();
        let n = hwc.numel();
        let mut pixels = vec![0f32; n];
        hwc.copy_data(&mut pixels, n);
        Ok(pixels)
    }

    fn to_tensor(&self, f: &Frame) -> Tensor {
        Tensor::from_slice(&f.pixels)
            .view([f.height as i64, f.width as i64, 4])
            .permute([2, 0, 1])
            .contiguous()
            .to_device(self.device)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}
