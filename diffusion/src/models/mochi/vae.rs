//! The Mochi-1 VAE decoder (diffusers' `AutoencoderKLMochi.decode`) on tch.
//!
//! Follows `diffusers/models/autoencoders/autoencoder_kl_mochi.py` (0.42.1): a 1x1x1 input
//! convolution, a mid block of residual blocks, up blocks (residual blocks, then a linear
//! projection unfolded into `temporal x spatial x spatial` more positions: a depth-to-space
//! upsampling, no transposed or interpolating convolution), a last mid block, SiLU and a linear
//! projection to RGB. The residual blocks use per-frame GroupNorm (32 groups) and causal 3x3x3
//! convolutions padded by *replicating* edge values (the first frame in time), unlike Wan's VAE
//! (zero padding, RMS norms, a cached causal convolution in 2-D/3-D resamplers). The output is
//! NOT clamped (Wan's is); the first `temporal_compression - 1` frames are dropped, as diffusers
//! does by default (`drop_last_temporal_frames`).
//!
//! Memory: diffusers decodes the whole clip at once. Here the latent frames go through one at a
//! time with each causal convolution keeping the last two frames of its input, which gives the
//! same numbers (a replicate-padded causal convolution only looks back) at the memory of one
//! frame. (diffusers' own frame-wise decoding is not equal to its full decode: with
//! `pad_mode="replicate"` it keeps no cache and replicates each chunk's first frame.)
//!
//! Only the decoder is built; the checkpoint's `encoder.*` tensors are not loaded.
use std::path::Path;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::loading::{read_config, LoadError, WeightFiles};

/// `vae/config.json` (the fields the decoder and the pipeline use; defaults are Mochi-1's).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MochiVaeConfig {
    #[serde(default = "defaults::out_channels")]
    pub out_channels: i64,
    #[serde(default = "defaults::decoder_block_out_channels")]
    pub decoder_block_out_channels: Vec<i64>,
    #[serde(default = "defaults::latent_channels")]
    pub latent_channels: i64,
    #[serde(default = "defaults::layers_per_block")]
    pub layers_per_block: Vec<i64>,
    #[serde(default = "defaults::act_fn")]
    pub act_fn: String,
    #[serde(default = "defaults::temporal_expansions")]
    pub temporal_expansions: Vec<i64>,
    #[serde(default = "defaults::spatial_expansions")]
    pub spatial_expansions: Vec<i64>,
    #[serde(default)]
    pub latents_mean: Option<Vec<f64>>,
    #[serde(default)]
    pub latents_std: Option<Vec<f64>>,
    #[serde(default = "defaults::scaling_factor")]
    pub scaling_factor: f64,
}

mod defaults {
    pub fn out_channels() -> i64 {
        3
    }
    pub fn decoder_block_out_channels() -> Vec<i64> {
        vec![128, 256, 512, 768]
    }
    pub fn latent_channels() -> i64 {
        12
    }
    pub fn layers_per_block() -> Vec<i64> {
        vec![3, 3, 4, 6, 3]
    }
    pub fn act_fn() -> String {
        "silu".into()
    }
    pub fn temporal_expansions() -> Vec<i64> {
        vec![1, 2, 3]
    }
    pub fn spatial_expansions() -> Vec<i64> {
        vec![2, 2, 2]
    }
    pub fn scaling_factor() -> f64 {
        1.0
    }
}

/// `MochiChunkedGroupNorm3D`'s groups (hard-coded in diffusers).
const GROUPS: i64 = 32;
/// `nn.GroupNorm`'s default eps.
const GROUP_NORM_EPS: f64 = 1e-5;

impl MochiVaeConfig {
    /// Output frames per latent frame (6 in Mochi-1).
    pub fn temporal_compression(&self) -> i64 {
        self.temporal_expansions.iter().product()
    }

    /// Pixels per latent pixel along each side (8 in Mochi-1).
    pub fn spatial_compression(&self) -> i64 {
        self.spatial_expansions.iter().product()
    }

    /// Why the decoder cannot be built from this config, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        let blocks = self.decoder_block_out_channels.len();
        if blocks < 1 {
            return Err("decoder_block_out_channels is empty".into());
        }
        if self.layers_per_block.len() != blocks + 1
            || self.temporal_expansions.len() != blocks - 1
            || self.spatial_expansions.len() != blocks - 1
        {
            return Err(format!(
                "{blocks} decoder blocks need {} layers_per_block and {} temporal and spatial \
                 expansions, got {}, {} and {}",
                blocks + 1,
                blocks - 1,
                self.layers_per_block.len(),
                self.temporal_expansions.len(),
                self.spatial_expansions.len()
            ));
        }
        if let Some(c) = self
            .decoder_block_out_channels
            .iter()
            .find(|&&c| c <= 0 || c % GROUPS != 0)
        {
            return Err(format!(
                "decoder channels must be positive multiples of {GROUPS} (GroupNorm), got {c}"
            ));
        }
        if self.layers_per_block.iter().any(|&l| l < 0)
            || self.temporal_expansions.iter().any(|&e| e < 1)
            || self.spatial_expansions.iter().any(|&e| e < 1)
        {
            return Err("layer counts must be >= 0 and expansions >= 1".into());
        }
        if !matches!(self.act_fn.as_str(), "silu" | "swish") {
            return Err(format!("act_fn {:?} is not supported (silu)", self.act_fn));
        }
        for (name, v) in [
            ("latents_mean", &self.latents_mean),
            ("latents_std", &self.latents_std),
        ] {
            if let Some(v) = v {
                if v.len() as i64 != self.latent_channels {
                    return Err(format!(
                        "{name} has {} values for {} latent channels",
                        v.len(),
                        self.latent_channels
                    ));
                }
            }
        }
        Ok(())
    }
}

fn var(p: &nn::Path, name: &str, dims: &[i64]) -> Tensor {
    p.var(name, dims, nn::Init::Const(0.0))
}

/// The last two (time-padded) input frames of each causal convolution, in call order: the
/// state that carries one latent frame's decode into the next.
#[derive(Default)]
struct ConvCache {
    frames: Vec<Option<Tensor>>,
    next: usize,
}

impl ConvCache {
    fn slot(&mut self) -> &mut Option<Tensor> {
        if self.next == self.frames.len() {
            self.frames.push(None);
        }
        self.next += 1;
        &mut self.frames[self.next - 1]
    }
}

/// `CogVideoXCausalConv3d(kernel 3, pad_mode="replicate")`: time padded in front with two copies
/// of the first frame (or, after the first chunk, the previous chunk's last two frames), height
/// and width replicate-padded by one.
#[derive(Debug)]
struct CausalConv3d {
    weight: Tensor,
    bias: Tensor,
}

impl CausalConv3d {
    fn new(p: &nn::Path, in_ch: i64, out_ch: i64) -> Self {
        let p = p / "conv";
        CausalConv3d {
            weight: var(&p, "weight", &[out_ch, in_ch, 3, 3, 3]),
            bias: var(&p, "bias", &[out_ch]),
        }
    }

    fn forward(&self, xs: &Tensor, cache: &mut ConvCache) -> Tensor {
        let slot = cache.slot();
        let padded = match slot.take() {
            None => xs.replication_pad3d([0, 0, 0, 0, 2, 0]),
            Some(previous) => Tensor::cat(&[previous, xs.shallow_clone()], 2),
        };
        let t = padded.size()[2];
        *slot = Some(padded.narrow(2, t - 2, 2));
        padded.replication_pad3d([1, 1, 1, 1, 0, 0]).conv3d(
            &self.weight,
            Some(&self.bias),
            [1, 1, 1],
            [0, 0, 0],
            [1, 1, 1],
            1,
        )
    }
}

/// `MochiChunkedGroupNorm3D`: GroupNorm(32) of each frame on its own.
#[derive(Debug)]
struct FrameGroupNorm {
    weight: Tensor,
    bias: Tensor,
}

impl FrameGroupNorm {
    fn new(p: &nn::Path, ch: i64) -> Self {
        let p = p / "norm_layer";
        FrameGroupNorm {
            weight: p.var("weight", &[ch], nn::Init::Const(1.0)),
            bias: var(&p, "bias", &[ch]),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let (b, _, t, _, _) = xs.size5().expect("video is [B, C, T, H, W]");
        let frames = xs.permute([0, 2, 1, 3, 4]).flatten(0, 1);
        frames
            .group_norm(
                GROUPS,
                Some(&self.weight),
                Some(&self.bias),
                GROUP_NORM_EPS,
                true,
            )
            .unflatten(0, [b, t])
            .permute([0, 2, 1, 3, 4])
    }
}

/// `MochiResnetBlock3D`: norm, SiLU, conv, norm, SiLU, conv, plus the input.
#[derive(Debug)]
struct ResnetBlock {
    norm1: FrameGroupNorm,
    conv1: CausalConv3d,
    norm2: FrameGroupNorm,
    conv2: CausalConv3d,
}

impl ResnetBlock {
    fn new(p: &nn::Path, ch: i64) -> Self {
        ResnetBlock {
            norm1: FrameGroupNorm::new(&(p / "norm1"), ch),
            conv1: CausalConv3d::new(&(p / "conv1"), ch, ch),
            norm2: FrameGroupNorm::new(&(p / "norm2"), ch),
            conv2: CausalConv3d::new(&(p / "conv2"), ch, ch),
        }
    }

    fn forward(&self, xs: &Tensor, cache: &mut ConvCache) -> Tensor {
        let h = self.conv1.forward(&self.norm1.forward(xs).silu(), cache);
        let h = self.conv2.forward(&self.norm2.forward(&h).silu(), cache);
        h + xs
    }
}

fn resnets(p: &nn::Path, ch: i64, n: i64) -> Vec<ResnetBlock> {
    (0..n)
        .map(|i| ResnetBlock::new(&(p / "resnets" / i), ch))
        .collect()
}

/// `MochiUpBlock3D`: residual blocks, then a per-position linear projection unfolded into
/// `st x sh x sw` output positions.
#[derive(Debug)]
struct UpBlock {
    resnets: Vec<ResnetBlock>,
    proj_weight: Tensor,
    proj_bias: Tensor,
    temporal: i64,
    spatial: i64,
}

impl UpBlock {
    fn forward(&self, xs: &Tensor, cache: &mut ConvCache) -> Tensor {
        let mut xs = xs.shallow_clone();
        for r in &self.resnets {
            xs = r.forward(&xs, cache);
        }
        let xs = xs
            .permute([0, 2, 3, 4, 1])
            .linear(&self.proj_weight, Some(&self.proj_bias))
            .permute([0, 4, 1, 2, 3]);
        let (b, _, t, h, w) = xs.size5().expect("video is [B, C, T, H, W]");
        let (st, s) = (self.temporal, self.spatial);
        xs.view([b, -1, st, s, s, t, h, w].as_slice())
            .permute([0, 1, 5, 2, 6, 3, 7, 4])
            .contiguous()
            .view([b, -1, t * st, h * s, w * s])
    }
}

/// The decoder of `AutoencoderKLMochi`.
#[derive(Debug)]
pub struct MochiVae {
    config: MochiVaeConfig,
    vs: nn::VarStore,
    conv_in_weight: Tensor,
    conv_in_bias: Tensor,
    block_in: Vec<ResnetBlock>,
    up_blocks: Vec<UpBlock>,
    block_out: Vec<ResnetBlock>,
    proj_out_weight: Tensor,
    proj_out_bias: Tensor,
}

impl MochiVae {
    /// Loads the decoder of `dir` (a diffusers `vae/` directory), shapes checked first.
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self, LoadError> {
        let config: MochiVaeConfig = read_config(dir)?;
        config.check().map_err(|why| LoadError::BadConfig {
            path: dir.join("config.json"),
            why,
        })?;
        let files = WeightFiles::find(dir)?;
        let vae = Self::build(config, device, kind);
        files.load_into_skipping(&vae.vs, &|n: &str| n.to_string(), &|n: &str| {
            n.starts_with("encoder.")
        })?;
        Ok(vae)
    }

    /// A decoder built from `config` with every weight zero (norm weights one), for weights
    /// filled in by the caller (benchmarks, training).
    pub fn new(config: MochiVaeConfig, device: Device, kind: Kind) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(config, device, kind))
    }

    fn build(config: MochiVaeConfig, device: Device, kind: Kind) -> Self {
        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let d = &root / "decoder";
        let c = &config;
        let channels = &c.decoder_block_out_channels;
        let layers = &c.layers_per_block;
        let last = *channels.last().expect("checked: not empty");
        let conv_in = &d / "conv_in";
        let conv_in_weight = var(&conv_in, "weight", &[last, c.latent_channels, 1, 1, 1]);
        let conv_in_bias = var(&conv_in, "bias", &[last]);
        let block_in = resnets(&(&d / "block_in"), last, *layers.last().expect("checked"));
        let n = channels.len();
        let up_blocks = (0..n - 1)
            .map(|i| {
                let p = &d / "up_blocks" / i as i64;
                let (in_ch, out_ch) = (channels[n - 1 - i], channels[n - 2 - i]);
                let (st, s) = (
                    c.temporal_expansions[n - 2 - i],
                    c.spatial_expansions[n - 2 - i],
                );
                let proj = &p / "proj";
                UpBlock {
                    resnets: resnets(&p, in_ch, layers[n - 1 - i]),
                    proj_weight: var(&proj, "weight", &[out_ch * st * s * s, in_ch]),
                    proj_bias: var(&proj, "bias", &[out_ch * st * s * s]),
                    temporal: st,
                    spatial: s,
                }
            })
            .collect();
        let block_out = resnets(&(&d / "block_out"), channels[0], layers[0]);
        let proj_out = &d / "proj_out";
        let proj_out_weight = var(&proj_out, "weight", &[c.out_channels, channels[0]]);
        let proj_out_bias = var(&proj_out, "bias", &[c.out_channels]);
        vs.set_kind(kind);
        MochiVae {
            config,
            vs,
            conv_in_weight,
            conv_in_bias,
            block_in,
            up_blocks,
            block_out,
            proj_out_weight,
            proj_out_bias,
        }
    }

    pub fn config(&self) -> &MochiVaeConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn kind(&self) -> Kind {
        self.conv_in_weight.kind()
    }

    /// The decoder's weights, named like the diffusers state dict.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// The pipeline's unscaling before decode: `z * std / scaling_factor + mean` when the config
    /// has the statistics, else `z / scaling_factor`.
    pub fn denormalize_latents(&self, z: &Tensor) -> Tensor {
        let c = &self.config;
        let channels = |v: &[f64]| {
            Tensor::from_slice(v)
                .to_kind(z.kind())
                .to_device(z.device())
                .view([1, -1, 1, 1, 1])
        };
        match (&c.latents_mean, &c.latents_std) {
            (Some(mean), Some(std)) => z * channels(std) / c.scaling_factor + channels(mean),
            _ => z / c.scaling_factor,
        }
    }

    /// One chunk of latent frames through the decoder, continuing `cache`.
    fn decode_chunk(&self, z: &Tensor, cache: &mut ConvCache) -> Tensor {
        cache.next = 0;
        let mut xs = z.conv3d(
            &self.conv_in_weight,
            Some(&self.conv_in_bias),
            [1, 1, 1],
            [0, 0, 0],
            [1, 1, 1],
            1,
        );
        for r in &self.block_in {
            xs = r.forward(&xs, cache);
        }
        for up in &self.up_blocks {
            xs = up.forward(&xs, cache);
        }
        for r in &self.block_out {
            xs = r.forward(&xs, cache);
        }
        xs.silu()
            .permute([0, 2, 3, 4, 1])
            .linear(&self.proj_out_weight, Some(&self.proj_out_bias))
            .permute([0, 4, 1, 2, 3])
    }

    /// `AutoencoderKLMochi.decode(z).sample` for `z: [B, latent_channels, T, h, w]` (already
    /// denormalized): `[B, 3, (T-1)*6 + 1, 8h, 8w]` in about -1..1 (not clamped), in the VAE's
    /// kind. Decodes one latent frame at a time into a preallocated output.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        let (b, ch, t, h, w) = z.size5().expect("latents are [B, C, T, H, W]");
        assert_eq!(
            ch, self.config.latent_channels,
            "latents have {ch} channels, the VAE takes {}",
            self.config.latent_channels
        );
        let z = z.to_device(self.device()).to_kind(self.kind());
        let tc = self.config.temporal_compression();
        let sc = self.config.spatial_compression();
        assert!(t >= 1, "no latent frames to decode");
        // diffusers drops the first tc - 1 frames (whenever the decode has at least tc frames,
        // which one latent frame already gives).
        let dropped = tc - 1;
        let out = Tensor::zeros(
            [
                b,
                self.config.out_channels,
                t * tc - dropped,
                h * sc,
                w * sc,
            ],
            (self.kind(), self.device()),
        );
        let mut cache = ConvCache::default();
        let mut written = 0;
        for i in 0..t {
            let frames = self.decode_chunk(&z.narrow(2, i, 1), &mut cache);
            let skip = if i == 0 { dropped } else { 0 };
            let n = frames.size()[2] - skip;
            out.narrow(2, written, n).copy_(&frames.narrow(2, skip, n));
            written += n;
        }
        out
    }
}
