//! `dreamfx-bundle`: assembles `dreamfx.ofx.bundle` from a cargo build and installs it.
//!
//! ```text
//! dreamfx-bundle build   [--out DIR]        # DIR/dreamfx.ofx.bundle (default: beside this tool)
//! dreamfx-bundle install [--to DIR]         # default: first entry of OFX_PLUGIN_PATH, else /usr/OFX/Plugins
//! ```
//! It takes `libdreamfx.so` and `dreamfx-runtime` from the directory this tool was built into
//! (build all three with the same cargo profile) and libtorch from the build's LIBTORCH.
use std::path::PathBuf;
use std::process::ExitCode;

use dreamfx_bundles::{assemble, default_install_dir, install, BundleInputs};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    let Some(cmd) = args.first() else {
        eprintln!("usage: dreamfx-bundle build [--out DIR] | install [--to DIR]");
        return ExitCode::from(2);
    };
    let inputs = match BundleInputs::beside_this_tool() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("dreamfx-bundle: {e}");
            return ExitCode::FAILURE;
        }
    };
    let built_dir = inputs.build_dir.clone();
    let result = match cmd.as_str() {
        "build" => {
            let out = flag("--out").unwrap_or(built_dir);
            assemble(&inputs, &out)
        }
        "install" => {
            let to = flag("--to").unwrap_or_else(default_install_dir);
            assemble(&inputs, &built_dir).and_then(|b| install(&b, &to))
        }
        other => Err(format!("unknown command {other}; use build or install")),
    };
    match result {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dreamfx-bundle: {e}");
            ExitCode::FAILURE
        }
    }
}
