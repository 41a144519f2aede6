//! Parity of the HunyuanVideo VAE decoder with diffusers (`AutoencoderKLHunyuanVideo.decode`,
//! the pinned release in diffusion/fixtures/hunyuan_video/make_fixtures.py) on the tiny
//! random-weight fixture VAE, fp32 CPU: a whole-clip decode, one frame, diffusers' default
//! temporal tiles, and spatial tiles (`enable_tiling` with small tiles) inside temporal tiles.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::models::hunyuan_video::vae::{
    HunyuanVideoVae, HunyuanVideoVaeConfig, VaeTiling,
};
use tch::{Device, Kind, Tensor};

const TOLERANCE: f64 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/hunyuan_video")
}

fn case() -> HashMap<String, Tensor> {
    let path = fixtures().join("cases/vae.safetensors");
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn load() -> HunyuanVideoVae {
    let dir = fixtures().join("models/hunyuan_video/vae");
    HunyuanVideoVae::load(&dir, Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

fn check(vae: &HunyuanVideoVae, c: &HashMap<String, Tensor>, z: &str, out: &str, t: &VaeTiling) {
    let got = tch::no_grad(|| vae.decode(&c[z], t));
    let want = &c[out];
    assert_eq!(got.size(), want.size(), "{out}: shape");
    let scale = want.abs().max().double_value(&[]);
    assert!(scale > 0.1, "{out}: reference is trivially small ({scale})");
    let err = (got - want).abs().max().double_value(&[]);
    eprintln!("{out}: max abs error {err:.3e}");
    assert!(
        err <= TOLERANCE,
        "{out}: max abs error {err:e} > {TOLERANCE:e}"
    );
}

#[test]
fn hunyuan_vae_decoder_matches_diffusers() {
    let vae = load();
    let c = case();
    let default = VaeTiling::default();
    check(&vae, &c, "latents", "decoded", &default);
    check(&vae, &c, "latents_f1", "decoded_f1", &default);
    check(
        &vae,
        &c,
        "latents_temporal_tiles",
        "decoded_temporal_tiles",
        &default,
    );
}

#[test]
fn spatial_tiles_inside_temporal_tiles_match_diffusers() {
    let vae = load();
    let c = case();
    let small_tiles = VaeTiling {
        spatial: true,
        min_height: 32,
        min_width: 32,
        stride_height: 24,
        stride_width: 24,
        ..Default::default()
    };
    check(
        &vae,
        &c,
        "latents_spatial_tiles",
        "decoded_spatial_tiles",
        &small_tiles,
    );
}

#[test]
fn upsampling_schedule_is_diffusers() {
    // HunyuanVideo: 8x in space over the first three blocks, 4x in time over the middle two.
    let c = HunyuanVideoVaeConfig::default();
    c.check().unwrap();
    let schedule: Vec<(i64, i64)> = (0..4).map(|i| c.upsampling(i)).collect();
    assert_eq!(schedule, [(1, 2), (2, 2), (2, 2), (1, 1)]);
    let eight = HunyuanVideoVaeConfig {
        temporal_compression_ratio: 8,
        ..Default::default()
    };
    assert!(eight
        .check()
        .unwrap_err()
        .contains("temporal_compression_ratio"));
}
