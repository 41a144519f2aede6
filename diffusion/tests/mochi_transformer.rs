//! Parity of the Mochi-1 transformer with diffusers (`MochiTransformer3DModel`, the pinned
//! release in diffusion/fixtures/mochi/make_fixtures.py) on the tiny random-weight fixture model,
//! fp32 CPU; and the family detection of model directories.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::loading::LoadError;
use dreamfx_diffusion::models::mochi::transformer::{
    rope_positions, MochiTransformer, MochiTransformerConfig,
};
use dreamfx_diffusion::pipelines::{detect, Family};
use tch::{Device, Kind, Tensor};

const TOLERANCE: f64 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mochi")
}

fn case() -> HashMap<String, Tensor> {
    let path = fixtures().join("cases/transformer.safetensors");
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn load() -> MochiTransformer {
    let dir = fixtures().join("models/mochi/transformer");
    MochiTransformer::load(&dir, Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

/// Runs the model and returns the max abs error against `case[out]`.
fn max_error(
    m: &MochiTransformer,
    c: &HashMap<String, Tensor>,
    [hs, t, ehs, mask, out]: [&str; 5],
) -> f64 {
    let got = tch::no_grad(|| m.forward(&c[hs], &c[t], &c[ehs], &c[mask]));
    let want = &c[out];
    assert_eq!(got.size(), want.size(), "{out}: shape");
    assert_eq!(got.kind(), Kind::Float);
    let scale = want.abs().max().double_value(&[]);
    assert!(scale > 0.1, "{out}: reference is trivially small ({scale})");
    (got - want).abs().max().double_value(&[])
}

fn check(label: &str, err: f64) {
    eprintln!("{label}: max abs error {err:.3e}");
    assert!(
        err <= TOLERANCE,
        "{label}: max abs error {err:e} > {TOLERANCE:e}"
    );
}

#[test]
fn mochi_transformer_matches_diffusers() {
    let m = load();
    assert_eq!(m.config().pooled_projection_dim, 12);
    assert_eq!(m.config().inner_dim(), 16, "the fixture is asymmetric");
    let c = case();
    let mask = "encoder_attention_mask";
    check(
        "batch 1",
        max_error(
            &m,
            &c,
            [
                "hidden_states",
                "timestep",
                "encoder_hidden_states",
                mask,
                "out",
            ],
        ),
    );
    check(
        "batch 2 (different masks and timesteps)",
        max_error(
            &m,
            &c,
            [
                "hidden_states_b2",
                "timestep_b2",
                "encoder_hidden_states_b2",
                "encoder_attention_mask_b2",
                "out_b2",
            ],
        ),
    );
    check(
        "one frame",
        max_error(
            &m,
            &c,
            [
                "hidden_states_f1",
                "timestep",
                "encoder_hidden_states",
                mask,
                "out_f1",
            ],
        ),
    );
}

#[test]
fn mask_with_holes_matches_diffusers() {
    // diffusers gathers the valid text tokens of each sample to the front before attention;
    // the result differs from a prefix mask and is reproduced exactly.
    let m = load();
    let c = case();
    check(
        "mask with holes",
        max_error(
            &m,
            &c,
            [
                "hidden_states",
                "timestep",
                "encoder_hidden_states",
                "encoder_attention_mask_holes",
                "out_holes",
            ],
        ),
    );
    let diff = (&c["out_holes"] - &c["out"]).abs().max().double_value(&[]);
    assert!(diff > 1e-3, "the mask changes the output ({diff})");
}

#[test]
fn padding_tokens_do_not_matter() {
    // The padding text tokens are dropped from the attention and from the pooled prompt vector:
    // changing them changes nothing.
    let m = load();
    let c = case();
    let mask = &c["encoder_attention_mask"];
    let noise = Tensor::randn(
        c["encoder_hidden_states"].size(),
        (Kind::Float, Device::Cpu),
    );
    let pad = mask.eq(0).unsqueeze(-1);
    let changed = c["encoder_hidden_states"].where_self(&pad.logical_not(), &noise);
    let a = tch::no_grad(|| m.forward(&c["hidden_states"], &c["timestep"], &changed, mask));
    let err = (a - &c["out"]).abs().max().double_value(&[]);
    check("padding changed", err);
}

#[test]
fn rope_positions_are_centred_and_scaled() {
    // 2 frames of 2x3 patches: the grid is scaled to span a 192x192 area.
    let pos = rope_positions(2, 2, 3, Device::Cpu);
    assert_eq!(pos.size(), [12, 3]);
    let scale = (192.0f64 * 192.0 / 6.0).sqrt();
    let row0 = Vec::<f32>::try_from(pos.get(0)).unwrap();
    assert_eq!(row0[0], 0.0);
    assert!((row0[1] as f64 + scale / 2.0).abs() < 1e-4, "{row0:?}");
    assert!((row0[2] as f64 + scale).abs() < 1e-4, "{row0:?}");
    let last = Vec::<f32>::try_from(pos.get(11)).unwrap();
    assert_eq!(last[0], 1.0);
    assert!((last[2] as f64 - scale).abs() < 1e-4, "{last:?}");
}

#[test]
fn config_defaults_are_mochi_1() {
    let c = MochiTransformerConfig::default();
    assert_eq!(c.inner_dim(), 3072);
    assert_eq!(c.pooled_projection_dim, 1536);
    assert_eq!(c.num_layers, 48);
    assert_eq!(c.ff_inner_dim(), 8192);
    assert_eq!(c.ff_context_inner_dim(), 4096);
    let bad = MochiTransformerConfig {
        activation_fn: "gelu".into(),
        ..c
    };
    assert!(bad.check().unwrap_err().contains("swiglu"));
}

#[test]
fn wrong_shape_is_named_before_loading() {
    // A config that disagrees with the weights: the first mismatching tensor is named.
    let src = fixtures().join("models/mochi/transformer");
    let dir = std::env::temp_dir().join(format!("mochi-wrong-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    let config = std::fs::read_to_string(src.join("config.json")).unwrap();
    let config = config.replace(
        "\"pooled_projection_dim\": 12",
        "\"pooled_projection_dim\": 20",
    );
    std::fs::write(dir.join("config.json"), config).unwrap();
    let err = MochiTransformer::load(&dir, Device::Cpu, Kind::Float).unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    match err {
        LoadError::ShapeMismatch {
            name,
            expected,
            found,
            ..
        } => {
            assert!(
                expected.contains(&20) && found.contains(&12),
                "{name}: {expected:?} vs {found:?}"
            )
        }
        other => panic!("expected a shape mismatch, got {other}"),
    }
}

#[test]
fn family_is_detected_from_model_index() {
    let models = fixtures().join("models");
    assert_eq!(detect(&models.join("mochi")).unwrap(), Family::Mochi);
    let wan = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/wan/models");
    assert_eq!(detect(&wan.join("wan21")).unwrap(), Family::Wan);
    assert_eq!(detect(&wan.join("wan22")).unwrap(), Family::Wan);
    let tiny = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny");
    if tiny.is_dir() {
        assert_eq!(detect(&tiny).unwrap(), Family::Wan);
    }
    let err = detect(&models.join("unknown_family"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"StableDiffusionPipeline\""), "{err}");
    assert!(err.contains("MochiPipeline"), "{err}");
    // A component directory (no model_index.json) says what is missing.
    let err = detect(&models.join("mochi/transformer"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("model_index.json"), "{err}");
    assert!(matches!(
        detect(&models.join("does-not-exist")),
        Err(LoadError::NoDirectory { .. })
    ));
    assert_eq!(
        Family::from_class_name("HunyuanVideoPipeline"),
        Some(Family::HunyuanVideo)
    );
    assert_eq!(
        Family::from_class_name("WanImageToVideoPipeline"),
        Some(Family::Wan)
    );
}

/// The bf16 path (what CUDA uses) runs on CPU too: every weight bf16 (diffusers keeps no Mochi
/// module in fp32; the RoPE tables and the norms' statistics are computed in fp32), the output
/// bf16 and close to the fp32 reference.
#[test]
fn bf16_path_runs_and_stays_close() {
    let dir = fixtures().join("models/mochi/transformer");
    let m = MochiTransformer::load(&dir, Device::Cpu, Kind::BFloat16).unwrap();
    let vars = m.var_store().variables();
    assert!(vars.values().all(|v| v.kind() == Kind::BFloat16));
    let c = case();
    let got = tch::no_grad(|| {
        m.forward(
            &c["hidden_states_b2"],
            &c["timestep_b2"],
            &c["encoder_hidden_states_b2"],
            &c["encoder_attention_mask_b2"],
        )
    });
    assert_eq!(got.kind(), Kind::BFloat16);
    let want = &c["out_b2"];
    let err = (got.to_kind(Kind::Float) - want)
        .abs()
        .max()
        .double_value(&[]);
    let scale = want.abs().max().double_value(&[]);
    eprintln!("mochi bf16: max abs error {err:.3e} (output max {scale:.3})");
    assert!(err <= 0.05 * scale, "bf16: {err} vs output scale {scale}");
}
