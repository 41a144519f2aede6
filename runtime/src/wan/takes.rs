//! Several takes of one request, and the one the prompt explains best.
//!
//! A small model draws the right thing on some seeds and not on others, and cannot steer
//! towards it while sampling (guidance of any kind did not, see dreamfx-tiny's model card). It
//! can still tell afterwards, weakly, how much a finished take owes to the prompt: noise the
//! take's latents again and compare how well the model predicts the flow with the prompt and
//! with the negative (empty) prompt. A take the prompt explains leaves a large ratio of the two
//! losses; that ratio is the model's own evidence, an implicit classifier (the idea behind
//! "diffusion classifiers", Li et al. 2023), needing nothing but the model.
//!
//! Everything is seeded: the takes' seeds follow from the request's seed, and every take is
//! scored with the same noise draws (common random numbers, so takes differ only by
//! themselves), so a request still gives the same pixels on every machine.
use tch::{Kind, Tensor};

use super::pipeline::initial_noise;
use super::transformer::WanTransformer;

/// Noise levels the evidence is measured at, and noise draws per level. Where the model decides
/// an object's outline (σ 0.92–0.82 on dreamfx-tiny) the re-noised take is nearly all noise;
/// from 0.6 to 0.8 the outline is still visible to the model but no longer decided by it.
pub const EVIDENCE_SIGMAS: [f64; 3] = [0.6, 0.7, 0.8];
pub const EVIDENCE_DRAWS: u64 = 4;

/// The noise seeds of the evidence draws: fixed, the same for every take and request.
const EVIDENCE_SEED: u64 = 0x5eed_e71d;

/// The seed of take `k` of a request with seed `seed`: take 0 is the request's own seed, so one
/// take is exactly the plain pipeline.
pub fn take_seed(seed: u64, k: usize) -> u64 {
    seed.wrapping_add(7919u64.wrapping_mul(k as u64))
}

/// How well the prompt explains a finished take `latents` (normalised, `[1, C, F, H, W]`): the
/// sum over [`EVIDENCE_SIGMAS`] of (mean flow loss with `negative_embeds`) / (mean flow loss with
/// `prompt_embeds`). Only latent frames where `frame_mask` (`[1, 1, F, H, W]`) is 1 count: a
/// given first frame (image-to-video) is the input, not the take. `per_token` gives the model
/// per-token timesteps (0 on given frames), as the Wan2.2 TI2V pipeline does.
pub fn prompt_evidence(
    transformer: &WanTransformer,
    latents: &Tensor,
    prompt_embeds: &Tensor,
    negative_embeds: &Tensor,
    frame_mask: &Tensor,
    per_token: bool,
) -> f64 {
    let _guard = tch::no_grad_guard();
    let device = transformer.device();
    let kind = transformer.kind();
    let x0 = latents.to_kind(Kind::Float).to_device(device);
    let shape = x0.size();
    let [_, ph, pw] = transformer.config().patch_size;
    let weight = frame_mask.expand_as(&x0);
    let weight_sum = weight.sum(Kind::Float);
    let loss = |pred: Tensor, target: &Tensor| {
        ((pred.to_kind(Kind::Float) - target).square() * &weight).sum(Kind::Float) / &weight_sum
    };
    let mut evidence = 0.0;
    for (level, &sigma) in EVIDENCE_SIGMAS.iter().enumerate() {
        let (mut with_prompt, mut without) = (0.0, 0.0);
        for draw in 0..EVIDENCE_DRAWS {
            let seed = EVIDENCE_SEED + level as u64 * EVIDENCE_DRAWS + draw;
            let eps = initial_noise(&shape, seed).to_device(device);
            let noised = &x0 * (1.0 - sigma) + &eps * sigma;
            // Given frames stay clean, as they are while sampling.
            let kept: Tensor = 1.0 - frame_mask;
            let input = (&x0 * kept + noised * frame_mask).to_kind(kind);
            let t = sigma * 1000.0;
            let timestep = if per_token {
                let tokens = frame_mask
                    .get(0)
                    .get(0)
                    .slice(1, 0, None, ph)
                    .slice(2, 0, None, pw)
                    * t;
                tokens.flatten(0, -1).unsqueeze(0)
            } else {
                Tensor::from_slice(&[t as f32]).to_device(device)
            };
            let target = &eps - &x0;
            with_prompt += loss(
                transformer.forward(&input, &timestep, prompt_embeds),
                &target,
            )
            .double_value(&[]);
            without += loss(
                transformer.forward(&input, &timestep, negative_embeds),
                &target,
            )
            .double_value(&[]);
        }
        evidence += without / with_prompt.max(1e-12);
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_zero_is_the_request_seed_and_takes_differ() {
        assert_eq!(take_seed(42, 0), 42);
        let seeds: Vec<u64> = (0..8).map(|k| take_seed(42, k)).collect();
        let mut unique = seeds.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seeds.len());
        // No overflow panic at the top of the range.
        assert_eq!(take_seed(u64::MAX, 1), 7918);
    }
}
