//! The runtime's log: a file in the user's cache dir (the plugin's host owns stdout/stderr).
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use parking_lot::Mutex;

struct FileLogger {
    file: Mutex<File>,
    also_stderr: bool,
}

impl log::Log for FileLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let line = format!(
            "{}.{:03} [{}] {} {}\n",
            now.as_secs(),
            now.subsec_millis(),
            std::process::id(),
            record.level(),
            record.args()
        );
        let _ = self.file.lock().write_all(line.as_bytes());
        if self.also_stderr {
            eprint!("{line}");
        }
    }
    fn flush(&self) {
        let _ = self.file.lock().flush();
    }
}

/// Appends to `path` (creating its directory). Falls back to stderr alone if it cannot.
pub fn init(path: &Path, also_stderr: bool) {
    let file = path
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| OpenOptions::new().create(true).append(true).open(path));
    match file {
        Ok(file) => {
            let _ = log::set_boxed_logger(Box::new(FileLogger {
                file: Mutex::new(file),
                also_stderr,
            }));
            log::set_max_level(log::LevelFilter::Info);
        }
        Err(e) => eprintln!("dreamfx-runtime: cannot write log {}: {e}", path.display()),
    }
}
