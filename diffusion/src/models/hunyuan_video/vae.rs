//! The HunyuanVideo VAE decoder (diffusers' `AutoencoderKLHunyuanVideo.decode`) on tch.
//!
//! Follows `diffusers/models/autoencoders/autoencoder_kl_hunyuan_video.py` (0.42.1):
//! `post_quant_conv` (1x1x1), a causal 3x3x3 input convolution, a mid block (resnet, attention
//! over every token of the clip with a *causal frame mask*, resnet), up blocks (resnets, then a
//! nearest-neighbour upsampling — the first frame only in space, the others in time too — and a
//! causal convolution), GroupNorm, SiLU and a causal output convolution. Causal convolutions pad
//! time in front with copies of the first frame and height/width by replication (as Mochi's;
//! Wan's pad with zeros). Unlike Mochi's VAE, the GroupNorms take their statistics over the
//! whole clip (all frames at once) and the mid-block attention spans frames, so a clip cannot be
//! decoded frame by frame with a cache: the decode of a chunk depends on the whole chunk.
//!
//! diffusers' default decode is therefore *tiled in time* (`use_framewise_decoding`, on by
//! default): clips of more than 4 latent frames are decoded as overlapping tiles of 5 latent
//! frames every 3, blended linearly over 4 output frames; and, after `enable_tiling()`, tiles
//! of 32x32 latents every 24 blended over 64 pixels. [`VaeTiling`] holds these settings (its
//! default is diffusers' default); the blends modify the tiles in place in the same order as
//! diffusers, so the results are the same. Tiling is also what bounds the memory of a long or
//! large clip.
//!
//! Only the decoder is built; the checkpoint's `encoder.*` and `quant_conv.*` tensors are not
//! loaded. The output is not clamped (the pipeline's post-processing clamps).
use std::path::Path;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};
use crate::models::layers::{Builder, Linear};

/// `vae/config.json` (the fields the decoder and the pipeline use; defaults are HunyuanVideo's).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HunyuanVideoVaeConfig {
    #[serde(default = "defaults::out_channels")]
    pub out_channels: i64,
    #[serde(default = "defaults::latent_channels")]
    pub latent_channels: i64,
    #[serde(default = "defaults::up_block_types")]
    pub up_block_types: Vec<String>,
    #[serde(default = "defaults::block_out_channels")]
    pub block_out_channels: Vec<i64>,
    /// Resnets per encoder block; the decoder's up blocks have one more.
    #[serde(default = "defaults::layers_per_block")]
    pub layers_per_block: i64,
    #[serde(default = "defaults::act_fn")]
    pub act_fn: String,
    #[serde(default = "defaults::norm_num_groups")]
    pub norm_num_groups: i64,
    #[serde(default = "defaults::scaling_factor")]
    pub scaling_factor: f64,
    #[serde(default = "defaults::spatial_compression_ratio")]
    pub spatial_compression_ratio: i64,
    #[serde(default = "defaults::temporal_compression_ratio")]
    pub temporal_compression_ratio: i64,
    #[serde(default = "defaults::mid_block_add_attention")]
    pub mid_block_add_attention: bool,
}

mod defaults {
    pub fn out_channels() -> i64 {
        3
    }
    pub fn latent_channels() -> i64 {
        16
    }
    pub fn up_block_types() -> Vec<String> {
        vec!["HunyuanVideoUpBlock3D".into(); 4]
    }
    pub fn block_out_channels() -> Vec<i64> {
        vec![128, 256, 512, 512]
    }
    pub fn layers_per_block() -> i64 {
        2
    }
    pub fn act_fn() -> String {
        "silu".into()
    }
    pub fn norm_num_groups() -> i64 {
        32
    }
    pub fn scaling_factor() -> f64 {
        0.476986
    }
    pub fn spatial_compression_ratio() -> i64 {
        8
    }
    pub fn temporal_compression_ratio() -> i64 {
        4
    }
    pub fn mid_block_add_attention() -> bool {
        true
    }
}

impl Default for HunyuanVideoVaeConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields have defaults")
    }
}

/// The eps of every GroupNorm of the decoder.
const NORM_EPS: f64 = 1e-6;

impl HunyuanVideoVaeConfig {
    /// Why this config cannot be run by this implementation, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("out_channels", self.out_channels),
            ("latent_channels", self.latent_channels),
            ("norm_num_groups", self.norm_num_groups),
        ];
        if let Some((name, v)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(format!("{name} must be positive, got {v}"));
        }
        if self.layers_per_block < 0 {
            return Err(format!(
                "layers_per_block must not be negative, got {}",
                self.layers_per_block
            ));
        }
        if self.block_out_channels.is_empty()
            || self.up_block_types.len() != self.block_out_channels.len()
        {
            return Err(format!(
                "up_block_types ({}) and block_out_channels ({}) must be as many, and some",
                self.up_block_types.len(),
                self.block_out_channels.len()
            ));
        }
        if let Some(t) = self
            .up_block_types
            .iter()
            .find(|t| *t != "HunyuanVideoUpBlock3D")
        {
            return Err(format!("up block type {t:?} is not supported"));
        }
        if let Some(c) = self
            .block_out_channels
            .iter()
            .find(|c| **c <= 0 || *c % self.norm_num_groups != 0)
        {
            return Err(format!(
                "block width {c} does not divide into {} GroupNorm groups",
                self.norm_num_groups
            ));
        }
        if !matches!(self.act_fn.as_str(), "silu" | "swish") {
            return Err(format!("act_fn {:?} is not supported (silu)", self.act_fn));
        }
        // diffusers' decoder raises for any other temporal ratio.
        if self.temporal_compression_ratio != 4 {
            return Err(format!(
                "temporal_compression_ratio {} is not supported (diffusers' decoder takes 4)",
                self.temporal_compression_ratio
            ));
        }
        let s = self.spatial_compression_ratio;
        if s <= 0 || s & (s - 1) != 0 {
            return Err(format!(
                "spatial_compression_ratio {s} must be a power of two"
            ));
        }
        Ok(())
    }

    /// `(temporal, spatial)` upsampling of up block `i`, as `HunyuanVideoDecoder3D` decides it:
    /// space in the first `log2(spatial)` blocks, time in the `log2(temporal)` blocks before the
    /// last.
    pub fn upsampling(&self, i: usize) -> (i64, i64) {
        let n = self.block_out_channels.len();
        let spatial_layers = self.spatial_compression_ratio.trailing_zeros() as usize;
        let time_layers = self.temporal_compression_ratio.trailing_zeros() as usize;
        let is_final = i == n - 1;
        let spatial = i < spatial_layers;
        let time = (i + 1 + time_layers >= n) && !is_final;
        (if time { 2 } else { 1 }, if spatial { 2 } else { 1 })
    }
}

/// diffusers' tiling settings of the decode, in output pixels and frames. The default is
/// diffusers' default: frame-wise (temporal tile) decoding on, spatial tiling off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VaeTiling {
    /// `use_framewise_decoding`: clips longer than `min_num_frames` are decoded in temporal
    /// tiles.
    pub framewise: bool,
    /// `use_tiling` (`enable_tiling()`): frames larger than `min_height`/`min_width` are
    /// decoded in spatial tiles.
    pub spatial: bool,
    pub min_height: i64,
    pub min_width: i64,
    pub min_num_frames: i64,
    pub stride_height: i64,
    pub stride_width: i64,
    pub stride_num_frames: i64,
}

impl Default for VaeTiling {
    fn default() -> Self {
        VaeTiling {
            framewise: true,
            spatial: false,
            min_height: 256,
            min_width: 256,
            min_num_frames: 16,
            stride_height: 192,
            stride_width: 192,
            stride_num_frames: 12,
        }
    }
}

impl VaeTiling {
    /// `enable_tiling()` with its default sizes (what the HunyuanVideo model card does).
    pub fn spatial() -> Self {
        VaeTiling {
            spatial: true,
            ..Default::default()
        }
    }
}

/// `HunyuanVideoCausalConv3d`: time padded in front with `k - 1` copies of the first frame,
/// height and width replicate-padded by `k / 2`, then a plain 3-D convolution.
#[derive(Debug)]
struct CausalConv3d {
    weight: Tensor,
    bias: Tensor,
    kernel: i64,
}

impl CausalConv3d {
    fn new(p: &nn::Path, in_ch: i64, out_ch: i64, kernel: i64, b: &Builder) -> Self {
        let p = p / "conv";
        let bound = 1.0 / ((in_ch * kernel * kernel * kernel) as f64).sqrt();
        CausalConv3d {
            weight: b.var(
                &p,
                "weight",
                &[out_ch, in_ch, kernel, kernel, kernel],
                bound,
                b.kind,
            ),
            bias: b.var(&p, "bias", &[out_ch], bound, b.kind),
            kernel,
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let (k, half) = (self.kernel, self.kernel / 2);
        xs.replication_pad3d([half, half, half, half, k - 1, 0])
            .conv3d(
                &self.weight,
                Some(&self.bias),
                [1, 1, 1],
                [0, 0, 0],
                [1, 1, 1],
                1,
            )
    }
}

/// `nn.GroupNorm(groups, channels, eps=1e-6)` with its affine weights.
#[derive(Debug)]
struct GroupNorm {
    weight: Tensor,
    bias: Tensor,
    groups: i64,
}

impl GroupNorm {
    fn new(p: &nn::Path, channels: i64, groups: i64, b: &Builder) -> Self {
        GroupNorm {
            weight: b.constant(p, "weight", &[channels], 1.0, b.kind),
            bias: b.constant(p, "bias", &[channels], 0.0, b.kind),
            groups,
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.group_norm(
            self.groups,
            Some(&self.weight),
            Some(&self.bias),
            NORM_EPS,
            true,
        )
    }
}

/// `HunyuanVideoResnetBlockCausal3D`.
#[derive(Debug)]
struct ResnetBlock {
    norm1: GroupNorm,
    conv1: CausalConv3d,
    norm2: GroupNorm,
    conv2: CausalConv3d,
    conv_shortcut: Option<CausalConv3d>,
}

impl ResnetBlock {
    fn new(p: &nn::Path, in_ch: i64, out_ch: i64, groups: i64, b: &Builder) -> Self {
        ResnetBlock {
            norm1: GroupNorm::new(&(p / "norm1"), in_ch, groups, b),
            conv1: CausalConv3d::new(&(p / "conv1"), in_ch, out_ch, 3, b),
            norm2: GroupNorm::new(&(p / "norm2"), out_ch, groups, b),
            conv2: CausalConv3d::new(&(p / "conv2"), out_ch, out_ch, 3, b),
            conv_shortcut: (in_ch != out_ch)
                .then(|| CausalConv3d::new(&(p / "conv_shortcut"), in_ch, out_ch, 1, b)),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let h = self.conv1.forward(&self.norm1.forward(xs).silu());
        let h = self.conv2.forward(&self.norm2.forward(&h).silu());
        let residual = match &self.conv_shortcut {
            Some(conv) => conv.forward(xs),
            None => xs.shallow_clone(),
        };
        h + residual
    }
}

/// The mid block's `Attention` (one head over all channels, GroupNorm first, residual): every
/// token of the clip attends to the tokens of its own and earlier frames.
#[derive(Debug)]
struct CausalFrameAttention {
    group_norm: GroupNorm,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
}

impl CausalFrameAttention {
    fn new(p: &nn::Path, ch: i64, groups: i64, b: &Builder) -> Self {
        CausalFrameAttention {
            group_norm: GroupNorm::new(&(p / "group_norm"), ch, groups, b),
            to_q: Linear::new(&(p / "to_q"), ch, ch, b),
            to_k: Linear::new(&(p / "to_k"), ch, ch, b),
            to_v: Linear::new(&(p / "to_v"), ch, ch, b),
            to_out: Linear::new(&(p / "to_out" / 0), ch, ch, b),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let (b, _, f, h, w) = xs.size5().expect("[B, C, F, H, W]");
        let tokens = xs.permute([0, 2, 3, 4, 1]).flatten(1, 3);
        // `prepare_causal_attention_mask`: 0 where the key's frame <= the query's, else -inf.
        let frame = Tensor::arange(f, (Kind::Int64, xs.device())).repeat_interleave_self_int(
            h * w,
            None,
            None,
        );
        let visible = frame.unsqueeze(0).le_tensor(&frame.unsqueeze(1));
        let mask = Tensor::zeros([f * h * w, f * h * w], (xs.kind(), xs.device()))
            .masked_fill(&visible.logical_not(), f64::NEG_INFINITY)
            .view([1, 1, f * h * w, f * h * w])
            .expand([b, 1, -1, -1], false);
        let normed = self
            .group_norm
            .forward(&tokens.transpose(1, 2))
            .transpose(1, 2);
        let one_head = |t: Tensor| t.unsqueeze(1);
        let out = Tensor::scaled_dot_product_attention(
            &one_head(self.to_q.forward(&normed)),
            &one_head(self.to_k.forward(&normed)),
            &one_head(self.to_v.forward(&normed)),
            Some(&mask),
            0.0,
            false,
            None,
            false,
        );
        let out = self.to_out.forward(&out.squeeze_dim(1)) + tokens;
        out.unflatten(1, [f, h, w]).permute([0, 4, 1, 2, 3])
    }
}

/// `HunyuanVideoUpsampleCausal3D`: nearest-neighbour upsampling — the first frame in space
/// only, the other frames in time and space — then a causal convolution.
#[derive(Debug)]
struct Upsample {
    conv: CausalConv3d,
    time: i64,
    space: i64,
}

impl Upsample {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let (_, _, f, h, w) = xs.size5().expect("[B, C, F, H, W]");
        let (hs, ws) = (h * self.space, w * self.space);
        let first = xs
            .narrow(2, 0, 1)
            .squeeze_dim(2)
            .upsample_nearest2d([hs, ws], None, None)
            .unsqueeze(2);
        let xs = if f > 1 {
            let others = xs.narrow(2, 1, f - 1).upsample_nearest3d(
                [(f - 1) * self.time, hs, ws],
                None,
                None,
                None,
            );
            Tensor::cat(&[first, others], 2)
        } else {
            first
        };
        self.conv.forward(&xs)
    }
}

/// `HunyuanVideoUpBlock3D`.
#[derive(Debug)]
struct UpBlock {
    resnets: Vec<ResnetBlock>,
    upsampler: Option<Upsample>,
}

/// The HunyuanVideo VAE decoder (`AutoencoderKLHunyuanVideo`, decode only).
#[derive(Debug)]
pub struct HunyuanVideoVae {
    config: HunyuanVideoVaeConfig,
    vs: nn::VarStore,
    kind: Kind,
    post_quant_weight: Tensor,
    post_quant_bias: Tensor,
    conv_in: CausalConv3d,
    mid_resnets: Vec<ResnetBlock>,
    mid_attention: Option<CausalFrameAttention>,
    up_blocks: Vec<UpBlock>,
    conv_norm_out: GroupNorm,
    conv_out: CausalConv3d,
}

impl HunyuanVideoVae {
    /// Loads the decoder of `dir` (a diffusers `vae/` directory), shapes checked first.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let config: HunyuanVideoVaeConfig = read_config(dir)?;
        config.check().map_err(|why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        })?;
        let files = WeightFiles::find(dir)?;
        let vae = Self::build(config, device, kind, false);
        files.load_into_skipping(&vae.vs, &|n: &str| n.to_string(), &|n: &str| {
            n.starts_with("encoder.") || n.starts_with("quant_conv.")
        })?;
        Ok(vae)
    }

    /// A freshly initialised decoder (torch's default initialisers; norms at one / zero), for
    /// benchmarks and tests.
    pub fn new(config: HunyuanVideoVaeConfig, device: Device, kind: Kind) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(config, device, kind, true))
    }

    fn build(config: HunyuanVideoVaeConfig, device: Device, kind: Kind, random: bool) -> Self {
        let vs = nn::VarStore::new(device);
        let b = Builder {
            device,
            kind,
            random,
        };
        let root = vs.root();
        let c = &config;
        let groups = c.norm_num_groups;
        let lat = c.latent_channels;
        let pq = &root / "post_quant_conv";
        let bound = 1.0 / (lat as f64).sqrt();
        let post_quant_weight = b.var(&pq, "weight", &[lat, lat, 1, 1, 1], bound, kind);
        let post_quant_bias = b.var(&pq, "bias", &[lat], bound, kind);
        let dec = &root / "decoder";
        let reversed: Vec<i64> = c.block_out_channels.iter().rev().copied().collect();
        let top = reversed[0];
        let conv_in = CausalConv3d::new(&(&dec / "conv_in"), lat, top, 3, &b);
        let mid = &dec / "mid_block";
        let mid_resnets = (0..2)
            .map(|i| ResnetBlock::new(&(&mid / "resnets" / i), top, top, groups, &b))
            .collect();
        let mid_attention = c
            .mid_block_add_attention
            .then(|| CausalFrameAttention::new(&(&mid / "attentions" / 0), top, groups, &b));
        let mut prev = top;
        let up_blocks = reversed
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let p = &dec / "up_blocks" / i;
                let resnets = (0..c.layers_per_block + 1)
                    .map(|j| {
                        let in_ch = if j == 0 { prev } else { out };
                        ResnetBlock::new(&(&p / "resnets" / j), in_ch, out, groups, &b)
                    })
                    .collect();
                prev = out;
                let (time, space) = c.upsampling(i);
                let upsampler = (time > 1 || space > 1).then(|| Upsample {
                    conv: CausalConv3d::new(&(&p / "upsamplers" / 0 / "conv"), out, out, 3, &b),
                    time,
                    space,
                });
                UpBlock { resnets, upsampler }
            })
            .collect();
        let bottom = c.block_out_channels[0];
        let conv_norm_out = GroupNorm::new(&(&dec / "conv_norm_out"), bottom, groups, &b);
        let conv_out = CausalConv3d::new(&(&dec / "conv_out"), bottom, c.out_channels, 3, &b);
        HunyuanVideoVae {
            config,
            vs,
            kind,
            post_quant_weight,
            post_quant_bias,
            conv_in,
            mid_resnets,
            mid_attention,
            up_blocks,
            conv_norm_out,
            conv_out,
        }
    }

    pub fn config(&self) -> &HunyuanVideoVaeConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The variables, named like the diffusers state dict.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Output frames for `latent_frames` latent frames: `(n - 1) * 4 + 1`.
    pub fn frames_for(&self, latent_frames: i64) -> i64 {
        (latent_frames - 1) * self.config.temporal_compression_ratio + 1
    }

    /// `post_quant_conv` and the decoder on one chunk, no tiling.
    fn decode_chunk(&self, z: &Tensor) -> Tensor {
        let xs = z.conv3d(
            &self.post_quant_weight,
            Some(&self.post_quant_bias),
            [1, 1, 1],
            [0, 0, 0],
            [1, 1, 1],
            1,
        );
        let mut xs = self.conv_in.forward(&xs);
        xs = self.mid_resnets[0].forward(&xs);
        if let Some(attn) = &self.mid_attention {
            xs = attn.forward(&xs);
        }
        xs = self.mid_resnets[1].forward(&xs);
        for block in &self.up_blocks {
            for resnet in &block.resnets {
                xs = resnet.forward(&xs);
            }
            if let Some(up) = &block.upsampler {
                xs = up.forward(&xs);
            }
        }
        self.conv_out
            .forward(&self.conv_norm_out.forward(&xs).silu())
    }

    /// Decodes (already unscaled) latents `z: [B, C, F, H, W]` to `[B, 3, (F-1)*4+1, 8H, 8W]`
    /// in about [-1, 1], not clamped, the way `AutoencoderKLHunyuanVideo.decode` does with the
    /// given tiling. Moves `z` to the decoder's device and kind.
    pub fn decode(&self, z: &Tensor, tiling: &VaeTiling) -> Tensor {
        let z = z.to_device(self.device()).to_kind(self.kind);
        let (_, ch, f, h, w) = z
            .size5()
            .unwrap_or_else(|_| panic!("latents must be [B, C, F, H, W], got {:?}", z.size()));
        assert_eq!(
            ch, self.config.latent_channels,
            "latents have {ch} channels, the VAE takes {}",
            self.config.latent_channels
        );
        let s = self.config.spatial_compression_ratio;
        let t = self.config.temporal_compression_ratio;
        if tiling.framewise && f > tiling.min_num_frames / t {
            self.temporal_tiled_decode(&z, tiling)
        } else if tiling.spatial && (w > tiling.min_width / s || h > tiling.min_height / s) {
            self.spatial_tiled_decode(&z, tiling)
        } else {
            self.decode_chunk(&z)
        }
    }

    /// `_temporal_tiled_decode`.
    fn temporal_tiled_decode(&self, z: &Tensor, tiling: &VaeTiling) -> Tensor {
        let (_, _, f, h, w) = z.size5().expect("[B, C, F, H, W]");
        let s = self.config.spatial_compression_ratio;
        let t = self.config.temporal_compression_ratio;
        let min_frames = tiling.min_num_frames / t;
        let stride = tiling.stride_num_frames / t;
        assert!(stride > 0, "temporal tile stride under one latent frame");
        let blend = tiling.min_num_frames - tiling.stride_num_frames;
        let mut tiles: Vec<Tensor> = Vec::new();
        for start in (0..f).step_by(stride as usize) {
            let tile = z.narrow(2, start, (min_frames + 1).min(f - start));
            let spatial = tiling.spatial && (w > tiling.min_width / s || h > tiling.min_height / s);
            let decoded = if spatial {
                self.spatial_tiled_decode(&tile, tiling)
            } else {
                self.decode_chunk(&tile)
            };
            // Every tile after the first repeats the previous tile's last frame: drop it.
            let n = decoded.size()[2];
            tiles.push(if start > 0 {
                decoded.narrow(2, 1, n - 1)
            } else {
                decoded
            });
        }
        let kept: Vec<Tensor> = tiles
            .iter()
            .enumerate()
            .map(|(i, tile)| {
                let keep = if i > 0 {
                    blend_in_place(&tiles[i - 1], tile, 2, blend);
                    tiling.stride_num_frames
                } else {
                    tiling.stride_num_frames + 1
                };
                tile.narrow(2, 0, keep.min(tile.size()[2]))
            })
            .collect();
        let out = Tensor::cat(&kept, 2);
        out.narrow(2, 0, self.frames_for(f).min(out.size()[2]))
    }

    /// `tiled_decode`: overlapping spatial tiles, blended into their upper and left neighbours.
    fn spatial_tiled_decode(&self, z: &Tensor, tiling: &VaeTiling) -> Tensor {
        let (_, _, _, h, w) = z.size5().expect("[B, C, F, H, W]");
        let s = self.config.spatial_compression_ratio;
        let (min_h, min_w) = (tiling.min_height / s, tiling.min_width / s);
        let (stride_h, stride_w) = (tiling.stride_height / s, tiling.stride_width / s);
        assert!(
            stride_h > 0 && stride_w > 0,
            "spatial tile stride under one latent"
        );
        let blend_h = tiling.min_height - tiling.stride_height;
        let blend_w = tiling.min_width - tiling.stride_width;
        let rows: Vec<Vec<Tensor>> = (0..h)
            .step_by(stride_h as usize)
            .map(|i| {
                (0..w)
                    .step_by(stride_w as usize)
                    .map(|j| {
                        let tile = z
                            .narrow(3, i, min_h.min(h - i))
                            .narrow(4, j, min_w.min(w - j));
                        self.decode_chunk(&tile)
                    })
                    .collect()
            })
            .collect();
        let mut out_rows = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let mut out_row = Vec::with_capacity(row.len());
            for (j, tile) in row.iter().enumerate() {
                if i > 0 {
                    blend_in_place(&rows[i - 1][j], tile, 3, blend_h);
                }
                if j > 0 {
                    blend_in_place(&row[j - 1], tile, 4, blend_w);
                }
                let size = tile.size();
                out_row.push(tile.narrow(3, 0, tiling.stride_height.min(size[3])).narrow(
                    4,
                    0,
                    tiling.stride_width.min(size[4]),
                ));
            }
            out_rows.push(Tensor::cat(&out_row, 4));
        }
        let out = Tensor::cat(&out_rows, 3);
        let size = out.size();
        out.narrow(3, 0, (h * s).min(size[3]))
            .narrow(4, 0, (w * s).min(size[4]))
    }
}

/// diffusers' `blend_v` / `blend_h` / `blend_t`: the first `extent` slices of `b` along `dim`
/// become a linear cross-fade from the last `extent` slices of `a`, written into `b` in place
/// (diffusers mutates its tiles, and later blends read the mutated ones).
fn blend_in_place(a: &Tensor, b: &Tensor, dim: i64, extent: i64) {
    let (na, nb) = (a.size()[dim as usize], b.size()[dim as usize]);
    let extent = extent.min(na).min(nb);
    for x in 0..extent {
        let weight = x as f64 / extent as f64;
        let mixed =
            a.narrow(dim, na - extent + x, 1) * (1.0 - weight) + b.narrow(dim, x, 1) * weight;
        let mut slice = b.narrow(dim, x, 1);
        slice.copy_(&mixed);
    }
}
