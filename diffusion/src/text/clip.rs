//! HunyuanVideo's second text encoder: CLIP's text tower (transformers' `CLIPTextModel`, as
//! openai/clip-vit-large-patch14), of which the pipeline uses only the pooled vector
//! (`pooler_output`: the final-normed hidden state of the end-of-text token), and diffusers'
//! `HunyuanVideoPipeline._get_clip_prompt_embeds`.
//!
//! Pre-LayerNorm blocks with causal attention (no padding mask: the pipeline passes none),
//! learned absolute positions, quick-GELU MLP. Nothing is shared with the Llama or T5 encoders
//! (their norms, positions and MLPs all differ); `nn.Linear` comes from `models::layers`.
use std::path::Path;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};
use crate::models::layers::{Builder, Linear};
use crate::text::umt5::{PromptTokenizer, TokenizeError};

/// `text_encoder_2/config.json` (a transformers `CLIPTextConfig`; the fields the encoder uses).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClipTextConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub max_position_embeddings: i64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// 2 (the legacy value of the OpenAI checkpoints) means: pool at the largest token id.
    #[serde(default = "default_eos")]
    pub eos_token_id: i64,
}

fn default_act() -> String {
    "quick_gelu".into()
}

fn default_eps() -> f64 {
    1e-5
}

fn default_eos() -> i64 {
    2
}

impl ClipTextConfig {
    /// Why this config cannot be run by this implementation, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("max_position_embeddings", self.max_position_embeddings),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            return Err(format!(
                "hidden_size {} does not split into {} heads",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !matches!(self.hidden_act.as_str(), "quick_gelu" | "gelu") {
            return Err(format!(
                "hidden_act {:?} is not supported (quick_gelu, gelu)",
                self.hidden_act
            ));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    fn new(p: &nn::Path, dim: i64, eps: f64, b: &Builder) -> LayerNorm {
        LayerNorm {
            weight: b.constant(p, "weight", &[dim], 1.0, b.kind),
            bias: b.constant(p, "bias", &[dim], 0.0, b.kind),
            eps,
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let dim = self.weight.size()[0];
        xs.layer_norm([dim], Some(&self.weight), Some(&self.bias), self.eps, true)
    }
}

#[derive(Debug)]
struct Layer {
    layer_norm1: LayerNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

/// CLIP's text tower (`CLIPTextModel`).
#[derive(Debug)]
pub struct ClipTextEncoder {
    config: ClipTextConfig,
    vs: nn::VarStore,
    kind: Kind,
    token_embedding: Tensor,
    position_embedding: Tensor,
    layers: Vec<Layer>,
    final_layer_norm: LayerNorm,
}

impl ClipTextEncoder {
    /// Loads `text_encoder_2/` (config.json and safetensors), shapes checked first.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<ClipTextEncoder, LoadError> {
        let config: ClipTextConfig = read_config(dir)?;
        config.check().map_err(|why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        })?;
        let files = WeightFiles::find(dir)?;
        let encoder = Self::build(config, device, kind, false);
        // Older checkpoints (`CLIPTextModel` of transformers 4) prefix everything with
        // `text_model.` and store the (non-persistent now) position ids.
        files.load_into_skipping(
            &encoder.vs,
            &|n: &str| n.strip_prefix("text_model.").unwrap_or(n).to_string(),
            &|n: &str| n.ends_with("embeddings.position_ids"),
        )?;
        Ok(encoder)
    }

    /// A freshly initialised encoder, for tests and benchmarks.
    pub fn new(config: ClipTextConfig, device: Device, kind: Kind) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(config, device, kind, true))
    }

    fn build(config: ClipTextConfig, device: Device, kind: Kind, random: bool) -> Self {
        let vs = nn::VarStore::new(device);
        let b = Builder {
            device,
            kind,
            random,
        };
        let root = vs.root();
        let c = &config;
        let d = c.hidden_size;
        let emb = &root / "embeddings";
        let token_embedding = b.randn(
            &(&emb / "token_embedding"),
            "weight",
            &[c.vocab_size, d],
            0.02,
            kind,
        );
        let position_embedding = b.randn(
            &(&emb / "position_embedding"),
            "weight",
            &[c.max_position_embeddings, d],
            0.02,
            kind,
        );
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let p = &root / "encoder" / "layers" / i;
                let attn = &p / "self_attn";
                Layer {
                    layer_norm1: LayerNorm::new(&(&p / "layer_norm1"), d, c.layer_norm_eps, &b),
                    q_proj: Linear::new(&(&attn / "q_proj"), d, d, &b),
                    k_proj: Linear::new(&(&attn / "k_proj"), d, d, &b),
                    v_proj: Linear::new(&(&attn / "v_proj"), d, d, &b),
                    out_proj: Linear::new(&(&attn / "out_proj"), d, d, &b),
                    layer_norm2: LayerNorm::new(&(&p / "layer_norm2"), d, c.layer_norm_eps, &b),
                    fc1: Linear::new(&(&p / "mlp" / "fc1"), d, c.intermediate_size, &b),
                    fc2: Linear::new(&(&p / "mlp" / "fc2"), c.intermediate_size, d, &b),
                }
            })
            .collect();
        let final_layer_norm =
            LayerNorm::new(&(&root / "final_layer_norm"), d, c.layer_norm_eps, &b);
        ClipTextEncoder {
            config,
            vs,
            kind,
            token_embedding,
            position_embedding,
            layers,
            final_layer_norm,
        }
    }

    pub fn config(&self) -> &ClipTextConfig {
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

    fn act(&self, xs: &Tensor) -> Tensor {
        if self.config.hidden_act == "quick_gelu" {
            xs * (xs * 1.702).sigmoid()
        } else {
            xs.gelu("none")
        }
    }

    /// `CLIPTextModel(input_ids).pooler_output` for `input_ids: [B, L]` (no attention mask, as
    /// the pipeline calls it): `[B, hidden_size]` in the encoder's kind.
    pub fn pooled(&self, input_ids: &Tensor) -> Tensor {
        let c = &self.config;
        let device = self.device();
        let ids = input_ids.to_device(device);
        let (b, l) = ids.size2().expect("input_ids must be [B, L]");
        assert!(
            l <= c.max_position_embeddings,
            "{l} tokens exceed CLIP's {} positions",
            c.max_position_embeddings
        );
        let heads = c.num_attention_heads;
        let hd = c.hidden_size / heads;
        let mut xs = Tensor::embedding(&self.token_embedding, &ids, -1, false, false)
            + self.position_embedding.narrow(0, 0, l).unsqueeze(0);
        for layer in &self.layers {
            let h = layer.layer_norm1.forward(&xs);
            let split = |t: Tensor| t.view([b, l, heads, hd]).transpose(1, 2);
            let out = Tensor::scaled_dot_product_attention(
                &split(layer.q_proj.forward(&h)),
                &split(layer.k_proj.forward(&h)),
                &split(layer.v_proj.forward(&h)),
                None::<&Tensor>,
                0.0,
                true,
                Some((hd as f64).powf(-0.5)),
                false,
            );
            xs += layer
                .out_proj
                .forward(&out.transpose(1, 2).reshape([b, l, c.hidden_size]));
            let h = layer.layer_norm2.forward(&xs);
            xs += layer.fc2.forward(&self.act(&layer.fc1.forward(&h)));
        }
        let last = self.final_layer_norm.forward(&xs);
        // The end-of-text position: the largest id for the legacy eos_token_id 2, else the
        // first eos token (argmax of the first maximum, as torch's argmax).
        let eos_at = if c.eos_token_id == 2 {
            ids.argmax(-1, false)
        } else {
            ids.eq(c.eos_token_id).to_kind(Kind::Int).argmax(-1, false)
        };
        let rows = Tensor::arange(b, (Kind::Int64, device));
        last.index(&[Some(rows), Some(eos_at)])
    }
}

/// CLIP's prompt length in HunyuanVideo (`_get_clip_prompt_embeds`' `max_sequence_length`).
pub const MAX_SEQUENCE_LENGTH: usize = 77;

/// diffusers' `HunyuanVideoPipeline._get_clip_prompt_embeds` (one video per prompt): each prompt
/// tokenized to 77 tokens (padded, truncated) and pooled. Returns `[n, hidden_size]` in the
/// encoder's kind on `device`.
pub fn encode_prompts(
    tokenizer: &PromptTokenizer,
    encoder: &ClipTextEncoder,
    prompts: &[&str],
    device: Device,
) -> Result<Tensor, TokenizeError> {
    let mut ids = Vec::with_capacity(prompts.len() * MAX_SEQUENCE_LENGTH);
    for prompt in prompts {
        ids.extend(tokenizer.encode(prompt, MAX_SEQUENCE_LENGTH)?.0);
    }
    let ids = Tensor::from_slice(&ids).view([prompts.len() as i64, MAX_SEQUENCE_LENGTH as i64]);
    Ok(encoder.pooled(&ids).to_device(device))
}
