//! What a model cannot read is named: dreamfx-tiny's tokenizer (a small word list) reads an
//! unknown word as nothing, and cuts prompts at 32 tokens. Once "a dog runs fast" silently
//! equalled "a cat eats food".
use std::path::PathBuf;

use dreamfx_diffusion::text::umt5::PromptTokenizer;

fn tiny() -> PromptTokenizer {
    PromptTokenizer::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny/tokenizer"),
    )
    .unwrap()
}

#[test]
fn unknown_words_are_named_once_each() {
    let check = tiny()
        .check("A dog runs fast, a DOG on a blue background", 32)
        .unwrap();
    assert_eq!(check.unknown, vec!["dog", "runs", "fast"], "{check:?}");
    assert!(check.cut.is_empty());
    let known = tiny()
        .check("a red circle moves left on a dark blue background", 32)
        .unwrap();
    assert!(known.is_clean(), "{known:?}");
}

#[test]
fn words_past_the_prompt_length_are_named_as_cut() {
    let long = "a red circle moves left ".repeat(8);
    let check = tiny().check(&long, 32).unwrap();
    assert!(check.unknown.is_empty());
    // 40 words + </s>: the encoder reads 32 tokens, so 9 words are cut (the </s> too).
    assert_eq!(check.cut.len(), 9, "{check:?}");
    assert!(check.to_string().contains("cut off"));
}

#[test]
fn the_word_list_is_the_small_world() {
    let words = tiny().vocabulary().expect("a word-level tokenizer");
    for w in ["red", "circle", "moves", "left", "background"] {
        assert!(words.iter().any(|x| x == w), "{w}");
    }
    assert!(
        !words.iter().any(|w| w.starts_with('<')),
        "no special tokens"
    );
}
