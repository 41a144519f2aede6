//! `dreamfx-runtime`: the one process per user and machine that runs dreamfx's models.
//! Started on demand by the plugin (`--on-demand`, leaves when idle), or by hand / as a service.
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;
use std::time::Duration;

use dreamfx_protocol::paths;
use dreamfx_runtime::{logging, server};

const USAGE: &str = "usage: dreamfx-runtime [--on-demand] [--idle-exit SECONDS] [--cache-mb MB] [--disk-cache-mb MB]

Serves dreamfx plugins on the socket in $DREAMFX_RUNTIME_DIR (default $XDG_RUNTIME_DIR/dreamfx).
  --on-demand        started by a plugin: leave after --idle-exit seconds without clients
  --idle-exit SECS   idle timeout (default 300; only with --on-demand)
  --cache-mb MB      in-memory frame cache size (default 2048)
  --disk-cache-mb MB generated clips kept on disk, in $DREAMFX_CACHE_DIR/clips (default the
                     user's cache dir, ~/.cache/dreamfx/clips), shared by every runtime and
                     farm node that uses the same directory (default 20480; 0: none)";

fn main() -> ExitCode {
    let mut on_demand = false;
    let mut idle_secs = 300u64;
    let mut cache_mb = 2048u64;
    let mut disk_cache_mb = 20480u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Option<u64> {
            let v = args.next().and_then(|v| v.parse().ok());
            if v.is_none() {
                eprintln!("{name} needs a number\n{USAGE}");
            }
            v
        };
        match arg.as_str() {
            "--on-demand" => on_demand = true,
            "--idle-exit" => match number("--idle-exit") {
                Some(v) => idle_secs = v,
                None => return ExitCode::from(2),
            },
            "--cache-mb" => match number("--cache-mb") {
                Some(v) => cache_mb = v,
                None => return ExitCode::from(2),
            },
            "--disk-cache-mb" => match number("--disk-cache-mb") {
                Some(v) => disk_cache_mb = v,
                None => return ExitCode::from(2),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let log = paths::log_path();
    logging::init(&log, !on_demand);
    if let Some(wanted) = paths::log_dirs().first().filter(|d| !log.starts_with(d)) {
        log::warn!(
            "cannot write a log in {}: logging to {} instead",
            wanted.display(),
            log.display()
        );
    }
    let dir = paths::runtime_dir();
    if let Err(e) = paths::ensure_private_dir(&dir) {
        log::error!("cannot use runtime dir {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    // One runtime per directory: the lock is held for the process's life and released by the
    // kernel even on SIGKILL, so a crashed runtime never blocks the next one.
    let lock = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(paths::lock_path(&dir))
    {
        Ok(f) => f,
        Err(e) => {
            log::error!("cannot open lock file: {e}");
            return ExitCode::FAILURE;
        }
    };
    // SAFETY: flock on an fd we own.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        log::info!("another runtime already serves {}; leaving", dir.display());
        return ExitCode::SUCCESS;
    }
    let socket = paths::socket_path(&dir);
    if UnixStream::connect(&socket).is_ok() {
        log::info!("a runtime already answers at {}; leaving", socket.display());
        return ExitCode::SUCCESS;
    }
    let _ = std::fs::remove_file(&socket);
    let listener = match UnixListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => {
            log::error!("cannot listen on {}: {e}", socket.display());
            return ExitCode::FAILURE;
        }
    };
    if let Ok(mut f) = std::fs::File::create(paths::pid_path(&dir)) {
        let _ = writeln!(f, "{}", std::process::id());
    }
    raise_fd_limit();
    log::info!(
        "dreamfx-runtime {} (pid {}) serving {}{}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        socket.display(),
        if on_demand { " on demand" } else { "" }
    );
    // Without a disk cache the runtime still works (clips live in memory only): say why.
    let disk_cache = (disk_cache_mb > 0)
        .then(|| {
            dreamfx_disk_cache::DiskCache::default_dir()
                .and_then(|dir| dreamfx_disk_cache::DiskCache::open(dir, disk_cache_mb << 20))
                .map_err(|e| log::warn!("no disk cache for generated clips: {e}"))
                .ok()
        })
        .flatten();
    if let Some(disk) = &disk_cache {
        log::info!("generated clips are cached in {}", disk.dir().display());
    }
    server::Runtime::serve(
        listener,
        server::Config {
            cache_bytes: cache_mb << 20,
            disk_cache,
            idle_exit: on_demand.then(|| Duration::from_secs(idle_secs)),
        },
    );
    drop(lock);
    ExitCode::SUCCESS
}

/// Every cached frame holds one memfd: allow as many as the hard limit permits.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
