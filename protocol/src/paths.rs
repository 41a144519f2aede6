//! Where the runtime's socket, lock and log live. Overridable for tests and farms.
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The private directory holding the runtime socket: `$DREAMFX_RUNTIME_DIR`, else
/// `$XDG_RUNTIME_DIR/dreamfx`, else `<tmp>/dreamfx-<uid>`.
pub fn runtime_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DREAMFX_RUNTIME_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(xdg).join("dreamfx");
    }
    std::env::temp_dir().join(format!("dreamfx-{}", current_uid()))
}

pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join("runtime.sock")
}
pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join("runtime.lock")
}
pub fn pid_path(dir: &Path) -> PathBuf {
    dir.join("runtime.pid")
}

/// Where the runtime writes its log: `$DREAMFX_LOG_DIR`, else the user's cache dir.
pub fn log_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DREAMFX_LOG_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(xdg).join("dreamfx");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("dreamfx");
    }
    runtime_dir()
}

pub fn log_path() -> PathBuf {
    log_dir().join("runtime.log")
}

pub fn current_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// Creates `dir` if needed and makes sure only its owner, who must be us, can enter it: the
/// socket inside must not be reachable by other users.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.uid() != current_uid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} belongs to uid {}, not to you (uid {}); set DREAMFX_RUNTIME_DIR to a directory of yours",
                dir.display(),
                meta.uid(),
                current_uid()
            ),
        ));
    }
    if meta.permissions().mode() & 0o777 != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
