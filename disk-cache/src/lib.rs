//! The runtime's second cache level: a content-addressed directory of generated clip segments.
//!
//! Each entry is one file `<key hex>.clip`, keyed by the 32-byte job key (blake3 of the job's
//! canonical form), holding a header (magic, format version, lengths, the key, a blake3 checksum
//! of description and payload), a description for listings, and the payload. A restarted runtime, another
//! process, or another farm node sharing the directory serves an already generated segment from
//! here instead of generating it again.
//!
//! Why it is built this way:
//! - **Farm nodes share the directory over NFS.** Everything is done with operations that are
//!   atomic on an NFS server: entries are written to a temp file in the same directory, fsynced
//!   and renamed into place (readers see a whole entry or none); claims are created with
//!   `O_CREAT|O_EXCL`. No `flock`/`fcntl` locks: they are unreliable or absent over NFS, and a
//!   lock held by a dead node is never released.
//! - **Claims carry a lease** (wall-clock expiry written in the claim file), so a node that died
//!   or hung while generating does not block the key forever: an expired claim is taken over by
//!   exactly one waiter (see [`DiskCache::claim`]). Nodes are assumed to have synchronised clocks (NTP).
//! - **Access time is the file's mtime**, set explicitly on every hit: `atime` is not updated on
//!   `noatime`/`relatime` mounts, the common case on farms. LRU eviction removes the oldest mtime.
//! - **Nothing corrupt is ever served**: every read checks magic, version, length, key and
//!   checksum; a bad entry is deleted and reads as a miss.

mod claim;
mod entry;

pub use claim::{Claim, ClaimGuard, Waited};

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A temp file older than this is a leftover of a crash (a put takes seconds, not an hour).
pub const STRAY_TEMP_AGE: Duration = Duration::from_secs(3600);

const ENTRY_SUFFIX: &str = ".clip";
const TEMP_PREFIX: &str = ".tmp-";
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by dreamfx (generated clip segments).\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no directory for the dreamfx clip cache: none of DREAMFX_CACHE_DIR, XDG_CACHE_HOME, \
         HOME is set; set DREAMFX_CACHE_DIR"
    )]
    NoCacheDir,
    #[error(
        "cannot create the dreamfx clip cache directory {dir}: {source}; create it, or set \
         DREAMFX_CACHE_DIR to a writable directory"
    )]
    CreateDir { dir: PathBuf, source: io::Error },
    #[error(
        "the dreamfx clip cache directory {dir} is full ({source}); nothing was written. Free \
         space on that disk, give the cache a smaller capacity, or set DREAMFX_CACHE_DIR to a \
         larger disk"
    )]
    NoSpace { dir: PathBuf, source: io::Error },
    #[error(
        "cannot write to the dreamfx clip cache directory {dir} ({source}); nothing was \
         written. Check that it is writable by this user and mounted read-write, or set \
         DREAMFX_CACHE_DIR to a writable directory"
    )]
    Write { dir: PathBuf, source: io::Error },
    #[error("cannot read the dreamfx clip cache directory {dir}: {source}")]
    Read { dir: PathBuf, source: io::Error },
    #[error(
        "the claim on {key_hex} in {dir} is no longer ours (now: {now_held_by}); its lease \
         ran out before it was renewed, so another process may be generating the same entry"
    )]
    ClaimLost {
        dir: PathBuf,
        key_hex: String,
        now_held_by: String,
    },
}

impl Error {
    /// A failed write, typed by cause: a full disk or quota gets its own variant.
    pub(crate) fn write(dir: &Path, source: io::Error) -> Error {
        let dir = dir.to_path_buf();
        match source.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => Error::NoSpace { dir, source },
            _ => Error::Write { dir, source },
        }
    }

    pub(crate) fn read(dir: &Path, source: io::Error) -> Error {
        Error::Read {
            dir: dir.to_path_buf(),
            source,
        }
    }
}

/// One entry, for listings (`dreamfx cache ls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub key_hex: String,
    /// Size on disk (header, description and payload): what counts against the capacity.
    pub bytes: u64,
    /// The last `put` or `get` hit, on any process or node sharing the directory.
    pub last_used: SystemTime,
    /// As given to `put`, or why the entry's header cannot be read.
    pub description: String,
}

/// A bounded, content-addressed directory of blobs. Cheap to clone; no state beyond the path.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    capacity_bytes: u64,
}

pub fn key_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

impl DiskCache {
    /// Opens (creating it, 0700, when missing) the cache directory `dir`, which after each
    /// `put` is trimmed to `capacity_bytes` by evicting least-recently-used entries.
    pub fn open(dir: impl Into<PathBuf>, capacity_bytes: u64) -> Result<DiskCache> {
        let dir = dir.into();
        if !dir.is_dir() {
            // 0700: prompts and generated clips are private to the user.
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|source| Error::CreateDir {
                    dir: dir.clone(),
                    source,
                })?;
        }
        let cache = DiskCache {
            dir,
            capacity_bytes,
        };
        cache.write_cachedir_tag();
        Ok(cache)
    }

    /// `$DREAMFX_CACHE_DIR/clips`, else `$XDG_CACHE_HOME/dreamfx/clips`, else
    /// `~/.cache/dreamfx/clips`. Empty and (for XDG, as its spec says) relative values are
    /// ignored.
    pub fn default_dir() -> Result<PathBuf> {
        default_dir_from(|name| std::env::var_os(name))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn capacity_bytes(&self) -> u64 {
        self.capacity_bytes
    }

    /// Backup and sync tools skip directories with this tag. A read-only shared cache cannot
    /// get one, which is no reason to refuse to read it.
    fn write_cachedir_tag(&self) {
        let path = self.dir.join("CACHEDIR.TAG");
        if path.exists() {
            return;
        }
        let result = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(CACHEDIR_TAG.as_bytes()));
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => log::warn!("cannot write {}: {e}", path.display()),
        }
    }

    pub(crate) fn entry_path(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}{ENTRY_SUFFIX}", key_hex(key)))
    }

    /// A name no other writer uses, starting with [`TEMP_PREFIX`] so that listings skip it and
    /// `prune` can clean it when a crash leaves it behind.
    pub(crate) fn temp_path(&self, what: &str) -> PathBuf {
        self.dir
            .join(format!("{TEMP_PREFIX}{what}-{}", claim::unique_nonce()))
    }

    /// Stores `payload` under `key`, atomically: readers (here or on another node) see the
    /// whole entry or none, and a failed write leaves nothing behind. Then evicts the least
    /// recently used other entries until the directory holds at most the capacity.
    pub fn put(&self, key: &[u8; 32], payload: &[u8], description: &str) -> Result<()> {
        let temp = self.temp_path(&key_hex(key));
        let written = (|| -> io::Result<()> {
            // Default mode (umask): privacy comes from the 0700 directory, and a farm's shared
            // directory set up for a group keeps working.
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            entry::write_entry(
                &mut out,
                key,
                entry::truncate_description(description),
                payload,
            )?;
            let file = out.into_inner().map_err(|e| e.into_error())?;
            // mtime is our access time: set it explicitly so that it is exact (not the coarse
            // kernel tick) and comes from this clock like every later `get` does.
            file.set_modified(SystemTime::now())?;
            // Data on disk before the rename makes it visible: a crash never leaves a
            // half-written file under an entry's name.
            file.sync_all()?;
            fs::rename(&temp, self.entry_path(key))
        })();
        if let Err(source) = written {
            let _ = fs::remove_file(&temp);
            return Err(Error::write(&self.dir, source));
        }
        self.sync_dir();
        // The entry is stored; failing to trim the directory must not turn that into an error.
        if let Err(e) = self.evict_to(self.capacity_bytes, Some(key)) {
            log::warn!("dreamfx clip cache: eviction after a put failed: {e}");
        }
        Ok(())
    }

    /// Makes the rename durable; best effort (some file systems refuse fsync on directories).
    fn sync_dir(&self) {
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
    }

    /// The payload stored under `key`, or `None`. A corrupt or truncated entry is deleted,
    /// logged and read as a miss. A hit becomes the most recently used entry.
    pub fn get(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        let path = self.entry_path(key);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::read(&self.dir, e)),
        };
        let mut bytes = Vec::new();
        match file.read_to_end(&mut bytes) {
            Ok(_) => {}
            // Evicted (or replaced) by another node while we read over NFS: a miss.
            Err(e) if e.raw_os_error() == Some(libc::ESTALE) => return Ok(None),
            Err(e) => return Err(Error::read(&self.dir, e)),
        }
        match entry::verify(&bytes, key) {
            Ok(payload) => {
                // Best effort: a read-only shared cache still serves hits.
                if let Err(e) = file.set_modified(SystemTime::now()) {
                    log::debug!("cannot record the access to {}: {e}", path.display());
                }
                let start = payload.as_ptr() as usize - bytes.as_ptr() as usize;
                bytes.drain(..start);
                Ok(Some(bytes))
            }
            Err(why) => {
                log::warn!(
                    "dreamfx clip cache: {} is corrupt ({why}); deleting it and treating it as a \
                     miss",
                    path.display()
                );
                self.remove_if_same(&path, &file);
                Ok(None)
            }
        }
    }

    /// Removes `path` only while it is still the file we opened: a good entry renamed into
    /// place by another writer meanwhile must survive our verdict on the old one.
    fn remove_if_same(&self, path: &Path, opened: &File) {
        let (Ok(ours), Ok(now)) = (opened.metadata(), fs::metadata(path)) else {
            return;
        };
        if ours.ino() == now.ino() && ours.dev() == now.dev() {
            if let Err(e) = fs::remove_file(path) {
                log::warn!("cannot delete {}: {e}", path.display());
            }
        }
    }

    /// Whether an entry file for `key` exists (not verified).
    pub fn contains(&self, key: &[u8; 32]) -> bool {
        self.entry_path(key).is_file()
    }

    /// Every entry, most recently used first.
    pub fn entries(&self) -> Result<Vec<EntryInfo>> {
        let mut entries = Vec::new();
        for (path, meta) in self.scan(|name| name.ends_with(ENTRY_SUFFIX))? {
            let name = path.file_name().unwrap().to_string_lossy();
            let key_hex = name.trim_end_matches(ENTRY_SUFFIX).to_string();
            let description =
                match File::open(&path).and_then(|mut f| entry::read_description(&mut f)) {
                    Ok(Ok(d)) => d,
                    Ok(Err(why)) => format!("<unreadable entry: {why}>"),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => format!("<unreadable entry: {e}>"),
                };
            entries.push(EntryInfo {
                key_hex,
                bytes: meta.len(),
                last_used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                description,
            });
        }
        entries.sort_by(|a, b| {
            b.last_used
                .cmp(&a.last_used)
                .then_with(|| a.key_hex.cmp(&b.key_hex))
        });
        Ok(entries)
    }

    /// Bytes on disk of all entries.
    pub fn total_bytes(&self) -> Result<u64> {
        Ok(self
            .scan(|name| name.ends_with(ENTRY_SUFFIX))?
            .iter()
            .map(|(_, m)| m.len())
            .sum())
    }

    /// Evicts least-recently-used entries until at most `max_bytes` remain, and cleans what
    /// crashes leave behind: temp files older than [`STRAY_TEMP_AGE`], expired claims and
    /// orphaned claim locks. Returns how many entries were removed and their bytes.
    pub fn prune(&self, max_bytes: u64) -> Result<(usize, u64)> {
        let now = SystemTime::now();
        for (path, meta) in self.scan(|name| name.starts_with(TEMP_PREFIX))? {
            let age = now
                .duration_since(meta.modified().unwrap_or(now))
                .unwrap_or_default();
            if age > STRAY_TEMP_AGE {
                log::info!("removing stray temp file {}", path.display());
                let _ = fs::remove_file(&path);
            }
        }
        claim::clean_stale(self)?;
        self.evict_to(max_bytes, None)
    }

    /// Removes every entry (not claims or temp files of writers at work). Returns how many
    /// entries were removed and their bytes.
    pub fn clear(&self) -> Result<(usize, u64)> {
        self.evict_to(0, None)
    }

    /// Removes the oldest-mtime entries until the total is at most `max_bytes`, never `keep`.
    fn evict_to(&self, max_bytes: u64, keep: Option<&[u8; 32]>) -> Result<(usize, u64)> {
        let keep_name = keep.map(|k| format!("{}{ENTRY_SUFFIX}", key_hex(k)));
        let mut entries = self.scan(|name| name.ends_with(ENTRY_SUFFIX))?;
        let mut total: u64 = entries.iter().map(|(_, m)| m.len()).sum();
        entries.sort_by_key(|(path, m)| {
            (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), path.clone())
        });
        let (mut removed, mut removed_bytes) = (0, 0);
        for (path, meta) in entries {
            if total <= max_bytes {
                break;
            }
            if keep_name.as_deref() == path.file_name().and_then(|n| n.to_str()) {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => {
                    log::debug!("evicted {} ({} bytes)", path.display(), meta.len());
                    removed += 1;
                    removed_bytes += meta.len();
                    total -= meta.len();
                }
                // Another process evicted it first: it is gone either way.
                Err(e) if e.kind() == io::ErrorKind::NotFound => total -= meta.len(),
                Err(e) => return Err(Error::write(&self.dir, e)),
            }
        }
        Ok((removed, removed_bytes))
    }

    /// Regular files in the directory whose name passes `want`, with their metadata. Files
    /// that vanish while scanning (another process evicting) are skipped.
    pub(crate) fn scan(&self, want: impl Fn(&str) -> bool) -> Result<Vec<(PathBuf, fs::Metadata)>> {
        let read_dir = fs::read_dir(&self.dir).map_err(|e| Error::read(&self.dir, e))?;
        let mut found = Vec::new();
        for dirent in read_dir {
            let dirent = dirent.map_err(|e| Error::read(&self.dir, e))?;
            let name = dirent.file_name();
            let Some(name) = name.to_str() else { continue };
            if !want(name) {
                continue;
            }
            match fs::symlink_metadata(dirent.path()) {
                Ok(meta) if meta.is_file() => found.push((dirent.path(), meta)),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::read(&self.dir, e)),
            }
        }
        Ok(found)
    }
}

fn default_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = non_empty("DREAMFX_CACHE_DIR") {
        return Ok(dir.join("clips"));
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("dreamfx").join("clips"));
    }
    if let Some(home) = non_empty("HOME") {
        return Ok(home.join(".cache").join("dreamfx").join("clips"));
    }
    Err(Error::NoCacheDir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn dir_with(vars: &[(&str, &str)]) -> Result<PathBuf> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        default_dir_from(|name| vars.get(name).cloned())
    }

    #[test]
    fn default_dir_prefers_dreamfx_then_xdg_then_home() {
        let all = [
            ("DREAMFX_CACHE_DIR", "/d"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir_with(&all).unwrap(), PathBuf::from("/d/clips"));
        assert_eq!(
            dir_with(&all[1..]).unwrap(),
            PathBuf::from("/x/dreamfx/clips")
        );
        assert_eq!(
            dir_with(&all[2..]).unwrap(),
            PathBuf::from("/h/.cache/dreamfx/clips")
        );
        // Empty values are unset; a relative XDG_CACHE_HOME is ignored (XDG base dir spec).
        assert_eq!(
            dir_with(&[
                ("DREAMFX_CACHE_DIR", ""),
                ("XDG_CACHE_HOME", "rel"),
                ("HOME", "/h")
            ])
            .unwrap(),
            PathBuf::from("/h/.cache/dreamfx/clips")
        );
        assert!(matches!(dir_with(&[]), Err(Error::NoCacheDir)));
    }

    #[test]
    fn write_errors_are_typed_by_cause() {
        let full = Error::write(Path::new("/c"), io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(matches!(full, Error::NoSpace { .. }));
        let quota = Error::write(Path::new("/c"), io::Error::from_raw_os_error(libc::EDQUOT));
        assert!(matches!(quota, Error::NoSpace { .. }));
        let denied = Error::write(Path::new("/c"), io::Error::from_raw_os_error(libc::EACCES));
        assert!(matches!(denied, Error::Write { .. }));
    }

    /// The real writer against a real full device: `/dev/full` fails every write with ENOSPC,
    /// which is what a full disk does; the error must come out as `NoSpace` naming the dir.
    #[test]
    fn a_full_device_gives_a_no_space_error_naming_the_directory() {
        let Ok(dev_full) = OpenOptions::new().write(true).open("/dev/full") else {
            eprintln!("no /dev/full here; skipped");
            return;
        };
        let mut out = io::BufWriter::new(dev_full);
        let payload = vec![1u8; 1 << 20];
        let err = entry::write_entry(&mut out, &[1; 32], "d", &payload).unwrap_err();
        let err = Error::write(Path::new("/farm/cache/clips"), err);
        assert!(matches!(err, Error::NoSpace { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("/farm/cache/clips"), "{message}");
        assert!(message.contains("is full"), "{message}");
        assert!(message.contains("nothing was written"), "{message}");
    }
}
