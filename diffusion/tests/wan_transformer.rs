//! Parity of the Wan transformer with diffusers (`WanTransformer3DModel`, the pinned release in
//! diffusion/fixtures/wan/make_fixtures.py) on the tiny random-weight fixture models, fp32 CPU.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::loading::LoadError;
use dreamfx_diffusion::models::wan::transformer::{
    apply_rope, is_original_name, original_to_diffusers, rope_tables, timestep_embedding,
    WanTransformer, WanTransformerConfig,
};
use tch::{Device, Kind, Tensor};

const TOLERANCE: f64 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/wan")
}

fn case(name: &str) -> HashMap<String, Tensor> {
    let path = fixtures()
        .join("cases")
        .join(format!("transformer_{name}.safetensors"));
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn load(model: &str) -> WanTransformer {
    let dir = fixtures().join("models").join(model).join("transformer");
    WanTransformer::load(&dir, Device::Cpu, Kind::Float)
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}

/// Runs the model on `case[hs], case[t], case[ehs]` and returns the max abs error against
/// `case[out]`.
fn max_error(
    m: &WanTransformer,
    case: &HashMap<String, Tensor>,
    hs: &str,
    t: &str,
    ehs: &str,
    out: &str,
) -> f64 {
    let got = tch::no_grad(|| m.forward(&case[hs], &case[t], &case[ehs]));
    let want = &case[out];
    assert_eq!(got.size(), want.size(), "{out}: shape");
    assert_eq!(got.kind(), Kind::Float);
    let scale = want.abs().max().double_value(&[]);
    assert!(
        scale > 0.1,
        "{out}: reference output is trivially small ({scale})"
    );
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
fn wan21_matches_diffusers() {
    let m = load("wan21");
    let c = case("wan21");
    check(
        "wan21 batch 1",
        max_error(
            &m,
            &c,
            "hidden_states",
            "timestep",
            "encoder_hidden_states",
            "out",
        ),
    );
    check(
        "wan21 batch 2",
        max_error(
            &m,
            &c,
            "hidden_states_b2",
            "timestep_b2",
            "encoder_hidden_states_b2",
            "out_b2",
        ),
    );
}

#[test]
fn wan22_matches_diffusers() {
    let m = load("wan22");
    assert_eq!(m.config().in_channels, 48);
    let c = case("wan22");
    check(
        "wan22 batch 1",
        max_error(
            &m,
            &c,
            "hidden_states",
            "timestep",
            "encoder_hidden_states",
            "out",
        ),
    );
    check(
        "wan22 batch 2",
        max_error(
            &m,
            &c,
            "hidden_states_b2",
            "timestep_b2",
            "encoder_hidden_states_b2",
            "out_b2",
        ),
    );
}

#[test]
fn wan22_per_token_timestep_matches_diffusers() {
    let m = load("wan22");
    let c = case("wan22");
    assert_eq!(c["timestep_per_token"].dim(), 2);
    check(
        "wan22 per-token timestep (first frame 0)",
        max_error(
            &m,
            &c,
            "hidden_states",
            "timestep_per_token",
            "encoder_hidden_states",
            "out_per_token",
        ),
    );
    check(
        "wan22 per-token timestep (constant)",
        max_error(
            &m,
            &c,
            "hidden_states",
            "timestep_per_token_const",
            "encoder_hidden_states",
            "out_per_token_const",
        ),
    );
    // The clean first frame really changes the result (the per-token path is exercised).
    let diff = (&c["out_per_token"] - &c["out"])
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        diff > 1e-3,
        "fixture: per-token output equals the scalar one ({diff})"
    );
}

#[test]
fn original_key_names_load_and_match() {
    let m = load("wan21_original");
    let c = case("wan21");
    check(
        "wan21 original key names",
        max_error(
            &m,
            &c,
            "hidden_states",
            "timestep",
            "encoder_hidden_states",
            "out",
        ),
    );
    // Weight for weight the same model as the diffusers-named checkpoint.
    let d = load("wan21");
    let a = m.var_store().variables();
    let b = d.var_store().variables();
    assert_eq!(a.len(), b.len());
    for (name, t) in &a {
        assert!(t.equal(&b[name]), "{name} differs");
    }
    // Every key of the fixture's mapping file (original → diffusers) agrees with ours.
    let mapping = fixtures().join("models/wan21_original/key_mapping_transformer.json");
    let mapping: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(mapping).unwrap()).unwrap();
    assert_eq!(mapping.len(), a.len());
    for (orig, want) in &mapping {
        assert_eq!(&original_to_diffusers(orig), want, "{orig}");
    }
}

#[test]
fn original_names_without_renaming_are_reported_missing() {
    let dir = fixtures().join("models/wan21_original/transformer");
    let err =
        WanTransformer::load_with_names(&dir, Device::Cpu, Kind::Float, &|n: &str| n.to_string())
            .unwrap_err();
    assert!(matches!(err, LoadError::MissingTensor { .. }), "{err}");
}

#[test]
fn wrong_shape_is_refused_naming_tensor_and_shapes() {
    let dir = fixtures().join("models/wrong_shape/transformer");
    let err = WanTransformer::load(&dir, Device::Cpu, Kind::Float).unwrap_err();
    let msg = err.to_string();
    eprintln!("wrong_shape: {msg}");
    match &err {
        LoadError::ShapeMismatch {
            name,
            expected,
            found,
            ..
        } => {
            assert_eq!(name, "blocks.0.attn1.to_q.weight");
            assert_eq!(expected, &[24, 24]);
            assert_eq!(found, &[24, 28]);
        }
        other => panic!("expected a shape mismatch, got {other}"),
    }
    assert!(msg.contains("blocks.0.attn1.to_q.weight"), "{msg}");
    assert!(
        msg.contains("[24, 24]") && msg.contains("[24, 28]"),
        "{msg}"
    );
}

#[test]
fn pickle_only_is_refused() {
    let dir = fixtures().join("models/pickle_only/transformer");
    let err = WanTransformer::load(&dir, Device::Cpu, Kind::Float).unwrap_err();
    let msg = err.to_string();
    eprintln!("pickle_only: {msg}");
    assert!(matches!(err, LoadError::PickleOnly { .. }), "{msg}");
    assert!(
        msg.contains("diffusion_pytorch_model.bin") && msg.contains("safetensors"),
        "{msg}"
    );
}

#[test]
fn image_conditioned_config_is_refused() {
    let dir = std::env::temp_dir().join(format!("dreamfx-wan-i2v-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = fixtures().join("models/wan21/transformer");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config["image_dim"] = 1280.into();
    config["added_kv_proj_dim"] = 24.into();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    std::fs::copy(
        src.join("diffusion_pytorch_model.safetensors"),
        dir.join("diffusion_pytorch_model.safetensors"),
    )
    .unwrap();
    let err = WanTransformer::load(&dir, Device::Cpu, Kind::Float).unwrap_err();
    std::fs::remove_dir_all(&dir).ok();
    let msg = err.to_string();
    assert!(matches!(err, LoadError::BadConfig { .. }), "{msg}");
    assert!(msg.contains("not supported"), "{msg}");
}

// ---- pieces checked by hand (no fixtures needed)

fn tiny() -> WanTransformerConfig {
    WanTransformerConfig {
        patch_size: [1, 2, 2],
        num_attention_heads: 2,
        attention_head_dim: 12,
        in_channels: 4,
        out_channels: Some(4),
        text_dim: 16,
        freq_dim: 8,
        ffn_dim: 32,
        num_layers: 2,
        cross_attn_norm: true,
        qk_norm: Some("rms_norm_across_heads".into()),
        eps: 1e-6,
        image_dim: None,
        added_kv_proj_dim: None,
        rope_max_seq_len: 32,
        pos_embed_seq_len: None,
    }
}

#[test]
fn config_defaults_are_diffusers() {
    let c = WanTransformerConfig::default();
    assert_eq!(c.patch_size, [1, 2, 2]);
    assert_eq!(c.inner_dim(), 5120);
    assert_eq!(c.rope_dims(), (44, 42, 42));
    let c: WanTransformerConfig = serde_json::from_str(
        r#"{"_class_name": "WanTransformer3DModel", "out_channels": null, "in_channels": 48}"#,
    )
    .unwrap();
    assert_eq!(c.out_dim(), 48);
    assert!(c.check().is_ok());
    let i2v: WanTransformerConfig =
        serde_json::from_str(r#"{"image_dim": 1280, "added_kv_proj_dim": 5120}"#).unwrap();
    assert!(i2v.check().unwrap_err().contains("not supported"));
}

#[test]
fn timestep_embedding_values() {
    // dim 4: half 2, freqs [1, 10000^-1/2 = 0.01]; cos first.
    let e = timestep_embedding(&Tensor::from_slice(&[0f32, 500.0]), 4);
    assert_eq!(e.size(), [2, 4]);
    let got: Vec<f32> = e.flatten(0, 1).try_into().unwrap();
    let want = [
        1.0,
        1.0,
        0.0,
        0.0,
        500f32.cos(),
        5f32.cos(),
        500f32.sin(),
        5f32.sin(),
    ];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
    let odd = timestep_embedding(&Tensor::from_slice(&[3i64]), 5);
    assert_eq!(odd.size(), [1, 5]);
    assert_eq!(odd.double_value(&[0, 4]), 0.0);
}

#[test]
fn rope_tables_shapes_and_values() {
    let c = tiny(); // head dim 12: h = w = 4, t = 4.
    assert_eq!(c.rope_dims(), (4, 4, 4));
    let (cos, sin) = rope_tables(&c, (2, 3, 5), Device::Cpu);
    assert_eq!(cos.size(), [1, 30, 1, 6]);
    assert_eq!(sin.size(), [1, 30, 1, 6]);
    // Token (f=1, h=2, w=4) is index 1*15 + 2*5 + 4 = 29. Pair j of an axis of size d rotates
    // by pos * 10000^(-2j/d).
    let tok = 29;
    let angles: [f64; 6] = [1.0, 1e-2, 2.0, 2e-2, 4.0, 4e-2];
    for (j, a) in angles.iter().enumerate() {
        let cj = cos.double_value(&[0, tok, 0, j as i64]);
        let sj = sin.double_value(&[0, tok, 0, j as i64]);
        assert!((cj - a.cos()).abs() < 1e-6, "pair {j}: cos {cj}");
        assert!((sj - a.sin()).abs() < 1e-6, "pair {j}: sin {sj}");
    }
    // Head dim 128 (Wan2.1/2.2): t 44, h 42, w 42 → 64 pairs.
    let big = WanTransformerConfig::default();
    let (cos, _) = rope_tables(&big, (3, 4, 4), Device::Cpu);
    assert_eq!(cos.size(), [1, 48, 1, 64]);
}

#[test]
fn rope_rotates_interleaved_pairs() {
    let x = Tensor::from_slice(&[1f32, 0.0, 0.0, 2.0]).view([1, 1, 1, 4]);
    let half_pi = std::f32::consts::FRAC_PI_2;
    let cos = Tensor::from_slice(&[half_pi.cos(), 1.0]).view([1, 1, 1, 2]);
    let sin = Tensor::from_slice(&[half_pi.sin(), 0.0]).view([1, 1, 1, 2]);
    let y: Vec<f32> = apply_rope(&x, &cos, &sin)
        .flatten(0, -1)
        .try_into()
        .unwrap();
    let want = [0.0, 1.0, 0.0, 2.0];
    for (g, w) in y.iter().zip(want) {
        assert!((g - w).abs() < 1e-6, "{y:?}");
    }
}

#[test]
fn original_names_map_to_diffusers() {
    let cases = [
        ("patch_embedding.weight", "patch_embedding.weight"),
        (
            "time_embedding.0.weight",
            "condition_embedder.time_embedder.linear_1.weight",
        ),
        (
            "time_embedding.2.bias",
            "condition_embedder.time_embedder.linear_2.bias",
        ),
        (
            "text_embedding.0.weight",
            "condition_embedder.text_embedder.linear_1.weight",
        ),
        (
            "text_embedding.2.weight",
            "condition_embedder.text_embedder.linear_2.weight",
        ),
        (
            "time_projection.1.weight",
            "condition_embedder.time_proj.weight",
        ),
        ("head.modulation", "scale_shift_table"),
        ("head.head.weight", "proj_out.weight"),
        ("blocks.3.modulation", "blocks.3.scale_shift_table"),
        ("blocks.0.self_attn.q.weight", "blocks.0.attn1.to_q.weight"),
        ("blocks.0.self_attn.o.bias", "blocks.0.attn1.to_out.0.bias"),
        (
            "blocks.0.self_attn.norm_q.weight",
            "blocks.0.attn1.norm_q.weight",
        ),
        (
            "blocks.12.cross_attn.k.weight",
            "blocks.12.attn2.to_k.weight",
        ),
        (
            "blocks.12.cross_attn.norm_k.weight",
            "blocks.12.attn2.norm_k.weight",
        ),
        (
            "blocks.1.cross_attn.k_img.weight",
            "blocks.1.attn2.add_k_proj.weight",
        ),
        (
            "blocks.1.cross_attn.norm_k_img.weight",
            "blocks.1.attn2.norm_added_k.weight",
        ),
        ("blocks.0.norm3.weight", "blocks.0.norm2.weight"),
        ("blocks.0.norm3.bias", "blocks.0.norm2.bias"),
        ("blocks.0.ffn.0.weight", "blocks.0.ffn.net.0.proj.weight"),
        ("blocks.0.ffn.2.bias", "blocks.0.ffn.net.2.bias"),
        ("model.diffusion_model.head.head.bias", "proj_out.bias"),
    ];
    for (orig, want) in cases {
        assert_eq!(original_to_diffusers(orig), want, "{orig}");
    }
    assert!(is_original_name("head.head.weight"));
    assert!(is_original_name("blocks.0.self_attn.q.weight"));
    assert!(!is_original_name("blocks.0.attn1.to_q.weight"));
    assert!(!is_original_name("scale_shift_table"));
    assert!(!is_original_name("patch_embedding.weight"));
}

/// Every variable of a built model, renamed back from original names, matches; and the
/// variable names are the diffusers state-dict keys.
#[test]
fn variable_names_are_diffusers_keys() {
    let m = WanTransformer::new(tiny(), Device::Cpu, Kind::Float).unwrap();
    let vars = m.var_store().variables();
    for key in [
        "patch_embedding.weight",
        "patch_embedding.bias",
        "condition_embedder.time_embedder.linear_1.weight",
        "condition_embedder.time_embedder.linear_2.bias",
        "condition_embedder.time_proj.weight",
        "condition_embedder.text_embedder.linear_1.weight",
        "condition_embedder.text_embedder.linear_2.weight",
        "blocks.0.attn1.to_q.weight",
        "blocks.0.attn1.norm_q.weight",
        "blocks.0.attn1.norm_k.weight",
        "blocks.0.attn1.to_out.0.weight",
        "blocks.1.attn2.to_v.bias",
        "blocks.1.norm2.weight",
        "blocks.1.norm2.bias",
        "blocks.0.ffn.net.0.proj.weight",
        "blocks.0.ffn.net.2.weight",
        "blocks.0.scale_shift_table",
        "scale_shift_table",
        "proj_out.weight",
        "proj_out.bias",
    ] {
        assert!(vars.contains_key(key), "missing {key}");
    }
    // patch_embedding 2, condition_embedder 10, per block (2 attentions × (4 linears × 2 +
    // 2 RMSNorm weights) + norm2 2 + ffn 4 + table 1 = 27), scale_shift_table 1, proj_out 2.
    assert_eq!(vars.len(), 2 + 10 + 2 * 27 + 1 + 2);
    assert_eq!(vars["blocks.0.attn1.to_q.weight"].size(), [24, 24]);
    assert_eq!(vars["proj_out.weight"].size(), [16, 24]);
    assert_eq!(vars["patch_embedding.weight"].size(), [24, 4, 1, 2, 2]);
}

#[test]
fn forward_shapes_and_per_token_equivalence() {
    tch::manual_seed(0);
    let m = WanTransformer::new(tiny(), Device::Cpu, Kind::Float).unwrap();
    let x = Tensor::randn([2, 4, 3, 4, 6], (Kind::Float, Device::Cpu));
    let ctx = Tensor::randn([2, 5, 16], (Kind::Float, Device::Cpu));
    let t = Tensor::from_slice(&[999f32, 10.0]);
    let out = tch::no_grad(|| m.forward(&x, &t, &ctx));
    assert_eq!(out.size(), [2, 4, 3, 4, 6]);
    // A per-token timestep equal everywhere gives the same result.
    let tt = t.unsqueeze(1).expand([2, 3 * 2 * 3], false);
    let out2 = tch::no_grad(|| m.forward(&x, &tt, &ctx));
    let err = (&out - &out2).abs().max().double_value(&[]);
    assert!(err < 1e-5, "per-token vs per-sample: {err}");
}

#[test]
fn forward_is_differentiable() {
    tch::manual_seed(1);
    let m = WanTransformer::new(tiny(), Device::Cpu, Kind::Float).unwrap();
    let x = Tensor::randn([1, 4, 1, 2, 2], (Kind::Float, Device::Cpu));
    let ctx = Tensor::randn([1, 3, 16], (Kind::Float, Device::Cpu));
    let out = m.forward(&x, &Tensor::from_slice(&[500f32]), &ctx);
    out.square().sum(Kind::Float).backward();
    let g = m.var_store().variables()["blocks.0.attn1.to_q.weight"].grad();
    assert!(g.defined() && g.abs().sum(Kind::Float).double_value(&[]) > 0.0);
}

/// The bf16 path (what CUDA uses) runs on CPU too: the fp32-kept parts stay fp32 (diffusers'
/// `_keep_in_fp32_modules`), the output is bf16 and close to the fp32 reference.
#[test]
fn bf16_path_runs_and_stays_close() {
    let dir = fixtures().join("models/wan22/transformer");
    let m = WanTransformer::load(&dir, Device::Cpu, Kind::BFloat16).unwrap();
    let vars = m.var_store().variables();
    for (name, kind) in [
        (
            "condition_embedder.time_embedder.linear_1.weight",
            Kind::Float,
        ),
        ("blocks.0.scale_shift_table", Kind::Float),
        ("blocks.0.norm2.weight", Kind::Float),
        ("scale_shift_table", Kind::Float),
        ("blocks.0.attn1.to_q.weight", Kind::BFloat16),
        ("condition_embedder.time_proj.weight", Kind::BFloat16),
        ("proj_out.weight", Kind::BFloat16),
    ] {
        assert_eq!(vars[name].kind(), kind, "{name}");
    }
    let c = case("wan22");
    for (t, out) in [("timestep", "out"), ("timestep_per_token", "out_per_token")] {
        let got =
            tch::no_grad(|| m.forward(&c["hidden_states"], &c[t], &c["encoder_hidden_states"]));
        assert_eq!(got.kind(), Kind::BFloat16);
        let want = &c[out];
        let err = (got.to_kind(Kind::Float) - want)
            .abs()
            .max()
            .double_value(&[]);
        let scale = want.abs().max().double_value(&[]);
        eprintln!("wan22 bf16 {t}: max abs error {err:.3e} (output max {scale:.3})");
        assert!(
            err <= 0.05 * scale,
            "bf16 {t}: {err} vs output scale {scale}"
        );
    }
}
