//! The Wan text encoder: the encoder half of umT5 (transformers' `UMT5EncoderModel`), its
//! tokenizer (a `tokenizer.json` read with the Hugging Face `tokenizers` crate), and the prompt
//! encoding of diffusers' `WanPipeline._get_t5_prompt_embeds`. The same code is the T5 encoder
//! (`T5EncoderModel`, Mochi's; see [`super::t5`]): the two differ only in where the relative
//! position bias lives ([`PositionBias`]).
//!
//! Numerically this follows transformers' `modeling_umt5.py`:
//! - token embedding `shared` (no scaling), dropout off;
//! - every block: RMS layer norm → self-attention with its own relative position bias (umT5 has
//!   one in every layer, T5 only in the first) and no 1/√d scaling → residual; RMS layer norm →
//!   (gated) feed-forward → residual;
//! - `final_layer_norm` at the end;
//! - padding keys masked by adding `finfo(dtype).min`, softmax in fp32;
//! - in fp16 (only) `wo` is kept in fp32 (`_keep_in_fp32_modules`) and the residual stream is
//!   clamped as transformers does; bf16 and fp32 run every weight in the given kind.
//!
//! Variable names are exactly the transformers state-dict keys (`shared.weight`,
//! `encoder.block.{i}.layer.0.SelfAttention.q.weight`, …), so a `text_encoder/` directory written
//! by `save_pretrained` loads as is; `encoder.embed_tokens.weight` (tied to `shared.weight`) is
//! accepted in place of, or beside, `shared.weight`.
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;
use tch::{nn, Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};

/// `text_encoder/config.json` (the fields of `UMT5Config` that the encoder uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UmT5Config {
    pub vocab_size: i64,
    pub d_model: i64,
    pub d_kv: i64,
    pub d_ff: i64,
    pub num_layers: i64,
    pub num_heads: i64,
    #[serde(default = "default_num_buckets")]
    pub relative_attention_num_buckets: i64,
    #[serde(default = "default_max_distance")]
    pub relative_attention_max_distance: i64,
    #[serde(default = "default_eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "default_feed_forward_proj")]
    pub feed_forward_proj: String,
}

fn default_num_buckets() -> i64 {
    32
}
fn default_max_distance() -> i64 {
    128
}
fn default_eps() -> f64 {
    1e-6
}
fn default_feed_forward_proj() -> String {
    "gated-gelu".into()
}

/// The feed-forward activation (transformers' `ACT2FN[dense_act_fn]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    /// `gelu`: the exact (erf) GELU.
    Gelu,
    /// `gelu_new`: the tanh approximation, written out as transformers' `NewGELUActivation`.
    GeluNew,
    /// `gelu_pytorch_tanh`: torch's own tanh GELU.
    GeluPytorchTanh,
    /// `silu` / `swish`.
    Silu,
}

impl Activation {
    fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Relu => x.relu(),
            Activation::Gelu => x.gelu("none"),
            Activation::GeluPytorchTanh => x.gelu("tanh"),
            Activation::Silu => x.silu(),
            Activation::GeluNew => {
                // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), in the same order.
                let inner = (x + x.pow_tensor_scalar(3.0) * 0.044715)
                    * (2.0f64 / std::f64::consts::PI).sqrt();
                x * 0.5 * (inner.tanh() + 1.0)
            }
        }
    }
}

impl UmT5Config {
    /// `(is_gated_act, dense_act_fn)` as `UMT5Config.__init__` derives them from
    /// `feed_forward_proj` ("relu", "gated-gelu", "gated-silu", …; "gated-gelu" means `gelu_new`).
    pub fn feed_forward(&self) -> Result<(bool, Activation), String> {
        let parts: Vec<&str> = self.feed_forward_proj.split('-').collect();
        let (gated, act) = match parts.as_slice() {
            [act] => (false, *act),
            ["gated", act] => (true, *act),
            _ => {
                return Err(format!(
                    "feed_forward_proj {:?} is not of the form `{{ACT_FN}}` or `gated-{{ACT_FN}}`",
                    self.feed_forward_proj
                ))
            }
        };
        let act = if self.feed_forward_proj == "gated-gelu" {
            "gelu_new"
        } else {
            act
        };
        let act = match act {
            "relu" => Activation::Relu,
            "gelu" => Activation::Gelu,
            "gelu_new" => Activation::GeluNew,
            "gelu_pytorch_tanh" => Activation::GeluPytorchTanh,
            "silu" | "swish" => Activation::Silu,
            other => return Err(format!("unsupported feed-forward activation {other:?}")),
        };
        Ok((gated, act))
    }

    fn validate(&self) -> Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("d_model", self.d_model),
            ("d_kv", self.d_kv),
            ("d_ff", self.d_ff),
            ("num_layers", self.num_layers),
            ("num_heads", self.num_heads),
            (
                "relative_attention_num_buckets",
                self.relative_attention_num_buckets,
            ),
            (
                "relative_attention_max_distance",
                self.relative_attention_max_distance,
            ),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        // Bidirectional buckets: half per direction, half of those exact.
        if self.relative_attention_num_buckets < 4 {
            return Err("relative_attention_num_buckets must be at least 4".into());
        }
        if self.layer_norm_epsilon.is_nan() || self.layer_norm_epsilon < 0.0 {
            return Err("layer_norm_epsilon must be non-negative".into());
        }
        self.feed_forward().map(|_| ())
    }
}

/// Translates relative positions (`memory - query`) into bucket ids, bidirectionally, with the
/// same tensor operations as transformers' `UMT5Attention._relative_position_bucket`
/// (`is_decoder = False`), so the float rounding at the bucket edges is the same too.
pub fn relative_position_bucket(
    relative_position: &Tensor,
    num_buckets: i64,
    max_distance: i64,
) -> Tensor {
    let num_buckets = num_buckets / 2;
    let buckets = relative_position.gt(0).to_kind(Kind::Int64) * num_buckets;
    let relative_position = relative_position.abs();
    let max_exact = num_buckets / 2;
    let is_small = relative_position.lt(max_exact);
    let log_ratio = (relative_position.to_kind(Kind::Float) / max_exact as f64).log()
        / (max_distance as f64 / max_exact as f64).ln();
    let log_ratio = log_ratio * (num_buckets - max_exact);
    let if_large = (log_ratio.to_kind(Kind::Int64) + max_exact).clamp_max(num_buckets - 1);
    buckets + relative_position.where_self(&is_small, &if_large)
}

/// The `(query_len, key_len)` bucket ids of `compute_bias` (`memory - query` positions).
pub fn position_buckets(
    query_len: i64,
    key_len: i64,
    num_buckets: i64,
    max_distance: i64,
    device: Device,
) -> Tensor {
    let context = Tensor::arange(query_len, (Kind::Int64, device)).unsqueeze(1);
    let memory = Tensor::arange(key_len, (Kind::Int64, device)).unsqueeze(0);
    relative_position_bucket(&(memory - context), num_buckets, max_distance)
}

/// `UMT5LayerNorm`: RMS norm (no mean, no bias), the variance in fp32.
#[derive(Debug)]
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(p: &nn::Path, dim: i64, eps: f64) -> RmsNorm {
        RmsNorm {
            weight: p.var("weight", &[dim], nn::Init::Const(1.0)),
            eps,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let variance = x.to_kind(Kind::Float).pow_tensor_scalar(2.0).mean_dim(
            Some([-1i64].as_slice()),
            true,
            None::<Kind>,
        );
        let mut h = x * (variance + self.eps).rsqrt();
        if matches!(self.weight.kind(), Kind::Half | Kind::BFloat16) {
            h = h.to_kind(self.weight.kind());
        }
        &self.weight * h
    }
}

/// A bias-free `nn.Linear`: `weight` is `(out, in)`.
#[derive(Debug)]
struct Linear {
    weight: Tensor,
}

impl Linear {
    fn new(p: &nn::Path, name: &str, d_in: i64, d_out: i64) -> Linear {
        // Zero-filled: every weight is overwritten by the load, and zeros are cheap.
        Linear {
            weight: (p / name).var("weight", &[d_out, d_in], nn::Init::Const(0.0)),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear::<&Tensor>(&self.weight, None)
    }
}

#[derive(Debug)]
struct SelfAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    /// The bucket → per-head bias table; `None` in T5's layers after the first, which reuse
    /// the first layer's bias.
    relative_attention_bias: Option<Tensor>,
    n_heads: i64,
    d_kv: i64,
}

impl SelfAttention {
    fn new(p: &nn::Path, c: &UmT5Config, has_bias: bool) -> SelfAttention {
        let inner = c.num_heads * c.d_kv;
        SelfAttention {
            q: Linear::new(p, "q", c.d_model, inner),
            k: Linear::new(p, "k", c.d_model, inner),
            v: Linear::new(p, "v", c.d_model, inner),
            o: Linear::new(p, "o", inner, c.d_model),
            relative_attention_bias: has_bias.then(|| {
                (p / "relative_attention_bias").var(
                    "weight",
                    &[c.relative_attention_num_buckets, c.num_heads],
                    nn::Init::Const(0.0),
                )
            }),
            n_heads: c.num_heads,
            d_kv: c.d_kv,
        }
    }

    /// The additive attention bias `(1, H, L, L)` from this layer's table and the `(L, L)`
    /// bucket ids, plus `mask` `(B, 1, 1, L)`; `None` when this layer has no table.
    fn position_bias(&self, buckets: &Tensor, mask: &Tensor) -> Option<Tensor> {
        let table = self.relative_attention_bias.as_ref()?;
        // (L, L, H) → (1, H, L, L)
        let bias = Tensor::embedding(table, buckets, -1, false, false)
            .permute([2, 0, 1])
            .unsqueeze(0);
        Some(bias + mask)
    }

    /// `x`: (B, L, d_model); `position_bias`: (B or 1, H, L, L) additive, mask included.
    fn forward(&self, x: &Tensor, position_bias: &Tensor) -> Tensor {
        let (b, l, _) = x
            .size3()
            .expect("hidden states are (batch, length, d_model)");
        let shape = |t: Tensor| {
            t.view([b, l, self.n_heads, self.d_kv])
                .permute([0, 2, 1, 3])
        };
        let k = shape(self.k.forward(x));
        let v = shape(self.v.forward(x));
        let q = shape(self.q.forward(x));
        let scores = q.matmul(&k.transpose(-1, -2));
        let scores = scores + position_bias;
        let weights = scores
            .to_kind(Kind::Float)
            .softmax(-1, None::<Kind>)
            .to_kind(scores.kind());
        let context = weights.matmul(&v).permute([0, 2, 1, 3]).contiguous().view([
            b,
            l,
            self.n_heads * self.d_kv,
        ]);
        self.o.forward(&context)
    }
}

#[derive(Debug)]
struct FeedForward {
    /// `wi` (ungated) or `wi_0` (gated).
    wi_0: Linear,
    /// `wi_1` (gated only).
    wi_1: Option<Linear>,
    wo: Linear,
    act: Activation,
}

impl FeedForward {
    fn new(p: &nn::Path, c: &UmT5Config, gated: bool, act: Activation) -> FeedForward {
        let (wi_0, wi_1) = if gated {
            (
                Linear::new(p, "wi_0", c.d_model, c.d_ff),
                Some(Linear::new(p, "wi_1", c.d_model, c.d_ff)),
            )
        } else {
            (Linear::new(p, "wi", c.d_model, c.d_ff), None)
        };
        FeedForward {
            wi_0,
            wi_1,
            wo: Linear::new(p, "wo", c.d_ff, c.d_model),
            act,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let act = self.act.apply(&self.wi_0.forward(x));
        // Not `*=`: an in-place product would break autograd through relu.
        let mut h = match &self.wi_1 {
            Some(wi_1) => act * wi_1.forward(x),
            None => act,
        };
        let wo_kind = self.wo.weight.kind();
        if h.kind() != wo_kind {
            h = h.to_kind(wo_kind);
        }
        self.wo.forward(&h)
    }
}

#[derive(Debug)]
struct Block {
    attn_norm: RmsNorm,
    attn: SelfAttention,
    ff_norm: RmsNorm,
    ff: FeedForward,
}

/// transformers clamps the fp16 residual stream so that an overflow does not turn into inf.
fn clamp_fp16(x: Tensor) -> Tensor {
    if x.kind() != Kind::Half {
        return x;
    }
    let max = 65504.0f64;
    let has_inf = x.isinf().any().int64_value(&[]) != 0;
    let clamp = if has_inf { max - 1000.0 } else { max };
    x.clamp(-clamp, clamp)
}

/// Where the encoder's relative position bias lives: the one difference between the umT5 and
/// T5 encoders (transformers' `UMT5EncoderModel` and `T5EncoderModel` agree in everything
/// else: RMS norms, unscaled attention, gated or plain feed-forward, fp16 clamping, `wo` kept in
/// fp32 for fp16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionBias {
    /// umT5: every layer has its own `relative_attention_bias`.
    PerLayer,
    /// T5: only the first layer has one; the bias it computes (mask included) is passed on to
    /// every later layer.
    FirstLayerShared,
}

impl PositionBias {
    /// From `config.json`'s `model_type` (`"t5"` or `"umt5"`; umT5 when absent).
    pub fn from_model_type(model_type: Option<&str>) -> Result<PositionBias, String> {
        match model_type {
            None | Some("umt5") => Ok(PositionBias::PerLayer),
            Some("t5") => Ok(PositionBias::FirstLayerShared),
            Some(other) => Err(format!(
                "model_type {other:?} is not a T5-family encoder (\"t5\" or \"umt5\")"
            )),
        }
    }
}

/// The umT5 encoder (transformers' `UMT5EncoderModel`), returning `last_hidden_state`; with
/// [`PositionBias::FirstLayerShared`] the T5 encoder (`T5EncoderModel`, Mochi's text encoder).
#[derive(Debug)]
pub struct UmT5Encoder {
    config: UmT5Config,
    position_bias: PositionBias,
    vs: nn::VarStore,
    shared: Tensor,
    blocks: Vec<Block>,
    final_layer_norm: RmsNorm,
}

impl UmT5Encoder {
    /// Builds the encoder from `config` in a fresh VarStore of `kind` on `device`, every weight
    /// zero (layer norms one) until loaded.
    pub fn new(config: &UmT5Config, device: Device, kind: Kind) -> Result<UmT5Encoder, String> {
        Self::with_position_bias(config, PositionBias::PerLayer, device, kind)
    }

    /// [`UmT5Encoder::new`] for either variant of the T5 family.
    pub fn with_position_bias(
        config: &UmT5Config,
        position_bias: PositionBias,
        device: Device,
        kind: Kind,
    ) -> Result<UmT5Encoder, String> {
        config.validate()?;
        let (gated, act) = config.feed_forward()?;
        let mut vs = nn::VarStore::new(device);
        vs.set_kind(kind);
        let root = vs.root();
        let c = config;
        let shared =
            (&root / "shared").var("weight", &[c.vocab_size, c.d_model], nn::Init::Const(0.0));
        let enc = &root / "encoder";
        let blocks = (0..c.num_layers)
            .map(|i| {
                let b = &enc / "block" / i / "layer";
                let l0 = &b / 0;
                let l1 = &b / 1;
                Block {
                    attn_norm: RmsNorm::new(&(&l0 / "layer_norm"), c.d_model, c.layer_norm_epsilon),
                    attn: SelfAttention::new(
                        &(&l0 / "SelfAttention"),
                        c,
                        i == 0 || position_bias == PositionBias::PerLayer,
                    ),
                    ff_norm: RmsNorm::new(&(&l1 / "layer_norm"), c.d_model, c.layer_norm_epsilon),
                    ff: FeedForward::new(&(&l1 / "DenseReluDense"), c, gated, act),
                }
            })
            .collect::<Vec<_>>();
        if kind == Kind::Half {
            // transformers' `_keep_in_fp32_modules = ["wo"]`, which it applies to fp16 only.
            for block in &blocks {
                let mut wo = block.ff.wo.weight.shallow_clone();
                tch::no_grad(|| wo.set_data(&wo.to_kind(Kind::Float)));
            }
        }
        let final_layer_norm = RmsNorm::new(
            &(&enc / "final_layer_norm"),
            c.d_model,
            c.layer_norm_epsilon,
        );
        Ok(UmT5Encoder {
            config: config.clone(),
            position_bias,
            vs,
            shared,
            blocks,
            final_layer_norm,
        })
    }

    /// Loads `text_encoder/` (config.json and safetensors weights) onto `device` in `kind`: a
    /// umT5 encoder, or a T5 one when `config.json`'s `model_type` is `"t5"`.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<UmT5Encoder, LoadError> {
        #[derive(Deserialize)]
        struct ModelType {
            model_type: Option<String>,
        }
        let config: UmT5Config = read_config(dir)?;
        let bad_config = |why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        };
        let model_type: ModelType = read_config(dir)?;
        let position_bias =
            PositionBias::from_model_type(model_type.model_type.as_deref()).map_err(bad_config)?;
        let files = WeightFiles::find(dir)?;
        let encoder = UmT5Encoder::with_position_bias(&config, position_bias, device, kind)
            .map_err(bad_config)?;
        files.load_into(&encoder.vs, &|name: &str| {
            if name == "encoder.embed_tokens.weight" {
                "shared.weight".to_string()
            } else {
                name.to_string()
            }
        })?;
        Ok(encoder)
    }

    pub fn config(&self) -> &UmT5Config {
        &self.config
    }

    /// umT5 (a bias per layer) or T5 (the first layer's, shared).
    pub fn position_bias(&self) -> PositionBias {
        self.position_bias
    }

    /// The weights, named as transformers names them (for freezing, training, saving).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The kind of the weights (and of the output).
    pub fn kind(&self) -> Kind {
        self.shared.kind()
    }

    /// `input_ids`: (B, L) integer ids; `attention_mask`: (B, L), 1 for real tokens and 0 for
    /// padding (any numeric or bool kind).
    /// Returns `last_hidden_state`, (B, L, d_model), in the model's kind. Both inputs are moved
    /// to the model's device.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        let device = self.device();
        let (b, l) = input_ids
            .size2()
            .expect("input_ids must be (batch, length)");
        let ids = input_ids.to_device(device).to_kind(Kind::Int64);
        let x = Tensor::embedding(&self.shared, &ids, -1, false, false);
        let kind = x.kind();
        // `(1 - mask) * finfo(dtype).min`, broadcast over heads and queries.
        let mask = attention_mask
            .to_device(device)
            .reshape([b, 1, 1, l])
            .to_kind(kind);
        let mask = (mask.ones_like() - mask) * finfo_min(kind);
        let buckets = position_buckets(
            l,
            l,
            self.config.relative_attention_num_buckets,
            self.config.relative_attention_max_distance,
            device,
        );
        let mut x = x;
        let mut shared_bias: Option<Tensor> = None;
        for block in &self.blocks {
            // umT5: each layer's own bias; T5: the first layer's, reused by the others.
            let bias = match block.attn.position_bias(&buckets, &mask) {
                Some(bias) => {
                    if self.position_bias == PositionBias::FirstLayerShared {
                        shared_bias = Some(bias.shallow_clone());
                    }
                    bias
                }
                None => shared_bias
                    .as_ref()
                    .expect("the first layer of a T5 encoder has the position bias")
                    .shallow_clone(),
            };
            let h = block.attn.forward(&block.attn_norm.forward(&x), &bias);
            x = clamp_fp16(&x + h);
            let h = block.ff.forward(&block.ff_norm.forward(&x));
            x = clamp_fp16(&x + h);
        }
        self.final_layer_norm.forward(&x)
    }
}

/// `torch.finfo(kind).min`.
fn finfo_min(kind: Kind) -> f64 {
    match kind {
        Kind::Half => -65504.0,
        Kind::BFloat16 => -3.3895313892515355e38,
        Kind::Double => f64::MIN,
        _ => f32::MIN as f64,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenizeError {
    #[error("max_len must be at least 1")]
    ZeroLength,
    #[error("tokenizing {prompt:?} failed: {why}")]
    Tokenizer { prompt: String, why: String },
}

/// The umT5 tokenizer (`tokenizer/tokenizer.json`), padding and truncating as transformers'
/// fast tokenizer does for `padding="max_length", truncation=True, add_special_tokens=True`.
pub struct PromptTokenizer {
    /// Truncation and padding are set per call, as transformers sets them on its backend.
    tokenizer: Mutex<tokenizers::Tokenizer>,
    pad_id: u32,
    pad_token: String,
    pad_left: bool,
    truncate_left: bool,
    /// `model_max_length` of tokenizer_config.json, when it is a real length (tokenizers
    /// without one store a huge placeholder).
    model_max_length: Option<usize>,
}

impl std::fmt::Debug for PromptTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptTokenizer")
            .field("pad_id", &self.pad_id)
            .field("pad_token", &self.pad_token)
            .field("pad_left", &self.pad_left)
            .field("truncate_left", &self.truncate_left)
            .finish_non_exhaustive()
    }
}

/// A special token in tokenizer_config.json / special_tokens_map.json: a string or
/// `{"content": ...}`.
fn token_content(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
        _ => None,
    }
}

fn read_json(path: &Path) -> Result<Option<serde_json::Value>, LoadError> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Unreadable {
        path: path.into(),
        why: e.to_string(),
    })?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| LoadError::BadConfig {
            path: path.into(),
            why: e.to_string(),
        })
}

impl PromptTokenizer {
    /// Reads `dir/tokenizer.json`; the pad token and the padding/truncation sides come from
    /// `tokenizer_config.json` (else `special_tokens_map.json`, else tokenizer.json's own
    /// padding, else `<pad>`).
    pub fn load(dir: &Path) -> Result<PromptTokenizer, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::NoDirectory { dir: dir.into() });
        }
        let path: PathBuf = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(LoadError::MissingFile {
                what: "tokenizer".into(),
                path,
            });
        }
        let tokenizer =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| LoadError::Unreadable {
                path: path.clone(),
                why: e.to_string(),
            })?;
        let config = read_json(&dir.join("tokenizer_config.json"))?;
        let special = read_json(&dir.join("special_tokens_map.json"))?;
        let side = |key: &str| {
            config
                .as_ref()
                .and_then(|c| c.get(key))
                .and_then(|v| v.as_str())
                .map(|s| s == "left")
                .unwrap_or(false)
        };
        let pad_token = config
            .as_ref()
            .and_then(|c| c.get("pad_token"))
            .and_then(token_content)
            .or_else(|| {
                special
                    .as_ref()
                    .and_then(|s| s.get("pad_token"))
                    .and_then(token_content)
            })
            .or_else(|| tokenizer.get_padding().map(|p| p.pad_token.clone()))
            .unwrap_or_else(|| "<pad>".into());
        let pad_id = tokenizer
            .token_to_id(&pad_token)
            .ok_or_else(|| LoadError::BadConfig {
                path: path.clone(),
                why: format!("pad token {pad_token:?} is not in the vocabulary"),
            })?;
        let model_max_length = config
            .as_ref()
            .and_then(|c| c.get("model_max_length"))
            .and_then(|v| v.as_u64())
            .filter(|&n| n > 0 && n < 1 << 20)
            .map(|n| n as usize);
        Ok(PromptTokenizer {
            model_max_length,
            pad_left: side("padding_side"),
            truncate_left: side("truncation_side"),
            tokenizer: Mutex::new(tokenizer),
            pad_id,
            pad_token,
        })
    }

    pub fn pad_id(&self) -> i64 {
        self.pad_id as i64
    }

    /// The longest prompt (in tokens) the model was made for, if its config names one.
    pub fn model_max_length(&self) -> Option<usize> {
        self.model_max_length
    }

    /// Token ids and attention mask of `prompt` (used as given: see [`prompt_clean`]), special
    /// tokens added, truncated and padded to exactly `max_len`.
    pub fn encode(
        &self,
        prompt: &str,
        max_len: usize,
    ) -> Result<(Vec<i64>, Vec<i64>), TokenizeError> {
        use tokenizers::{
            PaddingDirection, PaddingParams, PaddingStrategy, TruncationDirection,
            TruncationParams, TruncationStrategy,
        };
        if max_len == 0 {
            return Err(TokenizeError::ZeroLength);
        }
        let fail = |why: String| TokenizeError::Tokenizer {
            prompt: prompt.into(),
            why,
        };
        let mut tokenizer = self
            .tokenizer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: if self.truncate_left {
                    TruncationDirection::Left
                } else {
                    TruncationDirection::Right
                },
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| fail(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(max_len),
            direction: if self.pad_left {
                PaddingDirection::Left
            } else {
                PaddingDirection::Right
            },
            pad_to_multiple_of: None,
            pad_id: self.pad_id,
            pad_type_id: 0,
            pad_token: self.pad_token.clone(),
        }));
        let encoding = tokenizer
            .encode_fast(prompt, true)
            .map_err(|e| fail(e.to_string()))?;
        drop(tokenizer);
        let ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i as i64).collect();
        let mask: Vec<i64> = encoding
            .get_attention_mask()
            .iter()
            .map(|&m| m as i64)
            .collect();
        if ids.len() != max_len || mask.len() != max_len {
            return Err(fail(format!(
                "got {} tokens after truncation and padding, expected {max_len}",
                ids.len()
            )));
        }
        Ok((ids, mask))
    }
}

/// What of a prompt the model cannot read: words its tokenizer maps to the unknown token, and
/// words past the prompt length the model was made for (cut off before the encoder sees them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromptCheck {
    pub unknown: Vec<String>,
    pub cut: Vec<String>,
}

impl PromptCheck {
    pub fn is_clean(&self) -> bool {
        self.unknown.is_empty() && self.cut.is_empty()
    }
}

impl std::fmt::Display for PromptCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.unknown.is_empty() {
            parts.push(format!(
                "words the model does not know (read as nothing): {}",
                self.unknown.join(", ")
            ));
        }
        if !self.cut.is_empty() {
            parts.push(format!(
                "past the prompt length the model reads, cut off: {}",
                self.cut.join(" ")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The token a tokenizer's model reads unknown text as, whatever the model kind.
fn unk_token(tokenizer: &tokenizers::Tokenizer) -> Option<String> {
    let model = serde_json::to_value(tokenizer.get_model()).ok()?;
    if let Some(t) = model.get("unk_token").and_then(|v| v.as_str()) {
        return Some(t.to_string());
    }
    // Unigram (umT5): an index into its vocab of [piece, score] pairs.
    let id = model.get("unk_id")?.as_u64()?;
    let piece = model.get("vocab")?.get(id as usize)?.get(0)?.as_str()?;
    Some(piece.to_string())
}

impl PromptTokenizer {
    /// Which words of `prompt` (cleaned as the pipeline cleans it) the model cannot read when
    /// prompts are `max_len` tokens long.
    pub fn check(&self, prompt: &str, max_len: usize) -> Result<PromptCheck, TokenizeError> {
        let prompt = prompt_clean(prompt);
        let fail = |why: String| TokenizeError::Tokenizer {
            prompt: prompt.clone(),
            why,
        };
        let mut tokenizer = self
            .tokenizer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let unk = unk_token(&tokenizer);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| fail(e.to_string()))?;
        // `encode`, not `encode_fast`: only it tracks the offsets that name the words.
        let encoding = tokenizer
            .encode(prompt.as_str(), true)
            .map_err(|e| fail(e.to_string()))?;
        drop(tokenizer);
        let word = |i: usize| {
            let (a, b) = encoding.get_offsets()[i];
            prompt.get(a..b).unwrap_or_default().to_string()
        };
        // Truncation keeps room for the special tokens (</s>): that many fewer prompt tokens.
        let special = encoding.get_special_tokens_mask();
        let specials = special.iter().filter(|&&m| m == 1).count();
        let tokens = encoding.len() - specials;
        let kept = max_len.saturating_sub(specials);
        let mut check = PromptCheck::default();
        let mut n = 0;
        for (i, token) in encoding.get_tokens().iter().enumerate() {
            if special[i] == 1 {
                continue;
            }
            let w = word(i);
            let seen = check.unknown.iter().any(|u| u.eq_ignore_ascii_case(&w));
            if unk.as_deref() == Some(token.as_str()) && !seen {
                check.unknown.push(w.clone());
            }
            let cut = if self.truncate_left {
                n < tokens.saturating_sub(kept)
            } else {
                n >= kept
            };
            if cut {
                check.cut.push(w);
            }
            n += 1;
        }
        Ok(check)
    }

    /// The words a word-level tokenizer knows (dreamfx-tiny's small world), special tokens
    /// left out; `None` for subword tokenizers, which can spell any word.
    pub fn vocabulary(&self) -> Option<Vec<String>> {
        let tokenizer = self
            .tokenizer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let json = serde_json::to_value(tokenizer.get_model()).ok()?;
        if json.get("type")?.as_str()? != "WordLevel" {
            return None;
        }
        let mut words: Vec<(u64, String)> = json
            .get("vocab")?
            .as_object()?
            .iter()
            .filter(|(w, _)| !(w.starts_with('<') && w.ends_with('>')))
            .filter_map(|(w, id)| Some((id.as_u64()?, w.clone())))
            .collect();
        words.sort();
        Some(words.into_iter().map(|(_, w)| w).collect())
    }
}

/// diffusers' Wan `prompt_clean`: `whitespace_clean(basic_clean(text))`, where `basic_clean` is
/// `ftfy.fix_text` (skipped here: see the module notes in the report), `html.unescape` twice and
/// `strip`, and `whitespace_clean` collapses every run of whitespace into one space and strips.
pub fn prompt_clean(text: &str) -> String {
    let text = html_unescape(&html_unescape(text));
    // `regex.sub(r"\s+", " ", text)`: `\s` is Unicode White_Space.
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.push(c);
        }
    }
    // `str.strip()` (before and after, which comes to the same).
    out.trim_matches(is_py_space).to_string()
}

/// Python's `str.isspace`, which `strip` follows: Unicode White_Space plus the separators
/// U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The Latin-1 entities of HTML (U+00A0..=U+00FF, in order): the ones HTML5 also accepts without
/// a trailing `;`, as `html.unescape` does.
const LATIN1_ENTITIES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Entities HTML5 accepts without a `;` besides the Latin-1 ones.
const LEGACY_ENTITIES: [(&str, char); 10] = [
    ("amp", '&'),
    ("AMP", '&'),
    ("lt", '<'),
    ("LT", '<'),
    ("gt", '>'),
    ("GT", '>'),
    ("quot", '"'),
    ("QUOT", '"'),
    ("COPY", '©'),
    ("REG", '®'),
];

/// Common entities that need their `;` (a subset of HTML5's 2,231 names).
const SEMICOLON_ENTITIES: [(&str, char); 52] = [
    ("apos", '\''),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("lsaquo", '‹'),
    ("rsaquo", '›'),
    ("bull", '•'),
    ("middot", '·'),
    ("trade", '™'),
    ("euro", '€'),
    ("dagger", '†'),
    ("Dagger", '‡'),
    ("permil", '‰'),
    ("prime", '′'),
    ("Prime", '″'),
    ("larr", '←'),
    ("rarr", '→'),
    ("uarr", '↑'),
    ("darr", '↓'),
    ("harr", '↔'),
    ("le", '≤'),
    ("ge", '≥'),
    ("ne", '≠'),
    ("asymp", '≈'),
    ("infin", '∞'),
    ("minus", '−'),
    ("plusmn", '±'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("lrm", '\u{200e}'),
    ("rlm", '\u{200f}'),
    ("OElig", 'Œ'),
    ("oelig", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Yuml", 'Ÿ'),
    ("fnof", 'ƒ'),
    ("circ", 'ˆ'),
    ("tilde", '˜'),
    ("hearts", '♥'),
    ("spades", '♠'),
    ("clubs", '♣'),
    ("diams", '♦'),
];

/// An entity name (without `&`) → its character: `with_semicolon` is whether the text had the `;`.
fn named_entity(name: &str, with_semicolon: bool) -> Option<char> {
    if let Some(i) = LATIN1_ENTITIES.iter().position(|&n| n == name) {
        return char::from_u32(0xa0 + i as u32);
    }
    if let Some((_, c)) = LEGACY_ENTITIES.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    if with_semicolon {
        return SEMICOLON_ENTITIES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| *c);
    }
    None
}

/// `html._invalid_charrefs`: what `&#N;` means for the C1 range (Windows-1252), NUL and CR.
fn invalid_charref(n: u32) -> Option<char> {
    const C1: [u32; 32] = [
        0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013,
        0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
    ];
    match n {
        0x00 => Some('\u{fffd}'),
        0x0d => Some('\r'),
        0x80..=0x9f => char::from_u32(C1[(n - 0x80) as usize]),
        _ => None,
    }
}

/// `html._invalid_codepoints`: numeric references that `html.unescape` drops.
fn is_invalid_codepoint(n: u32) -> bool {
    matches!(n, 0x1..=0x8 | 0xb | 0xe..=0x1f | 0x7f..=0x9f | 0xfdd0..=0xfdef)
        || (n <= 0x10ffff && (n & 0xfffe) == 0xfffe)
}

/// Python's `html.unescape`: numeric references exactly, named references for the Latin-1 set,
/// the HTML5 no-semicolon legacy names and a list of common ones (others are left as they are).
pub fn html_unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (replacement, used) = unescape_one(after);
        match replacement {
            Some(r) => {
                out.push_str(&r);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One reference after a `&`: the replacement and how many bytes of `s` it consumed, or `None`
/// where the `&` starts no reference.
fn unescape_one(s: &str) -> (Option<String>, usize) {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b'#') {
        // `#[0-9]+;?` or `#[xX][0-9a-fA-F]+;?`
        let (hex, start) = match bytes.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let digits = bytes[start..]
            .iter()
            .take_while(|b| {
                if hex {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return (None, 0);
        }
        let radix = if hex { 16 } else { 10 };
        let n = s[start..start + digits].chars().fold(0u64, |acc, d| {
            (acc * radix + d.to_digit(radix as u32).unwrap_or(0) as u64).min(u64::MAX / 32)
        });
        let mut used = start + digits;
        if bytes.get(used) == Some(&b';') {
            used += 1;
        }
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        let r = if let Some(c) = invalid_charref(n) {
            c.to_string()
        } else if (0xd800..=0xdfff).contains(&n) || n > 0x10ffff {
            '\u{fffd}'.to_string()
        } else if is_invalid_codepoint(n) {
            String::new()
        } else {
            char::from_u32(n).map(String::from).unwrap_or_default()
        };
        return (Some(r), used);
    }
    // `[^\t\n\f <&#;]{1,32};?`
    let name_len: usize = s
        .char_indices()
        .take_while(|(_, c)| !matches!(c, '\t' | '\n' | '\x0c' | ' ' | '<' | '&' | '#' | ';'))
        .take(32)
        .map(|(_, c)| c.len_utf8())
        .sum();
    if name_len == 0 {
        return (None, 0);
    }
    let name = &s[..name_len];
    let semicolon = bytes.get(name_len) == Some(&b';');
    if let Some(c) = named_entity(name, semicolon) {
        return (Some(c.to_string()), name_len + usize::from(semicolon));
    }
    // The longest legacy (no-semicolon) prefix, the rest kept as text.
    let mut ends: Vec<usize> = name.char_indices().map(|(i, _)| i).skip(2).collect();
    ends.reverse();
    for end in ends {
        if let Some(c) = named_entity(&name[..end], false) {
            return (Some(c.to_string()), end);
        }
    }
    (None, 0)
}

/// diffusers' `WanPipeline._get_t5_prompt_embeds` (one video per prompt): each prompt cleaned
/// with [`prompt_clean`], tokenized to `max_len`, encoded with its attention mask, and every
/// position at or past the prompt's token count (special tokens included) set to zero.
/// Returns (prompts, max_len, d_model) in the encoder's kind, on `device`.
pub fn encode_prompts(
    tokenizer: &PromptTokenizer,
    encoder: &UmT5Encoder,
    prompts: &[&str],
    max_len: usize,
    device: Device,
) -> Result<Tensor, TokenizeError> {
    let n = prompts.len() as i64;
    let l = max_len as i64;
    if prompts.is_empty() {
        return Ok(Tensor::zeros(
            [0, l, encoder.config().d_model],
            (encoder.kind(), device),
        ));
    }
    let mut ids = Vec::with_capacity(prompts.len() * max_len);
    let mut mask = Vec::with_capacity(prompts.len() * max_len);
    let mut lens = Vec::with_capacity(prompts.len());
    for prompt in prompts {
        let (i, m) = tokenizer.encode(&prompt_clean(prompt), max_len)?;
        lens.push(m.iter().filter(|&&v| v > 0).count() as i64);
        ids.extend(i);
        mask.extend(m);
    }
    let ids = Tensor::from_slice(&ids).view([n, l]);
    let mask = Tensor::from_slice(&mask).view([n, l]);
    let hidden = encoder.forward(&ids, &mask).to_device(device);
    // `u[:v]` then zeros up to max_len: keep the first `len` rows of each prompt.
    let positions = Tensor::arange(l, (Kind::Int64, device)).view([1, l]);
    let lens = Tensor::from_slice(&lens).to_device(device).view([n, 1]);
    let keep = positions.lt_tensor(&lens).unsqueeze(-1);
    Ok(hidden.where_self(&keep, &hidden.zeros_like()))
}
