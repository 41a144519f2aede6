//! The job runners: one per kind of work, found by effect id. The server never knows what an
//! effect does; it asks the runner for the job's identity (part of its key) and to run it.
//! Adding an effect: a runner here (or a line mapping it to an existing one) in [`Runners`].
pub mod generate;
pub mod refine;

use dreamfx_effects::{IMAGE_TO_VIDEO, TEMPORAL_REFINE, TEXT_TO_VIDEO};
use dreamfx_protocol::job::{EngineIdentity, Job};
use tch::Device;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
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

/// Progress in 0..1; returns false when the job is cancelled.
pub type Progress<'a> = dyn FnMut(f32) -> bool + 'a;

pub trait Runner: Send + Sync {
    /// What runs `job`, for its key: the algorithm and version, or the model's identity, plus
    /// device and precision. May read the model directory (not load it).
    fn identity(&self, job: &Job, device: &str) -> Result<EngineIdentity, String>;
    /// The job's frame as canonical RGBA f32, `job.width × job.height`.
    fn run(
        &self,
        job: &Job,
        inputs: &[Frame],
        progress: &mut Progress<'_>,
    ) -> Result<Vec<f32>, RunError>;
}

pub struct Runners {
    device: Device,
    refine: refine::RefineRunner,
    generate: generate::GenerateRunner,
}

impl Runners {
    pub fn new(generate: generate::GenerateRunner) -> Self {
        // CPU by default: deterministic and always there.
        Runners {
            device: Device::Cpu,
            refine: refine::RefineRunner {
                device: Device::Cpu,
            },
            generate,
        }
    }

    pub fn device_name(&self) -> &'static str {
        device_name(self.device)
    }

    pub fn for_effect(&self, effect: &str) -> Option<&dyn Runner> {
        match effect {
            id if id == TEMPORAL_REFINE.id => Some(&self.refine),
            id if id == TEXT_TO_VIDEO.id || id == IMAGE_TO_VIDEO.id => Some(&self.generate),
            _ => None,
        }
    }

    pub fn generator(&self) -> &generate::GenerateRunner {
        &self.generate
    }

    pub fn identity(&self, job: &Job) -> Result<EngineIdentity, String> {
        self.for_effect(&job.effect)
            .ok_or_else(|| format!("this runtime does not know the effect {}", job.effect))?
            .identity(job, self.device_name())
    }

    pub fn run(
        &self,
        job: &Job,
        inputs: &[Frame],
        progress: &mut Progress<'_>,
    ) -> Result<Vec<f32>, RunError> {
        let runner = self.for_effect(&job.effect).ok_or_else(|| {
            RunError::BadJob(format!(
                "this runtime does not know the effect {}",
                job.effect
            ))
        })?;
        let _guard = tch::no_grad_guard();
        runner.run(job, inputs, progress)
    }
}

/// The device kind that is part of every job key: CPU and GPU results are different jobs.
pub fn device_name(device: Device) -> &'static str {
    match device {
        Device::Cpu => "cpu",
        _ => "cuda",
    }
}

/// A [C, H, W] float tensor as canonical RGBA f32 rows (C = 3 gets an opaque alpha).
pub fn to_rgba_pixels(chw: &tch::Tensor) -> Vec<f32> {
    let chw = chw.to_device(Device::Cpu).to_kind(tch::Kind::Float);
    let chw = if chw.size()[0] == 3 {
        tch::Tensor::cat(&[&chw, &chw.get(0).ones_like().unsqueeze(0)], 0)
    } else {
        chw
    };
    let hwc = chw.permute([1, 2, 0]).contiguous();
    let n = hwc.numel();
    let mut pixels = vec![0f32; n];
    hwc.copy_data(&mut pixels, n);
    pixels
}

/// Canonical RGBA f32 rows as a [4, H, W] tensor on `device`.
pub fn from_rgba_pixels(f: &Frame, device: Device) -> tch::Tensor {
    tch::Tensor::from_slice(&f.pixels)
        .view([f.height as i64, f.width as i64, 4])
        .permute([2, 0, 1])
        .contiguous()
        .to_device(device)
}
