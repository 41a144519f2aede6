//! Text-to-video as diffusers' `HunyuanVideoPipeline` runs it: the Llama prompt encoding
//! (template, crop, `hidden_states[-3]`, mask kept) plus CLIP's pooled vector, the same initial
//! noise (one `randn` from a CPU generator seeded with the seed), sigmas `linspace(1, 0, n + 1)`
//! without the last through the flow-matching Euler scheduler with its shift (7 for
//! HunyuanVideo), *embedded* guidance (the guidance scale × 1000 goes into the transformer; one
//! transformer call per step, no negative prompt — diffusers' `true_cfg_scale` pass is off by
//! default and not offered here), the Euler step in fp32, and the decode (`z / scaling_factor`,
//! the VAE with diffusers' temporal tiling and, as the model card runs it, `enable_tiling()`'s
//! spatial tiles, `x / 2 + 0.5` clamped to 0..1).
use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::wan::{decoded_frames, initial_noise, Generated, NativeClip, PipelineError, Request};
use crate::loading::{default_kind, LoadError};
use crate::models::hunyuan_video::transformer::HunyuanVideoTransformer;
use crate::models::hunyuan_video::vae::{HunyuanVideoVae, VaeTiling};
use crate::schedulers::SchedulerConfig;
use crate::text::clip::{self, ClipTextEncoder};
use crate::text::llama::{self, LlamaEncoder, PromptTemplate};
use crate::text::umt5::{PromptCheck, PromptTokenizer};

/// HunyuanVideo's clip (the pipeline's defaults: 1280×720, 129 frames; 24 frames/s per the
/// model card), for directories that do not say.
pub const NATIVE: NativeClip = NativeClip {
    width: 1280,
    height: 720,
    frames: 129,
    fps: 24.0,
};

/// A loaded HunyuanVideo model directory (diffusers layout).
pub struct HunyuanVideoPipeline {
    pub transformer: HunyuanVideoTransformer,
    pub vae: HunyuanVideoVae,
    pub text_encoder: LlamaEncoder,
    pub tokenizer: PromptTokenizer,
    pub text_encoder_2: ClipTextEncoder,
    pub tokenizer_2: PromptTokenizer,
    pub scheduler: SchedulerConfig,
    /// The Llama prompt template (diffusers' `DEFAULT_PROMPT_TEMPLATE` unless changed).
    pub prompt_template: PromptTemplate,
    /// How the VAE tiles its decode: temporal tiles (diffusers' default) and spatial tiles of
    /// 256 px (`enable_tiling()`, what the model card does). Untiled, the mid-block attention
    /// of a 720p tile would hold a 72 000² mask; frames up to 256 px decode the same either way.
    pub vae_tiling: VaeTiling,
    device: Device,
}

impl HunyuanVideoPipeline {
    pub fn load(dir: &Path, device: Device) -> Result<Self, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::NoDirectory { dir: dir.into() });
        }
        let kind = default_kind(device);
        let scheduler = SchedulerConfig::load(&dir.join("scheduler"))?;
        if !matches!(scheduler, SchedulerConfig::Euler { .. }) {
            return Err(LoadError::BadConfig {
                path: dir.join("scheduler/scheduler_config.json"),
                why: "HunyuanVideo samples with FlowMatchEulerDiscreteScheduler (the pipeline \
                      gives it its sigmas, which only Euler takes)"
                    .into(),
            });
        }
        Ok(HunyuanVideoPipeline {
            transformer: HunyuanVideoTransformer::load(&dir.join("transformer"), device, kind)?,
            vae: HunyuanVideoVae::load(&dir.join("vae"), device, kind)?,
            text_encoder: LlamaEncoder::load(&dir.join("text_encoder"), device, kind)?,
            tokenizer: PromptTokenizer::load(&dir.join("tokenizer"))?,
            text_encoder_2: ClipTextEncoder::load(&dir.join("text_encoder_2"), device, kind)?,
            tokenizer_2: PromptTokenizer::load(&dir.join("tokenizer_2"))?,
            scheduler,
            prompt_template: PromptTemplate::default(),
            vae_tiling: VaeTiling::spatial(),
            device,
        })
    }

    /// The latent shape a request generates into, or why the request cannot be run.
    pub fn latent_shape(&self, req: &Request) -> Result<[i64; 5], PipelineError> {
        let vae = self.vae.config();
        let (t, s) = (
            vae.temporal_compression_ratio,
            vae.spatial_compression_ratio,
        );
        // `check_inputs` asks for multiples of 16 (8x VAE, 2x2 patches).
        let multiple = (s * self.transformer.config().patch_size).max(16);
        // diffusers takes any frame count and returns (n - 1) / 4 * 4 + 1 frames; asking for
        // exactly that many keeps the request and the clip the same length.
        req.check_clip_shape(multiple, t)?;
        if req.steps < 1 || req.steps > 1000 {
            return Err(PipelineError::BadRequest(format!(
                "steps must be 1 … 1000, got {}",
                req.steps
            )));
        }
        req.check_guidance()?;
        if req.first_frame.is_some() {
            return Err(PipelineError::BadRequest(
                "HunyuanVideo (HunyuanVideoPipeline) is text-to-video only: no first frame".into(),
            ));
        }
        if req.restart.is_some_and(|r| r.extra_passes > 0) {
            return Err(PipelineError::BadRequest(
                "restart sampling is not available for HunyuanVideo".into(),
            ));
        }
        if req
            .scheduler
            .as_ref()
            .is_some_and(|s| !matches!(s, SchedulerConfig::Euler { .. }))
        {
            return Err(PipelineError::BadRequest(
                "HunyuanVideo samples with the flow-matching Euler scheduler only".into(),
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

    /// The Llama prompt embeddings `[1, 256, hidden]`, their mask `[1, 256]` and CLIP's pooled
    /// vector `[1, clip_hidden]`, as the reference's `encode_prompt` makes them.
    pub fn encode_prompt(&self, prompt: &str) -> Result<(Tensor, Tensor, Tensor), PipelineError> {
        let prompt_error =
            |e: crate::text::umt5::TokenizeError| PipelineError::Prompt(e.to_string());
        let (embeds, mask) = tch::no_grad(|| {
            llama::encode_prompts(
                &self.tokenizer,
                &self.text_encoder,
                &[prompt],
                &self.prompt_template,
                llama::MAX_SEQUENCE_LENGTH,
                llama::HIDDEN_LAYERS_TO_SKIP,
                self.device,
            )
        })
        .map_err(prompt_error)?;
        // diffusers passes `prompt` (not `prompt_2`) to CLIP as well.
        let pooled = tch::no_grad(|| {
            clip::encode_prompts(
                &self.tokenizer_2,
                &self.text_encoder_2,
                &[prompt],
                self.device,
            )
        })
        .map_err(prompt_error)?;
        Ok((embeds, mask, pooled))
    }

    /// The words of `prompt` that the Llama tokenizer cannot read or that fall past the
    /// prompt length (CLIP reads only its first 77 tokens, which diffusers accepts silently
    /// apart from a log line).
    pub fn check_prompt(&self, prompt: &str) -> Result<PromptCheck, PipelineError> {
        self.tokenizer
            .check(prompt, llama::MAX_SEQUENCE_LENGTH)
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
        let (embeds, mask, pooled) = self.encode_prompt(&req.prompt)?;
        let kind = self.transformer.kind();
        let (embeds, mask, pooled) = (
            embeds.to_kind(kind),
            mask.to_kind(kind),
            pooled.to_kind(kind),
        );
        let config = match (&req.scheduler, req.shift) {
            (Some(s), None) => s.clone(),
            (Some(s), Some(shift)) => s.clone().with_shift(shift),
            (None, Some(shift)) => self.scheduler.clone().with_shift(shift),
            (None, None) => self.scheduler.clone(),
        };
        // `np.linspace(1.0, 0.0, num_inference_steps + 1)[:-1]`.
        let n = req.steps;
        let sigmas: Vec<f64> = (0..n)
            .map(|i| 1.0 + i as f64 * ((0.0 - 1.0) / n as f64))
            .collect();
        let mut scheduler = config
            .build_with_sigmas(&sigmas)
            .map_err(PipelineError::BadRequest)?;
        // `torch.tensor([guidance_scale], dtype=transformer_dtype) * 1000.0`.
        let guidance = Tensor::from_slice(&[req.guidance as f32])
            .to_kind(kind)
            .to_device(self.device)
            * 1000.0;
        let mut latents = initial_noise(&shape, req.seed).to_device(self.device);
        let steps = scheduler.steps();
        for i in 0..steps {
            // `t.expand(B).to(latents.dtype)`: fp32 at the first step, the model's kind after
            // (the Euler step returns the prediction's kind), as in diffusers.
            let t = scheduler.timestep_tensor(i, 1).to_kind(latents.kind());
            let pred = tch::no_grad(|| {
                self.transformer.forward(
                    &latents.to_kind(kind),
                    &t,
                    &embeds,
                    &mask,
                    &pooled,
                    Some(&guidance),
                )
            });
            // The scheduler steps in fp32 and returns the prediction's kind; the pipeline's
            // latents stay fp32 only when the model is fp32.
            latents = scheduler.step(&pred, &latents.to_kind(Kind::Float));
            if !on_step(i + 1, steps) {
                return Err(PipelineError::Cancelled);
            }
        }
        let z = latents.to_kind(self.vae.kind()) / self.vae.config().scaling_factor;
        let video = decoded_frames(&tch::no_grad(|| self.vae.decode(&z, &self.vae_tiling)));
        Ok(Generated {
            video,
            latents: latents.to_kind(Kind::Float).to_device(Device::Cpu),
        })
    }
}
