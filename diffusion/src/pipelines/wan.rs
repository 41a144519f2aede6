//! Text-to-video and image-to-video (Wan2.2 TI2V first-frame conditioning) as diffusers'
//! `WanPipeline` / `WanImageToVideoPipeline(expand_timesteps=True)` run them: the same prompt
//! encoding, the same initial noise (one `randn` from a CPU generator seeded with the seed), the
//! same per-token timesteps, classifier-free guidance as two passes, and the same decode.
use std::path::Path;

use parking_lot::Mutex;
use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use crate::loading::{default_kind, LoadError};
use crate::models::wan::transformer::WanTransformer;
use crate::models::wan::vae::WanVae;
use crate::schedulers::{renoise, RestartSampling, SchedulerConfig};
use crate::text::umt5::{encode_prompts, PromptCheck, PromptTokenizer, UmT5Encoder};

/// The prompt length the Wan pipelines pad to. A model whose tokenizer names a shorter
/// `model_max_length` (dreamfx-tiny) is padded to that instead: the zero rows past a prompt
/// are keys the cross-attention still weighs, so the padded length is part of the model.
pub const MAX_SEQUENCE_LENGTH: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    BadRequest(String),
    #[error("cancelled")]
    Cancelled,
    #[error("prompt: {0}")]
    Prompt(String),
}

#[derive(Debug, Default, Deserialize)]
struct ModelIndex {
    #[serde(default)]
    expand_timesteps: bool,
    /// dreamfx's own key (diffusers drops keys that start with `_`): the restart sampling this
    /// model samples best with, chosen on its evaluation (dreamfx-tiny's model card).
    #[serde(default, rename = "_dreamfx_restart_sampling")]
    restart_sampling: Option<RestartSampling>,
    /// dreamfx's own key: the clip format the model was trained on, when it is not Wan's.
    #[serde(default, rename = "_dreamfx_native_clip")]
    native_clip: Option<NativeClip>,
}

/// The clip a model makes best: its training size, length and frame rate. Hosts' sizes and
/// rates are mapped onto it (scaled, resampled), never asked of the model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
pub struct NativeClip {
    pub width: i64,
    pub height: i64,
    /// Frames in one generation (one segment of a longer clip).
    pub frames: i64,
    pub fps: f64,
}

impl NativeClip {
    /// Wan2.1 T2V-1.3B's format (480p, 81 frames at 16 frames/s), for Wan directories that do
    /// not say.
    pub const WAN: NativeClip = NativeClip {
        width: 832,
        height: 480,
        frames: 81,
        fps: 16.0,
    };

    fn validate(&self) -> Result<(), String> {
        let sane = (16..=4096).contains(&self.width)
            && (16..=4096).contains(&self.height)
            && (2..=1025).contains(&self.frames)
            && self.fps.is_finite()
            && self.fps > 0.0
            && self.fps <= 240.0;
        if !sane {
            return Err(format!(
                "_dreamfx_native_clip {self:?} is not a clip format: width and height 16 … 4096, \
                 frames 2 … 1025, fps above 0 and at most 240"
            ));
        }
        Ok(())
    }
}

/// A loaded Wan model directory (diffusers layout).
pub struct WanPipeline {
    pub transformer: WanTransformer,
    pub vae: WanVae,
    pub text_encoder: UmT5Encoder,
    pub tokenizer: PromptTokenizer,
    pub scheduler: SchedulerConfig,
    /// The clip format it generates (model_index.json's `_dreamfx_native_clip`, else Wan's).
    pub native: NativeClip,
    /// Wan2.2 TI2V: per-token timesteps (and first-frame conditioning when an image is given).
    pub expand_timesteps: bool,
    /// The model's default restart sampling (`model_index.json`), `None` for one plain pass.
    pub restart: Option<RestartSampling>,
    device: Device,
}

/// The VAE's output for one clip (`[1, 3, F, H, W]` in -1..1) as frames: `[F, H, W, 3]` in
/// 0..1, f32, on the CPU.
pub fn decoded_frames(video: &Tensor) -> Tensor {
    (video.to_kind(Kind::Float) / 2.0 + 0.5)
        .clamp(0.0, 1.0)
        .get(0)
        .permute([1, 2, 3, 0])
        .contiguous()
        .to_device(Device::Cpu)
}

/// What to generate.
#[derive(Debug)]
pub struct Request {
    pub prompt: String,
    pub negative_prompt: String,
    pub seed: u64,
    pub steps: usize,
    pub guidance: f64,
    /// Overrides the scheduler config's shift.
    pub shift: Option<f64>,
    /// Overrides the model's sampler.
    pub scheduler: Option<SchedulerConfig>,
    /// Overrides the model's restart sampling ([`RestartSampling::OFF`] turns it off).
    pub restart: Option<RestartSampling>,
    pub width: i64,
    pub height: i64,
    pub frames: i64,
    /// First frame for image-to-video: [3, height, width], values 0..1.
    pub first_frame: Option<Tensor>,
}

impl Request {
    /// The checks every family makes of a clip's shape: width and height positive multiples
    /// of `multiple` (VAE × patch), the frame count `temporal`·k + 1.
    pub fn check_clip_shape(&self, multiple: i64, temporal: i64) -> Result<(), PipelineError> {
        if self.width <= 0
            || self.height <= 0
            || self.width % multiple != 0
            || self.height % multiple != 0
        {
            return Err(PipelineError::BadRequest(format!(
                "width and height must be positive multiples of {multiple} for this model, got {}x{}",
                self.width, self.height
            )));
        }
        if self.frames < 1 || (self.frames - 1) % temporal != 0 {
            return Err(PipelineError::BadRequest(format!(
                "the frame count must be {temporal}·k + 1 (1, {}, {}, …), got {}",
                temporal + 1,
                2 * temporal + 1,
                self.frames
            )));
        }
        Ok(())
    }

    /// Guidance: a finite 0 … 50.
    pub fn check_guidance(&self) -> Result<(), PipelineError> {
        if !self.guidance.is_finite() || self.guidance < 0.0 || self.guidance > 50.0 {
            return Err(PipelineError::BadRequest(format!(
                "guidance must be 0 … 50, got {}",
                self.guidance
            )));
        }
        Ok(())
    }
}

/// A generated clip: `video` is [frames, height, width, 3] in 0..1 (float32, CPU).
pub struct Generated {
    pub video: Tensor,
    pub latents: Tensor,
}

/// libtorch's default CPU generator is process-wide: one generation draws its noise at a time.
static NOISE_LOCK: Mutex<()> = Mutex::new(());

/// `torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed))`, float32 on CPU.
pub fn initial_noise(shape: &[i64], seed: u64) -> Tensor {
    let _guard = NOISE_LOCK.lock();
    tch::manual_seed(seed as i64);
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

/// The seed of a restart pass's fresh noise (7919, a prime, keeps the passes of one seed apart).
fn restart_seed(seed: u64, pass: usize) -> u64 {
    seed.wrapping_add(7919 * pass as u64)
}

impl WanPipeline {
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
        // A model's own restart setting is checked here, where the file can be named.
        if let Some(restart) = &index.restart_sampling {
            restart.validate().map_err(|why| LoadError::BadConfig {
                path: index_path.clone(),
                why,
            })?;
        }
        if let Some(native) = &index.native_clip {
            native.validate().map_err(|why| LoadError::BadConfig {
                path: index_path,
                why,
            })?;
        }
        Ok(WanPipeline {
            transformer: WanTransformer::load(&dir.join("transformer"), device, kind)?,
            vae: WanVae::load(&dir.join("vae"), device, kind)?,
            text_encoder: UmT5Encoder::load(&dir.join("text_encoder"), device, kind)?,
            tokenizer: PromptTokenizer::load(&dir.join("tokenizer"))?,
            scheduler: SchedulerConfig::load(&dir.join("scheduler"))?,
            native: index.native_clip.unwrap_or(NativeClip::WAN),
            expand_timesteps: index.expand_timesteps,
            restart: index.restart_sampling,
            device,
        })
    }

    /// The latent shape a request generates into.
    pub fn latent_shape(&self, req: &Request) -> Result<[i64; 5], PipelineError> {
        let (t, s) = (
            self.vae.scale_factor_temporal(),
            self.vae.scale_factor_spatial(),
        );
        let multiple = s * 2;
        req.check_clip_shape(multiple, t)?;
        if req.steps == 0 || req.steps > 1000 {
            return Err(PipelineError::BadRequest(format!(
                "steps must be 1 … 1000, got {}",
                req.steps
            )));
        }
        req.check_guidance()?;
        // A shift of 0 or NaN once gave all-NaN frames and a success.
        if let Some(shift) = req.shift {
            if !shift.is_finite() || shift <= 0.0 || shift > 100.0 {
                return Err(PipelineError::BadRequest(format!(
                    "shift must be above 0 and at most 100, got {shift}"
                )));
            }
        }
        let shape = [
            1,
            self.vae.z_dim(),
            (req.frames - 1) / t + 1,
            req.height / s,
            req.width / s,
        ];
        self.check_size(req, shape)?;
        Ok(shape)
    }

    /// Refuses a clip the model cannot place (past its RoPE tables, which once panicked) or
    /// this machine cannot hold (which once hung), before anything is allocated.
    fn check_size(&self, req: &Request, latent: [i64; 5]) -> Result<(), PipelineError> {
        let c = self.transformer.config();
        let [pt, ph, pw] = c.patch_size;
        let grid = [latent[2] / pt, latent[3] / ph, latent[4] / pw];
        for (axis, n) in ["frames", "height", "width"].iter().zip(grid) {
            if n > c.rope_max_seq_len {
                return Err(PipelineError::BadRequest(format!(
                    "{}x{}, {} frames is {n} positions along {axis}, past this model's {} \
                     (rope_max_seq_len): ask for a smaller clip",
                    req.width, req.height, req.frames, c.rope_max_seq_len
                )));
            }
        }
        // Self-attention is the peak: one head's scores are tokens² floats when the fused
        // kernel is not available, beside the latents and activations; demand a quarter of RAM
        // at most so the rest of the machine (and the host application) keeps working.
        let tokens = (grid[0] * grid[1] * grid[2]) as f64;
        let bytes = tokens * tokens * 4.0
            + tokens * (c.num_attention_heads * c.attention_head_dim) as f64 * 4.0 * 16.0;
        if let Some(ram) = physical_memory_bytes() {
            if self.device == Device::Cpu && bytes > ram as f64 / 4.0 {
                return Err(PipelineError::BadRequest(format!(
                    "{}x{}, {} frames needs about {:.1} GiB while denoising; this machine has \
                     {:.1} GiB: ask for a smaller clip or fewer frames",
                    req.width,
                    req.height,
                    req.frames,
                    bytes / (1u64 << 30) as f64,
                    ram as f64 / (1u64 << 30) as f64
                )));
            }
        }
        Ok(())
    }

    /// The length prompts are padded to: 512 as in the reference pipeline, or the tokenizer's
    /// shorter `model_max_length`.
    pub fn text_length(&self) -> usize {
        self.tokenizer
            .model_max_length()
            .map_or(MAX_SEQUENCE_LENGTH, |n| n.min(MAX_SEQUENCE_LENGTH))
    }

    /// The words of `prompt` this model cannot read (unknown, or past its prompt length).
    pub fn check_prompt(&self, prompt: &str) -> Result<PromptCheck, PipelineError> {
        self.tokenizer
            .check(prompt, self.text_length())
            .map_err(|e| PipelineError::Prompt(e.to_string()))
    }

    /// Prompt embeddings as the reference pipeline makes them: [1, text_length, text_dim].
    pub fn encode_prompt(&self, prompt: &str) -> Result<Tensor, PipelineError> {
        encode_prompts(
            &self.tokenizer,
            &self.text_encoder,
            &[prompt],
            self.text_length(),
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
        let prompt_embeds = self.encode_prompt(&req.prompt)?;
        self.generate_with_prompt_embeds(req, &prompt_embeds, on_step)
    }

    /// [`Self::generate`] with the prompt already encoded (`[1, text_length, text_dim]`);
    /// `req.prompt` is not read, `req.negative_prompt` is encoded as usual.
    pub fn generate_with_prompt_embeds(
        &self,
        req: &Request,
        prompt_embeds: &Tensor,
        on_step: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Generated, PipelineError> {
        self.denoise(req, prompt_embeds, None, on_step)
    }

    /// Video-to-video as diffusers' video-to-video pipelines do it (SDEdit): the clean latents
    /// `start` (normalised, the shape of [`Generated::latents`]) noised with the request's seed
    /// to the noise level of step `steps − round(steps · strength)`, then the remaining steps.
    /// Strength 1 is a generation from (almost) pure noise, 0 returns `start` decoded; in
    /// between, how much of the schedule a model needs to decide what it draws.
    pub fn generate_from_latents(
        &self,
        req: &Request,
        start: &Tensor,
        strength: f64,
        on_step: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Generated, PipelineError> {
        if !(0.0..=1.0).contains(&strength) {
            return Err(PipelineError::BadRequest(format!(
                "strength must be 0 … 1, got {strength}"
            )));
        }
        let prompt_embeds = self.encode_prompt(&req.prompt)?;
        self.denoise(req, &prompt_embeds, Some((start, strength)), on_step)
    }

    fn denoise(
        &self,
        req: &Request,
        prompt_embeds: &Tensor,
        start: Option<(&Tensor, f64)>,
        on_step: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Generated, PipelineError> {
        let _guard = tch::no_grad_guard();
        let want = [
            1,
            self.text_length() as i64,
            self.transformer.config().text_dim,
        ];
        if prompt_embeds.size() != want {
            return Err(PipelineError::BadRequest(format!(
                "prompt embeddings are {:?}, this model takes {want:?}",
                prompt_embeds.size()
            )));
        }
        let shape = self.latent_shape(req)?;
        if req.first_frame.is_some() && !self.expand_timesteps {
            return Err(PipelineError::BadRequest(
                "image-to-video needs a TI2V model (Wan2.2 TI2V, expand_timesteps in model_index.json)".into(),
            ));
        }
        let kind = self.transformer.kind();
        let cfg = req.guidance > 1.0;
        let negative_embeds = if cfg {
            Some(self.encode_prompt(&req.negative_prompt)?)
        } else {
            None
        };
        let sampler = req
            .scheduler
            .clone()
            .unwrap_or_else(|| self.scheduler.clone());
        let sampler = match req.shift {
            Some(s) => sampler.with_shift(s),
            None => sampler,
        };
        let restart = req.restart.or(self.restart).unwrap_or(RestartSampling::OFF);
        restart.validate().map_err(PipelineError::BadRequest)?;
        let mut scheduler = sampler.build(req.steps);
        let total = scheduler.steps();
        let mut latents = initial_noise(&shape, req.seed).to_device(self.device);
        let first_step = match start {
            None => 0,
            Some((clean, strength)) => {
                if clean.size() != shape {
                    return Err(PipelineError::BadRequest(format!(
                        "the starting latents are {:?}, this request's are {shape:?}",
                        clean.size()
                    )));
                }
                let first = total - (strength * total as f64).round() as usize;
                let sigma = scheduler.sigmas()[first] as f64;
                let clean = clean.to_kind(Kind::Float).to_device(self.device);
                latents = clean * (1.0 - sigma) + latents * sigma;
                scheduler.begin_at(first);
                first
            }
        };

        // First-frame conditioning: the image's latent, normalised, replaces frame 0.
        let mask = Tensor::ones(
            [1, 1, shape[2], shape[3], shape[4]],
            (Kind::Float, self.device),
        );
        let condition = match &req.first_frame {
            Some(img) => {
                let (h, w) = (img.size()[1], img.size()[2]);
                if (h, w) != (req.height, req.width) || img.size()[0] != 3 {
                    return Err(PipelineError::BadRequest(format!(
                        "the first frame is {w}x{h} but the clip is {}x{}",
                        req.width, req.height
                    )));
                }
                let x = (img.to_kind(Kind::Float) * 2.0 - 1.0)
                    .to_device(self.device)
                    .unsqueeze(0)
                    .unsqueeze(2);
                let z = self.vae.encode(&x.to_kind(self.vae.kind()));
                let _ = mask.narrow(2, 0, 1).fill_(0.0);
                Some(self.vae.normalize_latents(&z).to_kind(Kind::Float))
            }
            None => None,
        };
        let blend = |latents: &Tensor| match &condition {
            Some(c) => (1.0 - &mask) * c + &mask * latents,
            None => latents.shallow_clone(),
        };

        let passes = restart.passes(scheduler.sigmas(), first_step);
        let work: usize = passes.iter().map(|(f, t)| t - f).sum();
        let mut done = 0;
        for (pass, &(from, to)) in passes.iter().enumerate() {
            if pass > 0 {
                // A fresh sampler: a multistep solver's history belongs to the pass it ran.
                let (sigma_lo, sigma_hi) = (
                    scheduler.sigmas()[passes[pass - 1].1] as f64,
                    scheduler.sigmas()[from] as f64,
                );
                let fresh =
                    initial_noise(&shape, restart_seed(req.seed, pass)).to_device(self.device);
                latents = renoise(&latents, sigma_lo, sigma_hi, &fresh);
                scheduler = sampler.build(req.steps);
                scheduler.begin_at(from);
            }
            for i in from..to {
                let input = blend(&latents).to_kind(kind);
                let t = scheduler.timestep_tensor(i, 1).to_device(self.device);
                let timestep = if self.expand_timesteps {
                    let per_token = mask.get(0).get(0).slice(1, 0, None, 2).slice(2, 0, None, 2)
                        * t.to_kind(Kind::Float);
                    per_token.flatten(0, -1).unsqueeze(0)
                } else {
                    t
                };
                let cond = self.transformer.forward(&input, &timestep, prompt_embeds);
                let noise_pred = match &negative_embeds {
                    Some(neg) => {
                        let uncond = self.transformer.forward(&input, &timestep, neg);
                        &uncond + (cond - &uncond) * req.guidance
                    }
                    None => cond,
                };
                latents = scheduler.step(&noise_pred.to_kind(Kind::Float), &latents);
                done += 1;
                if !on_step(done, work) {
                    return Err(PipelineError::Cancelled);
                }
            }
        }
        let latents = blend(&latents);
        let z = self
            .vae
            .denormalize_latents(&latents.to_kind(self.vae.kind()));
        let video = decoded_frames(&self.vae.decode(&z));
        Ok(Generated { video, latents })
    }
}

/// The machine's physical memory, when the system says.
fn physical_memory_bytes() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && size > 0).then(|| pages as u64 * size as u64)
}
