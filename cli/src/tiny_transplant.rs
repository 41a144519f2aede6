//! `dreamfx tiny-transplant`: a diagnostic for dreamfx-tiny's held-out shape gap. Is it the text
//! encoder's (a held-out caption's contextual rows are vectors the DiT never saw) or the DiT's?
//!
//! For each evaluation caption "a C S <motion> …" it builds a *composite* prompt embedding in
//! which every row was computed inside a training caption: the rows of "a C' S <motion> …"
//! (another colour C' that makes a train triple with S and the motion), except the
//! article and colour rows, which come from "a C S' <motion> …" (another shape S' that makes a
//! train triple with C and the motion). It generates the clip from the caption's own embedding
//! and from the composite (same seed, 20 steps, guidance 4) and scores both with the checkers.
//! If the composite fixed the shapes, the encoder would be the culprit.
use dreamfx_tiny::checkers::{score, ClipRef, Scores};
use dreamfx_tiny::world::{caption, is_train, Colour, Shape};
use dreamfx_tiny::{clip_request, eval_spec, video_pixels, EvalArgs};
use tch::Tensor;

use crate::tiny_eval::{clips_bar, EvalSet};
use crate::Verbosity;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    set: EvalSet,
}

pub fn run(args: Args, verbosity: Verbosity) -> Result<(), String> {
    let eval = args.set.eval_args();
    let EvalArgs {
        clips,
        first,
        split,
        ..
    } = eval;
    let pipe = eval.load_pipeline()?;
    let len = pipe.text_length();
    let encode = |text: &str| pipe.encode_prompt(text).map_err(|e| e.to_string());
    let token_ids = |text: &str| {
        pipe.tokenizer
            .encode(text, len)
            .map(|(ids, _)| ids)
            .map_err(|e| e.to_string())
    };

    let (mut own_ok, mut composite_ok, mut composite_colour_ok) = (0u32, 0u32, 0u32);
    let bar = clips_bar(clips, verbosity);
    for k in first..first + clips {
        bar.inc(1);
        let spec = eval_spec(split, k);
        let text = caption(&spec);
        let object = &spec.objects[0];
        let (colour, shape, motion) = (object.colour, object.shape, object.motion);
        let Some(other_colour) = Colour::ALL
            .into_iter()
            .find(|&c| c != colour && is_train(c, shape, motion))
        else {
            bar.suspend(|| println!("{text:<64} skipped: no train caption with another colour"));
            continue;
        };
        let Some(other_shape) = Shape::ALL
            .into_iter()
            .find(|&s| s != shape && is_train(colour, s, motion))
        else {
            bar.suspend(|| println!("{text:<64} skipped: no train caption with another shape"));
            continue;
        };
        let mut recoloured = spec.clone();
        recoloured.objects[0].colour = other_colour;
        let mut reshaped = spec.clone();
        reshaped.objects[0].shape = other_shape;
        let (recoloured, reshaped) = (caption(&recoloured), caption(&reshaped));

        // The rows where the caption and its recoloured twin differ (the colour, and the
        // article when "a"/"an" changes) come from the reshaped twin, which has the caption's
        // own tokens there.
        let (ids, recoloured_ids) = (token_ids(&text)?, token_ids(&recoloured)?);
        let composite = encode(&recoloured)?.copy();
        let donor = encode(&reshaped)?;
        for row in (0..len).filter(|&i| ids[i] != recoloured_ids[i]) {
            composite
                .narrow(1, row as i64, 1)
                .copy_(&donor.narrow(1, row as i64, 1));
        }

        let request = clip_request(&text, k, 20, 4.0, None);
        let generate_and_score = |embeds: &Tensor| -> Result<Scores, String> {
            let clip = pipe
                .generate_with_prompt_embeds(&request, embeds, &mut |_, _| true)
                .map_err(|e| e.to_string())?;
            let pixels = video_pixels(&clip.video);
            score(&ClipRef::new(&pixels, 17, 64, 64), &text).ok_or("caption did not parse".into())
        };
        let own = generate_and_score(&encode(&text)?)?;
        let transplanted = generate_and_score(&composite)?;
        own_ok += own.shape_ok as u32;
        composite_ok += transplanted.shape_ok as u32;
        composite_colour_ok += transplanted.colour_ok as u32;
        let verdict = |s: &Scores| if s.shape_ok { "ok " } else { "BAD" };
        bar.suspend(|| {
            println!(
                "{text:<64} shape: own {} composite {} (rows from \"{}\" and \"{}\")",
                verdict(&own),
                verdict(&transplanted),
                other_colour.name(),
                other_shape.name()
            )
        });
    }
    bar.finish_and_clear();
    let pct = |n: u32| 100.0 * n as f64 / clips as f64;
    println!();
    println!(
        "shape accuracy: own embedding {:.1}%, composite of train-caption rows {:.1}% (its colour accuracy {:.1}%), {clips} captions",
        pct(own_ok),
        pct(composite_ok),
        pct(composite_colour_ok)
    );
    Ok(())
}
