//! Mochi's T5 text encoder and prompt encoding against transformers / diffusers (fixtures from
//! diffusion/fixtures/mochi/make_fixtures.py: cases/t5.*, models/mochi/text_encoder, tokenizer).
use std::path::PathBuf;

use dreamfx_diffusion::text::t5::{
    encode_prompts, PositionBias, PromptTokenizer, T5Encoder, MAX_SEQUENCE_LENGTH,
};
use tch::{Device, Kind, Tensor};

const MAX_ABS_ERR: f64 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mochi")
}

fn case() -> (serde_json::Value, Vec<(String, Tensor)>) {
    let dir = fixtures().join("cases");
    let json = std::fs::read_to_string(dir.join("t5.json")).expect("cases/t5.json");
    (
        serde_json::from_str(&json).expect("t5.json parses"),
        Tensor::read_safetensors(dir.join("t5.safetensors")).expect("cases/t5.safetensors"),
    )
}

fn get<'a>(tensors: &'a [(String, Tensor)], name: &str) -> &'a Tensor {
    &tensors
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} missing from t5.safetensors"))
        .1
}

fn encoder() -> T5Encoder {
    T5Encoder::load(
        &fixtures().join("models/mochi/text_encoder"),
        Device::Cpu,
        Kind::Float,
    )
    .expect("loading the T5 text encoder")
}

fn max_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

#[test]
fn t5_encoder_matches_transformers() {
    let te = encoder();
    assert_eq!(te.position_bias(), PositionBias::FirstLayerShared);
    assert_eq!(te.config().num_layers, 3);
    let (json, tensors) = case();
    let prompts = json["prompts"].as_array().unwrap();
    assert_eq!(prompts.len(), 4);
    for p in prompts {
        let pre = p["prefix"].as_str().unwrap();
        let ids = get(&tensors, &format!("{pre}input_ids"));
        let mask = get(&tensors, &format!("{pre}attention_mask"));
        let want = get(&tensors, &format!("{pre}last_hidden_state"));
        let got = tch::no_grad(|| te.forward(ids, mask));
        let err = max_err(&got, want);
        eprintln!("{:?}: max abs error {err:.3e}", p["prompt"]);
        assert!(err <= MAX_ABS_ERR, "{:?}: {err:e}", p["prompt"]);
    }
}

#[test]
fn mochi_prompt_embeds_match_diffusers() {
    // `_get_t5_prompt_embeds`: the raw encoder output (padding rows NOT zeroed) and the mask.
    let te = encoder();
    let tok = PromptTokenizer::load(&fixtures().join("models/mochi/tokenizer")).unwrap();
    let (json, tensors) = case();
    assert_eq!(
        json["max_sequence_length"].as_u64().unwrap() as usize,
        MAX_SEQUENCE_LENGTH
    );
    for p in json["prompts"].as_array().unwrap() {
        let pre = p["prefix"].as_str().unwrap();
        let prompt = p["prompt"].as_str().unwrap();
        let (embeds, mask) = tch::no_grad(|| {
            encode_prompts(
                &tok,
                &te,
                &[prompt],
                MAX_SEQUENCE_LENGTH,
                false,
                Device::Cpu,
            )
        })
        .unwrap();
        let want_mask = get(&tensors, &format!("{pre}attention_mask"));
        assert!(
            mask.to_kind(Kind::Int64).equal(want_mask),
            "{prompt:?}: attention mask"
        );
        let err = max_err(&embeds, get(&tensors, &format!("{pre}last_hidden_state")));
        assert!(err <= MAX_ABS_ERR, "{prompt:?}: {err:e}");
    }
}

#[test]
fn first_layer_bias_is_shared_not_per_layer() {
    // Read as umT5 (a bias table per layer), the T5 checkpoint lacks the later layers' tables.
    let dir = fixtures().join("models/mochi/text_encoder");
    let config: dreamfx_diffusion::text::t5::T5Config =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let as_umt5 =
        T5Encoder::with_position_bias(&config, PositionBias::PerLayer, Device::Cpu, Kind::Float)
            .unwrap();
    let names: Vec<String> = as_umt5.var_store().variables().into_keys().collect();
    assert!(names
        .iter()
        .any(|n| n == "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
    let t5 = encoder();
    let names: Vec<String> = t5.var_store().variables().into_keys().collect();
    let tables: Vec<&String> = names
        .iter()
        .filter(|n| n.contains("relative_attention_bias"))
        .collect();
    assert_eq!(
        tables,
        ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
    );
    assert!(PositionBias::from_model_type(Some("bert")).is_err());
}

#[test]
fn force_zeros_for_empty_prompt_zeroes_the_whole_call() {
    // The reference's quirk: an empty LAST prompt zeroes every prompt's ids and mask.
    let te = encoder();
    let tok = PromptTokenizer::load(&fixtures().join("models/mochi/tokenizer")).unwrap();
    let (embeds, mask) =
        tch::no_grad(|| encode_prompts(&tok, &te, &["a red circle", ""], 16, true, Device::Cpu))
            .unwrap();
    assert_eq!(mask.sum(Kind::Int64).int64_value(&[]), 0);
    let (first, _) =
        tch::no_grad(|| encode_prompts(&tok, &te, &["a red circle"], 16, true, Device::Cpu))
            .unwrap();
    assert!(max_err(&embeds.get(0), &first.get(0)) > 1e-3);
    // An empty prompt that is not last zeroes nothing.
    let (_, mask) =
        tch::no_grad(|| encode_prompts(&tok, &te, &["", "a red circle"], 16, true, Device::Cpu))
            .unwrap();
    assert!(mask.sum(Kind::Int64).int64_value(&[]) > 0);
}
