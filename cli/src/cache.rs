//! `dreamfx cache status|clear`: the frame cache lives in the running runtime, so these talk
//! to it over its socket. They never start one: a fresh runtime's cache is empty, and starting
//! a process only to report that would hide that none was running.
use dreamfx_protocol::client::{ClientError, Connection};
use dreamfx_protocol::paths;
use dreamfx_protocol::wire::RuntimeStatus;

#[derive(clap::Subcommand)]
pub enum Action {
    /// Cached frames and bytes, cache hits, jobs run and cancelled, connected clients.
    Status,
    /// Drops every cached frame (renders in flight still finish and cache theirs).
    Clear,
}

pub fn run(action: Action) -> Result<(), String> {
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
        Action::Clear => {
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
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
