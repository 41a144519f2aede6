//! `dreamfx runtime` and `dreamfx train`: the runtime process and the trainer stay executables
//! of their own (the plugin starts `dreamfx-runtime` from the bundle; the trainer is built
//! against another libtorch for GPU machines), and `dreamfx` hands over to the one beside it,
//! so a farm node or a user needs only one command to remember.
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

/// Replaces this process with `name` from beside the `dreamfx` executable: signals and the
/// exit status are then the tool's own. Returns only when that cannot be done.
pub fn exec(name: &str, args: &[OsString]) -> Result<(), String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the dreamfx executable: {e}"))?;
    let tool: PathBuf = exe.with_file_name(name);
    if !tool.is_file() {
        return Err(format!(
            "{} is missing: {name} ships beside dreamfx (build it with `cargo build --workspace`)",
            tool.display()
        ));
    }
    let e = std::process::Command::new(&tool).args(args).exec();
    Err(format!("cannot run {}: {e}", tool.display()))
}
