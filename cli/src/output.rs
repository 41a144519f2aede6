//! The output directory of one run: written beside its final place and renamed into it at the
//! end, so a run that fails (a full disk, a NaN, Ctrl-C) leaves no half-written clip, and two
//! runs never mix their frames.
use std::path::{Path, PathBuf};

pub struct OutputDir {
    final_dir: PathBuf,
    staging: PathBuf,
    replace: bool,
}

impl OutputDir {
    /// Checks `dir` can be written before any work: it must not exist, or be empty, or
    /// `replace` must be given.
    pub fn prepare(dir: &Path, replace: bool) -> Result<OutputDir, String> {
        let occupied = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(format!("cannot read --out {}: {e}", dir.display())),
        };
        if occupied && !replace {
            return Err(format!(
                "--out {} is not empty: give another directory, or --force to replace it",
                dir.display()
            ));
        }
        let name = dir
            .file_name()
            .ok_or_else(|| format!("--out {} names no directory", dir.display()))?;
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        let staging = parent.join(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging)
            .map_err(|e| format!("cannot write in {}: {e}", parent.display()))?;
        Ok(OutputDir {
            final_dir: dir.to_path_buf(),
            staging,
            replace: occupied,
        })
    }

    /// Where files of this run go until [`Self::commit`].
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the finished run into place (replacing the old one when allowed).
    pub fn commit(self) -> Result<PathBuf, String> {
        let old = self.final_dir.with_file_name(format!(
            ".{}.old-{}",
            self.final_dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy(),
            std::process::id()
        ));
        if self.replace || self.final_dir.exists() {
            std::fs::rename(&self.final_dir, &old)
                .map_err(|e| format!("cannot replace {}: {e}", self.final_dir.display()))?;
        }
        std::fs::rename(&self.staging, &self.final_dir).map_err(|e| {
            format!(
                "cannot move the clip into {}: {e}",
                self.final_dir.display()
            )
        })?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(self.final_dir.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        // After commit the staging path no longer exists; before it, nothing half-done stays.
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}
