//! Mochi's text encoder: T5 (transformers' `T5EncoderModel`), and the prompt encoding of
//! diffusers' `MochiPipeline._get_t5_prompt_embeds`.
//!
//! The encoder is [`UmT5Encoder`]: transformers' T5 and umT5 encoders agree layer for layer
//! (RMS norms, unscaled attention with a bucketed relative position bias, gated-GELU
//! feed-forward, `wo` kept in fp32 for fp16, the fp16 clamps) except that umT5 gives every layer
//! its own bias table while T5 computes the bias once, in the first layer, and passes it (mask
//! included) to the others ([`PositionBias::FirstLayerShared`]). [`UmT5Encoder::load`] picks the
//! variant from `config.json`'s `model_type`, so a T5 `text_encoder/` loads with it as is.
//!
//! The prompt encoding differs from Wan's (`umt5::encode_prompts`): no `prompt_clean`, 256
//! tokens, the padding rows are left as the encoder made them (not zeroed) and the attention
//! mask is returned with them, because Mochi's transformer drops the padding tokens itself.
use tch::{Device, Kind, Tensor};

pub use super::umt5::UmT5Encoder as T5Encoder;
pub use super::umt5::{PositionBias, PromptTokenizer, TokenizeError, UmT5Config as T5Config};

/// `MochiPipeline`'s default `max_sequence_length`.
pub const MAX_SEQUENCE_LENGTH: usize = 256;

/// diffusers' `MochiPipeline._get_t5_prompt_embeds` (one video per prompt): each prompt
/// tokenized to `max_len` (padded, truncated, `</s>` appended) and encoded with its mask.
/// Returns `(prompt_embeds [n, max_len, d_model]` in the encoder's kind, `attention_mask
/// [n, max_len]` bool`)` on `device`.
///
/// `force_zeros_for_empty_prompt` (the pipeline's config flag, off in Mochi-1) reproduces the
/// reference exactly, quirk included: when the LAST prompt of the list is empty, the ids and the
/// mask of EVERY prompt in the call are zeroed.
pub fn encode_prompts(
    tokenizer: &PromptTokenizer,
    encoder: &T5Encoder,
    prompts: &[&str],
    max_len: usize,
    force_zeros_for_empty_prompt: bool,
    device: Device,
) -> Result<(Tensor, Tensor), TokenizeError> {
    let n = prompts.len() as i64;
    let l = max_len as i64;
    if prompts.is_empty() {
        return Ok((
            Tensor::zeros([0, l, encoder.config().d_model], (encoder.kind(), device)),
            Tensor::zeros([0, l], (Kind::Bool, device)),
        ));
    }
    let mut ids = Vec::with_capacity(prompts.len() * max_len);
    let mut mask = Vec::with_capacity(prompts.len() * max_len);
    for prompt in prompts {
        let (i, m) = tokenizer.encode(prompt, max_len)?;
        ids.extend(i);
        mask.extend(m);
    }
    let mut ids = Tensor::from_slice(&ids).view([n, l]);
    let mut mask = Tensor::from_slice(&mask).view([n, l]);
    if force_zeros_for_empty_prompt && prompts.last().is_some_and(|p| p.is_empty()) {
        ids = ids.zeros_like();
        mask = mask.zeros_like();
    }
    let embeds = encoder.forward(&ids, &mask).to_device(device);
    Ok((embeds, mask.ne(0).to_device(device)))
}
