//! The umT5 text encoder, its tokenizer and the Wan prompt encoding against the transformers /
//! diffusers reference fixtures in diffusion/fixtures/wan (cases/umt5.*, models/wan21/text_encoder,
//! models/wan21/tokenizer), plus checks that need no fixture.
use std::path::{Path, PathBuf};

use dreamfx_diffusion::text::umt5::{
    encode_prompts, html_unescape, position_buckets, prompt_clean, relative_position_bucket,
    Activation, PromptTokenizer, UmT5Config, UmT5Encoder,
};
use tch::{Device, Kind, Tensor};

const MAX_ABS_ERR: f64 = 1e-4;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wan")
}

fn text_encoder_dir() -> PathBuf {
    fixtures().join("models/wan21/text_encoder")
}

fn tokenizer_dir() -> PathBuf {
    fixtures().join("models/wan21/tokenizer")
}

struct Case {
    json: serde_json::Value,
    tensors: Vec<(String, Tensor)>,
}

impl Case {
    fn load() -> Case {
        let dir = fixtures().join("cases");
        let json = std::fs::read_to_string(dir.join("umt5.json")).expect("cases/umt5.json");
        Case {
            json: serde_json::from_str(&json).expect("umt5.json parses"),
            tensors: Tensor::read_safetensors(dir.join("umt5.safetensors"))
                .expect("cases/umt5.safetensors"),
        }
    }

    fn get(&self, name: &str) -> &Tensor {
        &self
            .tensors
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing from umt5.safetensors"))
            .1
    }

    fn max_len(&self) -> usize {
        self.json["max_sequence_length"].as_u64().unwrap() as usize
    }

    fn prompts(&self) -> &Vec<serde_json::Value> {
        self.json["prompts"].as_array().unwrap()
    }

    /// `(prompt index, tensor-name prefix)` of the prompts that have tensors (the main prompt
    /// under plain names, the others under `p{i}.`).
    fn with_tensors(&self) -> Vec<(usize, String)> {
        let cases: Vec<(usize, String)> = self
            .prompts()
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, p.get("tensors_prefix")?.as_str()?.to_string())))
            .collect();
        assert!(
            cases.len() >= 3,
            "umt5.json names fewer tensors than expected"
        );
        cases
    }

    /// The tensor `name` of a prompt (`prefix` from [`Case::with_tensors`]).
    fn of(&self, prefix: &str, name: &str) -> &Tensor {
        self.get(&format!("{prefix}{name}"))
    }
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
        .abs()
        .max()
        .double_value(&[])
}

fn to_vec(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.flatten(0, -1)).unwrap()
}

#[test]
fn prompt_clean_matches_diffusers() {
    let case = Case::load();
    for p in case.prompts() {
        let raw = p["prompt"].as_str().unwrap();
        assert_eq!(
            prompt_clean(raw),
            p["prompt_clean"].as_str().unwrap(),
            "{raw:?}"
        );
    }
}

#[test]
fn tokenizer_ids_equal_the_reference() {
    let case = Case::load();
    let tok = PromptTokenizer::load(&tokenizer_dir()).unwrap();
    assert_eq!(tok.pad_id(), case.json["pad_id"].as_i64().unwrap());
    let max_len = case.max_len();
    for p in case.prompts() {
        let cleaned = p["prompt_clean"].as_str().unwrap();
        let expected: Vec<i64> = p["token_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let seq_len = p["seq_len"].as_u64().unwrap() as usize;
        let (ids, mask) = tok.encode(cleaned, max_len).unwrap();
        assert_eq!(ids.len(), max_len);
        assert_eq!(&ids[..seq_len], &expected[..], "{cleaned:?}");
        assert!(ids[seq_len..].iter().all(|&i| i == tok.pad_id()));
        assert!(mask[..seq_len].iter().all(|&m| m == 1));
        assert!(mask[seq_len..].iter().all(|&m| m == 0));
        if let Some(prefix) = p.get("tensors_prefix").and_then(|v| v.as_str()) {
            assert_eq!(ids, to_vec(case.of(prefix, "input_ids")));
            assert_eq!(mask, to_vec(case.of(prefix, "attention_mask")));
        }
    }
}

/// `model_max_length` is the length the pipeline pads prompts to when it is a real length;
/// the huge placeholder tokenizers without one store, or no value, leave Wan's 512.
#[test]
fn tokenizer_reports_a_real_model_max_length_only() {
    let tok = PromptTokenizer::load(&tokenizer_dir()).unwrap();
    assert_eq!(tok.model_max_length(), Some(512));
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tokenizer_dir().join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    for (value, expected) in [
        (serde_json::json!(32), Some(32)),
        (serde_json::json!(1e30), None),
        (serde_json::Value::Null, None),
    ] {
        let dir = std::env::temp_dir().join(format!(
            "dreamfx-tokenizer-max-{}-{}",
            std::process::id(),
            value
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            tokenizer_dir().join("tokenizer.json"),
            dir.join("tokenizer.json"),
        )
        .unwrap();
        let mut c = config.clone();
        c["model_max_length"] = value.clone();
        std::fs::write(dir.join("tokenizer_config.json"), c.to_string()).unwrap();
        let tok = PromptTokenizer::load(&dir).unwrap();
        assert_eq!(tok.model_max_length(), expected, "model_max_length {value}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn tokenizer_truncates_keeping_eos_and_pads_short() {
    let tok = PromptTokenizer::load(&tokenizer_dir()).unwrap();
    let long = "a red circle moves left on a dark blue background";
    // 10 pieces + </s>: cut to 5 with </s> kept last, as transformers' truncation does.
    let (ids, mask) = tok.encode(long, 5).unwrap();
    assert_eq!(ids, vec![3, 21, 39, 51, 1]);
    assert_eq!(mask, vec![1; 5]);
    let (ids, mask) = tok.encode("a green star", 6).unwrap();
    assert_eq!(ids, vec![3, 22, 42, 1, 0, 0]);
    assert_eq!(mask, vec![1, 1, 1, 1, 0, 0]);
    assert!(tok.encode("a", 0).is_err());
}

#[test]
fn encoder_equals_transformers() {
    let case = Case::load();
    let enc = UmT5Encoder::load(&text_encoder_dir(), Device::Cpu, Kind::Float).unwrap();
    let _guard = tch::no_grad_guard();
    let cases = case.with_tensors();
    for (i, prefix) in &cases {
        let out = enc.forward(
            case.of(prefix, "input_ids"),
            case.of(prefix, "attention_mask"),
        );
        let err = max_abs(&out, case.of(prefix, "last_hidden_state"));
        println!("prompt {i}: last_hidden_state max abs error {err:.3e}");
        assert!(err <= MAX_ABS_ERR, "prompt {i}: max abs error {err}");
    }
    // All of them as one batch.
    let cat = |name: &str| {
        Tensor::cat(
            &cases
                .iter()
                .map(|(_, p)| case.of(p, name))
                .collect::<Vec<_>>(),
            0,
        )
    };
    let out = enc.forward(&cat("input_ids"), &cat("attention_mask"));
    let err = max_abs(&out, &cat("last_hidden_state"));
    println!(
        "batch of {}: last_hidden_state max abs error {err:.3e}",
        cases.len()
    );
    assert!(err <= MAX_ABS_ERR);
}

#[test]
fn prompt_embeds_equal_the_pipeline() {
    let case = Case::load();
    let enc = UmT5Encoder::load(&text_encoder_dir(), Device::Cpu, Kind::Float).unwrap();
    let tok = PromptTokenizer::load(&tokenizer_dir()).unwrap();
    let max_len = case.max_len();
    let _guard = tch::no_grad_guard();
    let cases = case.with_tensors();
    let raw: Vec<&str> = cases
        .iter()
        .map(|(i, _)| case.prompts()[*i]["prompt"].as_str().unwrap())
        .collect();
    let batch = encode_prompts(&tok, &enc, &raw, max_len, Device::Cpu).unwrap();
    assert_eq!(
        batch.size(),
        [cases.len() as i64, max_len as i64, enc.config().d_model]
    );
    for (row, (i, prefix)) in cases.iter().enumerate() {
        let expected = case.of(prefix, "prompt_embeds");
        let one = encode_prompts(&tok, &enc, &raw[row..=row], max_len, Device::Cpu).unwrap();
        let err = max_abs(&one, expected);
        let err_batch = max_abs(&batch.narrow(0, row as i64, 1), expected);
        println!(
            "prompt {i}: prompt_embeds max abs error {err:.3e} (in the batch: {err_batch:.3e})"
        );
        assert!(err <= MAX_ABS_ERR && err_batch <= MAX_ABS_ERR);
        // Exactly zero past the prompt's length, as the reference's `new_zeros`.
        let seq_len = case.prompts()[*i]["seq_len"].as_i64().unwrap();
        let tail = |t: &Tensor| {
            t.narrow(1, seq_len, max_len as i64 - seq_len)
                .abs()
                .max()
                .double_value(&[])
        };
        assert_eq!(tail(&one), 0.0);
        assert_eq!(tail(expected), 0.0);
    }
    let none = encode_prompts(&tok, &enc, &[], max_len, Device::Cpu).unwrap();
    assert_eq!(none.size(), [0, max_len as i64, enc.config().d_model]);
}

/// A copy of the fixture text encoder whose embedding is stored under `names`.
fn text_encoder_with_embedding_names(names: &[&str], tag: &str) -> PathBuf {
    let src = text_encoder_dir();
    let dir = std::env::temp_dir().join(format!("dreamfx-umt5-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("config.json"), dir.join("config.json")).unwrap();
    let mut tensors = Tensor::read_safetensors(src.join("model.safetensors")).unwrap();
    let shared = tensors
        .iter()
        .position(|(n, _)| n == "shared.weight")
        .unwrap();
    let (_, w) = tensors.remove(shared);
    for name in names {
        tensors.push((name.to_string(), w.copy()));
    }
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    Tensor::write_safetensors(&refs, dir.join("model.safetensors")).unwrap();
    dir
}

#[test]
fn embedding_may_be_stored_as_embed_tokens_or_both() {
    let case = Case::load();
    let _guard = tch::no_grad_guard();
    let (_, prefix) = &case.with_tensors()[0];
    let ids = case.of(prefix, "input_ids");
    let mask = case.of(prefix, "attention_mask");
    let expected = case.of(prefix, "last_hidden_state");
    for (tag, names) in [
        ("embed", &["encoder.embed_tokens.weight"][..]),
        (
            "both",
            &["shared.weight", "encoder.embed_tokens.weight"][..],
        ),
    ] {
        let dir = text_encoder_with_embedding_names(names, tag);
        let enc = UmT5Encoder::load(&dir, Device::Cpu, Kind::Float).unwrap();
        let err = max_abs(&enc.forward(ids, mask), expected);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err <= MAX_ABS_ERR, "{tag}: {err}");
    }
}

#[test]
fn loading_refuses_a_wrong_config() {
    let dir = std::env::temp_dir().join(format!("dreamfx-umt5-badcfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let src = text_encoder_dir();
    std::fs::copy(src.join("model.safetensors"), dir.join("model.safetensors")).unwrap();
    let cfg = std::fs::read_to_string(src.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        cfg.replace("\"d_ff\": 64", "\"d_ff\": 48"),
    )
    .unwrap();
    let err = UmT5Encoder::load(&dir, Device::Cpu, Kind::Float).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("DenseReluDense") && msg.contains("48"),
        "{msg}"
    );
}

// ---- checks that need no fixture ----

/// The reference bucket formula in f64 (exact away from bucket edges).
fn bucket_f64(rel: i64, num_buckets: i64, max_distance: i64) -> i64 {
    let nb = num_buckets / 2;
    let mut bucket = if rel > 0 { nb } else { 0 };
    let r = rel.abs();
    let max_exact = nb / 2;
    if r < max_exact {
        bucket += r;
    } else {
        let large = max_exact
            + ((r as f64 / max_exact as f64).ln() / (max_distance as f64 / max_exact as f64).ln()
                * (nb - max_exact) as f64) as i64;
        bucket += large.min(nb - 1);
    }
    bucket
}

#[test]
fn relative_buckets_match_the_reference_formula() {
    // umT5: 32 buckets, max distance 128 → 16 per direction, 8 of them exact.
    let rel: Vec<i64> = vec![
        0, -1, 1, -7, 7, -8, 8, -9, 9, -15, 15, -20, 20, -40, 40, -100, 100, -127, 127, -128, 128,
        -500, 500,
    ];
    let got = to_vec(&relative_position_bucket(
        &Tensor::from_slice(&rel),
        32,
        128,
    ));
    // By hand: |r| < 8 exact; else 8 + floor(ln(|r|/8) / ln(16) * 8), at most 15; +16 when the
    // key comes after the query.
    let expected: Vec<i64> = vec![
        0, 1, 17, 7, 23, 8, 24, 8, 24, 9, 25, 10, 26, 12, 28, 15, 31, 15, 31, 15, 31, 15, 31,
    ];
    assert_eq!(got, expected);
    let formula: Vec<i64> = rel.iter().map(|&r| bucket_f64(r, 32, 128)).collect();
    assert_eq!(got, formula);
    // On the edges (|r| = 16, 32, 64: the log ratio is exactly 2, 4, 6) fp32 lands on them.
    let edges = to_vec(&relative_position_bucket(
        &Tensor::from_slice(&[-16i64, 16, -32, 32, -64, 64]),
        32,
        128,
    ));
    assert_eq!(edges, vec![10, 26, 12, 28, 14, 30]);
    // A tiny config: 8 buckets, max distance 16.
    let rel: Vec<i64> = (-20..=20).collect();
    let got = to_vec(&relative_position_bucket(&Tensor::from_slice(&rel), 8, 16));
    let formula: Vec<i64> = rel.iter().map(|&r| bucket_f64(r, 8, 16)).collect();
    assert_eq!(got, formula);
}

#[test]
fn position_bucket_matrix_is_memory_minus_query() {
    let b = position_buckets(3, 3, 32, 128, Device::Cpu);
    assert_eq!(
        Vec::<Vec<i64>>::try_from(b).unwrap(),
        vec![vec![0, 17, 18], vec![1, 0, 17], vec![2, 1, 0]]
    );
}

#[test]
fn whitespace_and_html_cleaning() {
    assert_eq!(prompt_clean("  a\t\n b  \u{3000}c \r\n"), "a b c");
    assert_eq!(prompt_clean(""), "");
    assert_eq!(prompt_clean(" \n "), "");
    assert_eq!(prompt_clean("Tom &amp; Jerry"), "Tom & Jerry");
    // Unescaped twice, as diffusers does.
    assert_eq!(prompt_clean("&amp;lt;b&amp;gt;"), "<b>");
    assert_eq!(html_unescape("&lt;&gt;&quot;&#39;&#x27;&apos;"), "<>\"'''");
    assert_eq!(
        html_unescape("caf&eacute; &copy 2024 &nbsp;"),
        "café © 2024 \u{a0}"
    );
    assert_eq!(
        html_unescape("&ampfoo; &notit; &bogus; & x &#; &#x;"),
        "&foo; ¬it; &bogus; & x &#; &#x;"
    );
    assert_eq!(
        html_unescape("&#128;&#0;&#1;&#xD800;&#1114112;&#65"),
        "€\u{fffd}\u{fffd}\u{fffd}A"
    );
    assert_eq!(html_unescape("&hellip;&mdash;&rsquo;"), "…—’");
    // A non-breaking space from an entity is whitespace to `\s`.
    assert_eq!(prompt_clean("a&nbsp;&nbsp;b"), "a b");
}

fn tiny_config() -> UmT5Config {
    UmT5Config {
        vocab_size: 32,
        d_model: 16,
        d_kv: 4,
        d_ff: 24,
        num_layers: 2,
        num_heads: 2,
        relative_attention_num_buckets: 8,
        relative_attention_max_distance: 16,
        layer_norm_epsilon: 1e-6,
        feed_forward_proj: "gated-gelu".into(),
    }
}

fn randomize(encoder: &UmT5Encoder) {
    tch::manual_seed(0);
    tch::no_grad(|| {
        for (_, mut v) in encoder.var_store().variables() {
            let r = v.randn_like() * 0.5;
            v.copy_(&r);
        }
    });
}

#[test]
fn config_feed_forward_forms() {
    let mut c = tiny_config();
    assert_eq!(c.feed_forward().unwrap(), (true, Activation::GeluNew));
    c.feed_forward_proj = "relu".into();
    assert_eq!(c.feed_forward().unwrap(), (false, Activation::Relu));
    c.feed_forward_proj = "gated-silu".into();
    assert_eq!(c.feed_forward().unwrap(), (true, Activation::Silu));
    c.feed_forward_proj = "gelu".into();
    assert_eq!(c.feed_forward().unwrap(), (false, Activation::Gelu));
    c.feed_forward_proj = "a-b-c".into();
    assert!(c.feed_forward().is_err());
    let enc = UmT5Encoder::new(&c, Device::Cpu, Kind::Float);
    assert!(enc.is_err());
}

#[test]
fn variable_names_are_the_transformers_keys() {
    let enc = UmT5Encoder::new(&tiny_config(), Device::Cpu, Kind::Float).unwrap();
    let vars = enc.var_store().variables();
    for name in [
        "shared.weight",
        "encoder.block.0.layer.0.SelfAttention.q.weight",
        "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight",
        "encoder.block.0.layer.0.layer_norm.weight",
        "encoder.block.0.layer.1.DenseReluDense.wi_0.weight",
        "encoder.block.0.layer.1.DenseReluDense.wi_1.weight",
        "encoder.block.1.layer.1.DenseReluDense.wo.weight",
        "encoder.block.1.layer.1.layer_norm.weight",
        "encoder.final_layer_norm.weight",
    ] {
        assert!(vars.contains_key(name), "{name} missing");
    }
    // shared + per block (q k v o bias norm; wi_0 wi_1 wo norm) + final norm.
    assert_eq!(vars.len(), 1 + 2 * 10 + 1);
    assert_eq!(
        vars["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"].size(),
        [24, 16]
    );
    assert_eq!(
        vars["encoder.block.0.layer.0.SelfAttention.o.weight"].size(),
        [16, 8]
    );
    let mut relu = tiny_config();
    relu.feed_forward_proj = "relu".into();
    let enc = UmT5Encoder::new(&relu, Device::Cpu, Kind::Float).unwrap();
    assert!(enc
        .var_store()
        .variables()
        .contains_key("encoder.block.0.layer.1.DenseReluDense.wi.weight"));
}

#[test]
fn padding_does_not_change_real_positions_and_grads_flow() {
    let enc = UmT5Encoder::new(&tiny_config(), Device::Cpu, Kind::Float).unwrap();
    randomize(&enc);
    let ids = Tensor::from_slice(&[5i64, 9, 3, 1, 0, 0, 0, 0]).view([1, 8]);
    let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 0, 0, 0, 0]).view([1, 8]);
    let long = enc.forward(&ids, &mask);
    assert_eq!(long.size(), [1, 8, 16]);
    let short = enc.forward(&ids.narrow(1, 0, 4), &mask.narrow(1, 0, 4));
    let diff = max_abs(&long.narrow(1, 0, 4), &short);
    assert!(diff < 1e-5, "padding changed the real tokens by {diff}");
    // Autograd reaches the weights (no no_grad inside forward).
    short.pow_tensor_scalar(2).sum(None::<Kind>).backward();
    let vars = enc.var_store().variables();
    for name in [
        "shared.weight",
        "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight",
        "encoder.block.0.layer.1.DenseReluDense.wo.weight",
    ] {
        let g = vars[name].grad();
        assert!(g.defined(), "{name} has no grad");
        assert!(g.abs().sum(None::<Kind>).double_value(&[]) > 0.0, "{name}");
    }
}

#[test]
fn half_kinds_run() {
    for kind in [Kind::BFloat16, Kind::Half] {
        let enc = UmT5Encoder::new(&tiny_config(), Device::Cpu, kind).unwrap();
        randomize(&enc);
        let ids = Tensor::from_slice(&[5i64, 9, 3, 1]).view([1, 4]);
        let out = tch::no_grad(|| enc.forward(&ids, &ids.ones_like()));
        assert_eq!(out.kind(), kind);
        assert_eq!(out.isfinite().all().int64_value(&[]), 1);
    }
    // transformers keeps `wo` in fp32 for fp16 (only).
    let enc = UmT5Encoder::new(&tiny_config(), Device::Cpu, Kind::Half).unwrap();
    let vars = enc.var_store().variables();
    assert_eq!(
        vars["encoder.block.0.layer.1.DenseReluDense.wo.weight"].kind(),
        Kind::Float
    );
    assert_eq!(
        vars["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"].kind(),
        Kind::Half
    );
    let enc = UmT5Encoder::new(&tiny_config(), Device::Cpu, Kind::BFloat16).unwrap();
    let vars = enc.var_store().variables();
    assert_eq!(
        vars["encoder.block.0.layer.1.DenseReluDense.wo.weight"].kind(),
        Kind::BFloat16
    );
}

#[test]
fn shareable_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<PromptTokenizer>();
    send::<UmT5Encoder>();
}
