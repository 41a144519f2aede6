//! `dreamfx`: the one command line of dreamfx (clap subcommands). Today `generate` (a clip from
//! a prompt) and `vocabulary` (what a model can read); the runtime, refine report, evaluation
//! and training tools join as subcommands as they move here (ARCHITECTURE.md).
mod generate;
mod output;
mod vocabulary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "dreamfx",
    version,
    about = "Generative video for OpenFX hosts: the command line"
)]
struct Cli {
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More detail (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A clip from a prompt (and, for image-to-video, a first frame): PNG frames, a contact
    /// sheet, a GIF when ffmpeg is there, and the raw frames (frames.safetensors).
    Generate(generate::Args),
    /// The words a model's tokenizer knows (dreamfx-tiny knows a small world of shapes,
    /// colours, motions and backgrounds) and how long its prompts may be.
    Vocabulary {
        /// A model directory in the diffusers layout (default: the built-in dreamfx-tiny).
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

/// How much the user wants to hear.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The built-in model, from the checkout or beside the executable.
pub fn default_model() -> PathBuf {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.join("models/dreamfx-tiny")));
    match beside {
        Some(p) if p.is_dir() => p,
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        _ => Verbosity::Verbose,
    };
    let result = match cli.command {
        Command::Generate(args) => generate::run(args, verbosity),
        Command::Vocabulary { model } => vocabulary::run(&model.unwrap_or_else(default_model)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dreamfx: {e}");
            ExitCode::FAILURE
        }
    }
}
