//! Parity of the Wan VAE with diffusers' `AutoencoderKLWan` (fixtures made by
//! diffusion/fixtures/wan/make_fixtures.py with diffusers 0.42.1 on tiny random configs), plus the
//! chunked evaluation's bounded memory and gradients.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::models::wan::vae::{
    denormalize_latents, normalize_latents, WanVae, WanVaeConfig,
};
use tch::{nn, Device, Kind, Tensor};

const TOL: f64 = 1e-3;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/wan")
}

fn load(variant: &str) -> WanVae {
    let dir = fixtures().join("models").join(variant).join("vae");
    WanVae::load(&dir, Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

fn case(variant: &str) -> HashMap<String, Tensor> {
    let path = fixtures().join(format!("cases/vae_{variant}.safetensors"));
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size(), "shape mismatch");
    (a - b).abs().max().double_value(&[])
}

fn check(what: &str, ours: &Tensor, reference: &Tensor) {
    let err = max_abs(ours, reference);
    let scale = reference.abs().max().double_value(&[]);
    eprintln!(
        "{what}: shape {:?}, max |ref| {scale:.3}, max abs error {err:.3e}",
        ours.size()
    );
    assert!(err <= TOL, "{what}: max abs error {err:e} > {TOL:e}");
}

fn parity(variant: &str) {
    let _guard = tch::no_grad_guard();
    let vae = load(variant);
    let c = case(variant);
    let latent = vae.encode(&c["video"]);
    check(&format!("{variant} encode"), &latent, &c["latent_mean"]);
    // Decode the reference's latents, so the two checks are independent.
    let decoded = vae.decode(&c["latent_mean"]);
    check(&format!("{variant} decode"), &decoded, &c["decoded"]);
    // The single-frame (image) path.
    let img_latent = vae.encode(&c["image"]);
    check(
        &format!("{variant} image encode"),
        &img_latent,
        &c["image_latent_mean"],
    );
    let img_decoded = vae.decode(&c["image_latent_mean"]);
    check(
        &format!("{variant} image decode"),
        &img_decoded,
        &c["image_decoded"],
    );
}

#[test]
fn wan21_matches_diffusers() {
    parity("wan21");
}

#[test]
fn wan22_matches_diffusers() {
    parity("wan22");
}

#[test]
fn scale_factors_and_shapes() {
    let _guard = tch::no_grad_guard();
    for (variant, s, z) in [("wan21", 8, 16), ("wan22", 16, 48)] {
        let vae = load(variant);
        assert_eq!(vae.scale_factor_temporal(), 4);
        assert_eq!(vae.scale_factor_spatial(), s);
        assert_eq!(vae.z_dim(), z);
        let video = Tensor::rand([1, 3, 5, 2 * s, 3 * s], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let latent = vae.encode(&video);
        assert_eq!(latent.size(), [1, z, 2, 2, 3]);
        let decoded = vae.decode(&latent);
        assert_eq!(decoded.size(), [1, 3, 5, 2 * s, 3 * s]);
        assert!(decoded.abs().max().double_value(&[]) <= 1.0);
    }
}

/// The chunked evaluation keeps a fixed amount of history per causal convolution, whatever the
/// clip's length: the cache's total size after any chunk, and the frames any one chunk feeds
/// through the network, are the same for a 5-frame and a 33-frame clip.
#[test]
fn memory_is_bounded_by_the_chunk() {
    let _guard = tch::no_grad_guard();
    for variant in ["wan21", "wan22"] {
        let vae = load(variant);
        let s = vae.scale_factor_spatial();
        let mut enc = Vec::new();
        let mut dec = Vec::new();
        for frames in [5, 17, 33] {
            let video = Tensor::rand([1, 3, frames, 2 * s, 2 * s], (Kind::Float, Device::Cpu));
            let (latent, e) = vae.encode_with_stats(&(video * 2.0 - 1.0));
            let (_, d) = vae.decode_with_stats(&latent);
            eprintln!("{variant} T={frames}: encode {e:?}, decode {d:?}");
            assert_eq!(e.chunks as i64, 1 + (frames - 1) / 4);
            assert_eq!(d.chunks as i64, latent.size()[2]);
            assert_eq!(e.max_chunk_frames, 4);
            assert_eq!(d.max_chunk_frames, 1);
            enc.push(e);
            dec.push(d);
        }
        for (e, d) in enc.iter().zip(&dec).skip(1) {
            assert!(e.max_cache_elements > 0 && d.max_cache_elements > 0);
            assert_eq!(
                e.max_cache_elements, enc[0].max_cache_elements,
                "{variant} encode cache grew"
            );
            assert_eq!(e.cache_slots, enc[0].cache_slots);
            assert_eq!(
                d.max_cache_elements, dec[0].max_cache_elements,
                "{variant} decode cache grew"
            );
            assert_eq!(d.cache_slots, dec[0].cache_slots);
        }
    }
}

/// The pipelines' normalisation: `(z - mean) * (1/std)` and back.
#[test]
fn latent_normalisation() {
    let vae = load("wan22");
    let cfg = vae.config();
    let z = Tensor::randn([1, 48, 2, 3, 4], (Kind::Float, Device::Cpu));
    let n = normalize_latents(&z, cfg);
    let mean = Tensor::from_slice(&cfg.latents_mean)
        .to_kind(Kind::Float)
        .view([1, 48, 1, 1, 1]);
    let std = Tensor::from_slice(&cfg.latents_std)
        .to_kind(Kind::Float)
        .view([1, 48, 1, 1, 1]);
    assert!(max_abs(&n, &((&z - &mean) / &std)) < 1e-5);
    assert!(max_abs(&denormalize_latents(&n, cfg), &z) < 1e-5);
    assert!(max_abs(&vae.normalize_latents(&z), &n) == 0.0);
}

/// Gradients reach the input and every weight through the chunked, cached evaluation.
#[test]
fn gradients_flow() {
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = WanVaeConfig {
        base_dim: 2,
        decoder_base_dim: Some(3),
        z_dim: 4,
        dim_mult: vec![1, 2, 2],
        temperal_downsample: vec![true, false],
        latents_mean: vec![0.0; 4],
        latents_std: vec![1.0; 4],
        is_residual: true,
        in_channels: 12,
        out_channels: 12,
        patch_size: Some(2),
        ..WanVaeConfig::default()
    };
    let vae = WanVae::new(&vs.root(), cfg).unwrap();
    assert_eq!(vae.scale_factor_temporal(), 2);
    assert_eq!(vae.scale_factor_spatial(), 8);
    let video =
        (Tensor::rand([1, 3, 5, 16, 16], (Kind::Float, Device::Cpu)) * 0.2).set_requires_grad(true);
    let latent = vae.encode(&video);
    assert_eq!(latent.size(), [1, 4, 3, 2, 2]);
    let out = vae.decode(&latent);
    assert_eq!(out.size(), [1, 3, 5, 16, 16]);
    out.square().sum(Kind::Float).backward();
    assert!(video.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    for (name, var) in vs.variables() {
        assert!(var.grad().defined(), "{name} got no gradient");
    }
}

fn pipeline_case(name: &str) -> HashMap<String, Tensor> {
    let path = fixtures().join(format!("cases/pipeline_{name}.safetensors"));
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .into_iter()
        .collect()
}

/// The VAE's part of the pipelines, normalisation included: the final latents decode to the
/// reference video (`denormalize` → decode → `(x/2 + 0.5).clamp(0, 1)`, as [B, F, H, W, C]) and,
/// for TI2V, the conditioning image encodes to the reference's normalised `condition_latents`.
#[test]
fn pipelines_decode_and_condition() {
    let _guard = tch::no_grad_guard();
    for (name, variant) in [
        ("t2v_wan21", "wan21"),
        ("t2v_wan22", "wan22"),
        ("ti2v_wan22", "wan22"),
    ] {
        let vae = load(variant);
        let c = pipeline_case(name);
        let video = vae.decode(&vae.denormalize_latents(&c["final_latents"]));
        let frames = (video / 2.0 + 0.5).clamp(0.0, 1.0).permute([0, 2, 3, 4, 1]);
        check(&format!("{name} pipeline video"), &frames, &c["video"]);
        if let Some(image) = c.get("image_preprocessed") {
            let condition = vae.normalize_latents(&vae.encode(&image.unsqueeze(2)));
            check(
                &format!("{name} condition latents"),
                &condition,
                &c["condition_latents"],
            );
        }
    }
}
