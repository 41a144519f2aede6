//! The Mochi-1 diffusion transformer (diffusers' `MochiTransformer3DModel`) on tch.
//!
//! Numerically follows `diffusers/models/transformers/transformer_mochi.py` (0.42.1) and the
//! layers it uses (`MochiAttnProcessor2_0`, `MochiCombinedTimestepCaptionEmbedding`,
//! `MochiAttentionPool`, `AdaLayerNormContinuous`, `SwiGLU`), dtype casts included.
//!
//! How it differs from Wan's DiT (`models::wan::transformer`), and so what is not shared:
//! - **Asymmetric joint attention** instead of self- plus cross-attention: the text tokens are a
//!   second stream of their own width (`pooled_projection_dim`, 1536 in Mochi-1 against 3072 for
//!   the video tokens), projected into the shared attention width, attended jointly with the
//!   video tokens, and projected back (`to_add_out`). Each stream has its own modulation and MLP;
//!   the last block is `context_pre_only` (its text stream is only read).
//! - **Norms**: RMS norms without weights where Wan uses LayerNorm, modulated by `1 + scale`
//!   only (no shift); residuals are gated with `tanh(gate)` and the gated branch is RMS-normed
//!   first ("sandwich" norm). The q/k RMS norms are per head (`head_dim` weights, eps 1e-5);
//!   Wan's run across all heads (`inner_dim` weights).
//! - **RoPE**: learned frequencies per head and axis (`pos_frequencies: [3, heads, head_dim/2]`),
//!   mixed over (t, h, w) positions, where h and w are centred and scaled to a 192x192 area;
//!   Wan's are fixed and split the head dimension between the axes. The rotation itself (pairs
//!   `(x[2i], x[2i+1])`) is the same, so [`apply_rope`] is shared.
//! - **Conditioning**: one vector per sample, the timestep MLP plus an attention pooling of the
//!   prompt tokens (Wan: timestep only).
//! - **Patch embedding**: a 2-D convolution per frame (no temporal patching); Wan's is 3-D.
//! - The padding text tokens are dropped from the attention (diffusers gathers the valid ones
//!   per sample); their outputs are zero before `to_add_out`.
//!
//! Shared with Wan: `nn.Linear` and the variable builder, the sinusoidal timestep embedding, the
//! rotation of interleaved pairs and fused SDPA.
//!
//! Variables are named exactly like the diffusers state-dict keys. `forward` does not switch
//! autograd off: wrap inference in `tch::no_grad`.
use std::path::Path;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};
use crate::models::layers::{timestep_embedding, Builder, Linear};
use crate::models::wan::transformer::apply_rope;

/// `transformer/config.json` as diffusers writes it (unknown keys are ignored; missing keys take
/// `MochiTransformer3DModel.__init__`'s defaults, which are Mochi-1's sizes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MochiTransformerConfig {
    #[serde(default = "defaults::patch_size")]
    pub patch_size: i64,
    #[serde(default = "defaults::num_attention_heads")]
    pub num_attention_heads: i64,
    #[serde(default = "defaults::attention_head_dim")]
    pub attention_head_dim: i64,
    #[serde(default = "defaults::num_layers")]
    pub num_layers: i64,
    /// The width of the text stream inside the blocks.
    #[serde(default = "defaults::pooled_projection_dim")]
    pub pooled_projection_dim: i64,
    #[serde(default = "defaults::in_channels")]
    pub in_channels: i64,
    /// `None` (or 0) means `in_channels`.
    #[serde(default)]
    pub out_channels: Option<i64>,
    #[serde(default = "defaults::qk_norm")]
    pub qk_norm: String,
    /// The text encoder's width (T5-XXL: 4096).
    #[serde(default = "defaults::text_embed_dim")]
    pub text_embed_dim: i64,
    #[serde(default = "defaults::time_embed_dim")]
    pub time_embed_dim: i64,
    #[serde(default = "defaults::activation_fn")]
    pub activation_fn: String,
    /// Recorded only: the forward pass takes any text length.
    #[serde(default = "defaults::max_sequence_length")]
    pub max_sequence_length: i64,
}

mod defaults {
    pub fn patch_size() -> i64 {
        2
    }
    pub fn num_attention_heads() -> i64 {
        24
    }
    pub fn attention_head_dim() -> i64 {
        128
    }
    pub fn num_layers() -> i64 {
        48
    }
    pub fn pooled_projection_dim() -> i64 {
        1536
    }
    pub fn in_channels() -> i64 {
        12
    }
    pub fn qk_norm() -> String {
        "rms_norm".into()
    }
    pub fn text_embed_dim() -> i64 {
        4096
    }
    pub fn time_embed_dim() -> i64 {
        256
    }
    pub fn activation_fn() -> String {
        "swiglu".into()
    }
    pub fn max_sequence_length() -> i64 {
        256
    }
}

impl Default for MochiTransformerConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

/// The heads of the attention pooling of the prompt (hard-coded in diffusers'
/// `MochiCombinedTimestepCaptionEmbedding`).
const POOLER_HEADS: i64 = 8;
/// The eps of the attention's q/k RMS norms (hard-coded in `MochiTransformerBlock`).
const QK_NORM_EPS: f64 = 1e-5;
/// The eps of the blocks' modulated RMS norms and of the output LayerNorm.
const NORM_EPS: f64 = 1e-6;
/// `MochiRoPE`'s base size: positions are scaled so that every latent grid spans this area.
const ROPE_BASE_AREA: f64 = 192.0 * 192.0;

impl MochiTransformerConfig {
    pub fn inner_dim(&self) -> i64 {
        self.num_attention_heads * self.attention_head_dim
    }

    pub fn out_dim(&self) -> i64 {
        match self.out_channels {
            Some(c) if c > 0 => c,
            _ => self.in_channels,
        }
    }

    /// The hidden width of the video stream's SwiGLU MLP (`(4 * dim * 2) // 3`).
    pub fn ff_inner_dim(&self) -> i64 {
        (4 * self.inner_dim() * 2) / 3
    }

    /// The hidden width of the text stream's SwiGLU MLP.
    pub fn ff_context_inner_dim(&self) -> i64 {
        (4 * self.pooled_projection_dim * 2) / 3
    }

    /// Why this config cannot be run by this implementation, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("patch_size", self.patch_size),
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_dim", self.attention_head_dim),
            ("num_layers", self.num_layers),
            ("pooled_projection_dim", self.pooled_projection_dim),
            ("in_channels", self.in_channels),
            ("text_embed_dim", self.text_embed_dim),
            ("time_embed_dim", self.time_embed_dim),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        if self.attention_head_dim % 2 != 0 {
            return Err(format!(
                "attention_head_dim must be even for the rotary embedding, got {}",
                self.attention_head_dim
            ));
        }
        if self.text_embed_dim % POOLER_HEADS != 0 {
            return Err(format!(
                "text_embed_dim {} must divide by the prompt pooler's {POOLER_HEADS} heads",
                self.text_embed_dim
            ));
        }
        if self.activation_fn != "swiglu" {
            return Err(format!(
                "activation_fn {:?} is not supported (Mochi uses \"swiglu\")",
                self.activation_fn
            ));
        }
        if self.qk_norm != "rms_norm" {
            return Err(format!(
                "qk_norm {:?} is not supported (Mochi uses \"rms_norm\")",
                self.qk_norm
            ));
        }
        Ok(())
    }
}

/// RMS norm over the last dimension without a weight, the variance in fp32, the result back in
/// `xs`' kind (diffusers' `RMSNorm(0, eps, elementwise_affine=False)`).
fn rms_norm(xs: &Tensor, eps: f64) -> Tensor {
    let variance =
        xs.to_kind(Kind::Float)
            .square()
            .mean_dim(Some([-1i64].as_slice()), true, None::<Kind>);
    (xs * (variance + eps).rsqrt()).to_kind(xs.kind())
}

/// `MochiModulatedRMSNorm`: RMS norm in fp32 times `scale` (fp32), back in `xs`' kind.
fn modulated_rms_norm(xs: &Tensor, scale: &Tensor, eps: f64) -> Tensor {
    (rms_norm(&xs.to_kind(Kind::Float), eps) * scale).to_kind(xs.kind())
}

/// `MochiRMSNorm` with its weight over `head_dim`: `xs * rsqrt(var + eps) * weight`, back in
/// `xs`' kind.
fn weighted_rms_norm(xs: &Tensor, weight: &Tensor, eps: f64) -> Tensor {
    let variance =
        xs.to_kind(Kind::Float)
            .square()
            .mean_dim(Some([-1i64].as_slice()), true, None::<Kind>);
    (xs * (variance + eps).rsqrt() * weight).to_kind(xs.kind())
}

/// `FeedForward(activation_fn="swiglu", bias=False)`: `net.0.proj` then `x * silu(gate)`, then
/// `net.2`.
#[derive(Debug)]
struct SwiGlu {
    proj: Linear,
    out: Linear,
}

impl SwiGlu {
    fn new(p: &nn::Path, dim: i64, inner: i64, b: &Builder) -> SwiGlu {
        SwiGlu {
            proj: Linear::no_bias(&(p / "net" / 0 / "proj"), dim, 2 * inner, b),
            out: Linear::no_bias(&(p / "net" / 2), inner, dim, b),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let h = self.proj.forward(xs);
        let [h, gate] = &h.chunk(2, -1)[..] else {
            unreachable!("chunk(2) gives two tensors")
        };
        self.out.forward(&(h * gate.silu()))
    }
}

/// `MochiAttention` with `MochiAttnProcessor2_0`: joint attention over the video tokens and the
/// valid text tokens of each sample.
#[derive(Debug)]
struct JointAttention {
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    add_q_proj: Linear,
    add_k_proj: Linear,
    add_v_proj: Linear,
    norm_q: Tensor,
    norm_k: Tensor,
    norm_added_q: Tensor,
    norm_added_k: Tensor,
    to_out: Linear,
    /// `None` in the last (`context_pre_only`) block.
    to_add_out: Option<Linear>,
    heads: i64,
}

impl JointAttention {
    fn new(p: &nn::Path, c: &MochiTransformerConfig, pre_only: bool, b: &Builder) -> Self {
        let dim = c.inner_dim();
        let ctx = c.pooled_projection_dim;
        let hd = c.attention_head_dim;
        let norm = |name: &str| b.constant(&(p / name), "weight", &[hd], 1.0, b.kind);
        JointAttention {
            to_q: Linear::no_bias(&(p / "to_q"), dim, dim, b),
            to_k: Linear::no_bias(&(p / "to_k"), dim, dim, b),
            to_v: Linear::no_bias(&(p / "to_v"), dim, dim, b),
            add_q_proj: Linear::no_bias(&(p / "add_q_proj"), ctx, dim, b),
            add_k_proj: Linear::no_bias(&(p / "add_k_proj"), ctx, dim, b),
            add_v_proj: Linear::no_bias(&(p / "add_v_proj"), ctx, dim, b),
            norm_q: norm("norm_q"),
            norm_k: norm("norm_k"),
            norm_added_q: norm("norm_added_q"),
            norm_added_k: norm("norm_added_k"),
            to_out: Linear::new(&(p / "to_out" / 0), dim, dim, b),
            to_add_out: (!pre_only).then(|| Linear::new(&(p / "to_add_out"), dim, ctx, b)),
            heads: c.num_attention_heads,
        }
    }

    /// `xs: [B, S, dim]`, `context: [B, L, ctx]`, `valid`: per sample the indices of its real
    /// text tokens. Returns the video stream's output `[B, S, dim]` and the text stream's
    /// `[B, L, ctx]` (`[B, L, dim]` in the last block, where it is not used).
    fn forward(
        &self,
        xs: &Tensor,
        context: &Tensor,
        valid: &[Tensor],
        rope: &(Tensor, Tensor),
    ) -> (Tensor, Tensor) {
        let heads = |t: Tensor| t.unflatten(2, [self.heads, -1]);
        let q = weighted_rms_norm(&heads(self.to_q.forward(xs)), &self.norm_q, QK_NORM_EPS);
        let k = weighted_rms_norm(&heads(self.to_k.forward(xs)), &self.norm_k, QK_NORM_EPS);
        let v = heads(self.to_v.forward(xs));
        let cq = weighted_rms_norm(
            &heads(self.add_q_proj.forward(context)),
            &self.norm_added_q,
            QK_NORM_EPS,
        );
        let ck = weighted_rms_norm(
            &heads(self.add_k_proj.forward(context)),
            &self.norm_added_k,
            QK_NORM_EPS,
        );
        let cv = heads(self.add_v_proj.forward(context));
        let (cos, sin) = rope;
        let q = apply_rope(&q, cos, sin).transpose(1, 2);
        let k = apply_rope(&k, cos, sin).transpose(1, 2);
        let v = v.transpose(1, 2);
        let (cq, ck, cv) = (cq.transpose(1, 2), ck.transpose(1, 2), cv.transpose(1, 2));
        let seq = q.size()[2];
        let text = cq.size()[2];
        // Per sample: the video tokens and that sample's valid text tokens, gathered to the
        // front; the rows after them are zeros (so a mask with holes moves the text outputs to
        // the first positions, exactly as the reference does).
        let outs: Vec<Tensor> = valid
            .iter()
            .enumerate()
            .map(|(i, idx)| {
                let i = i as i64;
                let pick = |stream: &Tensor, text: &Tensor| {
                    Tensor::cat(
                        &[
                            stream.narrow(0, i, 1),
                            text.narrow(0, i, 1).index_select(2, idx),
                        ],
                        2,
                    )
                };
                let out = Tensor::scaled_dot_product_attention(
                    &pick(&q, &cq),
                    &pick(&k, &ck),
                    &pick(&v, &cv),
                    None::<&Tensor>,
                    0.0,
                    false,
                    None,
                    false,
                );
                let valid_len = out.size()[2];
                out.constant_pad_nd([0, 0, 0, seq + text - valid_len])
            })
            .collect();
        let out = Tensor::cat(&outs, 0).transpose(1, 2).flatten(2, 3);
        let xs_out = self.to_out.forward(&out.narrow(1, 0, seq));
        let ctx_out = out.narrow(1, seq, text);
        let ctx_out = match &self.to_add_out {
            Some(proj) => proj.forward(&ctx_out),
            None => ctx_out,
        };
        (xs_out, ctx_out)
    }
}

/// How a block modulates its text stream.
#[derive(Debug)]
enum ContextNorm {
    /// `MochiRMSNormZero`: scale, gate, MLP scale, MLP gate (`4 * ctx` from `linear`).
    Full { linear: Linear, ff: SwiGlu },
    /// `MochiLayerNormContinuous` of the last block: only a scale (`linear_1`), no MLP.
    PreOnly { linear_1: Linear },
}

/// `MochiTransformerBlock`.
#[derive(Debug)]
struct Block {
    norm1: Linear,
    context: ContextNorm,
    attn: JointAttention,
    ff: SwiGlu,
}

impl Block {
    fn new(p: &nn::Path, c: &MochiTransformerConfig, pre_only: bool, b: &Builder) -> Block {
        let dim = c.inner_dim();
        let ctx = c.pooled_projection_dim;
        let context = if pre_only {
            ContextNorm::PreOnly {
                linear_1: Linear::new(&(p / "norm1_context" / "linear_1"), dim, ctx, b),
            }
        } else {
            ContextNorm::Full {
                linear: Linear::new(&(p / "norm1_context" / "linear"), dim, 4 * ctx, b),
                ff: SwiGlu::new(&(p / "ff_context"), ctx, c.ff_context_inner_dim(), b),
            }
        };
        Block {
            norm1: Linear::new(&(p / "norm1" / "linear"), dim, 4 * dim, b),
            context,
            attn: JointAttention::new(&(p / "attn1"), c, pre_only, b),
            ff: SwiGlu::new(&(p / "ff"), dim, c.ff_inner_dim(), b),
        }
    }

    /// `xs: [B, S, dim]`, `context: [B, L, ctx]`, `temb: [B, dim]`.
    fn forward(
        &self,
        xs: &Tensor,
        context: &Tensor,
        temb: &Tensor,
        valid: &[Tensor],
        rope: &(Tensor, Tensor),
    ) -> (Tensor, Tensor) {
        let silu_temb = temb.silu();
        // `1 + scale` and the gates as the reference forms them: scales in fp32, gates as tanh
        // in the modulation's kind (cast to fp32 inside the norm).
        let plus_one = |scale: &Tensor| scale.unsqueeze(1).to_kind(Kind::Float) + 1.0;
        let gate = |g: &Tensor| g.tanh().unsqueeze(1);

        let mods = self.norm1.forward(&silu_temb).chunk(4, 1);
        let [scale_msa, gate_msa, scale_mlp, gate_mlp] = &mods[..] else {
            unreachable!("chunk(4) gives four tensors")
        };
        let norm_xs =
            (rms_norm(&xs.to_kind(Kind::Float), NORM_EPS) * plus_one(scale_msa)).to_kind(xs.kind());

        let (norm_ctx, ctx_mods) = match &self.context {
            ContextNorm::Full { linear, .. } => {
                let m = linear.forward(&silu_temb).chunk(4, 1);
                let norm = (rms_norm(&context.to_kind(Kind::Float), NORM_EPS) * plus_one(&m[0]))
                    .to_kind(context.kind());
                (norm, Some(m))
            }
            ContextNorm::PreOnly { linear_1 } => {
                let scale = linear_1.forward(&silu_temb.to_kind(context.kind()));
                let norm = modulated_rms_norm(context, &plus_one(&scale), NORM_EPS);
                (norm, None)
            }
        };

        let (attn, ctx_attn) = self.attn.forward(&norm_xs, &norm_ctx, valid, rope);

        let xs = xs + modulated_rms_norm(&attn, &gate(gate_msa), NORM_EPS);
        let norm_xs = modulated_rms_norm(&xs, &plus_one(scale_mlp), NORM_EPS);
        let ff = self.ff.forward(&norm_xs);
        let xs = &xs + modulated_rms_norm(&ff, &gate(gate_mlp), NORM_EPS);

        let context = match (&self.context, ctx_mods) {
            (ContextNorm::Full { ff, .. }, Some(m)) => {
                let [_, gate_msa, scale_mlp, gate_mlp] = &m[..] else {
                    unreachable!("chunk(4) gives four tensors")
                };
                let ctx = context + modulated_rms_norm(&ctx_attn, &gate(gate_msa), NORM_EPS);
                let norm_ctx = modulated_rms_norm(&ctx, &plus_one(scale_mlp), NORM_EPS);
                let ctx_ff = ff.forward(&norm_ctx);
                &ctx + modulated_rms_norm(&ctx_ff, &gate(gate_mlp), NORM_EPS)
            }
            _ => context.shallow_clone(),
        };
        (xs, context)
    }
}

/// `MochiAttentionPool`: one query (the mean of the valid tokens) attending over itself and the
/// tokens, padding masked out.
#[derive(Debug)]
struct AttentionPool {
    to_kv: Linear,
    to_q: Linear,
    to_out: Linear,
}

impl AttentionPool {
    /// `xs: [B, L, D]`, `mask: [B, L]` bool → `[B, out]`.
    fn forward(&self, xs: &Tensor, mask: &Tensor) -> Tensor {
        let (b, _, d) = xs.size3().expect("text embeddings are [B, L, D]");
        let head_dim = d / POOLER_HEADS;
        // The pooled token (prepended below) is always attended to.
        let always = Tensor::ones([b, 1], (Kind::Bool, mask.device()));
        let attn_mask = Tensor::cat(&[always, mask.to_kind(Kind::Bool)], 1).view([b, 1, 1, -1]);
        let weights = mask.unsqueeze(-1).to_kind(xs.kind());
        let weights = &weights
            / weights
                .sum_dim_intlist(Some([1i64].as_slice()), true, None::<Kind>)
                .clamp_min(1.0);
        let pooled = (xs * weights).sum_dim_intlist(Some([1i64].as_slice()), true, None::<Kind>);
        let xs = Tensor::cat(&[pooled, xs.shallow_clone()], 1);
        let kv = self
            .to_kv
            .forward(&xs)
            .unflatten(2, [2, POOLER_HEADS, head_dim])
            .transpose(1, 3);
        let (k, v) = (kv.select(2, 0), kv.select(2, 1));
        let q = self
            .to_q
            .forward(&xs.select(1, 0))
            .unflatten(1, [POOLER_HEADS, head_dim])
            .unsqueeze(2);
        let out = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            Some(&attn_mask),
            0.0,
            false,
            None,
            false,
        );
        self.to_out.forward(&out.squeeze_dim(2).flatten(1, 2))
    }
}

/// `MochiRoPE`: the (t, h, w) position of every patch, `[F*H*W, 3]` fp32 — frames counted
/// from 0, rows and columns centred on 0 and scaled so the grid spans a 192x192 area.
pub fn rope_positions(frames: i64, height: i64, width: i64, device: Device) -> Tensor {
    let scale = (ROPE_BASE_AREA / (height * width) as f64).sqrt();
    let centres = |n: i64| {
        let half = n as f64 * scale / 2.0;
        let edges = Tensor::linspace(-half, half, n + 1, (Kind::Float, device));
        (edges.narrow(0, 0, n) + edges.narrow(0, 1, n)) / 2.0
    };
    let t = Tensor::arange(frames, (Kind::Float, device));
    let grids = Tensor::meshgrid_indexing(&[t, centres(height), centres(width)], "ij");
    Tensor::stack(&grids, -1).view([-1, 3])
}

/// The RoPE (cos, sin) tables, each `[F*H*W, heads, head_dim/2]` fp32, from the learned
/// `pos_frequencies: [3, heads, head_dim/2]`.
pub fn rope_tables(
    pos_frequencies: &Tensor,
    (frames, height, width): (i64, i64, i64),
) -> (Tensor, Tensor) {
    let pos = rope_positions(frames, height, width, pos_frequencies.device());
    let freqs = Tensor::einsum(
        "nd,dhf->nhf",
        &[pos, pos_frequencies.to_kind(Kind::Float)],
        None::<i64>,
    );
    (freqs.cos(), freqs.sin())
}

/// The Mochi-1 DiT (`MochiTransformer3DModel`).
#[derive(Debug)]
pub struct MochiTransformer {
    config: MochiTransformerConfig,
    vs: nn::VarStore,
    kind: Kind,
    patch_embed_weight: Tensor,
    patch_embed_bias: Tensor,
    time_linear_1: Linear,
    time_linear_2: Linear,
    pooler: AttentionPool,
    caption_proj: Linear,
    pos_frequencies: Tensor,
    blocks: Vec<Block>,
    norm_out: Linear,
    proj_out: Linear,
}

impl MochiTransformer {
    /// Loads `dir` (a diffusers `transformer/` directory: `config.json` and safetensors), every
    /// tensor's name and shape checked against the config before any weight is read.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let config: MochiTransformerConfig = read_config(dir)?;
        config.check().map_err(|why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        })?;
        let files = WeightFiles::find(dir)?;
        let model = Self::build(config, device, kind, false);
        files.load_into(&model.vs, &|n: &str| n.to_string())?;
        Ok(model)
    }

    /// A freshly initialised model (torch's default initialisers for the linears; the norms at
    /// one and `pos_frequencies` at zero, as diffusers' constructor).
    pub fn new(config: MochiTransformerConfig, device: Device, kind: Kind) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(config, device, kind, true))
    }

    fn build(config: MochiTransformerConfig, device: Device, kind: Kind, random: bool) -> Self {
        let vs = nn::VarStore::new(device);
        let b = Builder {
            device,
            kind,
            random,
        };
        let root = vs.root();
        let c = &config;
        let inner = c.inner_dim();
        let p = c.patch_size;
        let pe = &root / "patch_embed" / "proj";
        let bound = 1.0 / ((c.in_channels * p * p) as f64).sqrt();
        let patch_embed_weight = b.var(&pe, "weight", &[inner, c.in_channels, p, p], bound, kind);
        let patch_embed_bias = b.var(&pe, "bias", &[inner], bound, kind);
        let te = &root / "time_embed";
        let tx = c.text_embed_dim;
        let time_linear_1 = Linear::new(
            &(&te / "timestep_embedder" / "linear_1"),
            c.time_embed_dim,
            inner,
            &b,
        );
        let time_linear_2 =
            Linear::new(&(&te / "timestep_embedder" / "linear_2"), inner, inner, &b);
        let pool = &te / "pooler";
        let pooler = AttentionPool {
            to_kv: Linear::new(&(&pool / "to_kv"), tx, 2 * tx, &b),
            to_q: Linear::new(&(&pool / "to_q"), tx, tx, &b),
            to_out: Linear::new(&(&pool / "to_out"), tx, inner, &b),
        };
        let caption_proj = Linear::new(&(&te / "caption_proj"), tx, c.pooled_projection_dim, &b);
        let pos_frequencies = b.constant(
            &root,
            "pos_frequencies",
            &[3, c.num_attention_heads, c.attention_head_dim / 2],
            0.0,
            kind,
        );
        let blocks = (0..c.num_layers)
            .map(|i| {
                let pre_only = i == c.num_layers - 1;
                Block::new(&(&root / "transformer_blocks" / i), c, pre_only, &b)
            })
            .collect();
        let norm_out = Linear::new(&(&root / "norm_out" / "linear"), inner, 2 * inner, &b);
        let proj_out = Linear::new(&(&root / "proj_out"), inner, p * p * c.out_dim(), &b);
        MochiTransformer {
            config,
            vs,
            kind,
            patch_embed_weight,
            patch_embed_bias,
            time_linear_1,
            time_linear_2,
            pooler,
            caption_proj,
            pos_frequencies,
            blocks,
            norm_out,
            proj_out,
        }
    }

    pub fn config(&self) -> &MochiTransformerConfig {
        &self.config
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The variables, named like the diffusers state dict.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Predicts the flow for `hidden_states: [B, C_in, F, H, W]` at `timestep: [B]` given the
    /// prompt embeddings `encoder_hidden_states: [B, L, text_embed_dim]` and their
    /// `encoder_attention_mask: [B, L]` (nonzero / true for real tokens); returns
    /// `[B, C_out, F, H, W]` in the model's kind. Inputs are moved to the model's device.
    pub fn forward(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        encoder_hidden_states: &Tensor,
        encoder_attention_mask: &Tensor,
    ) -> Tensor {
        let c = &self.config;
        let device = self.device();
        let (b, ch, f, h, w) = hidden_states.size5().unwrap_or_else(|_| {
            panic!(
                "hidden_states must be [B, C, F, H, W], got {:?}",
                hidden_states.size()
            )
        });
        let p = c.patch_size;
        assert_eq!(
            ch, c.in_channels,
            "hidden_states has {ch} channels, the model takes {}",
            c.in_channels
        );
        assert!(
            h % p == 0 && w % p == 0,
            "latent size {h}x{w} is not a multiple of the patch size {p}"
        );
        let enc_size = encoder_hidden_states.size();
        assert!(
            enc_size.len() == 3 && enc_size[0] == b && enc_size[2] == c.text_embed_dim,
            "encoder_hidden_states must be [{b}, L, {}], got {enc_size:?}",
            c.text_embed_dim
        );
        assert_eq!(
            encoder_attention_mask.size(),
            [b, enc_size[1]],
            "encoder_attention_mask must be [B, L]"
        );
        assert_eq!(timestep.size(), [b], "timestep must be [B]");
        let (pph, ppw) = (h / p, w / p);

        // Conditioning: timestep MLP + attention pooling of the prompt; the text stream.
        let mask = encoder_attention_mask.to_device(device).ne(0);
        let context = encoder_hidden_states.to_device(device).to_kind(self.kind);
        let t_emb = timestep_embedding(&timestep.to_device(device), c.time_embed_dim);
        let temb = self
            .time_linear_2
            .forward(&self.time_linear_1.forward(&t_emb.to_kind(self.kind)).silu());
        let temb = temb + self.pooler.forward(&context, &mask);
        let mut context = self.caption_proj.forward(&context);

        // Patch embedding, one frame at a time (2-D convolution).
        let xs = hidden_states
            .to_device(device)
            .to_kind(self.kind)
            .permute([0, 2, 1, 3, 4])
            .flatten(0, 1)
            .conv2d(
                &self.patch_embed_weight,
                Some(&self.patch_embed_bias),
                [p, p],
                [0, 0],
                [1, 1],
                1,
            );
        let mut xs = xs
            .flatten(2, -1)
            .transpose(1, 2)
            .unflatten(0, [b, f])
            .flatten(1, 2);

        let rope = rope_tables(&self.pos_frequencies, (f, pph, ppw));
        let valid: Vec<Tensor> = (0..b).map(|i| mask.get(i).nonzero().view([-1])).collect();
        for block in &self.blocks {
            (xs, context) = block.forward(&xs, &context, &temb, &valid, &rope);
        }

        // AdaLayerNormContinuous: LayerNorm without affine, then `* (1 + scale) + shift`.
        let emb = self.norm_out.forward(&temb.silu().to_kind(xs.kind()));
        let [scale, shift] = &emb.chunk(2, 1)[..] else {
            unreachable!("chunk(2) gives two tensors")
        };
        let dim = c.inner_dim();
        let xs = xs.layer_norm([dim], None::<&Tensor>, None::<&Tensor>, NORM_EPS, true)
            * (scale.unsqueeze(1) + 1.0)
            + shift.unsqueeze(1);
        let xs = self.proj_out.forward(&xs);
        xs.reshape([b, f, pph, ppw, p, p, -1])
            .permute([0, 6, 1, 2, 4, 3, 5])
            .reshape([b, -1, f, h, w])
    }
}
