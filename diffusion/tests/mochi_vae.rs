//! Parity of the Mochi-1 VAE decoder with diffusers (`AutoencoderKLMochi.decode`) on the tiny
//! random-weight fixture VAE (diffusion/fixtures/mochi), fp32 CPU.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::models::mochi::vae::MochiVae;
use tch::{Device, Kind, Tensor};

const TOLERANCE: f64 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mochi")
}

fn case() -> HashMap<String, Tensor> {
    Tensor::read_safetensors(fixtures().join("cases/vae.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

fn load() -> MochiVae {
    MochiVae::load(
        &fixtures().join("models/mochi/vae"),
        Device::Cpu,
        Kind::Float,
    )
    .unwrap_or_else(|e| panic!("loading the Mochi VAE: {e}"))
}

fn check(vae: &MochiVae, c: &HashMap<String, Tensor>, z: &str, want: &str) {
    let got = tch::no_grad(|| vae.decode(&c[z]));
    let want = &c[want];
    assert_eq!(got.size(), want.size(), "{want:?}");
    let scale = want.abs().max().double_value(&[]);
    assert!(scale > 0.1, "reference is trivially small ({scale})");
    let err = (got - want).abs().max().double_value(&[]);
    eprintln!("{z}: max abs error {err:.3e} (output max {scale:.3})");
    assert!(err <= TOLERANCE, "{z}: {err:e} > {TOLERANCE:e}");
}

#[test]
fn decoder_matches_diffusers() {
    let vae = load();
    assert_eq!(vae.config().temporal_compression(), 6);
    assert_eq!(vae.config().spatial_compression(), 8);
    let c = case();
    // 3 latent frames → 13 frames of 32x48, decoded one latent frame at a time here and all at
    // once by diffusers.
    check(&vae, &c, "latents", "decoded");
    check(&vae, &c, "latents_f1", "decoded_f1");
}

#[test]
fn denormalize_uses_the_config_statistics() {
    let vae = load();
    let z = Tensor::ones([1, 12, 1, 1, 1], (Kind::Float, Device::Cpu));
    let d = vae.denormalize_latents(&z);
    let mean = vae.config().latents_mean.clone().unwrap();
    let std = vae.config().latents_std.clone().unwrap();
    for ch in [0i64, 11] {
        let v = d.double_value(&[0, ch, 0, 0, 0]);
        let want = std[ch as usize] / vae.config().scaling_factor + mean[ch as usize];
        assert!((v - want).abs() < 1e-6, "channel {ch}: {v} vs {want}");
    }
}
