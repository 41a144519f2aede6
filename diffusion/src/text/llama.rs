//! HunyuanVideo's main text encoder: a Llama decoder used as an encoder (transformers'
//! `LlamaModel`, the language model of xtuner/llava-llama-3-8b), and the prompt encoding of
//! diffusers' `HunyuanVideoPipeline._get_llama_prompt_embeds`.
//!
//! The prompt is put into a chat template that asks for a description of the video, the whole
//! text tokenized to `crop_start + max_sequence_length` tokens (begin-of-text first, padded on
//! the right), run through the model with a causal + padding mask, and the hidden state of the
//! third layer from the end (`hidden_states[-(num_hidden_layers_to_skip + 1)]`, i.e. the output
//! of layer `L - 2`, before the final norm) is kept from token `crop_start` on: the template's
//! tokens are cut off and the prompt's remain, with their attention mask.
//!
//! Differences from the T5 family (`text::umt5`), so nothing below the prompt helpers is
//! shared: causal attention with rotary positions (rotate-half, not interleaved pairs; theta
//! 500000) instead of a relative position bias, attention scaled by `1/sqrt(head_dim)` (T5:
//! unscaled), grouped-query attention (8 key/value heads for 32 query heads), SwiGLU MLP, RMS
//! norm weights applied after the cast back to the input kind.
use std::path::Path;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};
use crate::models::layers::{Builder, Linear};
use crate::text::umt5::{PromptTokenizer, TokenizeError};

/// `text_encoder/config.json` (a transformers `LlamaConfig`; the fields the encoder uses).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlamaConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    /// `None`: as many as the query heads.
    #[serde(default)]
    pub num_key_value_heads: Option<i64>,
    /// `None`: `hidden_size / num_attention_heads`.
    #[serde(default)]
    pub head_dim: Option<i64>,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// transformers 4 configs keep the theta here…
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// …transformers 5 configs in `rope_parameters`.
    #[serde(default)]
    pub rope_parameters: Option<serde_json::Value>,
    /// transformers 4's scaling variants (llama3, linear, …): only `null` is supported.
    #[serde(default)]
    pub rope_scaling: Option<serde_json::Value>,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
}

fn default_act() -> String {
    "silu".into()
}

fn default_eps() -> f64 {
    1e-6
}

impl LlamaConfig {
    pub fn head_dim(&self) -> i64 {
        self.head_dim
            .filter(|d| *d > 0)
            .unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
    }

    pub fn kv_heads(&self) -> i64 {
        self.num_key_value_heads
            .filter(|h| *h > 0)
            .unwrap_or(self.num_attention_heads)
    }

    /// The RoPE base, wherever the config keeps it (transformers' default 10000 otherwise).
    pub fn rope_base(&self) -> f64 {
        self.rope_parameters
            .as_ref()
            .and_then(|p| p.get("rope_theta"))
            .and_then(|t| t.as_f64())
            .or(self.rope_theta)
            .unwrap_or(10000.0)
    }

    /// Why this config cannot be run by this implementation, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        if self.num_attention_heads % self.kv_heads() != 0 {
            return Err(format!(
                "{} attention heads do not share {} key/value heads evenly",
                self.num_attention_heads,
                self.kv_heads()
            ));
        }
        if self.head_dim() % 2 != 0 {
            return Err(format!("head_dim {} must be even", self.head_dim()));
        }
        if self.hidden_act != "silu" {
            return Err(format!(
                "hidden_act {:?} is not supported (silu)",
                self.hidden_act
            ));
        }
        let rope_type = self
            .rope_parameters
            .as_ref()
            .and_then(|p| p.get("rope_type"))
            .and_then(|t| t.as_str())
            .unwrap_or("default");
        let scaled = self.rope_scaling.as_ref().is_some_and(|s| !s.is_null());
        if rope_type != "default" || scaled {
            return Err(format!(
                "rope type {rope_type:?} / rope_scaling is not supported (plain RoPE only)"
            ));
        }
        Ok(())
    }
}

/// `LlamaRMSNorm`: normalised in fp32, cast back to the input's kind, then times the weight.
#[derive(Debug)]
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let x = xs.to_kind(Kind::Float);
        let variance = x
            .square()
            .mean_dim(Some([-1i64].as_slice()), true, None::<Kind>);
        &self.weight * (x * (variance + self.eps).rsqrt()).to_kind(xs.kind())
    }
}

#[derive(Debug)]
struct Layer {
    input_layernorm: RmsNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    post_attention_layernorm: RmsNorm,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

/// `rotate_half`: `[x1, x2] -> [-x2, x1]` over the halves of the last dimension.
fn rotate_half(xs: &Tensor) -> Tensor {
    let d = *xs.size().last().expect("rotate_half of a scalar");
    let x1 = xs.narrow(-1, 0, d / 2);
    let x2 = xs.narrow(-1, d / 2, d - d / 2);
    Tensor::cat(&[x2.neg(), x1], -1)
}

/// The Llama encoder (transformers' `LlamaModel`, no language-model head).
#[derive(Debug)]
pub struct LlamaEncoder {
    config: LlamaConfig,
    vs: nn::VarStore,
    kind: Kind,
    embed_tokens: Tensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
}

impl LlamaEncoder {
    /// Loads `text_encoder/` (config.json and safetensors, sharded or not), shapes checked
    /// before any weight is read.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<LlamaEncoder, LoadError> {
        let config: LlamaConfig = read_config(dir)?;
        config.check().map_err(|why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        })?;
        let files = WeightFiles::find(dir)?;
        let encoder = Self::build(config, device, kind, false);
        // A checkpoint saved from a causal-LM wrapper prefixes the names with `model.` and may
        // carry the head; the encoder uses neither.
        files.load_into_skipping(
            &encoder.vs,
            &|n: &str| n.strip_prefix("model.").unwrap_or(n).to_string(),
            &|n: &str| n == "lm_head.weight",
        )?;
        Ok(encoder)
    }

    /// A freshly initialised encoder (uniform linears, unit norms), for tests and benchmarks.
    pub fn new(config: LlamaConfig, device: Device, kind: Kind) -> Result<LlamaEncoder, String> {
        config.check()?;
        Ok(Self::build(config, device, kind, true))
    }

    fn build(config: LlamaConfig, device: Device, kind: Kind, random: bool) -> LlamaEncoder {
        let vs = nn::VarStore::new(device);
        let b = Builder {
            device,
            kind,
            random,
        };
        let root = vs.root();
        let c = &config;
        let (d, hd) = (c.hidden_size, c.head_dim());
        let (q_dim, kv_dim) = (c.num_attention_heads * hd, c.kv_heads() * hd);
        let linear = |p: nn::Path, i: i64, o: i64, bias: bool| {
            if bias {
                Linear::new(&p, i, o, &b)
            } else {
                Linear::no_bias(&p, i, o, &b)
            }
        };
        let norm = |p: nn::Path| RmsNorm {
            weight: b.constant(&p, "weight", &[d], 1.0, kind),
            eps: c.rms_norm_eps,
        };
        let embed_tokens = b.randn(
            &(&root / "embed_tokens"),
            "weight",
            &[c.vocab_size, d],
            1.0,
            kind,
        );
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let p = &root / "layers" / i;
                let attn = &p / "self_attn";
                let mlp = &p / "mlp";
                Layer {
                    input_layernorm: norm(&p / "input_layernorm"),
                    q_proj: linear(&attn / "q_proj", d, q_dim, c.attention_bias),
                    k_proj: linear(&attn / "k_proj", d, kv_dim, c.attention_bias),
                    v_proj: linear(&attn / "v_proj", d, kv_dim, c.attention_bias),
                    o_proj: linear(&attn / "o_proj", q_dim, d, c.attention_bias),
                    post_attention_layernorm: norm(&p / "post_attention_layernorm"),
                    gate_proj: linear(&mlp / "gate_proj", d, c.intermediate_size, c.mlp_bias),
                    up_proj: linear(&mlp / "up_proj", d, c.intermediate_size, c.mlp_bias),
                    down_proj: linear(&mlp / "down_proj", c.intermediate_size, d, c.mlp_bias),
                }
            })
            .collect();
        let norm = norm(&root / "norm");
        LlamaEncoder {
            config,
            vs,
            kind,
            embed_tokens,
            layers,
            norm,
        }
    }

    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// `model(input_ids, attention_mask, output_hidden_states=True).hidden_states[-from_end]`
    /// for `input_ids, attention_mask: [B, L]` (mask nonzero for real tokens): `from_end` 1 is
    /// the final (normed) output, 2 the last layer's output before the norm, 3 the layer before
    /// it, and so on up to `num_hidden_layers + 1` (the token embeddings). Only the layers needed
    /// are run. Returns `[B, L, hidden_size]` in the encoder's kind on its device.
    pub fn hidden_state(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        from_end: i64,
    ) -> Tensor {
        let n_layers = self.config.num_hidden_layers;
        assert!(
            (1..=n_layers + 1).contains(&from_end),
            "hidden_states[-{from_end}] does not exist with {n_layers} layers"
        );
        let device = self.device();
        let ids = input_ids.to_device(device);
        let (b, l) = ids.size2().expect("input_ids must be [B, L]");
        let c = &self.config;
        let (heads, kv_heads, hd) = (c.num_attention_heads, c.kv_heads(), c.head_dim());

        // RoPE tables as `LlamaRotaryEmbedding`: fp32 frequencies, both halves the same.
        let inv_freq = Tensor::pow_scalar(
            c.rope_base(),
            &(Tensor::arange_start_step(0, hd, 2, (Kind::Float, device)) / hd),
        )
        .reciprocal();
        let freqs = Tensor::arange(l, (Kind::Float, device)).unsqueeze(-1) * inv_freq.unsqueeze(0);
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        let (cos, sin) = (emb.cos().to_kind(self.kind), emb.sin().to_kind(self.kind));

        // Causal and padding: query i sees the real keys j <= i.
        let pos = Tensor::arange(l, (Kind::Int64, device));
        let causal = pos.unsqueeze(0).le_tensor(&pos.unsqueeze(1));
        let keys = attention_mask.to_device(device).ne(0).view([b, 1, 1, l]);
        let mask = keys.logical_and(&causal.view([1, 1, l, l]));

        let mut xs = Tensor::embedding(&self.embed_tokens, &ids, -1, false, false);
        let run = (n_layers + 1 - from_end).min(n_layers);
        for layer in &self.layers[..run as usize] {
            let h = layer.input_layernorm.forward(&xs);
            let split = |t: Tensor, n: i64| t.view([b, l, n, hd]).transpose(1, 2);
            let q = split(layer.q_proj.forward(&h), heads);
            let k = split(layer.k_proj.forward(&h), kv_heads);
            let v = split(layer.v_proj.forward(&h), kv_heads);
            let q = &q * &cos + rotate_half(&q) * &sin;
            let k = &k * &cos + rotate_half(&k) * &sin;
            // `repeat_kv`: each key/value head serves `heads / kv_heads` query heads in a row.
            let rep = heads / kv_heads;
            let repeat = |t: Tensor| {
                t.unsqueeze(2)
                    .expand([b, kv_heads, rep, l, hd], false)
                    .reshape([b, heads, l, hd])
            };
            let out = Tensor::scaled_dot_product_attention(
                &q,
                &repeat(k),
                &repeat(v),
                Some(&mask),
                0.0,
                false,
                Some((hd as f64).powf(-0.5)),
                false,
            );
            let out = layer
                .o_proj
                .forward(&out.transpose(1, 2).reshape([b, l, heads * hd]));
            xs += out;
            let h = layer.post_attention_layernorm.forward(&xs);
            let mlp = layer
                .down_proj
                .forward(&(layer.gate_proj.forward(&h).silu() * layer.up_proj.forward(&h)));
            xs += mlp;
        }
        if from_end == 1 {
            xs = self.norm.forward(&xs);
        }
        xs
    }
}

/// A prompt template of the pipeline: `{}` is replaced by the prompt, and the first
/// `crop_start` tokens of the encoded text (the template's part before the prompt) are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptTemplate {
    pub template: String,
    pub crop_start: usize,
}

impl Default for PromptTemplate {
    /// diffusers' `DEFAULT_PROMPT_TEMPLATE` of `HunyuanVideoPipeline`.
    fn default() -> Self {
        PromptTemplate {
            template: concat!(
                "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video by detailing the following aspects: ",
                "1. The main content and theme of the video.",
                "2. The color, shape, size, texture, quantity, text, and spatial relationships of the objects.",
                "3. Actions, events, behaviors temporal relationships, physical movement changes of the objects.",
                "4. background environment, light, style and atmosphere.",
                "5. camera angles, movements, and transitions used in the video:<|eot_id|>",
                "<|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>"
            )
            .into(),
            crop_start: 95,
        }
    }
}

impl PromptTemplate {
    /// The template with `prompt` in place of its first `{}` (Python's `str.format` with one
    /// positional argument).
    pub fn apply(&self, prompt: &str) -> String {
        self.template.replacen("{}", prompt, 1)
    }
}

/// `HunyuanVideoPipeline`'s default `max_sequence_length` (prompt tokens after the crop).
pub const MAX_SEQUENCE_LENGTH: usize = 256;
/// `_get_llama_prompt_embeds`' default `num_hidden_layers_to_skip`.
pub const HIDDEN_LAYERS_TO_SKIP: i64 = 2;

/// diffusers' `HunyuanVideoPipeline._get_llama_prompt_embeds` (one video per prompt): each
/// prompt put into `template`, tokenized to `crop_start + max_len` tokens, encoded, and
/// `hidden_states[-(skip + 1)]` and the mask kept from `crop_start` on. Returns
/// `(prompt_embeds [n, max_len, hidden]` in the encoder's kind, `attention_mask [n, max_len]`
/// int64`)` on `device`.
pub fn encode_prompts(
    tokenizer: &PromptTokenizer,
    encoder: &LlamaEncoder,
    prompts: &[&str],
    template: &PromptTemplate,
    max_len: usize,
    layers_to_skip: i64,
    device: Device,
) -> Result<(Tensor, Tensor), TokenizeError> {
    let total = template.crop_start + max_len;
    let (n, l) = (prompts.len() as i64, total as i64);
    let mut ids = Vec::with_capacity(prompts.len() * total);
    let mut mask = Vec::with_capacity(prompts.len() * total);
    for prompt in prompts {
        let (i, m) = tokenizer.encode(&template.apply(prompt), total)?;
        ids.extend(i);
        mask.extend(m);
    }
    let ids = Tensor::from_slice(&ids).view([n, l]);
    let mask = Tensor::from_slice(&mask).view([n, l]);
    let embeds = encoder.hidden_state(&ids, &mask, layers_to_skip + 1);
    let crop = template.crop_start as i64;
    Ok((
        embeds.narrow(1, crop, l - crop).to_device(device),
        mask.narrow(1, crop, l - crop).to_device(device),
    ))
}
