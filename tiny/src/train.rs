//! The training program of dreamfx-tiny: the Wan architecture (Wan2.1 VAE layout, DiT, umT5
//! encoder) with a tiny config, trained from scratch on the shape world ([`super::world`]).
//!
//! * A word-level tokenizer over the world's vocabulary (umT5 conventions: `<pad>` 0, `</s>` 1,
//!   `<unk>` 2; `</s>` appended).
//! * Stage A: the VAE on random 5-frame windows (random crops) of train clips (L1 + MSE reconstruction and a
//!   tiny latent L2; no KL, the pipeline uses the posterior mode), then per-channel latent
//!   statistics written as `latents_mean` / `latents_std`.
//! * Stage B: the DiT and the text encoder jointly, flow matching on normalised latents of a
//!   precomputed pool of train clips: `x_t = (1−σ)·x0 + σ·ε`, target `ε − x0`, timestep
//!   `σ·1000`, σ shifted logit-normal; captions dropped 10 % of the time (for guidance);
//!   first-frame conditioning (clean first latent frame, its tokens at timestep 0, no loss on
//!   it) on 30 % of samples. Prompts are encoded at a short length and their embeddings
//!   zero-padded to `--text-len` (the tokenizer's `model_max_length`), which is exactly what the
//!   pipeline computes.
//!
//! Everything is seeded (`tch::manual_seed`, the world's seeds); the output is a model
//! directory in the diffusers layout that [`dreamfx_diffusion::pipelines::wan::WanPipeline::load`] reads.
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::world::{self, Rng, Split, WorldConfig};
use dreamfx_diffusion::models::wan::transformer::{WanTransformer, WanTransformerConfig};
use dreamfx_diffusion::models::wan::vae::{WanVae, WanVaeConfig};
use dreamfx_diffusion::text::umt5::{encode_prompts, PromptTokenizer, UmT5Config, UmT5Encoder};

/// Training token length: every caption of the world fits.
pub const TRAIN_TEXT_LEN: usize = 24;
/// The default length prompt embeddings are zero-padded to, written to the tokenizer's config
/// as `model_max_length` so the pipeline pads the same way. Short, because each padded row is
/// a cross-attention key the DiT computes and attends to (Wan pads to 512).
pub const TEXT_LEN: usize = 32;
/// The default flow shift of the sampler and of the training's noise levels.
pub const FLOW_SHIFT: f64 = 3.0;

/// What a run does; see [`TrainOptions::parse`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub out: PathBuf,
    pub work: PathBuf,
    pub seed: u64,
    pub vae_minutes: f64,
    pub pool_minutes: f64,
    pub pool_max: usize,
    pub dit_minutes: f64,
    pub vae_batch: i64,
    pub vae_lr: f64,
    /// Side of the random square crops the VAE trains on (convolutions are local).
    pub vae_crop: i64,
    pub dit_batch: i64,
    pub dit_lr: f64,
    /// Shift of the training's logit-normal noise levels (`σ = sσ'/(1+(s−1)σ')`): a smaller
    /// shift trains more on low noise levels (1 scored worse than 3 on shape: model card, run 5).
    pub dit_shift: f64,
    /// The sampler's `flow_shift` written to the model's scheduler config.
    pub sampler_shift: f64,
    /// Prompt embeddings are zero-padded to this many rows ([`TEXT_LEN`]; Wan uses 512).
    pub text_len: usize,
    /// Stop a stage after this many steps even if its minutes are not spent (for exact
    /// reproduction of a recorded run).
    pub vae_steps: Option<usize>,
    pub dit_steps: Option<usize>,
    pub threads: i32,
    /// Where training runs: `cpu` or `cuda` (GPU 0). The model is written for the CPU either way.
    pub device: Device,
    pub arch: Arch,
    pub quick: bool,
    /// Reuse this trained `vae/` directory instead of stage A.
    pub vae_dir: Option<PathBuf>,
    /// Start stage A from this `vae/` directory's weights (fine-tuning) instead of random ones.
    pub vae_init: Option<PathBuf>,
    /// Start stage B from this model directory's transformer and text encoder.
    pub init: Option<PathBuf>,
    /// Frames of the VAE's training windows: 1 + 4k. At least 9, so that a window has a chunk
    /// after the second one: the causal caches only reach their steady state there, and a VAE
    /// trained on 5-frame windows decodes frames 5+ of a 17-frame clip badly.
    pub vae_window: i64,
    /// Stage A trains only the decoder (the encoder, and so the latent space a trained DiT
    /// works in, stays fixed): sharper frames for an existing model.
    pub vae_decoder_only: bool,
    /// Extra weight of the VAE's reconstruction loss on and around the objects (0: every
    /// pixel alike). The objects cover ~4 % of a frame, so a uniform loss spends the VAE on
    /// the background and decodes objects ~11 dB worse than the frame.
    pub vae_object_weight: f64,
    /// The same for the DiT's flow-matching loss, on the latent cells an object touches (and
    /// their neighbours): a uniform loss is mostly background latents.
    pub dit_object_weight: f64,
    /// How often the DiT's pool shows each shape ([`world::Shape::ALL`] order), e.g. more of
    /// the angular shapes it draws worst; `None`: uniform over the admitted triples.
    pub shape_weights: Option<[f32; 5]>,
}

/// The sizes of dreamfx-tiny's three networks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arch {
    /// VAE channels of the first stage.
    pub vae_base_dim: i64,
    /// VAE down-sampling stages: 2 gives 4× spatial, 3 gives 8× (both 4× temporal).
    pub vae_stages: usize,
    pub dit_layers: i64,
    /// Heads of 32 channels each.
    pub dit_heads: i64,
    pub dit_ffn: i64,
}

impl Default for Arch {
    fn default() -> Self {
        Arch {
            vae_base_dim: 16,
            vae_stages: 2,
            dit_layers: 6,
            dit_heads: 4,
            dit_ffn: 512,
        }
    }
}

pub const USAGE: &str = "usage: train-tiny [--out models/dreamfx-tiny] [--work target/tiny-train]
       [--seed N] [--vae-minutes M] [--pool-minutes M] [--pool-max N] [--dit-minutes M]
       [--vae-batch N] [--vae-crop PX] [--vae-lr X] [--vae-steps N] [--dit-batch N] [--dit-lr X]
       [--dit-shift S] [--dit-object-weight W] [--sampler-shift S] [--text-len N] [--dit-steps N]
       [--shape-weights CIRCLE,SQUARE,TRIANGLE,STAR,RING (the DiT pool's shape mix)]
       [--threads N] [--device cpu|cuda] [--vae DIR (skip stage A)] [--quick]
       [--vae-init VAE_DIR] [--vae-window FRAMES] [--vae-decoder-only] [--vae-object-weight W]
       [--init MODEL_DIR (start stage B from it)]
       [--vae-base-dim N] [--vae-stages 2|3] [--dit-layers N] [--dit-heads N] [--dit-ffn N]";

/// `--shape-weights`: five positive numbers, one per shape in [`world::Shape::ALL`] order.
fn parse_shape_weights(v: &str) -> Result<[f32; 5], String> {
    let bad = || {
        format!(
            "--shape-weights {v:?}: give five positive numbers, e.g. 1,2,2,2,1 for circle, square, triangle, star, ring"
        )
    };
    let parts: Vec<f32> = v
        .split(',')
        .map(|p| p.trim().parse::<f32>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let weights: [f32; 5] = parts.try_into().map_err(|_| bad())?;
    if weights
        .iter()
        .all(|w| w.is_finite() && *w > 0.0 && *w <= 1000.0)
    {
        Ok(weights)
    } else {
        Err(bad())
    }
}

impl TrainOptions {
    pub fn parse(args: &[String]) -> Result<TrainOptions, String> {
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = TrainOptions {
            out: PathBuf::from("models/dreamfx-tiny"),
            work: PathBuf::from("target/tiny-train"),
            seed: 20261125,
            vae_minutes: if quick { 0.3 } else { 10.0 },
            pool_minutes: if quick { 0.2 } else { 3.0 },
            pool_max: if quick { 64 } else { 20_000 },
            dit_minutes: if quick { 0.3 } else { 15.0 },
            vae_batch: 4,
            vae_lr: 3e-4,
            vae_crop: 32,
            dit_batch: 32,
            dit_lr: 1e-3,
            dit_shift: FLOW_SHIFT,
            sampler_shift: FLOW_SHIFT,
            text_len: TEXT_LEN,
            vae_steps: None,
            dit_steps: None,
            threads: 2,
            device: Device::Cpu,
            arch: Arch::default(),
            quick,
            vae_dir: None,
            vae_init: None,
            init: None,
            vae_window: 9,
            vae_decoder_only: false,
            vae_object_weight: 0.0,
            dit_object_weight: 0.0,
            shape_weights: None,
        };
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            // Flags without a value (`--quick` was read above).
            if matches!(a, "--quick" | "--vae-decoder-only") {
                o.vae_decoder_only |= a == "--vae-decoder-only";
                i += 1;
                continue;
            }
            let v = args
                .get(i + 1)
                .ok_or(format!("{a} needs a value\n{USAGE}"))?;
            let num = |v: &str| -> Result<f64, String> {
                v.parse::<f64>()
                    .map_err(|_| format!("{a} {v:?} is not a number\n{USAGE}"))
            };
            match a {
                "--out" => o.out = PathBuf::from(v),
                "--work" => o.work = PathBuf::from(v),
                "--vae" => o.vae_dir = Some(PathBuf::from(v)),
                "--vae-init" => o.vae_init = Some(PathBuf::from(v)),
                "--init" => o.init = Some(PathBuf::from(v)),
                "--vae-window" => o.vae_window = num(v)? as i64,
                "--vae-object-weight" => o.vae_object_weight = num(v)?,
                "--dit-object-weight" => o.dit_object_weight = num(v)?,
                "--shape-weights" => o.shape_weights = Some(parse_shape_weights(v)?),
                "--seed" => o.seed = num(v)? as u64,
                "--vae-minutes" => o.vae_minutes = num(v)?,
                "--pool-minutes" => o.pool_minutes = num(v)?,
                "--pool-max" => o.pool_max = num(v)? as usize,
                "--dit-minutes" => o.dit_minutes = num(v)?,
                "--vae-batch" => o.vae_batch = num(v)? as i64,
                "--vae-lr" => o.vae_lr = num(v)?,
                "--vae-crop" => o.vae_crop = num(v)? as i64,
                "--dit-batch" => o.dit_batch = num(v)? as i64,
                "--threads" => o.threads = num(v)? as i32,
                "--dit-lr" => o.dit_lr = num(v)?,
                "--dit-shift" => o.dit_shift = num(v)?,
                "--sampler-shift" => o.sampler_shift = num(v)?,
                "--text-len" => o.text_len = num(v)? as usize,
                "--vae-steps" => o.vae_steps = Some(num(v)? as usize),
                "--dit-steps" => o.dit_steps = Some(num(v)? as usize),
                "--vae-base-dim" => o.arch.vae_base_dim = num(v)? as i64,
                "--vae-stages" => o.arch.vae_stages = num(v)? as usize,
                "--dit-layers" => o.arch.dit_layers = num(v)? as i64,
                "--dit-heads" => o.arch.dit_heads = num(v)? as i64,
                "--dit-ffn" => o.arch.dit_ffn = num(v)? as i64,
                "--device" => {
                    o.device = match v.as_str() {
                        "cpu" => Device::Cpu,
                        "cuda" => Device::Cuda(0),
                        _ => return Err(format!("--device {v:?}: use cpu or cuda\n{USAGE}")),
                    }
                }
                _ => return Err(format!("unknown option {a}\n{USAGE}")),
            }
            i += 2;
        }
        for (name, w) in [
            ("--vae-object-weight", o.vae_object_weight),
            ("--dit-object-weight", o.dit_object_weight),
        ] {
            if !(0.0..=1000.0).contains(&w) {
                return Err(format!("{name} {w} must be between 0 and 1000"));
            }
        }
        if o.vae_window < 1 || (o.vae_window - 1) % 4 != 0 || o.vae_window > 17 {
            return Err(format!(
                "--vae-window {} must be 1 + 4k frames, at most 17",
                o.vae_window
            ));
        }
        if !(TRAIN_TEXT_LEN..=512).contains(&o.text_len) {
            return Err(format!(
                "--text-len {} must be {TRAIN_TEXT_LEN} … 512 (every caption fits in {TRAIN_TEXT_LEN})",
                o.text_len
            ));
        }
        if !(o.dit_shift > 0.0 && o.sampler_shift > 0.0) {
            return Err("--dit-shift and --sampler-shift must be positive".into());
        }
        if !(2..=3).contains(&o.arch.vae_stages) {
            return Err(format!("--vae-stages {} must be 2 or 3", o.arch.vae_stages));
        }
        if o.arch.vae_base_dim < 4
            || o.arch.dit_layers < 1
            || o.arch.dit_heads < 1
            || o.arch.dit_ffn < 8
        {
            return Err("model sizes must be positive (vae-base-dim ≥ 4, dit-ffn ≥ 8)".into());
        }
        Ok(o)
    }
}

/// Final numbers of a run, for the model card and the caller.
#[derive(Debug, Clone, Default)]
pub struct TrainReport {
    pub vae_steps: usize,
    pub vae_loss: f64,
    pub vae_seconds: f64,
    pub pool_clips: usize,
    pub pool_seconds: f64,
    pub dit_steps: usize,
    pub dit_loss: f64,
    pub dit_seconds: f64,
    pub total_bytes: u64,
}

// ---------------------------------------------------------------------------------------------
// Configs

/// The VAE: Wan2.1 layout (no patchify), 4× or 8× spatial, 4× temporal.
pub fn vae_config_json(arch: &Arch, mean: &[f64], std: &[f64]) -> Value {
    let (dim_mult, temporal, spatial) = if arch.vae_stages == 2 {
        (json!([1, 2, 4]), json!([true, true]), 4)
    } else {
        (json!([1, 2, 4, 4]), json!([false, true, true]), 8)
    };
    json!({
        "_class_name": "AutoencoderKLWan",
        "_diffusers_version": "0.42.1",
        "attn_scales": [],
        "base_dim": arch.vae_base_dim,
        "dim_mult": dim_mult,
        "dropout": 0.0,
        "is_residual": false,
        "in_channels": 3,
        "out_channels": 3,
        "latents_mean": mean,
        "latents_std": std,
        "num_res_blocks": 1,
        "patch_size": null,
        "scale_factor_spatial": spatial,
        "scale_factor_temporal": 4,
        "temperal_downsample": temporal,
        "z_dim": 8
    })
}

pub const Z_DIM: i64 = 8;

pub fn text_encoder_config_json(vocab_size: i64) -> Value {
    json!({
        "architectures": ["UMT5EncoderModel"],
        "classifier_dropout": 0.0,
        "d_ff": 128,
        "d_kv": 16,
        "d_model": 64,
        "decoder_start_token_id": 0,
        "dense_act_fn": "gelu_new",
        "dropout_rate": 0.0,
        "dtype": "float32",
        "eos_token_id": 1,
        "feed_forward_proj": "gated-gelu",
        "initializer_factor": 1.0,
        "is_decoder": false,
        "is_encoder_decoder": true,
        "is_gated_act": true,
        "layer_norm_epsilon": 1e-06,
        "model_type": "umt5",
        "num_decoder_layers": 2,
        "num_heads": 4,
        "num_layers": 2,
        "pad_token_id": 0,
        "relative_attention_max_distance": 128,
        "relative_attention_num_buckets": 32,
        "scale_decoder_outputs": false,
        "tie_word_embeddings": true,
        "transformers_version": "5.24.0",
        "use_cache": false,
        "vocab_size": vocab_size
    })
}

pub fn transformer_config_json(arch: &Arch) -> Value {
    json!({
        "_class_name": "WanTransformer3DModel",
        "_diffusers_version": "0.42.1",
        "added_kv_proj_dim": null,
        "attention_head_dim": 32,
        "cross_attn_norm": true,
        "eps": 1e-06,
        "ffn_dim": arch.dit_ffn,
        "freq_dim": 256,
        "image_dim": null,
        "in_channels": Z_DIM,
        "num_attention_heads": arch.dit_heads,
        "num_layers": arch.dit_layers,
        "out_channels": Z_DIM,
        "patch_size": [1, 2, 2],
        "pos_embed_seq_len": null,
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": 1024,
        "text_dim": 64
    })
}

pub fn scheduler_config_json(flow_shift: f64) -> Value {
    json!({
        "_class_name": "UniPCMultistepScheduler",
        "_diffusers_version": "0.42.1",
        "beta_end": 0.02,
        "beta_schedule": "linear",
        "beta_start": 0.0001,
        "disable_corrector": [],
        "dynamic_thresholding_ratio": 0.995,
        "final_sigmas_type": "zero",
        "flow_shift": flow_shift,
        "lower_order_final": true,
        "num_train_timesteps": 1000,
        "predict_x0": true,
        "prediction_type": "flow_prediction",
        "rescale_betas_zero_snr": false,
        "sample_max_value": 1.0,
        "shift_terminal": null,
        "sigma_max": null,
        "sigma_min": null,
        "solver_order": 2,
        "solver_p": null,
        "solver_type": "bh2",
        "steps_offset": 0,
        "thresholding": false,
        "time_shift_type": "exponential",
        "timestep_spacing": "linspace",
        "trained_betas": null,
        "use_beta_sigmas": false,
        "use_dynamic_shifting": false,
        "use_exponential_sigmas": false,
        "use_flow_sigmas": true,
        "use_karras_sigmas": false
    })
}

pub fn model_index_json() -> Value {
    json!({
        "_class_name": "WanPipeline",
        "_diffusers_version": "0.42.1",
        "boundary_ratio": null,
        "expand_timesteps": true,
        "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": ["transformers", "UMT5EncoderModel"],
        "tokenizer": ["transformers", "TokenizersBackend"],
        "transformer": ["diffusers", "WanTransformer3DModel"],
        "transformer_2": [null, null],
        "vae": ["diffusers", "AutoencoderKLWan"]
    })
}

fn write_json(path: &Path, v: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())? + "\n";
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

/// Splits like the `Whitespace` pre-tokenizer (`\w+|[^\w\s]+`), lowercased.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_word = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let is_word = ch.is_alphanumeric() || ch == '_';
        if !cur.is_empty() && is_word != cur_word {
            out.push(std::mem::take(&mut cur));
        }
        cur_word = is_word;
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The world's vocabulary: every word of every caption the world can produce (sampled
/// exhaustively enough: all names and phrases, plus the caption grammar's words).
pub fn vocabulary() -> Vec<String> {
    let mut set = BTreeSet::new();
    let mut add = |s: &str| {
        for w in words(s) {
            set.insert(w);
        }
    };
    for c in world::Colour::ALL {
        add(c.name());
    }
    for s in world::Shape::ALL {
        add(s.name());
    }
    for m in world::Motion::ALL {
        add(m.phrase(false));
        add(m.phrase(true));
    }
    for b in world::Background::all() {
        add(&b.name());
    }
    add("a an and , on background gradient . gray");
    let cfg = WorldConfig {
        split: Split::Any,
        ..WorldConfig::default()
    };
    for seed in 0..4000 {
        add(&world::caption(&world::sample_spec(seed, &cfg)));
    }
    set.into_iter().collect()
}

/// Writes `tokenizer.json` (WordLevel, lowercase, whitespace pre-tokenizer, `</s>` appended)
/// and `tokenizer_config.json` into `dir`; returns the vocabulary size.
pub fn write_tokenizer(dir: &Path, text_len: usize) -> Result<i64, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let specials = ["<pad>", "</s>", "<unk>"];
    let mut vocab = serde_json::Map::new();
    for (i, s) in specials.iter().enumerate() {
        vocab.insert(s.to_string(), json!(i));
    }
    for w in vocabulary() {
        let id = vocab.len();
        vocab.entry(w).or_insert(json!(id));
    }
    let added: Vec<Value> = specials
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"id": i, "content": s, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let eos = json!({"SpecialToken": {"id": "</s>", "type_id": 0}});
    let tok = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"Sequence": {"id": "A", "type_id": 0}}, eos],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, eos,
                     {"Sequence": {"id": "B", "type_id": 0}}, eos],
            "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}
        },
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}
    });
    let n = vocab.len() as i64;
    write_json(&dir.join("tokenizer.json"), &tok)?;
    write_json(
        &dir.join("tokenizer_config.json"),
        &json!({
            "backend": "tokenizers",
            "eos_token": "</s>",
            "model_max_length": text_len,
            "pad_token": "<pad>",
            "padding_side": "right",
            "tokenizer_class": "TokenizersBackend",
            "truncation_side": "right",
            "unk_token": "<unk>"
        }),
    )?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Data

/// A batch of rendered train clips on the training device.
struct RenderedBatch {
    /// `[N, 3, F, H, W]` in [-1, 1].
    clips: Tensor,
    captions: Vec<String>,
    /// `[N, 1, F, H, W]` in 0..1: how much of each pixel any object covers.
    coverage: Tensor,
    /// The shape of every object of every clip.
    shapes: Vec<world::Shape>,
}

/// Renders the clips of `seeds` on all CPU cores.
fn render_batch(seeds: &[u64], cfg: &WorldConfig, device: Device) -> RenderedBatch {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, seeds.len().max(1));
    let chunk = seeds.len().div_ceil(threads).max(1);
    let rendered: Vec<(world::ClipSpec, world::Clip, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|&seed| {
                            let spec = world::sample_spec(seed, cfg);
                            let (clip, caption) = (world::render(&spec), world::caption(&spec));
                            (spec, clip, caption)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a render thread panicked"))
            .collect()
    });
    let (n, f, h, w) = (
        seeds.len() as i64,
        cfg.frames as i64,
        cfg.height as i64,
        cfg.width as i64,
    );
    let px = (f * h * w) as usize;
    let mut flat = Vec::with_capacity(rendered.len() * px * 3);
    let mut coverage = Vec::with_capacity(rendered.len() * px);
    let mut captions = Vec::with_capacity(rendered.len());
    let mut shapes = Vec::new();
    for (spec, clip, caption) in rendered {
        shapes.extend(spec.objects.iter().map(|o| o.shape));
        flat.extend_from_slice(&clip.frames);
        let start = coverage.len();
        coverage.resize(start + px, 0.0f32);
        for mask in &clip.masks {
            for (c, &m) in coverage[start..].iter_mut().zip(mask) {
                *c = c.max(m);
            }
        }
        captions.push(caption);
    }
    let clips = Tensor::from_slice(&flat)
        .view([n, f, h, w, 3])
        .to_device(device)
        .permute([0, 4, 1, 2, 3])
        .contiguous()
        * 2.0
        - 1.0;
    let coverage = Tensor::from_slice(&coverage)
        .view([n, 1, f, h, w])
        .to_device(device);
    RenderedBatch {
        clips,
        captions,
        coverage,
        shapes,
    }
}

/// Seeds of train clips: the stage's base seed plus a counter (the world's `Split::Train`
/// sampler never yields a held-out dominant triple).
fn seed_of(base: u64, i: u64) -> u64 {
    base.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i)
}

fn fmt_secs(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

struct Progress {
    start: Instant,
    last: Instant,
    budget: f64,
    name: &'static str,
}

impl Progress {
    fn new(name: &'static str, minutes: f64) -> Self {
        Progress {
            start: Instant::now(),
            last: Instant::now(),
            budget: minutes * 60.0,
            name,
        }
    }
    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    fn done(&self) -> bool {
        self.elapsed() >= self.budget
    }
    fn tick(&mut self, step: usize, loss: f64, extra: &str) {
        if self.last.elapsed().as_secs_f64() >= 15.0 {
            self.last = Instant::now();
            let e = self.elapsed();
            println!(
                "[{}] step {step} loss {loss:.5}{extra} {:.2} steps/s elapsed {} left {}",
                self.name,
                step as f64 / e.max(1e-9),
                fmt_secs(e),
                fmt_secs(self.budget - e)
            );
            let _ = std::io::stdout().flush();
        }
    }
}

/// An exponential moving average of a loss with Adam's bias correction: starting from zero and
/// dividing by `1 − decayᵗ` makes it the recent mean from the first step, not a drift up or down
/// from whatever the first batch happened to give.
struct LossAverage {
    decay: f64,
    sum: f64,
    weight: f64,
}

impl LossAverage {
    fn new(decay: f64) -> Self {
        LossAverage {
            decay,
            sum: 0.0,
            weight: 0.0,
        }
    }
    fn add(&mut self, v: f64) {
        self.sum = self.decay * self.sum + (1.0 - self.decay) * v;
        self.weight = self.decay * self.weight + (1.0 - self.decay);
    }
    fn get(&self) -> f64 {
        if self.weight > 0.0 {
            self.sum / self.weight
        } else {
            f64::NAN
        }
    }
}

/// Learning rate: linear warm-up then cosine to 10 % over the time budget.
fn lr_at(base: f64, step: usize, warmup: usize, progress: f64) -> f64 {
    let warm = ((step + 1) as f64 / warmup as f64).min(1.0);
    let p = progress.clamp(0.0, 1.0);
    base * warm * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            total += if p.is_dir() {
                dir_size(&p)
            } else {
                file_size(&p)
            };
        }
    }
    total
}

/// Scales the gradients of `vs` so their joint norm is at most `max`, without reading the norm
/// back to the host (tch's `clip_grad_norm` does, which stalls the GPU queue every step).
fn clip_grad_norm(vs: &nn::VarStore, max: f64) {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = vs
            .trainable_variables()
            .iter()
            .map(|v| v.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm();
        let coef = ((total + 1e-6).reciprocal() * max).clamp_max(1.0);
        for mut g in grads {
            let _ = g.g_mul_(&coef);
        }
    });
}

/// Copies a safetensors file's weights into `vs` (every variable must be in the file).
fn load_weights(vs: &nn::VarStore, path: &Path) -> Result<(), String> {
    tch::no_grad(|| vs.read_safetensors(path))
        .map_err(|e| format!("loading {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Stage A: VAE

/// Trains the VAE, computes the latent statistics, writes `out/vae/`. Returns (final loss
/// (EMA), steps, seconds).
fn train_vae(opts: &TrainOptions, vae_dir: &Path) -> Result<(f64, usize, f64), String> {
    let device = opts.device;
    let cfg_json = vae_config_json(&opts.arch, &[0.0; Z_DIM as usize], &[1.0; Z_DIM as usize]);
    let config: WanVaeConfig = serde_json::from_value(cfg_json).map_err(|e| e.to_string())?;
    let vs = nn::VarStore::new(device);
    let vae = WanVae::new(&vs.root(), config.clone()).map_err(|e| e.to_string())?;
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    println!("[vae] {params} parameters, config {config:?}");
    if let Some(dir) = &opts.vae_init {
        load_weights(&vs, &dir.join("diffusion_pytorch_model.safetensors"))?;
        println!("[vae] starting from {}", dir.display());
    }
    if opts.vae_decoder_only {
        if opts.vae_init.is_none() {
            return Err("--vae-decoder-only needs --vae-init (a trained encoder to keep)".into());
        }
        for (name, t) in vs.variables() {
            if name.starts_with("encoder.") || name.starts_with("quant_conv.") {
                let _ = t.set_requires_grad(false);
            }
        }
        println!("[vae] training the decoder only");
    }
    let base_lr = opts.vae_lr;
    let mut opt = nn::Adam::default()
        .build(&vs, base_lr)
        .map_err(|e| e.to_string())?;
    let wcfg = WorldConfig::default();
    let mut rng = Rng::new(opts.seed ^ 0xA11CE);
    let mut prog = Progress::new("vae", opts.vae_minutes);
    let mut step = 0usize;
    let mut avg = LossAverage::new(0.9);
    let mut l1_avg = LossAverage::new(0.9);
    let mut next_seed = 0u64;
    let mut last_ckpt = Instant::now();
    while !prog.done() && opts.vae_steps.is_none_or(|max| step < max) {
        let seeds: Vec<u64> = (0..opts.vae_batch as u64)
            .map(|k| seed_of(opts.seed, next_seed + k))
            .collect();
        next_seed += seeds.len() as u64;
        let batch = render_batch(&seeds, &wcfg, device);
        let (_, _, frames, h, w) = batch.clips.size5().map_err(|e| e.to_string())?;
        let crop = opts.vae_crop.min(h).min(w);
        let (mut xs, mut covs) = (Vec::new(), Vec::new());
        for b in 0..seeds.len() as i64 {
            let start = rng.below((frames - opts.vae_window + 1) as usize) as i64;
            let y0 = 8 * rng.below(((h - crop) / 8 + 1) as usize) as i64;
            let x0 = 8 * rng.below(((w - crop) / 8 + 1) as usize) as i64;
            let window = |t: &Tensor| {
                t.get(b)
                    .narrow(1, start, opts.vae_window)
                    .narrow(2, y0, crop)
                    .narrow(3, x0, crop)
            };
            xs.push(window(&batch.clips));
            covs.push(window(&batch.coverage));
        }
        let x = Tensor::stack(&xs, 0);
        // Per-pixel loss weight: 1, plus the object weight on the objects and 2 px around them
        // (where a blurred outline bleeds into the background).
        let weight =
            Tensor::stack(&covs, 0).max_pool3d([1, 5, 5], [1, 1, 1], [0, 2, 2], [1, 1, 1], false)
                * opts.vae_object_weight
                + 1.0;
        let weighted_mean =
            |e: Tensor| (e * &weight).sum(Kind::Float) / weight.sum(Kind::Float) / 3.0;
        let z = if opts.vae_decoder_only {
            tch::no_grad(|| vae.encode(&x))
        } else {
            vae.encode(&x)
        };
        let y = vae.decode(&z);
        let l1 = weighted_mean((&y - &x).abs());
        let loss = &l1 + weighted_mean((&y - &x).square()) + z.square().mean(Kind::Float) * 1e-4;
        opt.set_lr(lr_at(base_lr, step, 100, prog.elapsed() / prog.budget));
        opt.zero_grad();
        loss.backward();
        clip_grad_norm(&vs, 1.0);
        opt.step();
        // Reading the loss waits for the GPU: only every tenth step.
        if step.is_multiple_of(10) {
            let l = loss.double_value(&[]);
            if !l.is_finite() {
                return Err(format!("VAE loss is {l} at step {step}"));
            }
            avg.add(l);
            l1_avg.add(l1.double_value(&[]));
        }
        step += 1;
        prog.tick(step, avg.get(), &format!(" (L1 {:.4})", l1_avg.get()));
        if last_ckpt.elapsed().as_secs() >= 180 {
            last_ckpt = Instant::now();
            vs.save(opts.work.join("vae-ckpt.safetensors"))
                .map_err(|e| e.to_string())?;
        }
    }
    let seconds = prog.elapsed();
    let ema = avg.get();
    println!(
        "[vae] done: {step} steps in {}, loss (EMA) {ema:.5}",
        fmt_secs(seconds)
    );

    // Latent statistics over held-apart train clips (full 17 frames).
    let (mean, std) = tch::no_grad(|| {
        let mut zs = Vec::new();
        let n: u64 = if opts.quick { 8 } else { 128 };
        for start in (0..n).step_by(16) {
            let seeds: Vec<u64> = (start..(start + 16).min(n))
                .map(|i| seed_of(opts.seed ^ 0x57A7, i))
                .collect();
            zs.push(vae.encode(&render_batch(&seeds, &wcfg, device).clips));
        }
        let z = Tensor::cat(&zs, 0).transpose(0, 1).flatten(1, -1);
        let mean: Vec<f64> = Vec::try_from(z.mean_dim(1, false, Kind::Double)).unwrap_or_default();
        let std: Vec<f64> = Vec::try_from(
            z.std_dim(1, true, false)
                .to_kind(Kind::Double)
                .clamp_min(1e-3),
        )
        .unwrap_or_default();
        (mean, std)
    });
    let round = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| (x * 1e4).round() / 1e4).collect() };
    let (mean, std) = (round(&mean), round(&std));
    println!("[vae] latents_mean {mean:?}\n[vae] latents_std {std:?}");
    std::fs::create_dir_all(vae_dir).map_err(|e| e.to_string())?;
    write_json(
        &vae_dir.join("config.json"),
        &vae_config_json(&opts.arch, &mean, &std),
    )?;
    vs.save(vae_dir.join("diffusion_pytorch_model.safetensors"))
        .map_err(|e| e.to_string())?;
    Ok((ema, step, seconds))
}

// ---------------------------------------------------------------------------------------------
// Stage B: DiT + text encoder

/// Random init of a fresh encoder (`UmT5Encoder::new` zeroes the weights; layer norms stay 1).
fn init_text_encoder(enc: &UmT5Encoder) {
    tch::no_grad(|| {
        for (name, mut t) in enc.var_store().variables() {
            if name.contains("layer_norm") {
                continue;
            }
            let size = t.size();
            let std = if name.starts_with("shared") {
                1.0
            } else if name.contains("relative_attention_bias") {
                0.1
            } else {
                1.0 / (size[size.len() - 1] as f64).sqrt()
            };
            let r = Tensor::randn(size.as_slice(), (t.kind(), t.device())) * std;
            t.copy_(&r);
        }
    });
}

/// Everything stage B samples from, on the training device, so that drawing a batch needs no
/// host-to-device copy (each one would wait for the GPU to drain).
struct Pool {
    /// Normalised latents `[N, z, F', H', W']`.
    latents: Tensor,
    /// Token ids and masks `[N, TRAIN_TEXT_LEN]` (int64).
    ids: Tensor,
    masks: Tensor,
    /// `[N, 1, F', H', W']`: 1 on the latent cells an object touches and their neighbours.
    objects: Tensor,
}

/// Pixel coverage `[N, 1, F, H, W]` → the latent cells it touches, grown by one cell:
/// `[N, 1, F', H', W']` of 0/1. A latent frame covers one pixel frame (the first) or
/// `temporal` of them, a cell `spatial`² pixels.
fn latent_object_cells(coverage: &Tensor, temporal: i64, spatial: i64) -> Tensor {
    let first = coverage.narrow(2, 0, 1);
    let rest = coverage.narrow(2, 1, coverage.size()[2] - 1);
    let pooled = |t: &Tensor, kt: i64| {
        t.max_pool3d(
            [kt, spatial, spatial],
            [kt, spatial, spatial],
            [0, 0, 0],
            [1, 1, 1],
            false,
        )
    };
    let cells = Tensor::cat(&[pooled(&first, 1), pooled(&rest, temporal)], 2).gt(0.05);
    cells
        .to_kind(Kind::Float)
        .max_pool3d([1, 3, 3], [1, 1, 1], [0, 1, 1], [1, 1, 1], false)
}

fn build_pool(
    opts: &TrainOptions,
    vae: &WanVae,
    tokenizer: &PromptTokenizer,
) -> Result<(Pool, f64), String> {
    let start = Instant::now();
    let wcfg = WorldConfig {
        shape_weights: opts.shape_weights,
        ..WorldConfig::default()
    };
    if let Some(w) = opts.shape_weights {
        println!("[pool] shape weights (circle, square, triangle, star, ring) {w:?}");
    }
    let mut lats = Vec::new();
    let mut objects = Vec::new();
    let mut ids = Vec::new();
    let mut masks = Vec::new();
    let mut shape_counts = [0usize; 5];
    let batch: u64 = if opts.device == Device::Cpu { 8 } else { 64 };
    let mut i = 0u64;
    let mut last = Instant::now();
    tch::no_grad(|| -> Result<(), String> {
        while (i as usize) < opts.pool_max
            && start.elapsed().as_secs_f64() < opts.pool_minutes * 60.0
        {
            let seeds: Vec<u64> = (i..i + batch)
                .map(|k| seed_of(opts.seed ^ 0xB00B, k))
                .collect();
            let RenderedBatch {
                clips,
                captions,
                coverage,
                shapes,
            } = render_batch(&seeds, &wcfg, opts.device);
            for shape in shapes {
                shape_counts[shape.index()] += 1;
            }
            objects.push(latent_object_cells(
                &coverage,
                vae.scale_factor_temporal(),
                vae.scale_factor_spatial(),
            ));
            for caption in captions {
                let (id, m) = tokenizer
                    .encode(&caption, TRAIN_TEXT_LEN)
                    .map_err(|e| e.to_string())?;
                if id.contains(&2) {
                    return Err(format!("caption {caption:?} has unknown words"));
                }
                ids.push(id);
                masks.push(m);
            }
            i += batch;
            let z = vae.encode(&clips);
            lats.push(vae.normalize_latents(&z));
            if last.elapsed().as_secs() >= 15 {
                last = Instant::now();
                println!(
                    "[pool] {i} clips encoded, {:.1} clips/s",
                    i as f64 / start.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    })?;
    let latents = Tensor::cat(&lats, 0);
    let objects_total = shape_counts.iter().sum::<usize>().max(1);
    let mix: Vec<String> = world::Shape::ALL
        .iter()
        .map(|s| {
            let n = shape_counts[s.index()];
            format!(
                "{} {n} ({:.1} %)",
                s.name(),
                100.0 * n as f64 / objects_total as f64
            )
        })
        .collect();
    println!("[pool] objects by shape: {}", mix.join(", "));
    println!(
        "[pool] {} clips, latents {:?}, mean {:.3} std {:.3}",
        ids.len(),
        latents.size(),
        latents.mean(Kind::Float).double_value(&[]),
        latents.std(true).double_value(&[])
    );
    let rows = |v: &[Vec<i64>]| {
        let flat: Vec<i64> = v.concat();
        Tensor::from_slice(&flat)
            .view([v.len() as i64, TRAIN_TEXT_LEN as i64])
            .to_device(opts.device)
    };
    Ok((
        Pool {
            latents,
            ids: rows(&ids),
            masks: rows(&masks),
            objects: Tensor::cat(&objects, 0),
        },
        start.elapsed().as_secs_f64(),
    ))
}

/// Prompt embeddings as the pipeline makes them: encoded at `TRAIN_TEXT_LEN`, positions past
/// each prompt zeroed, zero-padded to `text_len`.
fn embed(enc: &UmT5Encoder, ids: &Tensor, mask: &Tensor, text_len: usize) -> Tensor {
    let h = enc.forward(ids, mask);
    let h = h * mask.to_kind(Kind::Float).unsqueeze(-1);
    let (b, l, d) = h.size3().expect("3-D");
    let pad = text_len as i64 - l;
    if pad > 0 {
        let zeros = Tensor::zeros([b, pad, d], (Kind::Float, h.device()));
        Tensor::cat(&[h, zeros], 1)
    } else {
        h
    }
}

/// An exponential moving average of a model's weights (decay ramping up to 0.999): sampling
/// from the average gives cleaner clips than the last step's noisy weights.
struct WeightAverage {
    pairs: Vec<(Tensor, Tensor)>,
}

impl WeightAverage {
    fn new(vs: &nn::VarStore) -> Self {
        let pairs = vs
            .trainable_variables()
            .into_iter()
            .map(|v| (v.detach().copy(), v))
            .collect();
        WeightAverage { pairs }
    }

    fn update(&mut self, step: usize) {
        let decay = (0.999f64).min((1 + step) as f64 / (10 + step) as f64);
        tch::no_grad(|| {
            for (avg, v) in &mut self.pairs {
                let _ = avg.lerp_(v, 1.0 - decay);
            }
        });
    }

    fn copy_into_model(&mut self) {
        tch::no_grad(|| {
            for (avg, v) in &mut self.pairs {
                v.copy_(avg);
            }
        });
    }
}

fn train_dit(
    opts: &TrainOptions,
    pool: &Pool,
    dit: &WanTransformer,
    enc: &UmT5Encoder,
    empty: &(Vec<i64>, Vec<i64>),
) -> Result<(f64, usize, f64), String> {
    let device = opts.device;
    let base_lr = opts.dit_lr;
    let mut opt_dit = nn::AdamW::default()
        .build(dit.var_store(), base_lr)
        .map_err(|e| e.to_string())?;
    let mut opt_enc = nn::AdamW::default()
        .build(enc.var_store(), base_lr)
        .map_err(|e| e.to_string())?;
    let (n, c, f, h, w) = pool.latents.size5().map_err(|e| e.to_string())?;
    let l = TRAIN_TEXT_LEN as i64;
    let empty_ids = Tensor::from_slice(&empty.0).view([1, l]).to_device(device);
    let empty_masks = Tensor::from_slice(&empty.1).view([1, l]).to_device(device);
    let [_, ph, pw] = dit.config().patch_size;
    let tokens_per_frame = (h / ph) * (w / pw);
    let bsz = opts.dit_batch;
    let mut prog = Progress::new("dit", opts.dit_minutes);
    let mut step = 0usize;
    let mut avg = LossAverage::new(0.9);
    let mut last_ckpt = Instant::now();
    let mut ema_dit = WeightAverage::new(dit.var_store());
    let mut ema_enc = WeightAverage::new(enc.var_store());
    while !prog.done() && opts.dit_steps.is_none_or(|max| step < max) {
        // The batch is drawn with libtorch's generator on the device (seeded by `manual_seed`).
        let idx = Tensor::randint(n, [bsz], (Kind::Int64, device));
        let dropped = Tensor::rand([bsz, 1], (Kind::Float, device)).lt(0.1);
        let ids = empty_ids
            .expand([bsz, l], true)
            .where_self(&dropped, &pool.ids.index_select(0, &idx));
        let masks = empty_masks
            .expand([bsz, l], true)
            .where_self(&dropped, &pool.masks.index_select(0, &idx));
        let x0 = pool.latents.index_select(0, &idx);
        let u = Tensor::randn([bsz], (Kind::Float, device)).sigmoid();
        let shift = opts.dit_shift;
        let sigma = &u * shift / ((&u * (shift - 1.0)) + 1.0);
        let s5 = sigma.view([bsz, 1, 1, 1, 1]);
        let eps = Tensor::randn_like(&x0);
        let xt = (1.0 - &s5) * &x0 + &s5 * &eps;
        // Frame mask: 0 on a conditioned first frame, else 1.
        let first = Tensor::rand([bsz, 1], (Kind::Float, device))
            .ge(0.3)
            .to_kind(Kind::Float);
        let fm = Tensor::cat(
            &[first, Tensor::ones([bsz, f - 1], (Kind::Float, device))],
            1,
        );
        let m5 = fm.view([bsz, 1, f, 1, 1]);
        let xt = (1.0 - &m5) * &x0 + &m5 * &xt;
        let timestep = (fm.unsqueeze(-1).expand([bsz, f, tokens_per_frame], true)
            * (&sigma * 1000.0).view([bsz, 1, 1]))
        .reshape([bsz, f * tokens_per_frame]);
        let emb = embed(enc, &ids, &masks, opts.text_len);
        let pred = dit.forward(&xt, &timestep, &emb);
        let target = &eps - &x0;
        let objects = pool.objects.index_select(0, &idx);
        let weight =
            (&m5 * (objects * opts.dit_object_weight + 1.0)).expand([bsz, c, f, h, w], true);
        let loss = ((pred - target).square() * &weight).sum(Kind::Float) / weight.sum(Kind::Float);
        let lr = lr_at(base_lr, step, 200, prog.elapsed() / prog.budget);
        opt_dit.set_lr(lr);
        opt_enc.set_lr(lr);
        opt_dit.zero_grad();
        opt_enc.zero_grad();
        loss.backward();
        clip_grad_norm(dit.var_store(), 1.0);
        clip_grad_norm(enc.var_store(), 1.0);
        opt_dit.step();
        opt_enc.step();
        ema_dit.update(step);
        ema_enc.update(step);
        // Reading the loss waits for the GPU: only every tenth step.
        if step.is_multiple_of(10) {
            let lv = loss.double_value(&[]);
            if !lv.is_finite() {
                return Err(format!("DiT loss is {lv} at step {step}"));
            }
            avg.add(lv);
        }
        step += 1;
        prog.tick(step, avg.get(), &format!(" lr {lr:.2e}"));
        if last_ckpt.elapsed().as_secs() >= 180 {
            last_ckpt = Instant::now();
            dit.var_store()
                .save(opts.work.join("transformer-ckpt.safetensors"))
                .map_err(|e| e.to_string())?;
            enc.var_store()
                .save(opts.work.join("text_encoder-ckpt.safetensors"))
                .map_err(|e| e.to_string())?;
        }
    }
    let seconds = prog.elapsed();
    let ema = avg.get();
    println!(
        "[dit] done: {step} steps in {}, loss (EMA) {ema:.5}; keeping the averaged weights",
        fmt_secs(seconds)
    );
    ema_dit.copy_into_model();
    ema_enc.copy_into_model();
    Ok((ema, step, seconds))
}

// ---------------------------------------------------------------------------------------------
// The run

/// Runs both stages and writes the model directory `opts.out`.
pub fn run(opts: &TrainOptions, command_line: &str) -> Result<TrainReport, String> {
    let started = Instant::now();
    tch::set_num_threads(opts.threads);
    tch::manual_seed(opts.seed as i64);
    if let Device::Cuda(_) = opts.device {
        if !tch::Cuda::is_available() {
            return Err("--device cuda: libtorch sees no CUDA GPU (is this libtorch a CUDA build, and is the driver loaded?)".into());
        }
        println!(
            "[device] CUDA, {} GPU(s) visible",
            tch::Cuda::device_count()
        );
    }
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&opts.work).map_err(|e| e.to_string())?;
    let mut report = TrainReport::default();

    // Tokenizer.
    let vocab = write_tokenizer(&out.join("tokenizer"), opts.text_len)?;
    let tokenizer = PromptTokenizer::load(&out.join("tokenizer")).map_err(|e| e.to_string())?;
    println!("[tokenizer] {vocab} tokens");

    // Stage A.
    let vae_dir = out.join("vae");
    match &opts.vae_dir {
        Some(dir) => {
            if *dir != vae_dir {
                std::fs::create_dir_all(&vae_dir).map_err(|e| e.to_string())?;
                for f in ["config.json", "diffusion_pytorch_model.safetensors"] {
                    std::fs::copy(dir.join(f), vae_dir.join(f))
                        .map_err(|e| format!("copying {f}: {e}"))?;
                }
            }
            println!("[vae] reusing {}", dir.display());
        }
        None => {
            let (loss, steps, secs) = train_vae(opts, &vae_dir)?;
            report.vae_loss = loss;
            report.vae_steps = steps;
            report.vae_seconds = secs;
        }
    }
    let device = opts.device;
    let vae = WanVae::load(&vae_dir, device, Kind::Float).map_err(|e| e.to_string())?;

    // Stage B.
    let (pool, pool_secs) = build_pool(opts, &vae, &tokenizer)?;
    report.pool_clips = pool.ids.size()[0] as usize;
    report.pool_seconds = pool_secs;
    let te_json = text_encoder_config_json(vocab);
    let te_cfg: UmT5Config = serde_json::from_value(te_json.clone()).map_err(|e| e.to_string())?;
    let enc = UmT5Encoder::new(&te_cfg, device, Kind::Float)?;
    init_text_encoder(&enc);
    let tr_json = transformer_config_json(&opts.arch);
    let tr_cfg: WanTransformerConfig =
        serde_json::from_value(tr_json.clone()).map_err(|e| e.to_string())?;
    let dit = WanTransformer::new(tr_cfg, device, Kind::Float)?;
    if let Some(dir) = &opts.init {
        load_weights(
            dit.var_store(),
            &dir.join("transformer/diffusion_pytorch_model.safetensors"),
        )?;
        load_weights(enc.var_store(), &dir.join("text_encoder/model.safetensors"))?;
        println!("[dit] starting from {}", dir.display());
    }
    let count = |vs: &nn::VarStore| -> i64 {
        vs.trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum()
    };
    println!(
        "[dit] transformer {} parameters, text encoder {} parameters",
        count(dit.var_store()),
        count(enc.var_store())
    );
    let empty = tokenizer
        .encode("", TRAIN_TEXT_LEN)
        .map_err(|e| e.to_string())?;
    let (loss, steps, secs) = train_dit(opts, &pool, &dit, &enc, &empty)?;
    report.dit_loss = loss;
    report.dit_steps = steps;
    report.dit_seconds = secs;
    let parity = tch::no_grad(|| -> Result<f64, String> {
        let caption = "a red circle moves left on a dark blue background";
        let (i, m) = tokenizer
            .encode(caption, TRAIN_TEXT_LEN)
            .map_err(|e| e.to_string())?;
        let l = TRAIN_TEXT_LEN as i64;
        let ours = embed(
            &enc,
            &Tensor::from_slice(&i).view([1, l]).to_device(device),
            &Tensor::from_slice(&m).view([1, l]).to_device(device),
            opts.text_len,
        );
        let pipe = encode_prompts(&tokenizer, &enc, &[caption], opts.text_len, device)
            .map_err(|e| e.to_string())?;
        Ok((ours - pipe).abs().max().double_value(&[]))
    })?;
    println!("[check] training vs pipeline prompt embeddings: max |diff| {parity:.3e}");

    // The model directory.
    let sub = |name: &str| -> Result<PathBuf, String> {
        let d = out.join(name);
        std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
        Ok(d)
    };
    let d = sub("transformer")?;
    write_json(&d.join("config.json"), &tr_json)?;
    dit.var_store()
        .save(d.join("diffusion_pytorch_model.safetensors"))
        .map_err(|e| e.to_string())?;
    let d = sub("text_encoder")?;
    write_json(&d.join("config.json"), &te_json)?;
    enc.var_store()
        .save(d.join("model.safetensors"))
        .map_err(|e| e.to_string())?;
    let d = sub("scheduler")?;
    write_json(
        &d.join("scheduler_config.json"),
        &scheduler_config_json(opts.sampler_shift),
    )?;
    write_json(&out.join("model_index.json"), &model_index_json())?;
    report.total_bytes = dir_size(out);
    write_model_card(opts, &report, command_line, started.elapsed().as_secs_f64())?;
    report.total_bytes = dir_size(out);
    Ok(report)
}

fn machine(device: Device) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let gpu = match device {
        Device::Cuda(_) => std::process::Command::new("nvidia-smi")
            .args(["--query-gpu=name", "--format=csv,noheader"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .map_or(", a CUDA GPU".to_string(), |name| format!(", GPU: {name}")),
        _ => ", CPU only".to_string(),
    };
    format!("{cpu}, {cores} cores visible{gpu}")
}

fn write_model_card(
    opts: &TrainOptions,
    r: &TrainReport,
    command_line: &str,
    total_secs: f64,
) -> Result<(), String> {
    let arch = &opts.arch;
    let (dim_mult, spatial) = if arch.vae_stages == 2 {
        ("[1,2,4]", 4)
    } else {
        ("[1,2,4,4]", 8)
    };
    let where_ = match opts.device {
        Device::Cpu => format!("{} CPU threads", opts.threads),
        Device::Cuda(_) => "one CUDA GPU".to_string(),
        other => format!("{other:?}"),
    };
    let text = format!(
        "# dreamfx-tiny

**What.** A tiny text-to-video / first-frame-to-video model with the Wan architecture (the same
code as Wan2.1/2.2 in `diffusion/src/`): a Wan2.1-layout causal 3D VAE (base_dim {vbd},
dim_mult {dim_mult}, one res block per stage, z_dim {Z_DIM}, {spatial}× spatial, 4× temporal), a DiT
({layers} layers, {heads} heads × 32, ffn {ffn}, patch 1×2×2, TI2V-style per-token timesteps), and a
umT5 encoder (2 layers, d_model 64, 4 heads × 16, gated-gelu ffn 128) over a word-level
tokenizer of the shape world's vocabulary; prompt embeddings zero-padded to {text_len} rows
(the tokenizer's model_max_length). Sampler: UniPC, flow_shift {sampler_shift}. fp32.

**Data.** Procedurally rendered captioned clips of the shape world (`tiny/src/world.rs`,
17 frames of 64×64), train split only (held-out colour/shape/motion triples are never shown).

**Training** (`tiny/src/train.rs`, seed {seed}, on {where_}):
- Stage A, VAE{vae_how}: {vs} steps of batch {vb} random {window}-frame {crop}×{crop} crops, Adam lr {vlr:.0e}
  (warm-up, cosine), L1 + MSE (+1e-4 latent L2, no KL), pixels on and within 2 px of an object
  weighted {vow}× more; {vsec}; final loss (EMA) {vl:.5}.
- Latent pool: {pc} clips encoded in {psec}{pool_shapes}.
- Stage B, DiT + text encoder jointly: {ds} steps of batch {db}, AdamW lr {dlr:.0e} (warm-up, cosine),
  flow matching (x_t = (1−σ)x0 + σε, target ε − x0, σ shifted logit-normal with shift
  {dit_shift}), latent cells on or next to an object weighted {dow}× more, 10 % empty captions,
  30 % first-frame conditioning; {dsec}; final loss (EMA)
  {dl:.5}. The written weights are the exponential moving average (decay 0.999) of the steps.
- Total wall time {total}. Model directory size {mb:.2} MB.

**Command.** `{command_line}`

**Machine.** {machine}.

**Limits.** A demo and test model for a toy world of coloured shapes, not a general video model.
",
        vbd = arch.vae_base_dim,
        window = opts.vae_window,
        vow = 1.0 + opts.vae_object_weight,
        dow = 1.0 + opts.dit_object_weight,
        pool_shapes = match opts.shape_weights {
            Some(w) => format!(
                ", shapes drawn in proportion circle {} : square {} : triangle {} : star {} : ring {}",
                w[0], w[1], w[2], w[3], w[4]
            ),
            None => String::new(),
        },
        vae_how = match (&opts.vae_dir, &opts.vae_init, opts.vae_decoder_only) {
            (Some(d), _, _) => format!(" (not trained: reused {})", d.display()),
            (None, Some(d), true) => format!(" (decoder only, from {})", d.display()),
            (None, Some(d), false) => format!(" (from {})", d.display()),
            (None, None, _) => String::new(),
        },
        layers = arch.dit_layers,
        heads = arch.dit_heads,
        ffn = arch.dit_ffn,
        dlr = opts.dit_lr,
        sampler_shift = opts.sampler_shift,
        text_len = opts.text_len,
        dit_shift = opts.dit_shift,
        seed = opts.seed,
        vs = r.vae_steps,
        vb = opts.vae_batch,
        crop = opts.vae_crop,
        vlr = opts.vae_lr,
        vsec = fmt_secs(r.vae_seconds),
        vl = r.vae_loss,
        pc = r.pool_clips,
        psec = fmt_secs(r.pool_seconds),
        ds = r.dit_steps,
        db = opts.dit_batch,
        dsec = fmt_secs(r.dit_seconds),
        dl = r.dit_loss,
        total = fmt_secs(total_secs),
        mb = r.total_bytes as f64 / 1e6,
        machine = machine(opts.device),
    );
    std::fs::write(opts.out.join("MODEL_CARD.md"), text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn loss_average_is_the_recent_mean_from_the_first_step() {
        let mut a = LossAverage::new(0.98);
        assert!(a.get().is_nan());
        a.add(0.5);
        assert!((a.get() - 0.5).abs() < 1e-12);
        for _ in 0..10 {
            a.add(0.5);
        }
        assert!((a.get() - 0.5).abs() < 1e-12, "no drift on a constant loss");
        for _ in 0..1000 {
            a.add(0.1);
        }
        assert!((a.get() - 0.1).abs() < 1e-6);
    }

    #[test]
    fn gradient_clipping_scales_to_the_limit_and_leaves_small_gradients() {
        let vs = nn::VarStore::new(Device::Cpu);
        let a = vs.root().zeros("a", &[3]);
        let b = vs.root().zeros("b", &[4]);
        let grad_norm = |vs: &nn::VarStore| -> f64 {
            let sq: f64 = vs
                .trainable_variables()
                .iter()
                .map(|v| v.grad().square().sum(Kind::Double).double_value(&[]))
                .sum();
            sq.sqrt()
        };
        // d/dx of sum(3a) + sum(4b): gradients 3 (×3) and 4 (×4), norm sqrt(27 + 64).
        ((&a * 3.0).sum(Kind::Float) + (&b * 4.0).sum(Kind::Float)).backward();
        assert!((grad_norm(&vs) - 91f64.sqrt()).abs() < 1e-4);
        clip_grad_norm(&vs, 1.0);
        assert!((grad_norm(&vs) - 1.0).abs() < 1e-4, "clipped to 1");
        clip_grad_norm(&vs, 5.0);
        assert!(
            (grad_norm(&vs) - 1.0).abs() < 1e-4,
            "below the limit: unchanged"
        );
    }

    #[test]
    fn options_parse_devices_sizes_and_continuation() {
        let o = TrainOptions::parse(&args(
            "--device cuda --dit-layers 8 --vae-stages 3 --vae-window 17 --init m --vae-init m/vae --vae-decoder-only --dit-steps 100 --dit-shift 1 --sampler-shift 2 --text-len 512",
        ))
        .expect("valid options");
        assert_eq!(o.device, Device::Cuda(0));
        assert_eq!(o.arch.dit_layers, 8);
        assert_eq!(o.arch.vae_stages, 3);
        assert_eq!(o.vae_window, 17);
        assert!(o.vae_decoder_only);
        assert_eq!(o.dit_steps, Some(100));
        assert_eq!(o.init.as_deref(), Some(Path::new("m")));
        assert_eq!((o.dit_shift, o.sampler_shift, o.text_len), (1.0, 2.0, 512));
        let w = TrainOptions::parse(&args("--vae-object-weight 8 --dit-object-weight 3"))
            .expect("object weights");
        assert_eq!((w.vae_object_weight, w.dit_object_weight), (8.0, 3.0));
        assert_eq!(w.shape_weights, None);
        let s = TrainOptions::parse(&args("--shape-weights 1,2,2.5,2,0.5")).expect("shape weights");
        assert_eq!(s.shape_weights, Some([1.0, 2.0, 2.5, 2.0, 0.5]));
        let defaults = TrainOptions::parse(&[]).expect("defaults");
        assert_eq!(defaults.device, Device::Cpu);
        assert_eq!(defaults.vae_window, 9);
        assert_eq!(defaults.arch, Arch::default());
    }

    #[test]
    fn options_refuse_what_cannot_train() {
        for bad in [
            "--device tpu",
            "--vae-window 6",
            "--vae-window 21",
            "--vae-stages 4",
            "--dit-heads 0",
            "--dit-layers",
            "--seed x",
            "--frobnicate 1",
            "--text-len 8",
            "--dit-shift 0",
            "--vae-object-weight -1",
            "--dit-object-weight nan",
            "--shape-weights 1,2,2,2",
            "--shape-weights 1,2,2,2,0",
            "--shape-weights 1,2,2,2,-1",
            "--shape-weights 1,2,x,2,1",
            "--shape-weights 1,2,2,2,1,1",
        ] {
            let e = TrainOptions::parse(&args(bad)).expect_err(bad);
            assert!(!e.is_empty(), "{bad}: empty message");
        }
    }

    #[test]
    fn object_cells_follow_the_vae_grid() {
        // 17 frames of 16×16 pixels, 4× temporal and spatial: 5 latent frames of 4×4 cells.
        let mut coverage = vec![0f32; 17 * 16 * 16];
        coverage[(5 * 16 + 9) * 16 + 1] = 1.0; // frame 5, pixel (y 9, x 1): latent frame 2, cell (2, 0)
        let cov = Tensor::from_slice(&coverage).view([1, 1, 17, 16, 16]);
        let cells = latent_object_cells(&cov, 4, 4);
        assert_eq!(cells.size(), [1, 1, 5, 4, 4]);
        let on: Vec<f32> = Vec::try_from(cells.flatten(0, -1)).unwrap();
        let lit: Vec<(usize, usize, usize)> = (0..on.len())
            .filter(|&i| on[i] > 0.0)
            .map(|i| (i / 16, i / 4 % 4, i % 4))
            .collect();
        // The cell and its neighbours (one cell grown, clipped at the border), in frame 2 only.
        assert_eq!(
            lit,
            [
                (2, 1, 0),
                (2, 1, 1),
                (2, 2, 0),
                (2, 2, 1),
                (2, 3, 0),
                (2, 3, 1)
            ]
        );
        // Frame 0 is its own latent frame.
        let mut first = vec![0f32; 17 * 16 * 16];
        first[0] = 0.5;
        let cells = latent_object_cells(&Tensor::from_slice(&first).view([1, 1, 17, 16, 16]), 4, 4);
        assert_eq!(
            cells.narrow(2, 0, 1).sum(Kind::Float).double_value(&[]),
            4.0
        );
        assert_eq!(cells.sum(Kind::Float).double_value(&[]), 4.0);
    }

    #[test]
    fn configs_match_the_arch() {
        let arch = Arch {
            vae_stages: 3,
            dit_layers: 2,
            ..Arch::default()
        };
        let vae: WanVaeConfig =
            serde_json::from_value(vae_config_json(&arch, &[0.0; 8], &[1.0; 8])).unwrap();
        assert_eq!(vae.spatial_factor(), 8);
        assert_eq!(vae.temporal_factor(), 4);
        let small: WanVaeConfig =
            serde_json::from_value(vae_config_json(&Arch::default(), &[0.0; 8], &[1.0; 8]))
                .unwrap();
        assert_eq!(small.spatial_factor(), 4);
        assert_eq!(small.temporal_factor(), 4);
        let dit: WanTransformerConfig =
            serde_json::from_value(transformer_config_json(&arch)).unwrap();
        assert_eq!(dit.num_layers, 2);
    }
}
