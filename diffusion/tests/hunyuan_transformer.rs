//! Parity of the HunyuanVideo transformer with diffusers (`HunyuanVideoTransformer3DModel`, the
//! pinned release in diffusion/fixtures/hunyuan_video/make_fixtures.py) on the tiny random-weight
//! fixture model, fp32 CPU.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::loading::LoadError;
use dreamfx_diffusion::models::hunyuan_video::transformer::{
    HunyuanVideoTransformer, HunyuanVideoTransformerConfig,
};
use tch::{Device, Kind, Tensor};

const TOLERANCE: f64 = 1e-5;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/hunyuan_video")
}

fn case() -> HashMap<String, Tensor> {
    let path = fixtures().join("cases/transformer.safetensors");
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn load() -> HunyuanVideoTransformer {
    let dir = fixtures().join("models/hunyuan_video/transformer");
    HunyuanVideoTransformer::load(&dir, Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

/// Runs the model on the inputs named `<input><suffix>` and returns the max abs error against
/// `case[out]`.
fn max_error(
    m: &HunyuanVideoTransformer,
    c: &HashMap<String, Tensor>,
    [hs, t, ehs, mask, pooled, guidance]: [&str; 6],
    out: &str,
) -> f64 {
    let got = tch::no_grad(|| {
        m.forward(
            &c[hs],
            &c[t],
            &c[ehs],
            &c[mask],
            &c[pooled],
            Some(&c[guidance]),
        )
    });
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

const BATCH1: [&str; 6] = [
    "hidden_states",
    "timestep",
    "encoder_hidden_states",
    "encoder_attention_mask",
    "pooled_projections",
    "guidance",
];

#[test]
fn hunyuan_transformer_matches_diffusers() {
    let m = load();
    assert_eq!(m.config().inner_dim(), 16);
    assert_eq!(m.config().rope_axes_dim, [2, 2, 4]);
    let c = case();
    check("batch 1", max_error(&m, &c, BATCH1, "out"));
    check(
        "batch 2 (different masks, timesteps and guidance)",
        max_error(
            &m,
            &c,
            [
                "hidden_states_b2",
                "timestep_b2",
                "encoder_hidden_states_b2",
                "encoder_attention_mask_b2",
                "pooled_projections_b2",
                "guidance_b2",
            ],
            "out_b2",
        ),
    );
    let mut one_frame = BATCH1;
    one_frame[0] = "hidden_states_f1";
    check("one frame", max_error(&m, &c, one_frame, "out_f1"));
}

#[test]
fn mask_with_holes_matches_diffusers() {
    // The refiner follows the mask; the joint attention only counts it (a prefix mask of
    // sum(mask) tokens). Both are reproduced.
    let m = load();
    let c = case();
    let mut holes = BATCH1;
    holes[3] = "encoder_attention_mask_holes";
    check("mask with holes", max_error(&m, &c, holes, "out_holes"));
}

#[test]
fn default_config_is_hunyuan_video() {
    let c = HunyuanVideoTransformerConfig::default();
    assert_eq!(c.inner_dim(), 3072);
    assert_eq!(c.mlp_dim(), 12288);
    assert_eq!((c.num_layers, c.num_single_layers), (20, 40));
    assert!(c.guidance_embeds);
    c.check().unwrap();
}

#[test]
fn unsupported_configs_are_refused_before_loading() {
    let bad_rope = HunyuanVideoTransformerConfig {
        rope_axes_dim: vec![16, 56, 58],
        ..Default::default()
    };
    assert!(bad_rope.check().unwrap_err().contains("rope_axes_dim"));
    let i2v = HunyuanVideoTransformerConfig {
        image_condition_type: Some("token_replace".into()),
        ..Default::default()
    };
    assert!(i2v.check().unwrap_err().contains("image-to-video"));

    // A config that disagrees with the weights is named before anything is read.
    let dir = tempdir();
    let src = fixtures().join("models/hunyuan_video/transformer");
    for f in ["config.json", "diffusion_pytorch_model.safetensors"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    cfg["pooled_projection_dim"] = 20.into();
    std::fs::write(dir.join("config.json"), cfg.to_string()).unwrap();
    match HunyuanVideoTransformer::load(&dir, Device::Cpu, Kind::Float) {
        Err(LoadError::ShapeMismatch { name, .. }) => {
            assert_eq!(name, "time_text_embed.text_embedder.linear_1.weight")
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dreamfx-hunyuan-tr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The bf16 path (what CUDA uses) runs on CPU too: every weight bf16, the RoPE tables and norm
/// statistics in fp32, the output bf16 and close to the fp32 reference.
#[test]
fn bf16_path_runs_and_stays_close() {
    let dir = fixtures().join("models/hunyuan_video/transformer");
    let m = HunyuanVideoTransformer::load(&dir, Device::Cpu, Kind::BFloat16).unwrap();
    assert!(m
        .var_store()
        .variables()
        .values()
        .all(|v| v.kind() == Kind::BFloat16));
    let c = case();
    let got = tch::no_grad(|| {
        m.forward(
            &c["hidden_states_b2"],
            &c["timestep_b2"],
            &c["encoder_hidden_states_b2"],
            &c["encoder_attention_mask_b2"],
            &c["pooled_projections_b2"],
            Some(&c["guidance_b2"]),
        )
    });
    assert_eq!(got.kind(), Kind::BFloat16);
    let want = &c["out_b2"];
    let err = (got.to_kind(Kind::Float) - want)
        .abs()
        .max()
        .double_value(&[]);
    let scale = want.abs().max().double_value(&[]);
    eprintln!("hunyuan bf16: max abs error {err:.3e} (output max {scale:.3})");
    assert!(err <= 0.05 * scale, "bf16: {err} vs output scale {scale}");
}
