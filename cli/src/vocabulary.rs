//! `dreamfx vocabulary`: what a model can read, so a user knows which words do something.
use std::path::Path;

use dreamfx_diffusion::text::umt5::PromptTokenizer;

pub fn run(model: &Path) -> Result<(), String> {
    let tokenizer = PromptTokenizer::load(&model.join("tokenizer")).map_err(|e| e.to_string())?;
    let length = tokenizer
        .model_max_length()
        .map_or("512 (Wan's)".to_string(), |n| n.to_string());
    match tokenizer.vocabulary() {
        Some(words) => {
            println!(
                "{} knows {} words; any other word is read as nothing:",
                model.display(),
                words.len()
            );
            println!("{}", words.join(" "));
        }
        None => println!(
            "{}'s tokenizer spells any word from pieces (no fixed word list).",
            model.display()
        ),
    }
    println!("prompts are read up to {length} tokens; the rest is cut off");
    Ok(())
}
