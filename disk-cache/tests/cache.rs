//! Entries on real files: round trip, corruption, LRU, capacity, atomicity, write errors.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use common::{assert_success, key, names, spawn_self, TempDir};
use dreamfx_disk_cache::{key_hex, DiskCache, Error, STRAY_TEMP_AGE};

fn entry_path(cache: &DiskCache, k: &[u8; 32]) -> std::path::PathBuf {
    cache.dir().join(format!("{}.clip", key_hex(k)))
}

#[test]
fn open_creates_a_private_tagged_directory() {
    let tmp = TempDir::new("open");
    let dir = tmp.path().join("nested").join("clips");
    let cache = DiskCache::open(&dir, 1 << 20).unwrap();
    assert_eq!(cache.dir(), dir);
    let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "mode {mode:o}");
    let tag = fs::read_to_string(dir.join("CACHEDIR.TAG")).unwrap();
    assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    // Reopening an existing directory keeps its mode and contents.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
    DiskCache::open(&dir, 1 << 20).unwrap();
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o750
    );
    assert_eq!(names(&dir), ["CACHEDIR.TAG"]);
}

#[test]
fn round_trip_and_listing() {
    let tmp = TempDir::new("roundtrip");
    let cache = DiskCache::open(tmp.path(), 1 << 30).unwrap();
    assert_eq!(cache.get(&key(1)).unwrap(), None);
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let description = "dreamfx.TextToVideo segment 2 of 'a red circle…'";
    cache.put(&key(1), &payload, description).unwrap();
    cache.put(&key(2), b"", "empty").unwrap();
    assert_eq!(cache.get(&key(1)).unwrap().as_deref(), Some(&payload[..]));
    assert_eq!(cache.get(&key(2)).unwrap(), Some(vec![]));
    assert!(cache.contains(&key(1)));

    // A second handle (as another process would have) sees the same entries.
    let other = DiskCache::open(tmp.path(), 1 << 30).unwrap();
    assert_eq!(other.get(&key(1)).unwrap().as_deref(), Some(&payload[..]));

    let entries = cache.entries().unwrap();
    assert_eq!(entries.len(), 2);
    // key(1) was read last, so it is the most recently used.
    assert_eq!(entries[0].key_hex, key_hex(&key(1)));
    assert_eq!(entries[0].description, description);
    assert_eq!(entries[1].description, "empty");
    let on_disk = fs::metadata(entry_path(&cache, &key(1))).unwrap().len();
    assert_eq!(entries[0].bytes, on_disk);
    assert!(on_disk > payload.len() as u64);
    assert_eq!(
        cache.total_bytes().unwrap(),
        entries[0].bytes + entries[1].bytes
    );

    // Overwriting replaces.
    cache.put(&key(2), b"new", "replaced").unwrap();
    assert_eq!(cache.get(&key(2)).unwrap(), Some(b"new".to_vec()));

    assert_eq!(cache.clear().unwrap().0, 2);
    assert_eq!(cache.get(&key(1)).unwrap(), None);
    assert_eq!(cache.total_bytes().unwrap(), 0);
}

#[test]
fn a_flipped_byte_reads_as_a_miss_and_the_file_is_deleted() {
    let tmp = TempDir::new("flip");
    let cache = DiskCache::open(tmp.path(), 1 << 30).unwrap();
    let payload = vec![42u8; 100_000];
    // One byte flipped in each region: header, description, payload.
    for (n, offset) in [(1u8, 20usize), (2, 90), (3, 50_000)] {
        cache.put(&key(n), &payload, "desc").unwrap();
        let path = entry_path(&cache, &key(n));
        let mut bytes = fs::read(&path).unwrap();
        bytes[offset] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        assert!(
            cache.get(&key(n)).unwrap().is_none(),
            "flip at {offset} was served"
        );
        assert!(
            !path.exists(),
            "corrupt entry (flip at {offset}) not deleted"
        );
    }
}

#[test]
fn a_truncated_entry_reads_as_a_miss_and_the_file_is_deleted() {
    let tmp = TempDir::new("truncate");
    let cache = DiskCache::open(tmp.path(), 1 << 30).unwrap();
    for (n, keep) in [(1u8, 0u64), (2, 40), (3, 5_000)] {
        cache.put(&key(n), &[7u8; 10_000], "desc").unwrap();
        let path = entry_path(&cache, &key(n));
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(keep)
            .unwrap();
        assert!(
            cache.get(&key(n)).unwrap().is_none(),
            "truncated to {keep}: served"
        );
        assert!(!path.exists());
    }
    // An entry renamed to another key's name is not served for that key.
    cache.put(&key(4), b"four", "desc").unwrap();
    fs::rename(entry_path(&cache, &key(4)), entry_path(&cache, &key(5))).unwrap();
    assert_eq!(cache.get(&key(5)).unwrap(), None);
    assert!(!entry_path(&cache, &key(5)).exists());
}

#[test]
fn eviction_removes_the_least_recently_used_and_a_get_counts_as_use() {
    let tmp = TempDir::new("lru");
    let payload = vec![0u8; 10_000];
    // Room for three entries, not four.
    let entry_bytes = {
        let probe = DiskCache::open(tmp.path().join("probe"), u64::MAX).unwrap();
        probe.put(&key(0), &payload, "x").unwrap();
        probe.total_bytes().unwrap()
    };
    let cache = DiskCache::open(tmp.path().join("c"), 3 * entry_bytes + entry_bytes / 2).unwrap();
    for n in 1..=3 {
        cache.put(&key(n), &payload, "x").unwrap();
    }
    // key(1) is the oldest put, but read now: key(2) becomes the least recently used.
    assert!(cache.get(&key(1)).unwrap().is_some());
    cache.put(&key(4), &payload, "x").unwrap();
    assert!(cache.contains(&key(1)), "the entry just read was evicted");
    assert!(!cache.contains(&key(2)), "the least recently used survived");
    assert!(cache.contains(&key(3)));
    assert!(cache.contains(&key(4)));
    // And with no reads, the order of puts decides.
    cache.put(&key(5), &payload, "x").unwrap();
    assert!(!cache.contains(&key(3)));
    let listed: Vec<String> = cache
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| e.key_hex)
        .collect();
    assert_eq!(
        listed,
        [key_hex(&key(5)), key_hex(&key(4)), key_hex(&key(1))]
    );
}

#[test]
fn the_capacity_is_respected_but_never_by_evicting_the_entry_just_written() {
    let tmp = TempDir::new("capacity");
    let capacity = 100_000;
    let cache = DiskCache::open(tmp.path(), capacity).unwrap();
    for n in 0..30u8 {
        cache
            .put(&key(n), &vec![n; 9_000 + n as usize * 100], "x")
            .unwrap();
        assert!(cache.total_bytes().unwrap() <= capacity);
        assert!(cache.contains(&key(n)));
    }
    // An entry bigger than the whole capacity is kept (alone): it was asked for just now.
    cache.put(&key(99), &vec![1; 150_000], "big").unwrap();
    assert_eq!(cache.entries().unwrap().len(), 1);
    assert!(cache.get(&key(99)).unwrap().is_some());
    // prune with a smaller bound evicts regardless.
    let (removed, bytes) = cache.prune(0).unwrap();
    assert_eq!(removed, 1);
    assert!(bytes > 150_000);
    assert_eq!(cache.total_bytes().unwrap(), 0);
}

#[test]
fn prune_evicts_oldest_first_and_reports_what_it_removed() {
    let tmp = TempDir::new("prune");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    for n in 1..=4 {
        cache.put(&key(n), &[n; 1000], "x").unwrap();
    }
    let each = cache.total_bytes().unwrap() / 4;
    let (removed, bytes) = cache.prune(2 * each).unwrap();
    assert_eq!((removed, bytes), (2, 2 * each));
    assert!(!cache.contains(&key(1)) && !cache.contains(&key(2)));
    assert!(cache.contains(&key(3)) && cache.contains(&key(4)));
}

#[test]
fn a_crash_leftover_temp_file_is_not_an_entry_and_prune_cleans_it_when_old() {
    let tmp = TempDir::new("atomic");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    cache.put(&key(1), b"whole", "x").unwrap();
    // What a writer killed before its rename leaves: a half-written temp file.
    let full = fs::read(entry_path(&cache, &key(1))).unwrap();
    let old_temp = tmp
        .path()
        .join(format!(".tmp-{}-deadbeef", key_hex(&key(2))));
    let new_temp = tmp
        .path()
        .join(format!(".tmp-{}-cafef00d", key_hex(&key(3))));
    fs::write(&old_temp, &full[..full.len() / 2]).unwrap();
    fs::write(&new_temp, &full[..10]).unwrap();
    let two_hours_ago = SystemTime::now() - STRAY_TEMP_AGE - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&old_temp)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();

    assert_eq!(cache.get(&key(2)).unwrap(), None);
    assert_eq!(cache.entries().unwrap().len(), 1);
    assert_eq!(cache.total_bytes().unwrap(), full.len() as u64);

    let (removed, _) = cache.prune(u64::MAX).unwrap();
    assert_eq!(removed, 0, "prune under capacity removes no entry");
    assert!(!old_temp.exists(), "an hour-old temp file must be cleaned");
    // A recent one may be a put in progress in another process: left alone.
    assert!(new_temp.exists());
    assert_eq!(cache.get(&key(1)).unwrap(), Some(b"whole".to_vec()));
}

/// A write that fails half-way (here: over the file size limit, a real kernel error from a
/// real write) returns a typed error naming the directory and leaves no file behind. Runs in
/// a child process because the limit is process-wide.
#[test]
fn a_write_failing_half_way_leaves_nothing_behind() {
    const CHILD: &str = "DREAMFX_DISK_CACHE_TEST_FSIZE_DIR";
    if let Ok(dir) = std::env::var(CHILD) {
        let cache = DiskCache::open(&dir, u64::MAX).unwrap();
        cache.put(&key(1), b"small entry", "fits").unwrap();
        // SAFETY: plain libc calls; ignoring SIGXFSZ turns the signal into EFBIG.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 64 * 1024,
                rlim_max: libc::RLIM_INFINITY,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        }
        let err = cache
            .put(&key(2), &vec![9u8; 1 << 20], "too big")
            .unwrap_err();
        assert!(matches!(err, Error::Write { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(&dir), "{message}");
        assert!(message.contains("nothing was written"), "{message}");
        println!("CHILD-OK {message}");
        return;
    }
    let tmp = TempDir::new("fsize");
    let child = spawn_self(
        "a_write_failing_half_way_leaves_nothing_behind",
        &[(CHILD, tmp.path().display().to_string())],
    );
    let output = child.wait_with_output().unwrap();
    assert_success(&output, "child");
    assert!(String::from_utf8_lossy(&output.stdout).contains("CHILD-OK"));
    assert_eq!(
        names(tmp.path()),
        [
            format!("{}.clip", key_hex(&key(1))),
            "CACHEDIR.TAG".to_string()
        ],
        "a partial file was left behind"
    );
}

#[test]
fn an_unwritable_directory_gives_an_error_that_names_it_and_says_what_to_do() {
    let tmp = TempDir::new("readonly");
    let dir = tmp.path().join("clips");
    let cache = DiskCache::open(&dir, u64::MAX).unwrap();
    cache.put(&key(1), b"before", "x").unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        // Root ignores permission bits: make the directory's place a regular file instead.
        fs::remove_dir_all(&dir).unwrap();
        fs::write(&dir, b"not a directory").unwrap();
    } else {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).unwrap();
    }
    let err = cache.put(&key(2), b"payload", "x").unwrap_err();
    if !root {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(
            names(&dir),
            [
                format!("{}.clip", key_hex(&key(1))),
                "CACHEDIR.TAG".to_string()
            ]
        );
        assert_eq!(cache.get(&key(1)).unwrap(), Some(b"before".to_vec()));
    }
    assert!(matches!(err, Error::Write { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&dir.display().to_string()), "{message}");
    assert!(message.contains("nothing was written"), "{message}");
    assert!(message.contains("DREAMFX_CACHE_DIR"), "{message}");
}

#[test]
fn open_fails_with_a_clear_error_when_the_directory_cannot_be_created() {
    let tmp = TempDir::new("nocreate");
    let file = tmp.path().join("file");
    fs::write(&file, b"x").unwrap();
    let err = DiskCache::open(file.join("clips"), 1).unwrap_err();
    assert!(matches!(err, Error::CreateDir { .. }), "{err:?}");
    assert!(err
        .to_string()
        .contains(&file.join("clips").display().to_string()));
}
