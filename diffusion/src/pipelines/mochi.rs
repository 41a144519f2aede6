//! Text-to-video as diffusers' `MochiPipeline` runs it: the T5 prompt encoding (mask kept), the
//! same initial noise (one `randn` from a CPU generator seeded with the seed), Mochi's
//! linear-quadratic sigma schedule through the flow-matching Euler scheduler, classifier-free
//! guidance as ONE batch-2 transformer call (`[uncond, cond]`; Wan makes two calls), guidance
//! and the scheduler step in fp32, and the decode (`z * std / scaling + mean`, not clamped by the
//! VAE, then `x / 2 + 0.5` clamped to 0..1).
use std::path::Path;

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use super::wan::{decoded_frames, initial_noise, Generated, PipelineError, Request};
use crate::loading::{default_kind, LoadError};
use crate::models::mochi::transformer::MochiTransformer;
use crate::models::mochi::vae::MochiVae;
use crate::schedulers::{linear_quadratic_sigmas, SchedulerConfig};
use crate::text::t5::{encode_prompts, PromptTokenizer, T5Encoder, MAX_SEQUENCE_LENGTH};

/// The noise level where Mochi's schedule turns from linear to quadratic (hard-coded in
/// `MochiPipeline.__call__`, from genmo's reference).
pub const THRESHOLD_NOISE: f64 = 0.025;

#[derive(Debug, Default, Deserialize)]
struct ModelIndex {
    #[serde(default)]
    force_zeros_for_empty_prompt: bool,
}

/// A loaded Mochi model directory (diffusers layout).
pub struct MochiPipeline {
    pub transformer: MochiTransformer,
    pub vae: MochiVae,
    pub text_encoder: T5Encoder,
    pub tokenizer: PromptTokenizer,
    pub scheduler: SchedulerConfig,
    /// `model_index.json`'s flag (off in Mochi-1): an empty negative prompt encodes as zeros.
    pub force_zeros_for_empty_prompt: bool,
    device: Device,
}

impl MochiPipeline {
    pub fn load(dir: &Path, device: Device) -> Result<Self, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::NoDirectory { dir: dir.into() });
        }
        let kind = default_kind(device);
        let index_path = dir.join("model_index.json");
        let index: ModelIndex = match std::fs::read_to_string(&index_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| LoadError::BadConfig {
                path: index_path.clone(),
                why: e.to_string(),
            })?,
            Err(_) => ModelIndex::default(),
        };
        let scheduler = SchedulerConfig::load(&dir.join("scheduler"))?;
        if !matches!(scheduler, SchedulerConfig::Euler { .. }) {
            return Err(LoadError::BadConfig {
                path: dir.join("scheduler/scheduler_config.json"),
                why: "Mochi samples with FlowMatchEulerDiscreteScheduler (its sigma schedule is \
                      given to the scheduler, which only Euler takes)"
                    .into(),
            });
        }
        Ok(MochiPipeline {
            transformer: MochiTransformer::load(&dir.join("transformer"), device, kind)?,
            vae: MochiVae::load(&dir.join("vae"), device, kind)?,
            text_encoder: T5Encoder::load(&dir.join("text_encoder"), device, kind)?,
            tokenizer: PromptTokenizer::load(&dir.join("tokenizer"))?,
            scheduler,
            force_zeros_for_empty_prompt: index.force_zeros_for_empty_prompt,
            device,
        })
    }

    /// The latent shape a request generates into, or why the request cannot be run.
    pub fn latent_shape(&self, req: &Request) -> Result<[i64; 5], PipelineError> {
        let t = self.vae.config().temporal_compression();
        let s = self.vae.config().spatial_compression();
        let multiple = s * self.transformer.config().patch_size;
        req.check_clip_shape(multiple, t)?;
        // linear_quadratic_schedule divides by zero below 2 steps.
        if req.steps < 2 || req.steps > 1000 {
            return Err(PipelineError::BadRequest(format!(
                "steps must be 2 … 1000 for Mochi, got {}",
                req.steps
            )));
        }
        req.check_guidance()?;
        if req.first_frame.is_some() {
            return Err(PipelineError::BadRequest(
                "Mochi is text-to-video only: no first frame".into(),
            ));
        }
        if req.restart.is_some_and(|r| r.extra_passes > 0) {
            return Err(PipelineError::BadRequest(
                "restart sampling is not available for Mochi".into(),
            ));
        }
        if req.scheduler.is_some() || req.shift.is_some() {
            return Err(PipelineError::BadRequest(
                "Mochi samples with its own schedule: no scheduler or shift override".into(),
            ));
        }
        Ok([
            1,
            self.transformer.config().in_channels,
            (req.frames - 1) / t + 1,
            req.height / s,
            req.width / s,
        ])
    }

    /// Prompt embeddings `[1, 256, d_model]` and mask `[1, 256]`, as the reference makes them.
    pub fn encode_prompt(&self, prompt: &str) -> Result<(Tensor, Tensor), PipelineError> {
        encode_prompts(
            &self.tokenizer,
            &self.text_encoder,
            &[prompt],
            MAX_SEQUENCE_LENGTH,
            self.force_zeros_for_empty_prompt,
            self.device,
        )
        .map_err(|e| PipelineError::Prompt(e.to_string()))
    }

    /// Generates a clip. `on_step(done, total)` is called after each denoising step; returning
    /// false cancels.
    pub fn generate(
        &self,
        req: &Request,
        on_step: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Generated, PipelineError> {
        let shape = self.latent_shape(req)?;
        let guided = req.guidance > 1.0;
        let (mut embeds, mut mask) = self.encode_prompt(&req.prompt)?;
        if guided {
            let (neg, neg_mask) = self.encode_prompt(&req.negative_prompt)?;
            embeds = Tensor::cat(&[neg, embeds], 0);
            mask = Tensor::cat(&[neg_mask, mask], 0);
        }
        let sigmas = linear_quadratic_sigmas(req.steps, THRESHOLD_NOISE)
            .map_err(PipelineError::BadRequest)?;
        let mut scheduler = self
            .scheduler
            .build_with_sigmas(&sigmas)
            .map_err(PipelineError::BadRequest)?;
        let kind = self.transformer.kind();
        let mut latents = initial_noise(&shape, req.seed)
            .to_device(self.device)
            .to_kind(kind);
        let batch = if guided { 2 } else { 1 };
        let steps = scheduler.steps();
        for i in 0..steps {
            let input = if guided {
                Tensor::cat(&[&latents, &latents], 0)
            } else {
                latents.shallow_clone()
            };
            let t = scheduler.timestep_tensor(i, batch).to_kind(kind);
            let pred = tch::no_grad(|| self.transformer.forward(&input, &t, &embeds, &mask))
                .to_kind(Kind::Float);
            let pred = if guided {
                let uncond = pred.narrow(0, 0, 1);
                let cond = pred.narrow(0, 1, 1);
                &uncond + (cond - &uncond) * req.guidance
            } else {
                pred
            };
            latents = scheduler
                .step(&pred, &latents.to_kind(Kind::Float))
                .to_kind(kind);
            if !on_step(i + 1, steps) {
                return Err(PipelineError::Cancelled);
            }
        }
        let z = self
            .vae
            .denormalize_latents(&latents.to_kind(self.vae.kind()));
        let video = decoded_frames(&tch::no_grad(|| self.vae.decode(&z)));
        Ok(Generated {
            video,
            latents: latents.to_kind(Kind::Float).to_device(Device::Cpu),
        })
    }
}
