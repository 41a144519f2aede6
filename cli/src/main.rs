//! `dreamfx`: the one command line of dreamfx (clap subcommands): `generate` (a clip from a
//! prompt), `vocabulary` (what a model can read), `refine-report`, `tiny-eval`,
//! `tiny-transplant` (quality reports), `cache` (the running runtime's frame cache), and
//! `runtime`/`train`, which hand over to the runtime process and the trainer: those stay
//! executables of their own (ARCHITECTURE.md).
mod cache;
mod generate;
mod output;
mod refine_bench;
mod refine_report;
mod sibling;
mod tiny_eval;
mod tiny_transplant;
mod vocabulary;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

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
    /// Temporal Refine against the ffmpeg deflicker chain on synthetic clips with ground
    /// truth: warping error, flicker index, PSNR and frames/s per seed.
    RefineReport(refine_report::Args),
    /// Scores dreamfx-tiny on held-out captions with the pixel-only checkers, measures
    /// image-to-video frame-0 PSNR and times one clip.
    TinyEval(tiny_eval::Args),
    /// Diagnoses dreamfx-tiny's held-out shape gap: each caption from its own prompt embedding
    /// and from one made of rows computed inside training captions.
    TinyTransplant(tiny_transplant::Args),
    /// Runs the runtime process by hand or as a service (farm nodes): `dreamfx runtime
    /// [--cache-mb N]`; the arguments go to the `dreamfx-runtime` beside this executable.
    #[command(disable_help_flag = true)]
    Runtime {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Trains dreamfx-tiny: the arguments go to the `train-tiny` beside this executable
    /// (`dreamfx train --help` lists them).
    #[command(disable_help_flag = true)]
    Train {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// The frame cache of the running runtime (`status`, `clear`); never starts a runtime.
    Cache {
        #[command(subcommand)]
        action: cache::Action,
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
    dreamfx_tiny::builtin_model_dir()
}

/// A parser for a finite number in [lo, hi]: NaN, infinities and absurd values are refused
/// naming the flag, before any work (a NaN shift once gave all-NaN frames and exit 0).
pub fn finite_in(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| {
        let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
        if !v.is_finite() || v < lo || v > hi {
            return Err(format!("{s} is outside {lo} … {hi}"));
        }
        Ok(v)
    }
}

/// A progress bar on stderr (drawn only on a terminal), or none with `--quiet`.
pub fn progress_bar(len: u64, template: &str, verbosity: Verbosity) -> ProgressBar {
    let bar = if verbosity == Verbosity::Quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len)
    };
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar
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
        Command::RefineReport(args) => refine_report::run(args, verbosity),
        Command::TinyEval(args) => tiny_eval::run(args, verbosity),
        Command::TinyTransplant(args) => tiny_transplant::run(args, verbosity),
        Command::Cache { action } => cache::run(action),
        Command::Runtime { args } => sibling::exec("dreamfx-runtime", &args),
        Command::Train { args } => sibling::exec("train-tiny", &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dreamfx: {e}");
            ExitCode::FAILURE
        }
    }
}
