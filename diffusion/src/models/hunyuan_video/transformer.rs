//! The HunyuanVideo diffusion transformer (diffusers' `HunyuanVideoTransformer3DModel`) on tch,
//! text-to-video (`image_condition_type = None`).
//!
//! Numerically follows `diffusers/models/transformers/transformer_hunyuan_video.py` (0.42.1) and
//! the layers it uses (`HunyuanVideoAttnProcessor2_0`, `HunyuanVideoTokenRefiner`,
//! `HunyuanVideoConditionEmbedding`, `AdaLayerNormZero`, `AdaLayerNormZeroSingle`,
//! `AdaLayerNormContinuous`, `RMSNorm`, `FeedForward`, `get_1d_rotary_pos_embed`), dtype casts
//! included.
//!
//! The model, in order:
//! 1. **Conditioning** `temb`: timestep MLP + guidance MLP (the *embedded* guidance of the
//!    distilled model: the guidance scale × 1000 goes through a timestep embedding of its own) +
//!    an MLP of the CLIP pooled vector.
//! 2. **Token refiner** (`context_embedder`): the Llama tokens are projected to the model width
//!    and run through a few self-attention blocks of their own, conditioned on the timestep and
//!    the masked mean of the raw tokens, with a padding-aware mask.
//! 3. **Dual-stream blocks**: video and text keep their own weights (AdaLN-zero modulation,
//!    q/k/v, MLP) and meet in one joint attention; **single-stream blocks**: one sequence
//!    `[video; text]`, attention and MLP in parallel from one modulated LayerNorm (Flux-style).
//! 4. AdaLN-continuous output norm, linear, unpatchify.
//!
//! How it differs from Wan's and Mochi's DiTs (`models::wan`, `models::mochi`):
//! - **RoPE**: fixed frequencies (theta 256, not 10000) with the head dimension split between the
//!   (t, h, w) axes (`rope_axes_dim`, 16/56/56 in the real model), positions are integer patch
//!   indices; Wan's split is the same idea (theta 10000, float64 frequencies, fp32 here); Mochi's
//!   frequencies are learned. Only the video tokens are rotated. The rotation of interleaved
//!   pairs is the same, so Wan's [`apply_rope`] is shared.
//! - **q/k RMS norms** are per head (`head_dim` weights, eps 1e-6) like Mochi's, but diffusers'
//!   `RMSNorm` casts to the weight's kind only for half weights and never back (Mochi's
//!   `MochiRMSNorm` casts back to the input kind), so the helper is not shared.
//! - **Norms**: LayerNorm without affine modulated by `(1 + scale), shift` (AdaLN-zero, as Wan),
//!   gates multiply without tanh (Mochi: tanh) and without Wan's fp32 norm.
//! - **Text attention mask**: the joint attention masks the keys at and after
//!   `video_len + sum(mask)` (a prefix: a mask with holes is counted, not followed), while the
//!   refiner follows the mask exactly (pairs of valid tokens, plus key 0 always visible).
//! - **Patch embedding**: a 3-D convolution with kernel `(patch_size_t, p, p)` like Wan's.
//!
//! Shared: `nn.Linear` and the variable builder, the sinusoidal timestep embedding, the rotation
//! of interleaved pairs, fused SDPA.
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
/// `HunyuanVideoTransformer3DModel.__init__`'s defaults, which are HunyuanVideo's sizes).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HunyuanVideoTransformerConfig {
    #[serde(default = "defaults::in_channels")]
    pub in_channels: i64,
    /// `None` (or 0) means `in_channels`.
    #[serde(default = "defaults::out_channels")]
    pub out_channels: Option<i64>,
    #[serde(default = "defaults::num_attention_heads")]
    pub num_attention_heads: i64,
    #[serde(default = "defaults::attention_head_dim")]
    pub attention_head_dim: i64,
    /// Dual-stream blocks.
    #[serde(default = "defaults::num_layers")]
    pub num_layers: i64,
    /// Single-stream blocks.
    #[serde(default = "defaults::num_single_layers")]
    pub num_single_layers: i64,
    #[serde(default = "defaults::num_refiner_layers")]
    pub num_refiner_layers: i64,
    #[serde(default = "defaults::mlp_ratio")]
    pub mlp_ratio: f64,
    #[serde(default = "defaults::patch_size")]
    pub patch_size: i64,
    #[serde(default = "defaults::patch_size_t")]
    pub patch_size_t: i64,
    #[serde(default = "defaults::qk_norm")]
    pub qk_norm: String,
    #[serde(default = "defaults::guidance_embeds")]
    pub guidance_embeds: bool,
    /// The Llama encoder's width (4096).
    #[serde(default = "defaults::text_embed_dim")]
    pub text_embed_dim: i64,
    /// The CLIP pooled vector's width (768).
    #[serde(default = "defaults::pooled_projection_dim")]
    pub pooled_projection_dim: i64,
    #[serde(default = "defaults::rope_theta")]
    pub rope_theta: f64,
    /// The head dimension's split between the (t, h, w) axes.
    #[serde(default = "defaults::rope_axes_dim")]
    pub rope_axes_dim: Vec<i64>,
    /// `None` for text-to-video; the image-to-video variants (`latent_concat`, `token_replace`)
    /// are not implemented.
    #[serde(default)]
    pub image_condition_type: Option<String>,
}

mod defaults {
    pub fn in_channels() -> i64 {
        16
    }
    pub fn out_channels() -> Option<i64> {
        Some(16)
    }
    pub fn num_attention_heads() -> i64 {
        24
    }
    pub fn attention_head_dim() -> i64 {
        128
    }
    pub fn num_layers() -> i64 {
        20
    }
    pub fn num_single_layers() -> i64 {
        40
    }
    pub fn num_refiner_layers() -> i64 {
        2
    }
    pub fn mlp_ratio() -> f64 {
        4.0
    }
    pub fn patch_size() -> i64 {
        2
    }
    pub fn patch_size_t() -> i64 {
        1
    }
    pub fn qk_norm() -> String {
        "rms_norm".into()
    }
    pub fn guidance_embeds() -> bool {
        true
    }
    pub fn text_embed_dim() -> i64 {
        4096
    }
    pub fn pooled_projection_dim() -> i64 {
        768
    }
    pub fn rope_theta() -> f64 {
        256.0
    }
    pub fn rope_axes_dim() -> Vec<i64> {
        vec![16, 56, 56]
    }
}

impl Default for HunyuanVideoTransformerConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

/// The width of the sinusoidal timestep / guidance embedding (hard-coded in diffusers).
const TIME_PROJ_DIM: i64 = 256;
/// The eps of every LayerNorm and of the q/k RMS norms.
const NORM_EPS: f64 = 1e-6;

impl HunyuanVideoTransformerConfig {
    pub fn inner_dim(&self) -> i64 {
        self.num_attention_heads * self.attention_head_dim
    }

    pub fn out_dim(&self) -> i64 {
        match self.out_channels {
            Some(c) if c > 0 => c,
            _ => self.in_channels,
        }
    }

    /// The MLP width, `int(inner_dim * mlp_ratio)` as Python truncates it.
    pub fn mlp_dim(&self) -> i64 {
        (self.inner_dim() as f64 * self.mlp_ratio) as i64
    }

    /// Why this config cannot be run by this implementation, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("in_channels", self.in_channels),
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_dim", self.attention_head_dim),
            ("patch_size", self.patch_size),
            ("patch_size_t", self.patch_size_t),
            ("text_embed_dim", self.text_embed_dim),
            ("pooled_projection_dim", self.pooled_projection_dim),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        if self.mlp_dim() <= 0 {
            return Err(format!("mlp_ratio {} gives no MLP", self.mlp_ratio));
        }
        if self.rope_axes_dim.len() != 3
            || self.rope_axes_dim.iter().any(|d| *d <= 0 || d % 2 != 0)
            || self.rope_axes_dim.iter().sum::<i64>() != self.attention_head_dim
        {
            return Err(format!(
                "rope_axes_dim {:?} must be three positive even sizes adding up to attention_head_dim {}",
                self.rope_axes_dim, self.attention_head_dim
            ));
        }
        if self.qk_norm != "rms_norm" {
            return Err(format!(
                "qk_norm {:?} is not supported (HunyuanVideo uses \"rms_norm\")",
                self.qk_norm
            ));
        }
        if let Some(kind) = &self.image_condition_type {
            return Err(format!(
                "image_condition_type {kind:?} (image-to-video HunyuanVideo) is not supported; only text-to-video (null)"
            ));
        }
        Ok(())
    }
}

/// `nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)` over the last dimension.
fn layer_norm(xs: &Tensor) -> Tensor {
    let dim = *xs.size().last().expect("layer norm of a scalar");
    xs.layer_norm([dim], None::<&Tensor>, None::<&Tensor>, NORM_EPS, true)
}

/// diffusers' `RMSNorm(head_dim, eps=1e-6)` with its weight: the variance in fp32, the
/// normalised values cast to the weight's kind only when that is a half kind (never back to the
/// input's kind, unlike `MochiRMSNorm`).
fn rms_norm(xs: &Tensor, weight: &Tensor) -> Tensor {
    let variance =
        xs.to_kind(Kind::Float)
            .square()
            .mean_dim(Some([-1i64].as_slice()), true, None::<Kind>);
    let normed = xs * (variance + NORM_EPS).rsqrt();
    let normed = match weight.kind() {
        Kind::Half | Kind::BFloat16 => normed.to_kind(weight.kind()),
        _ => normed,
    };
    normed * weight
}

/// `x * (1 + scale[:, None]) + shift[:, None]`: the AdaLN modulation of `[B, S, D]` by `[B, D]`.
fn modulate(xs: &Tensor, shift: &Tensor, scale: &Tensor) -> Tensor {
    xs * (scale.unsqueeze(1) + 1.0) + shift.unsqueeze(1)
}

/// Two linears with a SiLU between: diffusers' `TimestepEmbedding` and
/// `PixArtAlphaTextProjection(act_fn="silu")` alike (`linear_1`, `linear_2`).
#[derive(Debug)]
struct SiluMlp {
    linear_1: Linear,
    linear_2: Linear,
}

impl SiluMlp {
    fn new(p: &nn::Path, in_dim: i64, dim: i64, b: &Builder) -> SiluMlp {
        SiluMlp {
            linear_1: Linear::new(&(p / "linear_1"), in_dim, dim, b),
            linear_2: Linear::new(&(p / "linear_2"), dim, dim, b),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        self.linear_2.forward(&self.linear_1.forward(xs).silu())
    }

    /// `TimestepEmbedding(Timesteps(256, flip_sin_to_cos=True, 0)(t).to(kind))`.
    fn embed_timestep(&self, t: &Tensor, kind: Kind) -> Tensor {
        self.forward(&timestep_embedding(t, TIME_PROJ_DIM).to_kind(kind))
    }
}

/// `FeedForward`: `net.0.proj`, an activation, `net.2` (biases on).
#[derive(Debug)]
struct FeedForward {
    proj: Linear,
    out: Linear,
    /// `gelu-approximate` (tanh GELU) in the transformer blocks, `linear-silu` in the refiner.
    gelu_tanh: bool,
}

impl FeedForward {
    fn new(p: &nn::Path, dim: i64, inner: i64, gelu_tanh: bool, b: &Builder) -> FeedForward {
        FeedForward {
            proj: Linear::new(&(p / "net" / 0 / "proj"), dim, inner, b),
            out: Linear::new(&(p / "net" / 2), inner, dim, b),
            gelu_tanh,
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let h = self.proj.forward(xs);
        let h = if self.gelu_tanh {
            h.gelu("tanh")
        } else {
            h.silu()
        };
        self.out.forward(&h)
    }
}

/// `[B, S, heads * head_dim]` → `[B, S, heads, head_dim]`.
fn split_heads(xs: &Tensor, heads: i64) -> Tensor {
    xs.unflatten(2, [heads, -1])
}

/// Fused SDPA on `[B, S, H, D]` tensors (what `dispatch_attention_fn`'s native backend does),
/// `mask` boolean and broadcast to `[B, H, S_q, S_k]`; returns `[B, S, H*D]`.
fn attention(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor) -> Tensor {
    let out = Tensor::scaled_dot_product_attention(
        &q.transpose(1, 2),
        &k.transpose(1, 2),
        &v.transpose(1, 2),
        Some(mask),
        0.0,
        false,
        None,
        false,
    );
    out.transpose(1, 2).flatten(2, 3).to_kind(q.kind())
}

/// `HunyuanVideoIndividualTokenRefinerBlock`: self-attention over the text tokens (plain
/// `Attention` with biases, no q/k norm), then an MLP, both gated by `temb`.
#[derive(Debug)]
struct RefinerBlock {
    norm1_weight: Tensor,
    norm1_bias: Tensor,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    norm2_weight: Tensor,
    norm2_bias: Tensor,
    ff: FeedForward,
    norm_out: Linear,
    heads: i64,
}

impl RefinerBlock {
    fn new(p: &nn::Path, c: &HunyuanVideoTransformerConfig, b: &Builder) -> RefinerBlock {
        let dim = c.inner_dim();
        let attn = p / "attn";
        let (norm1, norm2) = (p / "norm1", p / "norm2");
        RefinerBlock {
            norm1_weight: b.constant(&norm1, "weight", &[dim], 1.0, b.kind),
            norm1_bias: b.constant(&norm1, "bias", &[dim], 0.0, b.kind),
            to_q: Linear::new(&(&attn / "to_q"), dim, dim, b),
            to_k: Linear::new(&(&attn / "to_k"), dim, dim, b),
            to_v: Linear::new(&(&attn / "to_v"), dim, dim, b),
            to_out: Linear::new(&(&attn / "to_out" / 0), dim, dim, b),
            norm2_weight: b.constant(&norm2, "weight", &[dim], 1.0, b.kind),
            norm2_bias: b.constant(&norm2, "bias", &[dim], 0.0, b.kind),
            // `mlp_width_ratio` is the refiner's own 4.0 (not the config's `mlp_ratio`).
            ff: FeedForward::new(&(p / "ff"), dim, 4 * dim, false, b),
            norm_out: Linear::new(&(p / "norm_out" / "linear"), dim, 2 * dim, b),
            heads: c.num_attention_heads,
        }
    }

    fn forward(&self, xs: &Tensor, temb: &Tensor, mask: &Tensor) -> Tensor {
        let dim = *xs.size().last().expect("[B, L, D]");
        let ln = |x: &Tensor, w: &Tensor, bias: &Tensor| {
            x.layer_norm([dim], Some(w), Some(bias), NORM_EPS, true)
        };
        let norm = ln(xs, &self.norm1_weight, &self.norm1_bias);
        let q = split_heads(&self.to_q.forward(&norm), self.heads);
        let k = split_heads(&self.to_k.forward(&norm), self.heads);
        let v = split_heads(&self.to_v.forward(&norm), self.heads);
        let attn = self.to_out.forward(&attention(&q, &k, &v, mask));
        let gates = self.norm_out.forward(&temb.silu()).chunk(2, 1);
        let [gate_msa, gate_mlp] = &gates[..] else {
            unreachable!("chunk(2) gives two tensors")
        };
        let xs = xs + attn * gate_msa.unsqueeze(1);
        let ff = self
            .ff
            .forward(&ln(&xs, &self.norm2_weight, &self.norm2_bias));
        &xs + ff * gate_mlp.unsqueeze(1)
    }
}

/// `HunyuanVideoTokenRefiner` (the `context_embedder`): the Llama tokens to the model width,
/// refined by self-attention conditioned on the timestep and their masked mean.
#[derive(Debug)]
struct TokenRefiner {
    timestep_embedder: SiluMlp,
    text_embedder: SiluMlp,
    proj_in: Linear,
    blocks: Vec<RefinerBlock>,
}

impl TokenRefiner {
    fn new(p: &nn::Path, c: &HunyuanVideoTransformerConfig, b: &Builder) -> TokenRefiner {
        let dim = c.inner_dim();
        let tte = p / "time_text_embed";
        TokenRefiner {
            timestep_embedder: SiluMlp::new(&(&tte / "timestep_embedder"), TIME_PROJ_DIM, dim, b),
            text_embedder: SiluMlp::new(&(&tte / "text_embedder"), c.text_embed_dim, dim, b),
            proj_in: Linear::new(&(p / "proj_in"), c.text_embed_dim, dim, b),
            blocks: (0..c.num_refiner_layers)
                .map(|i| RefinerBlock::new(&(p / "token_refiner" / "refiner_blocks" / i), c, b))
                .collect(),
        }
    }

    /// `xs: [B, L, text_embed_dim]`, `timestep: [B]`, `mask: [B, L]` (nonzero = real token).
    fn forward(&self, xs: &Tensor, timestep: &Tensor, mask: &Tensor) -> Tensor {
        let (b, l, _) = xs.size3().expect("[B, L, D]");
        let mask_float = mask.to_kind(Kind::Float).unsqueeze(-1);
        let sum1 = |t: &Tensor| t.sum_dim_intlist(Some([1i64].as_slice()), false, None::<Kind>);
        let pooled = (sum1(&(xs * &mask_float)) / sum1(&mask_float)).to_kind(xs.kind());
        let temb = self
            .timestep_embedder
            .embed_timestep(timestep, pooled.kind())
            + self.text_embedder.forward(&pooled);
        let mut xs = self.proj_in.forward(xs);
        // A query sees a key when both are real tokens; key 0 is always visible so that the
        // rows of padding queries are not empty.
        let valid = mask.ne(0).view([b, 1, 1, l]);
        let pair = valid.logical_and(&valid.transpose(2, 3));
        let key0 = Tensor::arange(l, (Kind::Int64, xs.device()))
            .eq(0)
            .view([1, 1, 1, l]);
        let self_attn_mask = pair.logical_or(&key0);
        for block in &self.blocks {
            xs = block.forward(&xs, &temb, &self_attn_mask);
        }
        xs
    }
}

/// The q/k/v projections and per-head RMS norms of one stream.
#[derive(Debug)]
struct Qkv {
    q: Linear,
    k: Linear,
    v: Linear,
    norm_q: Tensor,
    norm_k: Tensor,
}

impl Qkv {
    /// `names`: the projections' and norms' names (`to_q`… / `add_q_proj`…).
    fn new(p: &nn::Path, names: [&str; 5], c: &HunyuanVideoTransformerConfig, b: &Builder) -> Qkv {
        let dim = c.inner_dim();
        let hd = c.attention_head_dim;
        let norm = |name: &str| b.constant(&(p / name), "weight", &[hd], 1.0, b.kind);
        Qkv {
            q: Linear::new(&(p / names[0]), dim, dim, b),
            k: Linear::new(&(p / names[1]), dim, dim, b),
            v: Linear::new(&(p / names[2]), dim, dim, b),
            norm_q: norm(names[3]),
            norm_k: norm(names[4]),
        }
    }

    /// `[B, S, D]` → normed q, k and v, each `[B, S, H, head_dim]`.
    fn forward(&self, xs: &Tensor, heads: i64) -> (Tensor, Tensor, Tensor) {
        let q = rms_norm(&split_heads(&self.q.forward(xs), heads), &self.norm_q);
        let k = rms_norm(&split_heads(&self.k.forward(xs), heads), &self.norm_k);
        let v = split_heads(&self.v.forward(xs), heads);
        (q, k, v)
    }
}

/// The video tokens' RoPE: (cos, sin) of every rotation pair, each `[S, 1, head_dim/2]` fp32.
type Rope = (Tensor, Tensor);

/// `HunyuanVideoTransformerBlock`: the dual-stream block.
#[derive(Debug)]
struct DualBlock {
    norm1: Linear,
    norm1_context: Linear,
    video: Qkv,
    text: Qkv,
    to_out: Linear,
    to_add_out: Linear,
    ff: FeedForward,
    ff_context: FeedForward,
    heads: i64,
}

impl DualBlock {
    fn new(p: &nn::Path, c: &HunyuanVideoTransformerConfig, b: &Builder) -> DualBlock {
        let dim = c.inner_dim();
        let attn = p / "attn";
        DualBlock {
            norm1: Linear::new(&(p / "norm1" / "linear"), dim, 6 * dim, b),
            norm1_context: Linear::new(&(p / "norm1_context" / "linear"), dim, 6 * dim, b),
            video: Qkv::new(&attn, ["to_q", "to_k", "to_v", "norm_q", "norm_k"], c, b),
            text: Qkv::new(
                &attn,
                [
                    "add_q_proj",
                    "add_k_proj",
                    "add_v_proj",
                    "norm_added_q",
                    "norm_added_k",
                ],
                c,
                b,
            ),
            to_out: Linear::new(&(&attn / "to_out" / 0), dim, dim, b),
            to_add_out: Linear::new(&(&attn / "to_add_out"), dim, dim, b),
            ff: FeedForward::new(&(p / "ff"), dim, c.mlp_dim(), true, b),
            ff_context: FeedForward::new(&(p / "ff_context"), dim, c.mlp_dim(), true, b),
            heads: c.num_attention_heads,
        }
    }

    fn forward(
        &self,
        xs: &Tensor,
        ctx: &Tensor,
        temb: &Tensor,
        mask: &Tensor,
        (cos, sin): &Rope,
    ) -> (Tensor, Tensor) {
        let silu_temb = temb.silu();
        let m = self.norm1.forward(&silu_temb).chunk(6, 1);
        let c = self.norm1_context.forward(&silu_temb).chunk(6, 1);
        // AdaLayerNormZero: shift, scale, gate (attention), shift, scale, gate (MLP).
        let norm_xs = modulate(&layer_norm(xs), &m[0], &m[1]);
        let norm_ctx = modulate(&layer_norm(ctx), &c[0], &c[1]);

        let (q, k, v) = self.video.forward(&norm_xs, self.heads);
        let q = apply_rope(&q, cos, sin);
        let k = apply_rope(&k, cos, sin);
        let (cq, ck, cv) = self.text.forward(&norm_ctx, self.heads);
        let out = attention(
            &Tensor::cat(&[q, cq], 1),
            &Tensor::cat(&[k, ck], 1),
            &Tensor::cat(&[v, cv], 1),
            mask,
        );
        let seq = xs.size()[1];
        let text = ctx.size()[1];
        let attn = self.to_out.forward(&out.narrow(1, 0, seq));
        let ctx_attn = self.to_add_out.forward(&out.narrow(1, seq, text));

        let xs = xs + attn * m[2].unsqueeze(1);
        let ctx = ctx + ctx_attn * c[2].unsqueeze(1);
        let ff = self.ff.forward(&modulate(&layer_norm(&xs), &m[3], &m[4]));
        let ctx_ff = self
            .ff_context
            .forward(&modulate(&layer_norm(&ctx), &c[3], &c[4]));
        (
            &xs + m[5].unsqueeze(1) * ff,
            &ctx + c[5].unsqueeze(1) * ctx_ff,
        )
    }
}

/// `HunyuanVideoSingleTransformerBlock`: one stream `[video; text]`, attention (no output
/// projection of its own) and MLP side by side, joined by `proj_out`.
#[derive(Debug)]
struct SingleBlock {
    norm: Linear,
    qkv: Qkv,
    proj_mlp: Linear,
    proj_out: Linear,
    heads: i64,
}

impl SingleBlock {
    fn new(p: &nn::Path, c: &HunyuanVideoTransformerConfig, b: &Builder) -> SingleBlock {
        let dim = c.inner_dim();
        let mlp = c.mlp_dim();
        SingleBlock {
            norm: Linear::new(&(p / "norm" / "linear"), dim, 3 * dim, b),
            qkv: Qkv::new(
                &(p / "attn"),
                ["to_q", "to_k", "to_v", "norm_q", "norm_k"],
                c,
                b,
            ),
            proj_mlp: Linear::new(&(p / "proj_mlp"), dim, mlp, b),
            proj_out: Linear::new(&(p / "proj_out"), dim + mlp, dim, b),
            heads: c.num_attention_heads,
        }
    }

    /// `xs`: the joint sequence `[B, S + L, D]` of which the first `seq` tokens are video.
    fn forward(
        &self,
        xs: &Tensor,
        seq: i64,
        temb: &Tensor,
        mask: &Tensor,
        (cos, sin): &Rope,
    ) -> Tensor {
        let m = self.norm.forward(&temb.silu()).chunk(3, 1);
        // AdaLayerNormZeroSingle: shift, scale, gate.
        let norm = modulate(&layer_norm(xs), &m[0], &m[1]);
        let mlp = self.proj_mlp.forward(&norm).gelu("tanh");
        let (q, k, v) = self.qkv.forward(&norm, self.heads);
        let total = xs.size()[1];
        // Only the video tokens are rotated.
        let rotate = |t: &Tensor| {
            Tensor::cat(
                &[
                    apply_rope(&t.narrow(1, 0, seq), cos, sin),
                    t.narrow(1, seq, total - seq),
                ],
                1,
            )
        };
        let attn = attention(&rotate(&q), &rotate(&k), &v, mask);
        let out = self.proj_out.forward(&Tensor::cat(&[attn, mlp], 2));
        m[2].unsqueeze(1) * out + xs
    }
}

/// `HunyuanVideoRotaryPosEmbed` for a grid of `frames × height × width` patches, in the form
/// [`apply_rope`] reads: (cos, sin) of every rotation pair, `[F*H*W, 1, head_dim/2]` fp32 (the
/// reference's tables hold each value twice, interleaved). Axis i takes `rope_axes_dim[i]` of
/// the head dimension, frequencies `1 / theta^(2j / dim_i)` in fp32, positions the integer patch
/// indices.
pub fn rope_tables(
    config: &HunyuanVideoTransformerConfig,
    (frames, height, width): (i64, i64, i64),
    device: Device,
) -> Rope {
    let sizes = [frames, height, width];
    let axes: Vec<Tensor> = sizes
        .iter()
        .map(|&n| Tensor::arange(n, (Kind::Float, device)))
        .collect();
    let grid = Tensor::meshgrid_indexing(&axes, "ij");
    let mut cos = Vec::with_capacity(3);
    let mut sin = Vec::with_capacity(3);
    for (pos, &dim) in grid.iter().zip(&config.rope_axes_dim) {
        let exps = Tensor::arange_start_step(0, dim, 2, (Kind::Float, device)) / dim;
        let inv_freq = Tensor::pow_scalar(config.rope_theta, &exps).reciprocal();
        let freqs = pos.reshape([-1]).outer(&inv_freq);
        cos.push(freqs.cos());
        sin.push(freqs.sin());
    }
    (
        Tensor::cat(&cos, 1).unsqueeze(1),
        Tensor::cat(&sin, 1).unsqueeze(1),
    )
}

/// The HunyuanVideo DiT (`HunyuanVideoTransformer3DModel`, text-to-video).
#[derive(Debug)]
pub struct HunyuanVideoTransformer {
    config: HunyuanVideoTransformerConfig,
    vs: nn::VarStore,
    kind: Kind,
    x_embedder_weight: Tensor,
    x_embedder_bias: Tensor,
    context_embedder: TokenRefiner,
    timestep_embedder: SiluMlp,
    guidance_embedder: Option<SiluMlp>,
    text_embedder: SiluMlp,
    transformer_blocks: Vec<DualBlock>,
    single_transformer_blocks: Vec<SingleBlock>,
    norm_out: Linear,
    proj_out: Linear,
}

impl HunyuanVideoTransformer {
    /// Loads `dir` (a diffusers `transformer/` directory: `config.json` and safetensors), every
    /// tensor's name and shape checked against the config before any weight is read.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let config: HunyuanVideoTransformerConfig = read_config(dir)?;
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
    /// one / zero, as diffusers' constructor).
    pub fn new(
        config: HunyuanVideoTransformerConfig,
        device: Device,
        kind: Kind,
    ) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(config, device, kind, true))
    }

    fn build(
        config: HunyuanVideoTransformerConfig,
        device: Device,
        kind: Kind,
        random: bool,
    ) -> Self {
        let vs = nn::VarStore::new(device);
        let b = Builder {
            device,
            kind,
            random,
        };
        let root = vs.root();
        let c = &config;
        let dim = c.inner_dim();
        let (p, pt) = (c.patch_size, c.patch_size_t);
        let xe = &root / "x_embedder" / "proj";
        let bound = 1.0 / ((c.in_channels * pt * p * p) as f64).sqrt();
        let x_embedder_weight = b.var(&xe, "weight", &[dim, c.in_channels, pt, p, p], bound, kind);
        let x_embedder_bias = b.var(&xe, "bias", &[dim], bound, kind);
        let tte = &root / "time_text_embed";
        let timestep_embedder = SiluMlp::new(&(&tte / "timestep_embedder"), TIME_PROJ_DIM, dim, &b);
        let guidance_embedder = c
            .guidance_embeds
            .then(|| SiluMlp::new(&(&tte / "guidance_embedder"), TIME_PROJ_DIM, dim, &b));
        let text_embedder =
            SiluMlp::new(&(&tte / "text_embedder"), c.pooled_projection_dim, dim, &b);
        let context_embedder = TokenRefiner::new(&(&root / "context_embedder"), c, &b);
        let transformer_blocks = (0..c.num_layers)
            .map(|i| DualBlock::new(&(&root / "transformer_blocks" / i), c, &b))
            .collect();
        let single_transformer_blocks = (0..c.num_single_layers)
            .map(|i| SingleBlock::new(&(&root / "single_transformer_blocks" / i), c, &b))
            .collect();
        let norm_out = Linear::new(&(&root / "norm_out" / "linear"), dim, 2 * dim, &b);
        let proj_out = Linear::new(&(&root / "proj_out"), dim, pt * p * p * c.out_dim(), &b);
        HunyuanVideoTransformer {
            config,
            vs,
            kind,
            x_embedder_weight,
            x_embedder_bias,
            context_embedder,
            timestep_embedder,
            guidance_embedder,
            text_embedder,
            transformer_blocks,
            single_transformer_blocks,
            norm_out,
            proj_out,
        }
    }

    pub fn config(&self) -> &HunyuanVideoTransformerConfig {
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
    /// Llama prompt tokens `encoder_hidden_states: [B, L, text_embed_dim]` with their
    /// `encoder_attention_mask: [B, L]` (nonzero for real tokens), the CLIP
    /// `pooled_projections: [B, pooled_projection_dim]` and, for a guidance-distilled model,
    /// `guidance: [B]` (the guidance scale × 1000, as the pipeline passes it). Returns
    /// `[B, C_out, F, H, W]` in the model's kind. Inputs are moved to the model's device.
    pub fn forward(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        encoder_hidden_states: &Tensor,
        encoder_attention_mask: &Tensor,
        pooled_projections: &Tensor,
        guidance: Option<&Tensor>,
    ) -> Tensor {
        let c = &self.config;
        let device = self.device();
        let (b, ch, f, h, w) = hidden_states.size5().unwrap_or_else(|_| {
            panic!(
                "hidden_states must be [B, C, F, H, W], got {:?}",
                hidden_states.size()
            )
        });
        let (p, pt) = (c.patch_size, c.patch_size_t);
        assert_eq!(
            ch, c.in_channels,
            "hidden_states has {ch} channels, the model takes {}",
            c.in_channels
        );
        assert!(
            h % p == 0 && w % p == 0 && f % pt == 0,
            "latent size {f}x{h}x{w} is not a multiple of the patch size {pt}x{p}x{p}"
        );
        let enc_size = encoder_hidden_states.size();
        assert!(
            enc_size.len() == 3 && enc_size[0] == b && enc_size[2] == c.text_embed_dim,
            "encoder_hidden_states must be [{b}, L, {}], got {enc_size:?}",
            c.text_embed_dim
        );
        let text_len = enc_size[1];
        assert_eq!(
            encoder_attention_mask.size(),
            [b, text_len],
            "encoder_attention_mask must be [B, L]"
        );
        assert_eq!(
            pooled_projections.size(),
            [b, c.pooled_projection_dim],
            "pooled_projections must be [B, pooled_projection_dim]"
        );
        assert_eq!(timestep.size(), [b], "timestep must be [B]");
        let (ppf, pph, ppw) = (f / pt, h / p, w / p);

        let rope = rope_tables(c, (ppf, pph, ppw), device);

        // Conditioning: timestep + embedded guidance + CLIP pooled vector.
        let timestep = timestep.to_device(device);
        let pooled = pooled_projections.to_device(device).to_kind(self.kind);
        let mut temb = self.timestep_embedder.embed_timestep(&timestep, self.kind);
        if let Some(embedder) = &self.guidance_embedder {
            let guidance = guidance.expect("this model embeds the guidance scale: pass `guidance`");
            assert_eq!(guidance.size(), [b], "guidance must be [B]");
            temb += embedder.embed_timestep(&guidance.to_device(device), self.kind);
        }
        let temb = temb + self.text_embedder.forward(&pooled);

        let xs = hidden_states
            .to_device(device)
            .to_kind(self.kind)
            .conv3d(
                &self.x_embedder_weight,
                Some(&self.x_embedder_bias),
                [pt, p, p],
                [0, 0, 0],
                [1, 1, 1],
                1,
            )
            .flatten(2, -1)
            .transpose(1, 2);
        let mask = encoder_attention_mask.to_device(device);
        let ctx = self.context_embedder.forward(
            &encoder_hidden_states.to_device(device).to_kind(self.kind),
            &timestep,
            &mask,
        );

        // The joint attention's key mask: the video tokens and the first sum(mask) text tokens
        // (a count, so a mask with holes masks its last tokens, not its holes).
        let seq = xs.size()[1];
        let valid_len = mask
            .ne(0)
            .sum_dim_intlist(Some([1i64].as_slice()), false, Kind::Int64)
            + seq;
        let attn_mask = Tensor::arange(seq + text_len, (Kind::Int64, device))
            .unsqueeze(0)
            .lt_tensor(&valid_len.unsqueeze(1))
            .view([b, 1, 1, seq + text_len]);

        let (mut xs, mut ctx) = (xs, ctx);
        for block in &self.transformer_blocks {
            (xs, ctx) = block.forward(&xs, &ctx, &temb, &attn_mask, &rope);
        }
        let mut joint = Tensor::cat(&[xs, ctx], 1);
        for block in &self.single_transformer_blocks {
            joint = block.forward(&joint, seq, &temb, &attn_mask, &rope);
        }
        let xs = joint.narrow(1, 0, seq);

        // AdaLayerNormContinuous: scale first, then shift.
        let emb = self.norm_out.forward(&temb.silu().to_kind(xs.kind()));
        let [scale, shift] = &emb.chunk(2, 1)[..] else {
            unreachable!("chunk(2) gives two tensors")
        };
        let xs = modulate(&layer_norm(&xs), shift, scale);
        let xs = self.proj_out.forward(&xs);
        xs.reshape([b, ppf, pph, ppw, -1, pt, p, p])
            .permute([0, 4, 1, 5, 2, 6, 3, 7])
            .reshape([b, -1, f, h, w])
    }
}
