//! The Wan video VAE (diffusers `AutoencoderKLWan`) on tch, both variants:
//!
//! - **Wan2.1**: 4×8×8 compression, `z_dim` 16, plain residual encoder/decoder blocks.
//! - **Wan2.2** (TI2V-5B): `is_residual`, `patch_size` 2 (2×2 pixel patches folded into channels
//!   before the encoder and unfolded after the decoder), `z_dim` 48, residual down/up blocks
//!   whose shortcuts are the parameter-free `AvgDown3D` / `DupUp3D`; 4×16×16 overall.
//!
//! The computation follows the reference step by step, including its chunked, causal evaluation:
//! the encoder sees the first frame alone and then chunks of 4 frames, the decoder one latent
//! frame at a time, and every causal 3D convolution carries the last `CACHE_T` = 2 frames of its
//! input from one chunk to the next (the reference's `feat_cache` / `feat_idx`, including the
//! `"Rep"` marker the temporal upsampler leaves after the first chunk). Memory therefore scales
//! with the chunk, not with the clip (see [`ChunkStats`]), in inference; with autograd on, the
//! graph of every chunk is kept for the backward pass, as in PyTorch.
//!
//! Variable names are the diffusers state-dict keys, so a diffusers `vae/` directory loads with
//! the identity rename. Nothing here forces `no_grad`: gradients flow through encode and decode.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};

/// Frames of history every causal convolution keeps between chunks (the reference's `CACHE_T`).
pub const CACHE_T: i64 = 2;

/// Frames per encoder chunk after the first (which is one frame).
const ENCODE_CHUNK: i64 = 4;

const WAN21_LATENTS_MEAN: [f64; 16] = [
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517,
    -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
];
const WAN21_LATENTS_STD: [f64; 16] = [
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579,
    1.6382, 1.1253, 2.8251, 1.9160,
];

/// `vae/config.json` of an `AutoencoderKLWan`; missing fields take the reference's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WanVaeConfig {
    #[serde(default = "d_base_dim")]
    pub base_dim: i64,
    #[serde(default)]
    pub decoder_base_dim: Option<i64>,
    #[serde(default = "d_z_dim")]
    pub z_dim: i64,
    #[serde(default = "d_dim_mult")]
    pub dim_mult: Vec<i64>,
    #[serde(default = "d_num_res_blocks")]
    pub num_res_blocks: i64,
    #[serde(default)]
    pub attn_scales: Vec<f64>,
    /// (sic, the reference's spelling) One entry per down stage but the last.
    #[serde(default = "d_temperal_downsample")]
    pub temperal_downsample: Vec<bool>,
    #[serde(default)]
    pub dropout: f64,
    #[serde(default = "d_latents_mean")]
    pub latents_mean: Vec<f64>,
    #[serde(default = "d_latents_std")]
    pub latents_std: Vec<f64>,
    #[serde(default)]
    pub is_residual: bool,
    #[serde(default = "d_three")]
    pub in_channels: i64,
    #[serde(default = "d_three")]
    pub out_channels: i64,
    #[serde(default)]
    pub patch_size: Option<i64>,
    #[serde(default)]
    pub scale_factor_temporal: Option<i64>,
    #[serde(default)]
    pub scale_factor_spatial: Option<i64>,
}

fn d_base_dim() -> i64 {
    96
}
fn d_z_dim() -> i64 {
    16
}
fn d_dim_mult() -> Vec<i64> {
    vec![1, 2, 4, 4]
}
fn d_num_res_blocks() -> i64 {
    2
}
fn d_temperal_downsample() -> Vec<bool> {
    vec![false, true, true]
}
fn d_latents_mean() -> Vec<f64> {
    WAN21_LATENTS_MEAN.to_vec()
}
fn d_latents_std() -> Vec<f64> {
    WAN21_LATENTS_STD.to_vec()
}
fn d_three() -> i64 {
    3
}

impl Default for WanVaeConfig {
    /// The reference's defaults: the Wan2.1 VAE.
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

impl WanVaeConfig {
    /// The patch size folded into channels (1 when the config has none).
    pub fn patch(&self) -> i64 {
        self.patch_size.unwrap_or(1).max(1)
    }

    /// Temporal compression of the architecture: 2 per temporally downsampling stage.
    pub fn temporal_factor(&self) -> i64 {
        let stages = self.dim_mult.len().saturating_sub(1);
        1 << self
            .temperal_downsample
            .iter()
            .take(stages)
            .filter(|&&t| t)
            .count()
    }

    /// Spatial compression of the architecture: 2 per down stage, times the patch size.
    pub fn spatial_factor(&self) -> i64 {
        (1 << self.dim_mult.len().saturating_sub(1)) * self.patch()
    }

    fn decoder_dim(&self) -> i64 {
        self.decoder_base_dim.unwrap_or(self.base_dim)
    }

    fn check(&self, path: &Path) -> Result<(), LoadError> {
        let bad = |why: String| {
            Err(LoadError::BadConfig {
                path: path.into(),
                why,
            })
        };
        let stages = self.dim_mult.len();
        if stages == 0 || self.dim_mult.iter().any(|&m| m <= 0) {
            return bad(format!(
                "dim_mult {:?} must be non-empty and positive",
                self.dim_mult
            ));
        }
        if self.temperal_downsample.len() + 1 < stages {
            return bad(format!(
                "temperal_downsample has {} entries; dim_mult {:?} needs {}",
                self.temperal_downsample.len(),
                self.dim_mult,
                stages - 1
            ));
        }
        if self.base_dim <= 0 || self.decoder_dim() <= 0 || self.z_dim <= 0 {
            return bad("base_dim, decoder_base_dim and z_dim must be positive".into());
        }
        if self.num_res_blocks < 1 {
            return bad("num_res_blocks must be at least 1".into());
        }
        if !self.attn_scales.is_empty() {
            // The reference builds WanAttentionBlocks into the encoder's down blocks for these,
            // but then calls them with the feature cache, which their forward does not take:
            // no such checkpoint can run in diffusers either.
            return bad(format!(
                "attn_scales {:?} is not supported (diffusers' encoder cannot run it either)",
                self.attn_scales
            ));
        }
        if self.latents_mean.len() != self.z_dim as usize
            || self.latents_std.len() != self.z_dim as usize
        {
            return bad(format!(
                "latents_mean / latents_std have {} / {} entries; z_dim is {}",
                self.latents_mean.len(),
                self.latents_std.len(),
                self.z_dim
            ));
        }
        if self.is_residual {
            let dims = self.encoder_dims();
            for (i, pair) in dims.windows(2).enumerate() {
                let down = i + 1 != stages;
                let ft = if down && self.temperal_downsample[i] {
                    2
                } else {
                    1
                };
                let fs = if down { 2 } else { 1 };
                if (pair[0] * ft * fs * fs) % pair[1] != 0 {
                    return bad(format!(
                        "encoder stage {i}: AvgDown3D needs in*factor % out == 0"
                    ));
                }
            }
            let dims = self.decoder_dims();
            let tu: Vec<bool> = self.temperal_upsample();
            for (i, pair) in dims.windows(2).enumerate() {
                if i + 1 != stages {
                    let ft = if tu[i] { 2 } else { 1 };
                    if (pair[1] * ft * 4) % pair[0] != 0 {
                        return bad(format!(
                            "decoder stage {i}: DupUp3D needs out*factor % in == 0"
                        ));
                    }
                }
            }
        }
        if self.in_channels <= 0 || self.out_channels <= 0 {
            return bad("in_channels and out_channels must be positive".into());
        }
        Ok(())
    }

    fn encoder_dims(&self) -> Vec<i64> {
        std::iter::once(1)
            .chain(self.dim_mult.iter().copied())
            .map(|u| self.base_dim * u)
            .collect()
    }

    fn decoder_dims(&self) -> Vec<i64> {
        let last = *self.dim_mult.last().expect("checked non-empty");
        std::iter::once(last)
            .chain(self.dim_mult.iter().rev().copied())
            .map(|u| self.decoder_dim() * u)
            .collect()
    }

    fn temperal_upsample(&self) -> Vec<bool> {
        self.temperal_downsample.iter().rev().copied().collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Feature cache

/// One cache slot per causal convolution site, in the order the reference visits them.
#[derive(Debug)]
enum Slot {
    /// Not visited yet (the reference's `None`).
    Empty,
    /// The temporal upsampler's first-chunk marker (the reference's `"Rep"`).
    Rep,
    Cached(Tensor),
}

/// The reference's `feat_cache` list plus its `feat_idx` cursor.
#[derive(Debug, Default)]
struct FeatCache {
    slots: Vec<Slot>,
    idx: usize,
}

impl FeatCache {
    fn begin_chunk(&mut self) {
        self.idx = 0;
    }

    /// The next slot (`feat_cache[feat_idx[0]]`, then `feat_idx[0] += 1`).
    fn next_slot(&mut self) -> &mut Slot {
        let i = self.idx;
        self.idx += 1;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || Slot::Empty);
        }
        &mut self.slots[i]
    }

    fn numel(&self) -> i64 {
        self.slots
            .iter()
            .map(|s| match s {
                Slot::Cached(t) => t.numel() as i64,
                _ => 0,
            })
            .sum()
    }
}

/// What chunked encoding or decoding held at most: evidence that memory is bounded by the
/// chunk, not by the clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkStats {
    /// Chunks the clip was cut into.
    pub chunks: usize,
    /// Most input frames any one chunk had (1 for decode; 4 after the first chunk for encode).
    pub max_chunk_frames: i64,
    /// Most elements the feature cache held across all its slots, after any chunk.
    pub max_cache_elements: i64,
    /// Cache slots in use (causal-convolution sites that carry history).
    pub cache_slots: usize,
}

impl ChunkStats {
    fn record(&mut self, frames: i64, cache: &FeatCache) {
        self.chunks += 1;
        self.max_chunk_frames = self.max_chunk_frames.max(frames);
        self.max_cache_elements = self.max_cache_elements.max(cache.numel());
        self.cache_slots = cache.slots.len();
    }
}

// ---------------------------------------------------------------------------------------------
// Layers

/// Weight and bias of a convolution, initialised like PyTorch's (uniform ±1/√fan_in).
fn conv_params(p: &nn::Path, cin: i64, cout: i64, kernel: &[i64]) -> (Tensor, Tensor) {
    let fan_in = cin * kernel.iter().product::<i64>();
    let bound = 1.0 / (fan_in as f64).sqrt();
    let init = nn::Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let mut shape = vec![cout, cin];
    shape.extend_from_slice(kernel);
    (p.var("weight", &shape, init), p.var("bias", &[cout], init))
}

/// `WanCausalConv3d`: a Conv3d whose time padding (2 × the nominal one) is all on the past side
/// and is replaced by the cached frames of the previous chunk where there are any.
#[derive(Debug)]
struct CausalConv3d {
    weight: Tensor,
    bias: Tensor,
    stride: [i64; 3],
    /// The nominal (t, h, w) padding the reference's constructor was given.
    padding: [i64; 3],
}

impl CausalConv3d {
    fn new(
        p: nn::Path,
        cin: i64,
        cout: i64,
        kernel: [i64; 3],
        stride: [i64; 3],
        padding: [i64; 3],
    ) -> Self {
        let (weight, bias) = conv_params(&p, cin, cout, &kernel);
        CausalConv3d {
            weight,
            bias,
            stride,
            padding,
        }
    }

    /// Cubic kernel `k`, stride 1, padding `pad` on every axis.
    fn cube(p: nn::Path, cin: i64, cout: i64, k: i64, pad: i64) -> Self {
        Self::new(p, cin, cout, [k; 3], [1; 3], [pad; 3])
    }

    fn forward(&self, x: &Tensor, cache: Option<&Tensor>) -> Tensor {
        let mut pad_t = 2 * self.padding[0];
        let x = match cache {
            Some(c) if pad_t > 0 => {
                pad_t -= c.size()[2];
                Tensor::cat(&[c, x], 2)
            }
            _ => x.shallow_clone(),
        };
        // Spatial zero padding is symmetric, so the convolution's own padding gives the same
        // result as the reference's F.pad; only the causal time padding is explicit.
        let x = if pad_t > 0 {
            x.constant_pad_nd([0, 0, 0, 0, pad_t, 0])
        } else {
            x
        };
        x.conv3d(
            &self.weight,
            Some(&self.bias),
            self.stride,
            [0, self.padding[1], self.padding[2]],
            [1, 1, 1],
            1,
        )
    }

    /// The reference's cached call site: keep the last `CACHE_T` frames of the input (topped up
    /// with the previous chunk's last frame when this chunk is shorter), run with the previous
    /// cache, store the new one.
    fn forward_cached(&self, x: &Tensor, cache: &mut FeatCache) -> Tensor {
        let slot = cache.next_slot();
        let prev = match slot {
            Slot::Cached(t) => Some(t.shallow_clone()),
            Slot::Empty => None,
            Slot::Rep => unreachable!("the Rep marker only appears at temporal upsamplers"),
        };
        let keep = tail_frames(x, prev.as_ref());
        let out = self.forward(x, prev.as_ref());
        *slot = Slot::Cached(keep);
        out
    }
}

/// `x[:, :, -CACHE_T:].clone()`, with the last frame of `prev` in front when that is shorter
/// than `CACHE_T`.
fn tail_frames(x: &Tensor, prev: Option<&Tensor>) -> Tensor {
    let t = x.size()[2];
    let n = t.min(CACHE_T);
    let tail = x.narrow(2, t - n, n).copy();
    match prev {
        Some(p) if n < 2 => {
            let pt = p.size()[2];
            Tensor::cat(&[p.narrow(2, pt - 1, 1), tail], 2)
        }
        _ => tail,
    }
}

#[derive(Debug)]
struct Conv2d {
    weight: Tensor,
    bias: Tensor,
    stride: i64,
    padding: i64,
}

impl Conv2d {
    fn new(p: nn::Path, cin: i64, cout: i64, k: i64, stride: i64, padding: i64) -> Self {
        let (weight, bias) = conv_params(&p, cin, cout, &[k, k]);
        Conv2d {
            weight,
            bias,
            stride,
            padding,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.conv2d(
            &self.weight,
            Some(&self.bias),
            [self.stride; 2],
            [self.padding; 2],
            [1, 1],
            1,
        )
    }
}

/// `WanRMS_norm` (channel-first, no bias): `F.normalize(x, dim=1) * √dim * gamma`.
#[derive(Debug)]
struct RmsNorm {
    gamma: Tensor,
    scale: f64,
}

impl RmsNorm {
    /// `images`: gamma is `[dim, 1, 1]` (for 4-D inputs), else `[dim, 1, 1, 1]`.
    fn new(p: nn::Path, dim: i64, images: bool) -> Self {
        let shape: &[i64] = if images {
            &[dim, 1, 1]
        } else {
            &[dim, 1, 1, 1]
        };
        RmsNorm {
            gamma: p.var("gamma", shape, nn::Init::Const(1.0)),
            scale: (dim as f64).sqrt(),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let denom = x.norm_scalaropt_dim(2.0, [1], true).clamp_min(1e-12);
        (x / denom) * self.scale * &self.gamma
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResampleMode {
    Upsample2d,
    Upsample3d,
    Downsample2d,
    Downsample3d,
}

/// `WanResample`: per-frame 2× spatial resampling (`resample.1` is the Conv2d after the
/// upsampler or the zero pad), plus a causal temporal conv (`time_conv`) for the 3d modes.
#[derive(Debug)]
struct Resample {
    mode: ResampleMode,
    conv: Conv2d,
    time_conv: Option<CausalConv3d>,
}

impl Resample {
    fn new(p: nn::Path, dim: i64, mode: ResampleMode, upsample_out_dim: Option<i64>) -> Self {
        let up_out = upsample_out_dim.unwrap_or(dim / 2);
        let (conv, time_conv) = match mode {
            ResampleMode::Upsample2d => (
                Conv2d::new(&p / "resample" / "1", dim, up_out, 3, 1, 1),
                None,
            ),
            ResampleMode::Upsample3d => (
                Conv2d::new(&p / "resample" / "1", dim, up_out, 3, 1, 1),
                Some(CausalConv3d::new(
                    &p / "time_conv",
                    dim,
                    dim * 2,
                    [3, 1, 1],
                    [1; 3],
                    [1, 0, 0],
                )),
            ),
            ResampleMode::Downsample2d => {
                (Conv2d::new(&p / "resample" / "1", dim, dim, 3, 2, 0), None)
            }
            ResampleMode::Downsample3d => (
                Conv2d::new(&p / "resample" / "1", dim, dim, 3, 2, 0),
                Some(CausalConv3d::new(
                    &p / "time_conv",
                    dim,
                    dim,
                    [3, 1, 1],
                    [2, 1, 1],
                    [0; 3],
                )),
            ),
        };
        Resample {
            mode,
            conv,
            time_conv,
        }
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Tensor {
        let (b, c, t, h, w) = x.size5().expect("5-D activation");
        let mut x = x.shallow_clone();
        if self.mode == ResampleMode::Upsample3d {
            let time_conv = self.time_conv.as_ref().expect("upsample3d has time_conv");
            let slot = cache.next_slot();
            match slot {
                Slot::Empty => *slot = Slot::Rep,
                Slot::Rep | Slot::Cached(_) => {
                    let n = t.min(CACHE_T);
                    let mut keep = x.narrow(2, t - n, n).copy();
                    if n < 2 {
                        let front = match &*slot {
                            Slot::Cached(prev) => prev.narrow(2, prev.size()[2] - 1, 1),
                            _ => keep.zeros_like(),
                        };
                        keep = Tensor::cat(&[front, keep], 2);
                    }
                    let y = match &*slot {
                        Slot::Cached(prev) => time_conv.forward(&x, Some(prev)),
                        _ => time_conv.forward(&x, None),
                    };
                    *slot = Slot::Cached(keep);
                    // [b, 2c, t, h, w] → interleave the two halves along time → [b, c, 2t, h, w]
                    let y = y.reshape([b, 2, c, t, h, w]);
                    x = Tensor::stack(&[y.select(1, 0), y.select(1, 1)], 3).reshape([
                        b,
                        c,
                        t * 2,
                        h,
                        w,
                    ]);
                }
            }
        }
        let t = x.size()[2];
        let frames = x.permute([0, 2, 1, 3, 4]).reshape([b * t, c, h, w]);
        let frames = match self.mode {
            ResampleMode::Upsample2d | ResampleMode::Upsample3d => {
                // WanUpsample: nearest-exact ×2 computed in float32, back to the input's kind.
                let up = frames
                    .to_kind(Kind::Float)
                    .internal_upsample_nearest_exact2d([h * 2, w * 2], 2.0, 2.0)
                    .to_kind(frames.kind());
                self.conv.forward(&up)
            }
            ResampleMode::Downsample2d | ResampleMode::Downsample3d => {
                self.conv.forward(&frames.constant_pad_nd([0, 1, 0, 1]))
            }
        };
        let (_, c2, h2, w2) = frames.size4().expect("4-D frames");
        let mut x = frames.view([b, t, c2, h2, w2]).permute([0, 2, 1, 3, 4]);

        if self.mode == ResampleMode::Downsample3d {
            let time_conv = self.time_conv.as_ref().expect("downsample3d has time_conv");
            let slot = cache.next_slot();
            match slot {
                Slot::Empty => *slot = Slot::Cached(x.copy()),
                Slot::Cached(prev) => {
                    let keep = x.narrow(2, t - 1, 1).copy();
                    let last = prev.narrow(2, prev.size()[2] - 1, 1);
                    x = time_conv.forward(&Tensor::cat(&[last, x], 2), None);
                    *slot = Slot::Cached(keep);
                }
                Slot::Rep => unreachable!("the Rep marker only appears at temporal upsamplers"),
            }
        }
        x
    }
}

/// `WanResidualBlock`: RMS norm, SiLU, causal 3×3×3 conv, twice, plus a (1×1×1 conv) shortcut.
#[derive(Debug)]
struct ResidualBlock {
    norm1: RmsNorm,
    conv1: CausalConv3d,
    norm2: RmsNorm,
    conv2: CausalConv3d,
    conv_shortcut: Option<CausalConv3d>,
}

impl ResidualBlock {
    fn new(p: nn::Path, in_dim: i64, out_dim: i64) -> Self {
        ResidualBlock {
            norm1: RmsNorm::new(&p / "norm1", in_dim, false),
            conv1: CausalConv3d::cube(&p / "conv1", in_dim, out_dim, 3, 1),
            norm2: RmsNorm::new(&p / "norm2", out_dim, false),
            conv2: CausalConv3d::cube(&p / "conv2", out_dim, out_dim, 3, 1),
            conv_shortcut: (in_dim != out_dim)
                .then(|| CausalConv3d::cube(&p / "conv_shortcut", in_dim, out_dim, 1, 0)),
        }
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Tensor {
        let h = match &self.conv_shortcut {
            Some(conv) => conv.forward(x, None),
            None => x.shallow_clone(),
        };
        let y = self.norm1.forward(x).silu();
        let y = self.conv1.forward_cached(&y, cache);
        // (dropout: the reference's nn.Dropout, identity at inference; every Wan config has 0.0)
        let y = self.norm2.forward(&y).silu();
        let y = self.conv2.forward_cached(&y, cache);
        y + h
    }
}

/// `WanAttentionBlock`: single-head self-attention over the pixels of each frame separately.
#[derive(Debug)]
struct AttentionBlock {
    norm: RmsNorm,
    to_qkv: Conv2d,
    proj: Conv2d,
}

impl AttentionBlock {
    fn new(p: nn::Path, dim: i64) -> Self {
        AttentionBlock {
            norm: RmsNorm::new(&p / "norm", dim, true),
            to_qkv: Conv2d::new(&p / "to_qkv", dim, dim * 3, 1, 1, 0),
            proj: Conv2d::new(&p / "proj", dim, dim, 1, 1, 0),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let (b, c, t, h, w) = x.size5().expect("5-D activation");
        let frames = x.permute([0, 2, 1, 3, 4]).reshape([b * t, c, h, w]);
        let frames = self.norm.forward(&frames);
        let qkv = self
            .to_qkv
            .forward(&frames)
            .reshape([b * t, 1, c * 3, -1])
            .permute([0, 1, 3, 2])
            .contiguous();
        let q = qkv.narrow(3, 0, c);
        let k = qkv.narrow(3, c, c);
        let v = qkv.narrow(3, 2 * c, c);
        let out = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            None::<Tensor>,
            0.0,
            false,
            None,
            false,
        );
        let out = out
            .squeeze_dim(1)
            .permute([0, 2, 1])
            .reshape([b * t, c, h, w]);
        let out = self.proj.forward(&out);
        out.view([b, t, c, h, w]).permute([0, 2, 1, 3, 4]) + x
    }
}

/// `WanMidBlock` (num_layers = 1): resnet, attention, resnet.
#[derive(Debug)]
struct MidBlock {
    resnets: Vec<ResidualBlock>,
    attentions: Vec<AttentionBlock>,
}

impl MidBlock {
    fn new(p: nn::Path, dim: i64) -> Self {
        MidBlock {
            resnets: (0..2)
                .map(|i| ResidualBlock::new(&p / "resnets" / i, dim, dim))
                .collect(),
            attentions: vec![AttentionBlock::new(&p / "attentions" / 0, dim)],
        }
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Tensor {
        let mut x = self.resnets[0].forward(x, cache);
        for (attn, resnet) in self.attentions.iter().zip(&self.resnets[1..]) {
            x = attn.forward(&x);
            x = resnet.forward(&x, cache);
        }
        x
    }
}

/// `AvgDown3D`: the parameter-free shortcut of a Wan2.2 down block (space/time to channels, then
/// the mean over channel groups).
#[derive(Debug)]
struct AvgDown3d {
    out_channels: i64,
    factor_t: i64,
    factor_s: i64,
}

impl AvgDown3d {
    fn forward(&self, x: &Tensor) -> Tensor {
        let (ft, fs) = (self.factor_t, self.factor_s);
        let pad_t = (ft - x.size()[2] % ft) % ft;
        let x = if pad_t > 0 {
            x.constant_pad_nd([0, 0, 0, 0, pad_t, 0])
        } else {
            x.shallow_clone()
        };
        let (b, c, t, h, w) = x.size5().expect("5-D activation");
        let factor = ft * fs * fs;
        let group = c * factor / self.out_channels;
        x.view(&[b, c, t / ft, ft, h / fs, fs, w / fs, fs][..])
            .permute(&[0, 1, 3, 5, 7, 2, 4, 6][..])
            .contiguous()
            .view([b, self.out_channels, group, t / ft, h / fs, w / fs])
            .mean_dim(&[2i64][..], false, None::<Kind>)
    }
}

/// `DupUp3D`: the parameter-free shortcut of a Wan2.2 up block (channels to space/time by
/// repetition); on the first chunk it drops the `factor_t - 1` leading frames.
#[derive(Debug)]
struct DupUp3d {
    out_channels: i64,
    factor_t: i64,
    factor_s: i64,
    repeats: i64,
}

impl DupUp3d {
    fn forward(&self, x: &Tensor, first_chunk: bool) -> Tensor {
        let (ft, fs) = (self.factor_t, self.factor_s);
        let x = x.repeat_interleave_self_int(self.repeats, 1, None);
        let (b, _, t, h, w) = x.size5().expect("5-D activation");
        let x = x
            .view(&[b, self.out_channels, ft, fs, fs, t, h, w][..])
            .permute(&[0, 1, 5, 2, 6, 3, 7, 4][..])
            .contiguous()
            .view([b, self.out_channels, t * ft, h * fs, w * fs]);
        if first_chunk {
            x.narrow(2, ft - 1, t * ft - (ft - 1))
        } else {
            x
        }
    }
}

/// One entry of a Wan2.1 encoder's flat `down_blocks` list.
#[derive(Debug)]
enum DownLayer {
    Residual(ResidualBlock),
    Resample(Resample),
}

/// `WanResidualDownBlock` (Wan2.2).
#[derive(Debug)]
struct ResidualDownBlock {
    avg_shortcut: AvgDown3d,
    resnets: Vec<ResidualBlock>,
    downsampler: Option<Resample>,
}

impl ResidualDownBlock {
    fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Tensor {
        let mut y = x.shallow_clone();
        for resnet in &self.resnets {
            y = resnet.forward(&y, cache);
        }
        if let Some(down) = &self.downsampler {
            y = down.forward(&y, cache);
        }
        y + self.avg_shortcut.forward(x)
    }
}

#[derive(Debug)]
enum DownBlocks {
    Plain(Vec<DownLayer>),
    Residual(Vec<ResidualDownBlock>),
}

/// `WanEncoder3d`.
#[derive(Debug)]
struct Encoder {
    conv_in: CausalConv3d,
    down_blocks: DownBlocks,
    mid_block: MidBlock,
    norm_out: RmsNorm,
    conv_out: CausalConv3d,
}

impl Encoder {
    fn new(p: nn::Path, cfg: &WanVaeConfig, in_channels: i64) -> Self {
        let dims = cfg.encoder_dims();
        let stages = cfg.dim_mult.len();
        let blocks = &p / "down_blocks";
        let down_blocks = if cfg.is_residual {
            let mut out = Vec::new();
            for (i, pair) in dims.windows(2).enumerate() {
                let (in_dim, out_dim) = (pair[0], pair[1]);
                let down = i + 1 != stages;
                let temporal = down && cfg.temperal_downsample[i];
                let bp = &blocks / i;
                let resnets = (0..cfg.num_res_blocks)
                    .map(|j| {
                        let cin = if j == 0 { in_dim } else { out_dim };
                        ResidualBlock::new(&bp / "resnets" / j, cin, out_dim)
                    })
                    .collect();
                let mode = if temporal {
                    ResampleMode::Downsample3d
                } else {
                    ResampleMode::Downsample2d
                };
                out.push(ResidualDownBlock {
                    avg_shortcut: AvgDown3d {
                        out_channels: out_dim,
                        factor_t: if temporal { 2 } else { 1 },
                        factor_s: if down { 2 } else { 1 },
                    },
                    resnets,
                    downsampler: down
                        .then(|| Resample::new(&bp / "downsampler", out_dim, mode, None)),
                });
            }
            DownBlocks::Residual(out)
        } else {
            let mut out = Vec::new();
            for (i, pair) in dims.windows(2).enumerate() {
                let (mut in_dim, out_dim) = (pair[0], pair[1]);
                for _ in 0..cfg.num_res_blocks {
                    let k = out.len();
                    out.push(DownLayer::Residual(ResidualBlock::new(
                        &blocks / k,
                        in_dim,
                        out_dim,
                    )));
                    in_dim = out_dim;
                }
                if i + 1 != stages {
                    let mode = if cfg.temperal_downsample[i] {
                        ResampleMode::Downsample3d
                    } else {
                        ResampleMode::Downsample2d
                    };
                    let k = out.len();
                    out.push(DownLayer::Resample(Resample::new(
                        &blocks / k,
                        out_dim,
                        mode,
                        None,
                    )));
                }
            }
            DownBlocks::Plain(out)
        };
        let out_dim = *dims.last().expect("non-empty");
        Encoder {
            conv_in: CausalConv3d::cube(&p / "conv_in", in_channels, dims[0], 3, 1),
            down_blocks,
            mid_block: MidBlock::new(&p / "mid_block", out_dim),
            norm_out: RmsNorm::new(&p / "norm_out", out_dim, false),
            conv_out: CausalConv3d::cube(&p / "conv_out", out_dim, cfg.z_dim * 2, 3, 1),
        }
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache) -> Tensor {
        let mut x = self.conv_in.forward_cached(x, cache);
        match &self.down_blocks {
            DownBlocks::Plain(layers) => {
                for layer in layers {
                    x = match layer {
                        DownLayer::Residual(r) => r.forward(&x, cache),
                        DownLayer::Resample(r) => r.forward(&x, cache),
                    };
                }
            }
            DownBlocks::Residual(blocks) => {
                for block in blocks {
                    x = block.forward(&x, cache);
                }
            }
        }
        let x = self.mid_block.forward(&x, cache);
        let x = self.norm_out.forward(&x).silu();
        self.conv_out.forward_cached(&x, cache)
    }
}

/// `WanUpBlock` (Wan2.1: `upsamplers.0`) or `WanResidualUpBlock` (Wan2.2: `upsampler` and the
/// `DupUp3D` shortcut).
#[derive(Debug)]
struct UpBlock {
    resnets: Vec<ResidualBlock>,
    upsampler: Option<Resample>,
    avg_shortcut: Option<DupUp3d>,
}

impl UpBlock {
    fn forward(&self, x: &Tensor, cache: &mut FeatCache, first_chunk: bool) -> Tensor {
        let mut y = x.shallow_clone();
        for resnet in &self.resnets {
            y = resnet.forward(&y, cache);
        }
        if let Some(up) = &self.upsampler {
            y = up.forward(&y, cache);
        }
        match &self.avg_shortcut {
            Some(short) => y + short.forward(x, first_chunk),
            None => y,
        }
    }
}

/// `WanDecoder3d`.
#[derive(Debug)]
struct Decoder {
    conv_in: CausalConv3d,
    mid_block: MidBlock,
    up_blocks: Vec<UpBlock>,
    norm_out: RmsNorm,
    conv_out: CausalConv3d,
}

impl Decoder {
    fn new(p: nn::Path, cfg: &WanVaeConfig, out_channels: i64) -> Self {
        let dims = cfg.decoder_dims();
        let stages = cfg.dim_mult.len();
        let temperal_upsample = cfg.temperal_upsample();
        let blocks = &p / "up_blocks";
        let mut up_blocks = Vec::new();
        for (i, pair) in dims.windows(2).enumerate() {
            let (mut in_dim, out_dim) = (pair[0], pair[1]);
            if i > 0 && !cfg.is_residual {
                // Wan2.1: the previous block's upsampler halved the channels.
                in_dim /= 2;
            }
            let up = i + 1 != stages;
            let temporal = up && temperal_upsample[i];
            let mode = if temporal {
                ResampleMode::Upsample3d
            } else {
                ResampleMode::Upsample2d
            };
            let bp = &blocks / i;
            let resnets = (0..=cfg.num_res_blocks)
                .map(|j| {
                    let cin = if j == 0 { in_dim } else { out_dim };
                    ResidualBlock::new(&bp / "resnets" / j, cin, out_dim)
                })
                .collect();
            let block = if cfg.is_residual {
                UpBlock {
                    resnets,
                    upsampler: up
                        .then(|| Resample::new(&bp / "upsampler", out_dim, mode, Some(out_dim))),
                    avg_shortcut: up.then(|| {
                        let factor_t = if temporal { 2 } else { 1 };
                        DupUp3d {
                            out_channels: out_dim,
                            factor_t,
                            factor_s: 2,
                            repeats: out_dim * factor_t * 4 / in_dim,
                        }
                    }),
                }
            } else {
                UpBlock {
                    resnets,
                    upsampler: up
                        .then(|| Resample::new(&bp / "upsamplers" / 0, out_dim, mode, None)),
                    avg_shortcut: None,
                }
            };
            up_blocks.push(block);
        }
        let out_dim = *dims.last().expect("non-empty");
        Decoder {
            conv_in: CausalConv3d::cube(&p / "conv_in", cfg.z_dim, dims[0], 3, 1),
            mid_block: MidBlock::new(&p / "mid_block", dims[0]),
            up_blocks,
            norm_out: RmsNorm::new(&p / "norm_out", out_dim, false),
            conv_out: CausalConv3d::cube(&p / "conv_out", out_dim, out_channels, 3, 1),
        }
    }

    fn forward(&self, x: &Tensor, cache: &mut FeatCache, first_chunk: bool) -> Tensor {
        let mut x = self.conv_in.forward_cached(x, cache);
        x = self.mid_block.forward(&x, cache);
        for block in &self.up_blocks {
            x = block.forward(&x, cache, first_chunk);
        }
        let x = self.norm_out.forward(&x).silu();
        self.conv_out.forward_cached(&x, cache)
    }
}

/// diffusers' `patchify`: `[b, c, f, h, w]` → `[b, c·p·p, f, h/p, w/p]`, channels ordered
/// (c, column offset, row offset).
fn patchify(x: &Tensor, p: i64) -> Tensor {
    if p == 1 {
        return x.shallow_clone();
    }
    let (b, c, f, h, w) = x.size5().expect("video must be [B, C, T, H, W]");
    assert!(
        h % p == 0 && w % p == 0,
        "height ({h}) and width ({w}) must be divisible by patch_size ({p})"
    );
    x.view(&[b, c, f, h / p, p, w / p, p][..])
        .permute([0, 1, 6, 4, 2, 3, 5])
        .contiguous()
        .view([b, c * p * p, f, h / p, w / p])
}

/// diffusers' `unpatchify`, the inverse of [`patchify`].
fn unpatchify(x: &Tensor, p: i64) -> Tensor {
    if p == 1 {
        return x.shallow_clone();
    }
    let (b, cp, f, h, w) = x.size5().expect("5-D");
    let c = cp / (p * p);
    x.view(&[b, c, p, p, f, h, w][..])
        .permute([0, 1, 4, 5, 3, 6, 2])
        .contiguous()
        .view([b, c, f, h * p, w * p])
}

// ---------------------------------------------------------------------------------------------
// The model

/// The Wan VAE (`AutoencoderKLWan`).
#[derive(Debug)]
pub struct WanVae {
    config: WanVaeConfig,
    encoder: Encoder,
    quant_conv: CausalConv3d,
    post_quant_conv: CausalConv3d,
    decoder: Decoder,
    device: Device,
    kind: Kind,
    vs: Option<nn::VarStore>,
}

impl WanVae {
    /// Loads a diffusers `vae/` directory (`config.json` + safetensors) onto `device` in `kind`.
    /// Every tensor's name and shape is checked against the model the config describes.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let config: WanVaeConfig = read_config(dir)?;
        let files = WeightFiles::find(dir)?;
        let headers = files.headers()?;
        let config_path = dir.join("config.json");
        let (enc_in, dec_out) = io_channels(&config, &headers, &config_path)?;
        let mut vs = nn::VarStore::new(device);
        let mut vae = Self::build(&vs.root(), config, enc_in, dec_out, &config_path)?;
        vs.set_kind(kind);
        files.load_into(&vs, &|n| n.to_string())?;
        vae.kind = kind;
        vae.vs = Some(vs);
        Ok(vae)
    }

    /// A freshly initialised model (PyTorch's default init) with its variables under `p`, e.g.
    /// for training. Variables are created in `p`'s var store kind (float32 by default).
    pub fn new(p: &nn::Path, config: WanVaeConfig) -> Result<Self, LoadError> {
        let pp = config.patch() * config.patch();
        let whole = |c: i64| if c % pp == 0 { c } else { c * pp };
        let (enc_in, dec_out) = (whole(config.in_channels), whole(config.out_channels));
        Self::build(p, config, enc_in, dec_out, Path::new("<config>"))
    }

    fn build(
        p: &nn::Path,
        config: WanVaeConfig,
        enc_in: i64,
        dec_out: i64,
        config_path: &Path,
    ) -> Result<Self, LoadError> {
        config.check(config_path)?;
        let scale_t = config.scale_factor_temporal.unwrap_or(4);
        let scale_s = config.scale_factor_spatial.unwrap_or(8);
        if scale_t != config.temporal_factor() || scale_s != config.spatial_factor() {
            log::debug!(
                "Wan VAE config says scale factors {scale_t}×{scale_s}, the architecture gives {}×{}",
                config.temporal_factor(),
                config.spatial_factor()
            );
        }
        let z = config.z_dim;
        Ok(WanVae {
            encoder: Encoder::new(p / "encoder", &config, enc_in),
            quant_conv: CausalConv3d::cube(p / "quant_conv", z * 2, z * 2, 1, 0),
            post_quant_conv: CausalConv3d::cube(p / "post_quant_conv", z, z, 1, 0),
            decoder: Decoder::new(p / "decoder", &config, dec_out),
            device: p.device(),
            kind: p.kind(),
            config,
            vs: None,
        })
    }

    pub fn config(&self) -> &WanVaeConfig {
        &self.config
    }

    /// The var store [`WanVae::load`] created (None for [`WanVae::new`]).
    pub fn var_store(&self) -> Option<&nn::VarStore> {
        self.vs.as_ref()
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn z_dim(&self) -> i64 {
        self.config.z_dim
    }

    /// Frames per latent frame (4 for both released VAEs); `T` frames encode to
    /// `1 + (T - 1) / temporal` latent frames when `T - 1` is a multiple of 4.
    pub fn scale_factor_temporal(&self) -> i64 {
        self.config.temporal_factor()
    }

    /// Pixels per latent pixel along each side (8 for Wan2.1, 16 for Wan2.2).
    pub fn scale_factor_spatial(&self) -> i64 {
        self.config.spatial_factor()
    }

    /// Encodes `[B, 3, T, H, W]` video in [-1, 1] to the latent distribution's mean (the
    /// posterior's mode), `[B, z_dim, 1 + (T-1)/4, H/s, W/s]`. As in the reference, frames past
    /// the last whole chunk of 4 (after the first frame) are dropped. The input is moved to the
    /// model's device and kind.
    pub fn encode(&self, video: &Tensor) -> Tensor {
        self.encode_with_stats(video).0
    }

    /// [`WanVae::encode`], also reporting what the chunked evaluation held at most.
    pub fn encode_with_stats(&self, video: &Tensor) -> (Tensor, ChunkStats) {
        let frames = video.size5().expect("video must be [B, 3, T, H, W]").2;
        assert!(frames >= 1, "cannot encode an empty clip");
        let chunks = 1 + (frames - 1) / ENCODE_CHUNK;
        let mut cache = FeatCache::default();
        let mut stats = ChunkStats::default();
        let mut outs = Vec::with_capacity(chunks as usize);
        for i in 0..chunks {
            let (start, len) = if i == 0 {
                (0, 1)
            } else {
                (1 + ENCODE_CHUNK * (i - 1), ENCODE_CHUNK)
            };
            // Patchify acts frame by frame: per chunk it equals the reference's whole-clip call,
            // and no video-sized copy is made. What is kept per chunk is latent-sized.
            let x = video
                .narrow(2, start, len)
                .to_device(self.device)
                .to_kind(self.kind);
            let x = patchify(&x, self.config.patch());
            cache.begin_chunk();
            outs.push(self.encoder.forward(&x, &mut cache));
            stats.record(len, &cache);
        }
        // quant_conv on the whole clip, as the reference (per chunk it would differ in the last
        // bits: libtorch picks its conv algorithm by shape).
        let enc = self.quant_conv.forward(&Tensor::cat(&outs, 2), None);
        (enc.narrow(1, 0, self.config.z_dim), stats)
    }

    /// Decodes latents `[B, z_dim, T', H', W']` to video `[B, 3, 1 + (T'-1)·4, H'·s, W'·s]`,
    /// clamped to [-1, 1] as the reference does. The input is moved to the model's device and
    /// kind.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        self.decode_with_stats(z).0
    }

    /// [`WanVae::decode`], also reporting what the chunked evaluation held at most.
    pub fn decode_with_stats(&self, z: &Tensor) -> (Tensor, ChunkStats) {
        let (batch, _, frames, _, _) = z.size5().expect("latents must be [B, z, T, H, W]");
        assert!(frames >= 1, "cannot decode an empty latent");
        let z = z.to_device(self.device).to_kind(self.kind);
        let x = self.post_quant_conv.forward(&z, None);
        let out_frames = 1 + (frames - 1) * self.scale_factor_temporal();
        let mut cache = FeatCache::default();
        let mut stats = ChunkStats::default();
        let mut video: Option<Tensor> = None;
        let mut at = 0;
        for i in 0..frames {
            cache.begin_chunk();
            let y = self.decoder.forward(&x.narrow(2, i, 1), &mut cache, i == 0);
            stats.record(1, &cache);
            // Unpatchify and clamp act frame by frame: per chunk they equal the reference's
            // whole-clip calls, and the decoded video is written once, into its final tensor.
            let y = unpatchify(&y, self.config.patch()).clamp(-1.0, 1.0);
            let (_, c, n, h, w) = y.size5().expect("5-D video");
            let out = video.get_or_insert_with(|| {
                Tensor::zeros([batch, c, out_frames, h, w], (self.kind, self.device))
            });
            out.narrow(2, at, n).copy_(&y);
            at += n;
        }
        assert_eq!(at, out_frames, "decoded frame count");
        (video.expect("at least one latent frame"), stats)
    }

    /// The Wan pipelines' latent normalisation before the transformer: `(z - mean) * (1/std)`.
    pub fn normalize_latents(&self, z: &Tensor) -> Tensor {
        normalize_latents(z, &self.config)
    }

    /// The inverse, applied before [`WanVae::decode`]: `z / (1/std) + mean`.
    pub fn denormalize_latents(&self, z: &Tensor) -> Tensor {
        denormalize_latents(z, &self.config)
    }
}

/// `latents_mean` and `1 / latents_std` as `[1, z, 1, 1, 1]`, built the way the pipelines do:
/// a float32 tensor, moved to the latents' device and kind, then inverted in that kind.
fn latent_stats(z: &Tensor, config: &WanVaeConfig) -> (Tensor, Tensor) {
    let n = config.latents_mean.len() as i64;
    let as_f32 = |v: &[f64]| -> Tensor {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Tensor::from_slice(&v)
            .view([1, n, 1, 1, 1])
            .to_device(z.device())
            .to_kind(z.kind())
    };
    let mean = as_f32(&config.latents_mean);
    let inv_std = as_f32(&config.latents_std).reciprocal();
    (mean, inv_std)
}

/// `(z - latents_mean) * (1 / latents_std)`, per channel, as the Wan pipelines normalise
/// encoded latents.
pub fn normalize_latents(z: &Tensor, config: &WanVaeConfig) -> Tensor {
    let (mean, inv_std) = latent_stats(z, config);
    (z - mean) * inv_std
}

/// `z / (1 / latents_std) + latents_mean`, as the Wan pipelines undo [`normalize_latents`]
/// before decoding.
pub fn denormalize_latents(z: &Tensor, config: &WanVaeConfig) -> Tensor {
    let (mean, inv_std) = latent_stats(z, config);
    z / inv_std + mean
}

/// The encoder's input and the decoder's output channels. diffusers releases disagree on what
/// `in_channels` / `out_channels` mean when `patch_size` > 1: the released Wan2.2 config says
/// 12 (channels after patchify), some versions multiply the config value by `patch_size²`. The
/// checkpoint's `conv_in` / `conv_out` shapes decide between the two readings.
fn io_channels(
    config: &WanVaeConfig,
    headers: &BTreeMap<String, (PathBuf, String, Vec<i64>)>,
    config_path: &Path,
) -> Result<(i64, i64), LoadError> {
    let p = config.patch();
    let pick = |name: &str, axis: usize, given: i64| -> i64 {
        if p == 1 {
            return given;
        }
        match headers.get(name).and_then(|h| h.2.get(axis)) {
            Some(&found) if found == given * p * p => found,
            _ => given,
        }
    };
    let enc_in = pick("encoder.conv_in.weight", 1, config.in_channels);
    let dec_out = pick("decoder.conv_out.weight", 0, config.out_channels);
    if enc_in % (p * p) != 0 || dec_out % (p * p) != 0 {
        return Err(LoadError::BadConfig {
            path: config_path.into(),
            why: format!(
                "in/out channels {enc_in}/{dec_out} are not multiples of patch_size² = {}",
                p * p
            ),
        });
    }
    Ok((enc_in, dec_out))
}
