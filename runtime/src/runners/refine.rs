//! Temporal Refine's runner: the job's frames as tensors through [`crate::refine`].
use dreamfx_protocol::job::{EngineIdentity, Job, ParamValue};
use tch::Device;

use super::{from_rgba_pixels, to_rgba_pixels, Frame, Progress, RunError, Runner};
use crate::refine::{refine, RefineError, RefineOutput, RefineParams, StabiliseEdges};

pub struct RefineRunner {
    pub device: Device,
}

impl Runner for RefineRunner {
    fn identity(&self, job: &Job, device: &str) -> Result<EngineIdentity, String> {
        Ok(EngineIdentity {
            model: format!("{}@{}", job.effect, job.effect_version),
            device: device.into(),
            precision: "f32".into(),
        })
    }

    fn run(
        &self,
        job: &Job,
        inputs: &[Frame],
        progress: &mut Progress<'_>,
    ) -> Result<Vec<f32>, RunError> {
        let frames: Vec<_> = inputs
            .iter()
            .map(|f| from_rgba_pixels(f, self.device))
            .collect();
        let number = |name| job.param(name).and_then(ParamValue::as_f64).unwrap_or(0.0);
        let output = match job.param("output") {
            Some(ParamValue::Choice(1)) => RefineOutput::Flow,
            Some(ParamValue::Choice(2)) => RefineOutput::Confidence,
            _ => RefineOutput::Refined,
        };
        let edges = match job.param("edges") {
            Some(ParamValue::Choice(1)) => StabiliseEdges::Fill,
            _ => StabiliseEdges::Crop,
        };
        let params = RefineParams {
            radius: number("radius") as usize,
            strength: number("strength"),
            detail: number("detail"),
            output,
            // The output frame is (scale·width)×(scale·height): `EffectSpec::output_size`.
            scale: dreamfx_effects::scale_factor(job),
            stabilise: number("stabilise"),
            edges,
        };
        let out = refine(&frames, job.centre as usize, &params, progress).map_err(|e| match e {
            RefineError::Cancelled => RunError::Cancelled,
            other => RunError::Failed(other.to_string()),
        })?;
        Ok(to_rgba_pixels(&out))
    }
}
