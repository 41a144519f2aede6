//! Claims: one process on one node generates an entry, the others wait and then read it.
//!
//! `<key hex>.claim` is created with `O_CREAT|O_EXCL` (atomic on a local disk and on NFSv3+), so
//! exactly one creator wins. It holds the holder (hostname, pid, a random nonce) and the lease
//! expiry as wall-clock time:
//!
//! ```text
//! dreamfx-claim 1
//! holder render07 pid 4242
//! nonce 9f2c4e1a0b3d5e7f
//! expires_unix_ms 1796550000000
//! ```
//!
//! Every change to an *existing* claim file (take over an expired one, renew, release, prune)
//! first hard-links it to `<key hex>.claim.lock-<inode>`. `link` fails when the name exists, so
//! of all the processes that judged that same claim file stale, exactly one gets the lock; it then
//! checks that the locked file is still the one it judged (inode, mtime, size) and only then
//! replaces it by `rename` (a claim file never disappears during a takeover, so no one can
//! `O_EXCL`-create a second one meanwhile) or removes it. A late racer locks the new file,
//! sees it is not the one it judged, and reads the new claim instead. A lock left by a process
//! that died in those few milliseconds is removed after [`ORPHAN_LOCK_AGE`].

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{key_hex, DiskCache, Error, Result};

/// A claim file that cannot be parsed is being written (between `O_EXCL` create and write);
/// after this long its writer is taken to have died.
const UNREADABLE_CLAIM_GRACE: Duration = Duration::from_secs(10);
/// A takeover holds its lock for milliseconds; one this old belongs to a dead process.
pub(crate) const ORPHAN_LOCK_AGE: Duration = Duration::from_secs(60);

/// What `claim` found.
#[derive(Debug)]
pub enum Claim {
    /// We hold the claim: generate, `put`, then drop the guard.
    Mine(ClaimGuard),
    /// Someone else is generating: wait (poll `claim` again, or use `wait_or_claim`).
    Held {
        holder: String,
        expires_in: Duration,
    },
    /// The entry already exists: `get` it.
    Ready,
}

/// What `wait_or_claim` ended with.
#[derive(Debug)]
pub enum Waited {
    /// Someone generated it (or it was already there).
    Ready(Vec<u8>),
    /// It is ours to generate.
    Mine(ClaimGuard),
    /// `should_continue` said stop.
    Cancelled,
}

/// Which file a claim is: a claim replaced by rename (takeover, renew) is a new inode, and one
/// rewritten in place has another mtime or size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    mtime_ns: i128,
    len: u64,
}

impl FileId {
    fn of(meta: &fs::Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            len: meta.len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ClaimRecord {
    holder: String,
    nonce: String,
    expires: SystemTime,
}

impl ClaimRecord {
    fn new(lease: Duration) -> ClaimRecord {
        ClaimRecord {
            holder: format!("{} pid {}", hostname(), std::process::id()),
            nonce: unique_nonce(),
            expires: SystemTime::now() + lease,
        }
    }

    fn render(&self) -> String {
        let ms = self
            .expires
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        format!(
            "dreamfx-claim 1\nholder {}\nnonce {}\nexpires_unix_ms {ms}\n",
            self.holder, self.nonce
        )
    }

    fn parse(text: &str) -> Option<ClaimRecord> {
        let mut lines = text.lines();
        if lines.next()? != "dreamfx-claim 1" {
            return None;
        }
        let holder = lines.next()?.strip_prefix("holder ")?.to_string();
        let nonce = lines.next()?.strip_prefix("nonce ")?.to_string();
        let ms: u64 = lines
            .next()?
            .strip_prefix("expires_unix_ms ")?
            .parse()
            .ok()?;
        Some(ClaimRecord {
            holder,
            nonce,
            expires: UNIX_EPOCH + Duration::from_millis(ms),
        })
    }
}

/// What a claim file says, read through one open file so that identity and content agree.
enum Observed {
    Absent,
    Live {
        holder: String,
        expires_in: Duration,
    },
    Stale {
        id: FileId,
        holder: String,
    },
}

/// The claim is ours while this lives; dropping it removes the claim file.
pub struct ClaimGuard {
    cache: DiskCache,
    key: [u8; 32],
    lease: Duration,
    record: ClaimRecord,
    id: FileId,
    released: bool,
}

impl fmt::Debug for ClaimGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimGuard")
            .field("key", &key_hex(&self.key))
            .field("holder", &self.record.holder)
            .field("expires", &self.record.expires)
            .finish()
    }
}

impl ClaimGuard {
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// When the lease runs out unless renewed.
    pub fn expires(&self) -> SystemTime {
        self.record.expires
    }

    /// Extends the lease to now + the lease given to `claim`. Call it well before expiry (e.g.
    /// every third of the lease) while generating. Fails with `ClaimLost` when the lease had
    /// already run out and another process took the claim over (or is doing so).
    pub fn renew(&mut self) -> Result<()> {
        let record = ClaimRecord {
            expires: SystemTime::now() + self.lease,
            ..self.record.clone()
        };
        let cache = &self.cache;
        let key = self.key;
        match with_claim_lock(cache, &key, &self.id, || {
            replace_claim(cache, &key, &record)
        }) {
            Ok(Locked::Done(id)) => {
                self.id = id;
                self.record = record;
                Ok(())
            }
            Ok(Locked::Changed) | Ok(Locked::Busy) => Err(Error::ClaimLost {
                dir: cache.dir.clone(),
                key_hex: key_hex(&key),
                now_held_by: current_holder(cache, &key),
            }),
            Err(e) => Err(Error::write(&cache.dir, e)),
        }
    }

    /// Removes the claim file (what drop does), reporting failure.
    pub fn release(mut self) -> Result<()> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<()> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        let path = claim_path(&self.cache, &self.key);
        match with_claim_lock(&self.cache, &self.key, &self.id, || fs::remove_file(&path)) {
            Ok(Locked::Done(())) => Ok(()),
            // Taken over after our lease ran out: the file is the new holder's, leave it.
            Ok(Locked::Changed) | Ok(Locked::Busy) => Ok(()),
            Err(e) => Err(Error::write(&self.cache.dir, e)),
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if let Err(e) = self.release_inner() {
            log::warn!("{e}");
        }
    }
}

fn claim_path(cache: &DiskCache, key: &[u8; 32]) -> PathBuf {
    cache.dir.join(format!("{}.claim", key_hex(key)))
}

fn lock_path(cache: &DiskCache, key: &[u8; 32], id: &FileId) -> PathBuf {
    cache
        .dir
        .join(format!("{}.claim.lock-{}", key_hex(key), id.ino))
}

fn observe(cache: &DiskCache, key: &[u8; 32]) -> io::Result<Observed> {
    let mut file = match File::open(claim_path(cache, key)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Observed::Absent),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let mut text = String::new();
    // Binary garbage reads as unparsable, like a half-written file.
    let _ = file.read_to_string(&mut text);
    let now = SystemTime::now();
    match ClaimRecord::parse(&text) {
        Some(record) => match record.expires.duration_since(now) {
            Ok(left) if !left.is_zero() => Ok(Observed::Live {
                holder: record.holder,
                expires_in: left,
            }),
            _ => Ok(Observed::Stale {
                id: FileId::of(&meta),
                holder: record.holder,
            }),
        },
        None => {
            let written = meta.modified().unwrap_or(UNIX_EPOCH);
            let age = now.duration_since(written).unwrap_or_default();
            if age < UNREADABLE_CLAIM_GRACE {
                Ok(Observed::Live {
                    holder: "unknown (its claim file is being written)".into(),
                    expires_in: UNREADABLE_CLAIM_GRACE - age,
                })
            } else {
                Ok(Observed::Stale {
                    id: FileId::of(&meta),
                    holder: "unknown (unreadable claim file)".into(),
                })
            }
        }
    }
}

fn current_holder(cache: &DiskCache, key: &[u8; 32]) -> String {
    match observe(cache, key) {
        Ok(Observed::Live { holder, .. }) => holder,
        Ok(Observed::Stale { holder, .. }) => format!("{holder}, expired"),
        Ok(Observed::Absent) => "nobody".into(),
        Err(e) => format!("unknown ({e})"),
    }
}

enum Locked<T> {
    Done(T),
    /// The claim file is no longer the one expected (replaced or removed).
    Changed,
    /// Another process holds the lock on that claim file: it is replacing or removing it.
    Busy,
}

/// Runs `mutate` holding the exclusive right to change the claim file identified by `expected`
/// (see the module doc).
fn with_claim_lock<T>(
    cache: &DiskCache,
    key: &[u8; 32],
    expected: &FileId,
    mutate: impl FnOnce() -> io::Result<T>,
) -> io::Result<Locked<T>> {
    let lock = lock_path(cache, key, expected);
    match fs::hard_link(claim_path(cache, key), &lock) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            remove_if_orphaned(&lock);
            return Ok(Locked::Busy);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Locked::Changed),
        Err(e) => return Err(e),
    }
    let outcome = match fs::metadata(&lock) {
        Ok(meta) if FileId::of(&meta) == *expected => mutate().map(Locked::Done),
        Ok(_) => Ok(Locked::Changed),
        Err(e) => Err(e),
    };
    if let Err(e) = fs::remove_file(&lock) {
        log::warn!("cannot remove claim lock {}: {e}", lock.display());
    }
    outcome
}

/// `link` sets the inode's ctime, so a lock's ctime is when it was taken.
fn remove_if_orphaned(lock: &std::path::Path) {
    let Ok(meta) = fs::metadata(lock) else { return };
    let taken = UNIX_EPOCH + Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
    let age = SystemTime::now().duration_since(taken).unwrap_or_default();
    if age > ORPHAN_LOCK_AGE {
        log::warn!("removing orphaned claim lock {}", lock.display());
        let _ = fs::remove_file(lock);
    }
}

/// Writes `record` to a temp file and renames it over the claim file; the caller holds the lock.
fn replace_claim(cache: &DiskCache, key: &[u8; 32], record: &ClaimRecord) -> io::Result<FileId> {
    let temp = cache.temp_path(&format!("{}.claim", key_hex(key)));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(record.render().as_bytes())?;
        file.sync_all()?;
        let id = FileId::of(&file.metadata()?);
        fs::rename(&temp, claim_path(cache, key))?;
        Ok(id)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Creates the claim file; `None` when one exists.
fn create_claim(
    cache: &DiskCache,
    key: &[u8; 32],
    record: &ClaimRecord,
) -> io::Result<Option<FileId>> {
    let path = claim_path(cache, key);
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true) // O_CREAT|O_EXCL
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(e),
    };
    let written = file
        .write_all(record.render().as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| file.metadata());
    match written {
        Ok(meta) => Ok(Some(FileId::of(&meta))),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(e)
        }
    }
}

impl DiskCache {
    /// Claims the right to generate the entry for `key` for `lease` (renewable): `Ready` when
    /// the entry exists, `Held` when another live process holds the claim, `Mine` otherwise.
    /// An expired claim is taken over by exactly one of the processes racing for it. Does not
    /// block.
    pub fn claim(&self, key: &[u8; 32], lease: Duration) -> Result<Claim> {
        let write_err = |e| Error::write(&self.dir, e);
        // A few rounds cover losing a race to a takeover or a release in between.
        for _ in 0..8 {
            if self.contains(key) {
                return Ok(Claim::Ready);
            }
            let record = ClaimRecord::new(lease);
            let id = match observe(self, key).map_err(|e| Error::read(&self.dir, e))? {
                Observed::Live { holder, expires_in } => {
                    return Ok(Claim::Held { holder, expires_in })
                }
                Observed::Absent => match create_claim(self, key, &record).map_err(write_err)? {
                    Some(id) => id,
                    None => continue, // someone created it first: read theirs
                },
                Observed::Stale { id: stale, holder } => {
                    match with_claim_lock(self, key, &stale, || replace_claim(self, key, &record))
                        .map_err(write_err)?
                    {
                        Locked::Done(id) => {
                            log::info!(
                                "took over the expired claim of {holder} on {}",
                                key_hex(key)
                            );
                            id
                        }
                        Locked::Changed => continue,
                        Locked::Busy => {
                            return Ok(Claim::Held {
                                holder: format!(
                                    "a process taking over the expired claim of {holder}"
                                ),
                                expires_in: Duration::ZERO,
                            })
                        }
                    }
                }
            };
            let guard = ClaimGuard {
                cache: self.clone(),
                key: *key,
                lease,
                record,
                id,
                released: false,
            };
            // The holder before us may have finished (put, released) between our check and our
            // claim: do not generate it again.
            if self.contains(key) {
                guard.release()?;
                return Ok(Claim::Ready);
            }
            return Ok(Claim::Mine(guard));
        }
        Ok(Claim::Held {
            holder: "others changing the claim (contended)".into(),
            expires_in: Duration::ZERO,
        })
    }

    /// Waits until the entry for `key` exists (then returns its bytes) or the claim is ours,
    /// polling every `poll` and asking `should_continue` before each wait (a host's abort).
    pub fn wait_or_claim(
        &self,
        key: &[u8; 32],
        lease: Duration,
        poll: Duration,
        should_continue: &mut dyn FnMut() -> bool,
    ) -> Result<Waited> {
        loop {
            match self.claim(key, lease)? {
                Claim::Mine(guard) => return Ok(Waited::Mine(guard)),
                Claim::Ready => {
                    if let Some(bytes) = self.get(key)? {
                        return Ok(Waited::Ready(bytes));
                    }
                    // Evicted or corrupt (and now deleted) in between: claim again at once.
                    continue;
                }
                Claim::Held { .. } => {}
            }
            if !should_continue() {
                return Ok(Waited::Cancelled);
            }
            std::thread::sleep(poll);
        }
    }
}

/// Removes expired claims and orphaned claim locks (for `prune`).
pub(crate) fn clean_stale(cache: &DiskCache) -> Result<()> {
    for (path, _) in cache.scan(|name| name.contains(".claim.lock-"))? {
        remove_if_orphaned(&path);
    }
    for (path, _) in cache.scan(|name| name.ends_with(".claim"))? {
        let name = path.file_name().unwrap().to_string_lossy();
        let Some(key) = parse_key_hex(name.trim_end_matches(".claim")) else {
            continue;
        };
        if let Observed::Stale { id, holder } =
            observe(cache, &key).map_err(|e| Error::read(&cache.dir, e))?
        {
            let removed = with_claim_lock(cache, &key, &id, || fs::remove_file(&path))
                .map_err(|e| Error::write(&cache.dir, e))?;
            if let Locked::Done(()) = removed {
                log::info!("removed the expired claim of {holder} on {}", key_hex(&key));
            }
        }
    }
    Ok(())
}

fn parse_key_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates when it fits.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    if rc != 0 {
        return "unknown-host".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Unique across processes and nodes (time, pid, host, a per-process counter, hashed); used for
/// claim nonces and temp file names. Uniqueness is what matters, not unpredictability.
pub(crate) fn unique_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = blake3::Hasher::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    hasher.update(&now.as_nanos().to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(format!("{:?}", std::thread::current().id()).as_bytes());
    hasher.update(hostname().as_bytes());
    hasher.finalize().to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_records_round_trip_and_reject_garbage() {
        let record = ClaimRecord::new(Duration::from_secs(30));
        let parsed = ClaimRecord::parse(&record.render()).unwrap();
        assert_eq!(parsed.holder, record.holder);
        assert_eq!(parsed.nonce, record.nonce);
        // Stored to the millisecond.
        let diff = match record.expires.duration_since(parsed.expires) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(diff < Duration::from_millis(1));
        assert!(record
            .holder
            .contains(&format!("pid {}", std::process::id())));
        assert_eq!(ClaimRecord::parse(""), None);
        assert_eq!(ClaimRecord::parse("dreamfx-claim 1\nholder x\n"), None);
    }

    #[test]
    fn key_hex_round_trips() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        assert_eq!(parse_key_hex(&key_hex(&key)), Some(key));
        assert_eq!(parse_key_hex("zz"), None);
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(unique_nonce(), unique_nonce());
    }
}
