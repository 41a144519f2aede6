//! Parity of HunyuanVideo's text encoders with transformers / diffusers (the pinned releases in
//! diffusion/fixtures/hunyuan_video/make_fixtures.py) on the tiny random-weight fixtures, fp32
//! CPU: the tokenization of the templated prompt, `_get_llama_prompt_embeds` (template, crop,
//! `hidden_states[-3]`) and `_get_clip_prompt_embeds` (CLIP's pooled vector).
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::text::clip::{self, ClipTextEncoder};
use dreamfx_diffusion::text::llama::{self, LlamaEncoder, PromptTemplate};
use dreamfx_diffusion::text::umt5::PromptTokenizer;
use tch::{Device, Kind, Tensor};

const TOLERANCE: f64 = 1e-5;
const PROMPTS: [&str; 4] = [
    "a red circle moves left on a dark blue background",
    "static, blurry, low quality",
    "",
    "a zebra jumps over the moon",
];

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/hunyuan_video/models/hunyuan_video")
}

fn case() -> HashMap<String, Tensor> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/hunyuan_video/cases/text.safetensors");
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .collect()
}

fn max_error(got: &Tensor, want: &Tensor, what: &str) -> f64 {
    assert_eq!(got.size(), want.size(), "{what}: shape");
    let scale = want.abs().max().double_value(&[]);
    // The tiny Llama keeps transformers' init (std 0.02): its hidden states are ~0.06.
    assert!(
        scale > 0.01,
        "{what}: reference is trivially small ({scale})"
    );
    let err = (got - want).abs().max().double_value(&[]);
    eprintln!("{what}: max abs error {err:.3e}");
    err
}

#[test]
fn llama_prompt_embeds_match_diffusers() {
    let dir = model_dir();
    let tokenizer = PromptTokenizer::load(&dir.join("tokenizer")).unwrap();
    let encoder = LlamaEncoder::load(&dir.join("text_encoder"), Device::Cpu, Kind::Float).unwrap();
    let c = case();
    let template = PromptTemplate::default();
    let total = template.crop_start + llama::MAX_SEQUENCE_LENGTH;
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let pre = format!("p{i}.");
        // The templated text tokenizes as transformers does.
        let (ids, mask) = tokenizer.encode(&template.apply(prompt), total).unwrap();
        assert_eq!(
            Tensor::from_slice(&ids).view([1, -1]),
            c[&format!("{pre}llama_input_ids")],
            "{pre} ids"
        );
        assert_eq!(
            Tensor::from_slice(&mask).view([1, -1]),
            c[&format!("{pre}llama_attention_mask")],
            "{pre} mask"
        );
        let (embeds, mask) = tch::no_grad(|| {
            llama::encode_prompts(
                &tokenizer,
                &encoder,
                &[prompt],
                &template,
                llama::MAX_SEQUENCE_LENGTH,
                llama::HIDDEN_LAYERS_TO_SKIP,
                Device::Cpu,
            )
        })
        .unwrap();
        assert_eq!(
            mask,
            c[&format!("{pre}prompt_attention_mask")],
            "{pre} cropped mask"
        );
        let err = max_error(
            &embeds,
            &c[&format!("{pre}prompt_embeds")],
            &format!("{pre} llama"),
        );
        assert!(err <= TOLERANCE, "{pre}: {err:e} > {TOLERANCE:e}");
    }
}

#[test]
fn clip_pooled_embeds_match_diffusers() {
    let dir = model_dir();
    let tokenizer = PromptTokenizer::load(&dir.join("tokenizer_2")).unwrap();
    let encoder =
        ClipTextEncoder::load(&dir.join("text_encoder_2"), Device::Cpu, Kind::Float).unwrap();
    let c = case();
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let pre = format!("p{i}.");
        let (ids, _) = tokenizer.encode(prompt, clip::MAX_SEQUENCE_LENGTH).unwrap();
        assert_eq!(
            Tensor::from_slice(&ids).view([1, -1]),
            c[&format!("{pre}clip_input_ids")],
            "{pre} clip ids"
        );
        let pooled =
            tch::no_grad(|| clip::encode_prompts(&tokenizer, &encoder, &[prompt], Device::Cpu))
                .unwrap();
        let err = max_error(
            &pooled,
            &c[&format!("{pre}pooled_prompt_embeds")],
            &format!("{pre} clip"),
        );
        assert!(err <= TOLERANCE, "{pre}: {err:e} > {TOLERANCE:e}");
    }
}

#[test]
fn a_batch_of_prompts_encodes_like_one_at_a_time() {
    let dir = model_dir();
    let tokenizer = PromptTokenizer::load(&dir.join("tokenizer")).unwrap();
    let encoder = LlamaEncoder::load(&dir.join("text_encoder"), Device::Cpu, Kind::Float).unwrap();
    let c = case();
    let (embeds, _) = tch::no_grad(|| {
        llama::encode_prompts(
            &tokenizer,
            &encoder,
            &PROMPTS,
            &PromptTemplate::default(),
            llama::MAX_SEQUENCE_LENGTH,
            llama::HIDDEN_LAYERS_TO_SKIP,
            Device::Cpu,
        )
    })
    .unwrap();
    for i in 0..PROMPTS.len() {
        let err = max_error(
            &embeds.narrow(0, i as i64, 1),
            &c[&format!("p{i}.prompt_embeds")],
            &format!("batch row {i}"),
        );
        assert!(err <= TOLERANCE);
    }
}
