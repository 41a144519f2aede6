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

/// Where the runtime log may go, in order: `$DREAMFX_LOG_DIR`, the user's cache dir, and
/// last the runtime dir (private, and made by whoever starts the runtime).
pub fn log_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("DREAMFX_LOG_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
        dirs.push(PathBuf::from(xdg).join("dreamfx"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cache").join("dreamfx"));
    }
    dirs.push(runtime_dir());
    dirs
}

/// The runtime's log: `runtime.log` in the first of [`log_dirs`] it can be written in, so that
/// the runtime and every client agree on it and a message naming it names a file that exists.
pub fn log_path() -> PathBuf {
    first_writable_log(&log_dirs())
}

/// `runtime.log` in the first of `dirs` where it can be created or appended to (else in the
/// first: the message naming it then says where the log should have been).
pub fn first_writable_log(dirs: &[PathBuf]) -> PathBuf {
    let writable = |dir: &Path| {
        std::fs::create_dir_all(dir).is_ok()
            && std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("runtime.log"))
                .is_ok()
    };
    dirs.iter()
        .find(|d| writable(d))
        .or(dirs.first())
        .map(|d| d.join("runtime.log"))
        .unwrap_or_else(|| PathBuf::from("runtime.log"))
}

pub fn current_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// Creates `dir` if needed and makes sure only its owner, who must be us, can enter it: the
/// socket inside must not be reachable by other users.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Not followed: a link planted where the directory should be (the default lives in the
    // shared temp dir) would hand the socket to whoever owns its target.
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is a symbolic link or not a directory; remove it, or set DREAMFX_RUNTIME_DIR \
                 to a directory of yours",
                dir.display()
            ),
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dfx-paths-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn a_symlinked_or_foreign_runtime_dir_is_refused() {
        let real = scratch("real");
        std::fs::create_dir_all(&real).unwrap();
        let link = scratch("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = ensure_private_dir(&link).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(ensure_private_dir(&real).is_ok());
        if current_uid() == 0 {
            // Root can give the directory away, as another user's would be.
            std::os::unix::fs::chown(&real, Some(12345), None).unwrap();
            let e = ensure_private_dir(&real).unwrap_err();
            assert!(e.to_string().contains("uid 12345"), "{e}");
        }
        let _ = std::fs::remove_file(&link);
        let _ = std::fs::remove_dir_all(&real);
    }

    #[test]
    fn an_unwritable_log_dir_falls_back_to_the_next() {
        let blocked = scratch("blocked");
        std::fs::write(&blocked, b"a file where the log dir should be").unwrap();
        let next = scratch("next");
        let log = first_writable_log(&[blocked.clone(), next.clone()]);
        assert_eq!(log, next.join("runtime.log"));
        assert!(log.is_file(), "the log a message names exists");
        let _ = std::fs::remove_file(&blocked);
        let _ = std::fs::remove_dir_all(&next);
    }
}
