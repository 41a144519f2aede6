//! The Wan diffusion transformer (diffusers' `WanTransformer3DModel`) on tch.
//!
//! Numerically follows `diffusers/models/transformers/transformer_wan.py` (the Wan2.2-capable
//! version: the timestep may be `[batch]` or, for Wan2.2 TI2V, `[batch, seq_len]`), including its
//! dtype handling: the norms run in fp32, the modulation tables and the time MLP are kept in fp32
//! (diffusers' `_keep_in_fp32_modules`), RoPE frequencies are computed in float64.
//!
//! Variables are named exactly like the diffusers state-dict keys, so a diffusers checkpoint
//! loads with the identity rename; checkpoints with the original Wan key names (`head.head`,
//! `blocks.N.self_attn.q`, ...) are detected and renamed with [`original_to_diffusers`].
//!
//! `forward` does not switch autograd off: wrap inference in `tch::no_grad`.
use std::path::Path;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};
/// Shared with the other families; re-exported where it has always been.
pub use crate::models::layers::timestep_embedding;
use crate::models::layers::{Builder, Linear};

/// `transformer/config.json` as diffusers writes it (unknown keys are ignored; missing keys take
/// diffusers' `WanTransformer3DModel.__init__` defaults).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WanTransformerConfig {
    #[serde(default = "defaults::patch_size")]
    pub patch_size: [i64; 3],
    #[serde(default = "defaults::num_attention_heads")]
    pub num_attention_heads: i64,
    #[serde(default = "defaults::attention_head_dim")]
    pub attention_head_dim: i64,
    #[serde(default = "defaults::channels")]
    pub in_channels: i64,
    /// `None` (or 0) means `in_channels`, as in diffusers (`out_channels or in_channels`).
    #[serde(default = "defaults::out_channels")]
    pub out_channels: Option<i64>,
    #[serde(default = "defaults::text_dim")]
    pub text_dim: i64,
    #[serde(default = "defaults::freq_dim")]
    pub freq_dim: i64,
    #[serde(default = "defaults::ffn_dim")]
    pub ffn_dim: i64,
    #[serde(default = "defaults::num_layers")]
    pub num_layers: i64,
    #[serde(default = "defaults::cross_attn_norm")]
    pub cross_attn_norm: bool,
    /// Recorded for completeness: diffusers builds the q/k RMSNorms whatever this says.
    #[serde(default = "defaults::qk_norm")]
    pub qk_norm: Option<String>,
    #[serde(default = "defaults::eps")]
    pub eps: f64,
    #[serde(default)]
    pub image_dim: Option<i64>,
    #[serde(default)]
    pub added_kv_proj_dim: Option<i64>,
    #[serde(default = "defaults::rope_max_seq_len")]
    pub rope_max_seq_len: i64,
    #[serde(default)]
    pub pos_embed_seq_len: Option<i64>,
}

mod defaults {
    pub fn patch_size() -> [i64; 3] {
        [1, 2, 2]
    }
    pub fn num_attention_heads() -> i64 {
        40
    }
    pub fn attention_head_dim() -> i64 {
        128
    }
    pub fn channels() -> i64 {
        16
    }
    pub fn out_channels() -> Option<i64> {
        Some(16)
    }
    pub fn text_dim() -> i64 {
        4096
    }
    pub fn freq_dim() -> i64 {
        256
    }
    pub fn ffn_dim() -> i64 {
        13824
    }
    pub fn num_layers() -> i64 {
        40
    }
    pub fn cross_attn_norm() -> bool {
        true
    }
    pub fn qk_norm() -> Option<String> {
        Some("rms_norm_across_heads".into())
    }
    pub fn eps() -> f64 {
        1e-6
    }
    pub fn rope_max_seq_len() -> i64 {
        1024
    }
}

impl Default for WanTransformerConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

impl WanTransformerConfig {
    /// `num_attention_heads * attention_head_dim`.
    pub fn inner_dim(&self) -> i64 {
        self.num_attention_heads * self.attention_head_dim
    }

    /// The output channels (`out_channels or in_channels`).
    pub fn out_dim(&self) -> i64 {
        match self.out_channels {
            Some(c) if c > 0 => c,
            _ => self.in_channels,
        }
    }

    /// RoPE split of the head dimension: (t, h, w), as `WanRotaryPosEmbed`.
    pub fn rope_dims(&self) -> (i64, i64, i64) {
        let hd = self.attention_head_dim;
        let h = 2 * (hd / 6);
        (hd - 2 * h, h, h)
    }

    /// Why this config cannot be run by this implementation, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.image_dim.is_some() || self.added_kv_proj_dim.is_some() {
            return Err(format!(
                "image conditioning (image_dim {:?}, added_kv_proj_dim {:?}: the Wan2.1 I2V/FLF2V \
                 image cross-attention) is not supported; use a text-to-video (T2V) or Wan2.2 \
                 TI2V transformer",
                self.image_dim, self.added_kv_proj_dim
            ));
        }
        let positive = [
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_dim", self.attention_head_dim),
            ("in_channels", self.in_channels),
            ("text_dim", self.text_dim),
            ("freq_dim", self.freq_dim),
            ("ffn_dim", self.ffn_dim),
            ("rope_max_seq_len", self.rope_max_seq_len),
            ("patch_size[0]", self.patch_size[0]),
            ("patch_size[1]", self.patch_size[1]),
            ("patch_size[2]", self.patch_size[2]),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        if self.num_layers < 0 {
            return Err(format!(
                "num_layers must not be negative, got {}",
                self.num_layers
            ));
        }
        if self.attention_head_dim % 2 != 0 {
            return Err(format!(
                "attention_head_dim must be even for the rotary embedding, got {}",
                self.attention_head_dim
            ));
        }
        if self.eps.is_nan() || self.eps <= 0.0 {
            return Err(format!("eps must be positive, got {}", self.eps));
        }
        Ok(())
    }
}

/// Original Wan (`Wan-AI/...`) transformer key → diffusers key: the ordered substring
/// replacements of diffusers' `scripts/convert_wan_to_diffusers.py` (`TRANSFORMER_KEYS_RENAME_DICT`),
/// after stripping a ComfyUI-style `model.diffusion_model.` prefix.
pub fn original_to_diffusers(name: &str) -> String {
    const RENAMES: &[(&str, &str)] = &[
        (
            "time_embedding.0",
            "condition_embedder.time_embedder.linear_1",
        ),
        (
            "time_embedding.2",
            "condition_embedder.time_embedder.linear_2",
        ),
        (
            "text_embedding.0",
            "condition_embedder.text_embedder.linear_1",
        ),
        (
            "text_embedding.2",
            "condition_embedder.text_embedder.linear_2",
        ),
        ("time_projection.1", "condition_embedder.time_proj"),
        ("head.modulation", "scale_shift_table"),
        ("head.head", "proj_out"),
        ("modulation", "scale_shift_table"),
        ("ffn.0", "ffn.net.0.proj"),
        ("ffn.2", "ffn.net.2"),
        // The original blocks call their norms norm1, norm3 (cross-attention), norm2; diffusers
        // calls them norm1, norm2, norm3.
        ("norm2", "norm__placeholder"),
        ("norm3", "norm2"),
        ("norm__placeholder", "norm3"),
        ("img_emb.proj.0", "condition_embedder.image_embedder.norm1"),
        (
            "img_emb.proj.1",
            "condition_embedder.image_embedder.ff.net.0.proj",
        ),
        (
            "img_emb.proj.3",
            "condition_embedder.image_embedder.ff.net.2",
        ),
        ("img_emb.proj.4", "condition_embedder.image_embedder.norm2"),
        (
            "img_emb.emb_pos",
            "condition_embedder.image_embedder.pos_embed",
        ),
        ("self_attn.q", "attn1.to_q"),
        ("self_attn.k", "attn1.to_k"),
        ("self_attn.v", "attn1.to_v"),
        ("self_attn.o", "attn1.to_out.0"),
        ("self_attn.norm_q", "attn1.norm_q"),
        ("self_attn.norm_k", "attn1.norm_k"),
        ("cross_attn.q", "attn2.to_q"),
        ("cross_attn.k", "attn2.to_k"),
        ("cross_attn.v", "attn2.to_v"),
        ("cross_attn.o", "attn2.to_out.0"),
        ("cross_attn.norm_q", "attn2.norm_q"),
        ("cross_attn.norm_k", "attn2.norm_k"),
        ("attn2.to_k_img", "attn2.add_k_proj"),
        ("attn2.to_v_img", "attn2.add_v_proj"),
        ("attn2.norm_k_img", "attn2.norm_added_k"),
    ];
    let mut key = name
        .strip_prefix("model.diffusion_model.")
        .unwrap_or(name)
        .to_string();
    for (from, to) in RENAMES {
        if key.contains(from) {
            key = key.replace(from, to);
        }
    }
    key
}

/// Whether a checkpoint key uses the original Wan naming rather than diffusers'.
pub fn is_original_name(name: &str) -> bool {
    if name.starts_with("model.diffusion_model.") {
        return true;
    }
    name.starts_with("head.")
        || name.starts_with("time_embedding.")
        || name.starts_with("text_embedding.")
        || name.starts_with("time_projection.")
        || name.contains(".self_attn.")
        || name.contains(".cross_attn.")
        || name.contains(".modulation")
}

/// `torch.nn.LayerNorm` without affine, run in fp32 like diffusers' `FP32LayerNorm`; the result
/// stays fp32 (callers cast back where the reference does).
fn fp32_layer_norm(xs: &Tensor, eps: f64) -> Tensor {
    let dim = *xs.size().last().expect("layer norm of a scalar");
    xs.to_kind(Kind::Float)
        .layer_norm([dim], None::<&Tensor>, None::<&Tensor>, eps, true)
}

/// One axis of diffusers' `get_1d_rotary_pos_embed(dim, n, 10000, use_real=True,
/// repeat_interleave_real=True, freqs_dtype=float64)`, without the interleaved repeat: the
/// (cos, sin) of each rotation pair, `[n, dim/2]` fp32.
fn rope_axis(dim: i64, n: i64, device: Device) -> (Tensor, Tensor) {
    let exps = Tensor::arange_start_step(0, dim, 2, (Kind::Double, device)) / (dim as f64);
    let inv_freq = Tensor::pow_scalar(10000f64, &exps).reciprocal();
    let pos = Tensor::arange(n, (Kind::Int64, device));
    let freqs = pos.outer(&inv_freq);
    (
        freqs.cos().to_kind(Kind::Float),
        freqs.sin().to_kind(Kind::Float),
    )
}

/// `WanRotaryPosEmbed` for a latent grid of `ppf × pph × ppw` patches: the cosines and sines of
/// the rotation pairs, each `[1, ppf*pph*ppw, 1, head_dim/2]` fp32 (the reference's tables hold
/// each of these twice, interleaved; `apply_rotary_emb` reads one of each pair).
pub fn rope_tables(
    config: &WanTransformerConfig,
    (ppf, pph, ppw): (i64, i64, i64),
    device: Device,
) -> (Tensor, Tensor) {
    let (t_dim, h_dim, w_dim) = config.rope_dims();
    let max = config.rope_max_seq_len;
    assert!(
        ppf <= max && pph <= max && ppw <= max,
        "latent grid {ppf}x{pph}x{ppw} (patches) exceeds rope_max_seq_len {max}"
    );
    let (ct, st) = rope_axis(t_dim, ppf, device);
    let (ch, sh) = rope_axis(h_dim, pph, device);
    let (cw, sw) = rope_axis(w_dim, ppw, device);
    let grid = |t: &Tensor, h: &Tensor, w: &Tensor| {
        let t = t.view([ppf, 1, 1, -1]).expand([ppf, pph, ppw, -1], false);
        let h = h.view([1, pph, 1, -1]).expand([ppf, pph, ppw, -1], false);
        let w = w.view([1, 1, ppw, -1]).expand([ppf, pph, ppw, -1], false);
        Tensor::cat(&[t, h, w], -1).reshape([1, ppf * pph * ppw, 1, -1])
    };
    (grid(&ct, &ch, &cw), grid(&st, &sh, &sw))
}

/// The reference's `apply_rotary_emb`: rotates interleaved pairs `(x[2i], x[2i+1])` of
/// `xs: [B, S, H, D]`, computing in fp32 and returning `xs`' kind.
pub fn apply_rope(xs: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
    let d = *xs.size().last().expect("rope of a scalar");
    let x1 = xs.slice(-1, 0, d, 2);
    let x2 = xs.slice(-1, 1, d, 2);
    let even = &x1 * cos - &x2 * sin;
    let odd = &x1 * sin + &x2 * cos;
    Tensor::stack(&[even, odd], -1)
        .flatten(-2, -1)
        .to_kind(xs.kind())
}

/// `WanAttention` with `WanAttnProcessor` (no image keys/values).
#[derive(Debug)]
struct Attention {
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    norm_q: Tensor,
    norm_k: Tensor,
    heads: i64,
    eps: f64,
}

impl Attention {
    fn new(p: &nn::Path, dim: i64, heads: i64, eps: f64, b: &Builder) -> Attention {
        Attention {
            to_q: Linear::new(&(p / "to_q"), dim, dim, b),
            to_k: Linear::new(&(p / "to_k"), dim, dim, b),
            to_v: Linear::new(&(p / "to_v"), dim, dim, b),
            to_out: Linear::new(&(p / "to_out" / 0), dim, dim, b),
            norm_q: b.constant(&(p / "norm_q"), "weight", &[dim], 1.0, b.kind),
            norm_k: b.constant(&(p / "norm_k"), "weight", &[dim], 1.0, b.kind),
            heads,
            eps,
        }
    }

    /// `xs: [B, S, dim]`; `context` for cross-attention (else self-attention); `rope` tables.
    fn forward(
        &self,
        xs: &Tensor,
        context: Option<&Tensor>,
        rope: Option<&(Tensor, Tensor)>,
    ) -> Tensor {
        let ctx = context.unwrap_or(xs);
        let dim = *self.norm_q.size().first().expect("norm_q is 1-D");
        let q = self.to_q.forward(xs);
        let k = self.to_k.forward(ctx);
        let v = self.to_v.forward(ctx);
        let q = q.rms_norm([dim], Some(&self.norm_q), self.eps);
        let k = k.rms_norm([dim], Some(&self.norm_k), self.eps);
        let mut q = q.unflatten(2, [self.heads, -1]);
        let mut k = k.unflatten(2, [self.heads, -1]);
        let v = v.unflatten(2, [self.heads, -1]);
        if let Some((cos, sin)) = rope {
            q = apply_rope(&q, cos, sin);
            k = apply_rope(&k, cos, sin);
        }
        let out = Tensor::scaled_dot_product_attention(
            &q.transpose(1, 2),
            &k.transpose(1, 2),
            &v.transpose(1, 2),
            None::<&Tensor>,
            0.0,
            false,
            None,
            false,
        );
        let out = out.transpose(1, 2).flatten(2, 3).to_kind(q.kind());
        self.to_out.forward(&out)
    }
}

/// `WanTransformerBlock`.
#[derive(Debug)]
struct Block {
    attn1: Attention,
    attn2: Attention,
    /// `norm2` (cross_attn_norm): FP32LayerNorm with affine weight and bias.
    norm2: Option<(Tensor, Tensor)>,
    ffn_in: Linear,
    ffn_out: Linear,
    scale_shift_table: Tensor,
    eps: f64,
}

impl Block {
    fn new(p: &nn::Path, c: &WanTransformerConfig, b: &Builder) -> Block {
        let dim = c.inner_dim();
        let norm2 = c.cross_attn_norm.then(|| {
            let n = p / "norm2";
            (
                b.constant(&n, "weight", &[dim], 1.0, Kind::Float),
                b.constant(&n, "bias", &[dim], 0.0, Kind::Float),
            )
        });
        Block {
            attn1: Attention::new(&(p / "attn1"), dim, c.num_attention_heads, c.eps, b),
            attn2: Attention::new(&(p / "attn2"), dim, c.num_attention_heads, c.eps, b),
            norm2,
            ffn_in: Linear::new(&(p / "ffn" / "net" / 0 / "proj"), dim, c.ffn_dim, b),
            ffn_out: Linear::new(&(p / "ffn" / "net" / 2), c.ffn_dim, dim, b),
            scale_shift_table: b.randn(
                p,
                "scale_shift_table",
                &[1, 6, dim],
                1.0 / (dim as f64).sqrt(),
                Kind::Float,
            ),
            eps: c.eps,
        }
    }

    /// `xs: [B, S, dim]`; `temb: [B, 6, dim]` or per token `[B, S, 6, dim]`.
    fn forward(
        &self,
        xs: &Tensor,
        context: &Tensor,
        temb: &Tensor,
        rope: &(Tensor, Tensor),
    ) -> Tensor {
        let kind = xs.kind();
        let mods: Vec<Tensor> = if temb.dim() == 4 {
            (self.scale_shift_table.unsqueeze(0) + temb.to_kind(Kind::Float))
                .chunk(6, 2)
                .into_iter()
                .map(|t| t.squeeze_dim(2))
                .collect()
        } else {
            (&self.scale_shift_table + temb.to_kind(Kind::Float)).chunk(6, 1)
        };
        let [shift_msa, scale_msa, gate_msa, c_shift_msa, c_scale_msa, c_gate_msa] = &mods[..]
        else {
            unreachable!("chunk(6) gives six tensors")
        };

        // 1. Self-attention.
        let norm = (fp32_layer_norm(xs, self.eps) * (scale_msa + 1.0) + shift_msa).to_kind(kind);
        let attn = self.attn1.forward(&norm, None, Some(rope));
        let xs = (xs.to_kind(Kind::Float) + attn * gate_msa).to_kind(kind);

        // 2. Cross-attention.
        let norm = match &self.norm2 {
            Some((w, b)) => {
                let dim = w.size()[0];
                xs.to_kind(Kind::Float)
                    .layer_norm(
                        [dim],
                        Some(w.to_kind(Kind::Float)),
                        Some(b.to_kind(Kind::Float)),
                        self.eps,
                        true,
                    )
                    .to_kind(kind)
            }
            None => xs.shallow_clone(),
        };
        let attn = self.attn2.forward(&norm, Some(context), None);
        let xs = xs + attn;

        // 3. Feed-forward.
        let norm =
            (fp32_layer_norm(&xs, self.eps) * (c_scale_msa + 1.0) + c_shift_msa).to_kind(kind);
        let ff = self
            .ffn_out
            .forward(&self.ffn_in.forward(&norm).gelu("tanh"));
        (xs.to_kind(Kind::Float) + ff.to_kind(Kind::Float) * c_gate_msa).to_kind(kind)
    }
}

/// The Wan DiT (`WanTransformer3DModel`).
#[derive(Debug)]
pub struct WanTransformer {
    config: WanTransformerConfig,
    vs: nn::VarStore,
    kind: Kind,
    patch_embedding_weight: Tensor,
    patch_embedding_bias: Tensor,
    time_linear_1: Linear,
    time_linear_2: Linear,
    time_proj: Linear,
    text_linear_1: Linear,
    text_linear_2: Linear,
    blocks: Vec<Block>,
    scale_shift_table: Tensor,
    proj_out: Linear,
}

impl WanTransformer {
    /// Loads `dir` (a diffusers `transformer/` directory: `config.json` and safetensors). Keys
    /// with the original Wan names are detected and renamed.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let files = WeightFiles::find(dir)?;
        let original = files.headers()?.keys().any(|k| is_original_name(k));
        if original {
            log::info!(
                "{}: original Wan key names, renaming to diffusers'",
                dir.display()
            );
            Self::load_with_names(dir, device, kind, &original_to_diffusers)
        } else {
            Self::load_with_names(dir, device, kind, &|n: &str| n.to_string())
        }
    }

    /// Loads `dir`, mapping each checkpoint key through `rename` to the diffusers name.
    pub fn load_with_names(
        dir: &Path,
        device: Device,
        kind: Kind,
        rename: &dyn Fn(&str) -> String,
    ) -> Result<Self, LoadError> {
        let config: WanTransformerConfig = read_config(dir)?;
        config.check().map_err(|why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        })?;
        let files = WeightFiles::find(dir)?;
        let model = Self::build(config, device, kind, false);
        files.load_into(&model.vs, rename)?;
        Ok(model)
    }

    /// A freshly initialised model (torch's default initialisers, as diffusers' constructor).
    pub fn new(config: WanTransformerConfig, device: Device, kind: Kind) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(config, device, kind, true))
    }

    fn build(config: WanTransformerConfig, device: Device, kind: Kind, random: bool) -> Self {
        let vs = nn::VarStore::new(device);
        let b = Builder {
            device,
            kind,
            random,
        };
        let root = vs.root();
        let c = &config;
        let inner = c.inner_dim();
        let [pt, ph, pw] = c.patch_size;
        let pe = &root / "patch_embedding";
        let fan_in = c.in_channels * pt * ph * pw;
        let bound = 1.0 / (fan_in as f64).sqrt();
        let patch_embedding_weight = b.var(
            &pe,
            "weight",
            &[inner, c.in_channels, pt, ph, pw],
            bound,
            kind,
        );
        let patch_embedding_bias = b.var(&pe, "bias", &[inner], bound, kind);
        let ce = &root / "condition_embedder";
        let te = &ce / "time_embedder";
        let time_linear_1 =
            Linear::with_kind(&(&te / "linear_1"), c.freq_dim, inner, &b, Kind::Float);
        let time_linear_2 = Linear::with_kind(&(&te / "linear_2"), inner, inner, &b, Kind::Float);
        let time_proj = Linear::new(&(&ce / "time_proj"), inner, 6 * inner, &b);
        let tx = &ce / "text_embedder";
        let text_linear_1 = Linear::new(&(&tx / "linear_1"), c.text_dim, inner, &b);
        let text_linear_2 = Linear::new(&(&tx / "linear_2"), inner, inner, &b);
        let blocks = (0..c.num_layers)
            .map(|i| Block::new(&(&root / "blocks" / i), c, &b))
            .collect();
        let scale_shift_table = b.randn(
            &root,
            "scale_shift_table",
            &[1, 2, inner],
            1.0 / (inner as f64).sqrt(),
            Kind::Float,
        );
        let proj_out = Linear::new(&(&root / "proj_out"), inner, c.out_dim() * pt * ph * pw, &b);
        WanTransformer {
            config,
            vs,
            kind,
            patch_embedding_weight,
            patch_embedding_bias,
            time_linear_1,
            time_linear_2,
            time_proj,
            text_linear_1,
            text_linear_2,
            blocks,
            scale_shift_table,
            proj_out,
        }
    }

    pub fn config(&self) -> &WanTransformerConfig {
        &self.config
    }

    /// The kind of the compute path (the fp32-kept parts aside).
    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The variables, named like the diffusers state dict (for training, saving, freezing).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// Predicts the flow (velocity) for `hidden_states: [B, C_in, F, H, W]` at `timestep: [B]`
    /// (or per token `[B, F/p_t * H/p_h * W/p_w]`, Wan2.2 TI2V) given the text embeddings
    /// `encoder_hidden_states: [B, L, text_dim]`; returns `[B, C_out, F, H, W]` in the model's
    /// kind. Inputs are moved to the model's device and kind.
    pub fn forward(
        &self,
        hidden_states: &Tensor,
        timestep: &Tensor,
        encoder_hidden_states: &Tensor,
    ) -> Tensor {
        let c = &self.config;
        let device = self.device();
        let (b, ch, f, h, w) = hidden_states.size5().unwrap_or_else(|_| {
            panic!(
                "hidden_states must be [B, C, F, H, W], got {:?}",
                hidden_states.size()
            )
        });
        let [pt, ph, pw] = c.patch_size;
        assert_eq!(
            ch, c.in_channels,
            "hidden_states has {ch} channels, the model takes {}",
            c.in_channels
        );
        assert!(
            f % pt == 0 && h % ph == 0 && w % pw == 0,
            "latent size {f}x{h}x{w} is not a multiple of the patch size {pt}x{ph}x{pw}"
        );
        let (ppf, pph, ppw) = (f / pt, h / ph, w / pw);
        let seq_len = ppf * pph * ppw;
        let enc_size = encoder_hidden_states.size();
        assert!(
            enc_size.len() == 3 && enc_size[0] == b && enc_size[2] == c.text_dim,
            "encoder_hidden_states must be [{b}, L, {}], got {enc_size:?}",
            c.text_dim
        );

        let rope = rope_tables(c, (ppf, pph, ppw), device);

        let xs = hidden_states.to_device(device).to_kind(self.kind);
        let xs = xs.conv3d(
            &self.patch_embedding_weight,
            Some(&self.patch_embedding_bias),
            [pt, ph, pw],
            [0, 0, 0],
            [1, 1, 1],
            1,
        );
        let mut xs = xs.flatten(2, -1).transpose(1, 2).contiguous();

        // Condition embeddings.
        let timestep = timestep.to_device(device);
        let (flat_t, ts_seq_len) = match timestep.dim() {
            1 => (timestep.shallow_clone(), None),
            2 => {
                let t = timestep.size();
                assert!(
                    t[0] == b && t[1] == seq_len,
                    "a per-token timestep must be [{b}, {seq_len}], got {t:?}"
                );
                (timestep.flatten(0, 1), Some(t[1]))
            }
            _ => panic!(
                "timestep must be [B] or [B, seq_len], got {:?}",
                timestep.size()
            ),
        };
        let mut t_emb = timestep_embedding(&flat_t, c.freq_dim);
        if let Some(s) = ts_seq_len {
            t_emb = t_emb.unflatten(0, [-1, s]);
        }
        let context = encoder_hidden_states.to_device(device).to_kind(self.kind);
        let t_emb = t_emb.to_kind(self.time_linear_1.weight.kind());
        let temb = self
            .time_linear_2
            .forward(&self.time_linear_1.forward(&t_emb).silu())
            .to_kind(context.kind());
        let timestep_proj = self.time_proj.forward(&temb.silu());
        let context = self
            .text_linear_2
            .forward(&self.text_linear_1.forward(&context).gelu("tanh"));
        let timestep_proj = if ts_seq_len.is_some() {
            timestep_proj.unflatten(2, [6, -1])
        } else {
            timestep_proj.unflatten(1, [6, -1])
        };

        for block in &self.blocks {
            xs = block.forward(&xs, &context, &timestep_proj, &rope);
        }

        // Output norm, projection, unpatchify.
        let (shift, scale) = if temb.dim() == 3 {
            let m = self.scale_shift_table.unsqueeze(0) + temb.unsqueeze(2);
            (m.select(2, 0), m.select(2, 1))
        } else {
            let m = &self.scale_shift_table + temb.unsqueeze(1);
            (m.narrow(1, 0, 1), m.narrow(1, 1, 1))
        };
        let kind = xs.kind();
        let xs = (fp32_layer_norm(&xs, c.eps) * (scale + 1.0) + shift).to_kind(kind);
        let xs = self.proj_out.forward(&xs);
        xs.reshape([b, ppf, pph, ppw, pt, ph, pw, -1])
            .permute([0, 7, 1, 4, 2, 5, 3, 6])
            .flatten(6, 7)
            .flatten(4, 5)
            .flatten(2, 3)
    }
}
