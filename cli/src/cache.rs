//! `dreamfx cache`: the frame cache lives in the running runtime, so `status` and `clear` talk
//! to it over its socket. They never start one: a fresh runtime's cache is empty, and starting
//! a process only to report that would hide that none was running. `ls`, `du`, `prune` and
//! `clear --disk` work on the disk cache of generated clips (`$DREAMFX_CACHE_DIR/clips`, else
//! `~/.cache/dreamfx/clips`), shared by every runtime using that directory, running or not.
use dreamfx_disk_cache::DiskCache;
use dreamfx_protocol::client::{ClientError, Connection};
use dreamfx_protocol::paths;
use dreamfx_protocol::wire::RuntimeStatus;

#[derive(clap::Subcommand)]
pub enum Action {
    /// Cached frames and bytes, cache hits, jobs run and cancelled, connected clients.
    Status,
    /// Drops every cached frame (renders in flight still finish and cache theirs).
    Clear {
        /// Empty the disk cache of generated clips instead (no runtime needed).
        #[arg(long)]
        disk: bool,
    },
    /// The generated clip segments on disk, most recently used first.
    Ls,
    /// Bytes the disk cache holds, and its directory.
    Du,
    /// Removes least recently used segments until the disk cache holds at most --max-mb.
    Prune {
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
        max_mb: u64,
    },
}

fn disk() -> Result<DiskCache, String> {
    let dir = DiskCache::default_dir().map_err(|e| e.to_string())?;
    // The capacity matters only to `put`; maintenance never adds.
    DiskCache::open(dir, u64::MAX).map_err(|e| e.to_string())
}

pub fn run(action: Action) -> Result<(), String> {
    match action {
        Action::Ls => {
            let cache = disk()?;
            let entries = cache.entries().map_err(|e| e.to_string())?;
            for e in &entries {
                let age = e.last_used.elapsed().map_or(0, |d| d.as_secs());
                println!(
                    "{}  {:>10}  {:>6} s ago  {}",
                    &e.key_hex[..16],
                    bytes(e.bytes),
                    age,
                    e.description
                );
            }
            println!("{} segments in {}", entries.len(), cache.dir().display());
            return Ok(());
        }
        Action::Du => {
            let cache = disk()?;
            let total = cache.total_bytes().map_err(|e| e.to_string())?;
            println!("{}  {}", bytes(total), cache.dir().display());
            return Ok(());
        }
        Action::Prune { max_mb } => {
            let cache = disk()?;
            let (n, b) = cache.prune(max_mb << 20).map_err(|e| e.to_string())?;
            println!("removed {n} segments ({})", bytes(b));
            return Ok(());
        }
        Action::Clear { disk: true } => {
            let cache = disk()?;
            let (n, b) = cache.clear().map_err(|e| e.to_string())?;
            println!(
                "removed {n} segments ({}) from {}",
                bytes(b),
                cache.dir().display()
            );
            return Ok(());
        }
        Action::Status | Action::Clear { disk: false } => {}
    }
    let dir = paths::runtime_dir();
    let mut conn = match Connection::connect(&dir) {
        Ok(c) => c,
        Err(ClientError::Start(_)) => {
            return Err(format!(
                "no dreamfx runtime is running (nothing answers at {}), so there is no cache. \
                 A host or `dreamfx-runtime` starts one; DREAMFX_RUNTIME_DIR picks another \
                 runtime directory",
                paths::socket_path(&dir).display()
            ))
        }
        Err(e) => return Err(e.to_string()),
    };
    let talk = |e: ClientError| e.to_string();
    match action {
        Action::Status => print_status(&conn.status().map_err(talk)?),
        Action::Clear { .. } => {
            let before = conn.status().map_err(talk)?;
            conn.purge_cache().map_err(talk)?;
            // The purge has no answer of its own; the runtime handles a connection's messages
            // in order, so the status after it shows the cache already cleared.
            let after = conn.status().map_err(talk)?;
            println!(
                "cleared {} cached frames ({})",
                before.cached_frames,
                bytes(before.cache_bytes)
            );
            if after.cached_frames > 0 {
                println!(
                    "{} frames rendered since are cached again",
                    after.cached_frames
                );
            }
        }
        _ => unreachable!("disk actions returned above"),
    }
    Ok(())
}

fn print_status(s: &RuntimeStatus) {
    println!("runtime pid      {}", s.pid);
    println!("connections      {}", s.connections);
    println!("cached frames    {}", s.cached_frames);
    println!("cache size       {}", bytes(s.cache_bytes));
    println!("cache hits       {}", s.cache_hits);
    println!("jobs run         {}", s.jobs_run);
    println!("jobs cancelled   {}", s.jobs_cancelled);
    println!("segments made    {}", s.segments_generated);
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
