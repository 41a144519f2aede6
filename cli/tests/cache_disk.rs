//! `dreamfx cache ls|du|prune|clear --disk` on a real disk cache directory, as a user runs them
//! (no runtime needed).
use std::path::Path;
use std::process::{Command, Output};

use dreamfx_disk_cache::DiskCache;

fn dreamfx(cache: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_dreamfx"))
        .args(args)
        .env("DREAMFX_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dreamfx {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_disk_cache_is_listed_measured_pruned_and_cleared() {
    let root = std::env::temp_dir().join(format!("dfx-cli-disk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let cache = DiskCache::open(root.join("clips"), 1 << 30).unwrap();
    for i in 0..3u8 {
        cache
            .put(
                &[i; 32],
                &vec![i; 100_000],
                &format!("Text to Video segment {} of \"a red circle\"", i + 1),
            )
            .unwrap();
        // Distinct access times: the oldest goes first.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ls = stdout(&dreamfx(&root, &["cache", "ls"]));
    assert!(ls.contains("3 segments in"), "{ls}");
    assert!(ls.contains("segment 3 of \"a red circle\""), "{ls}");
    let du = stdout(&dreamfx(&root, &["cache", "du"]));
    assert!(du.contains("KiB") && du.contains("clips"), "{du}");
    let pruned = stdout(&dreamfx(&root, &["cache", "prune", "--max-mb", "0"]));
    assert!(pruned.contains("removed 3 segments"), "{pruned}");
    cache.put(&[9; 32], b"x", "one more").unwrap();
    let cleared = stdout(&dreamfx(&root, &["cache", "clear", "--disk"]));
    assert!(cleared.contains("removed 1 segments"), "{cleared}");
    assert_eq!(cache.entries().unwrap().len(), 0);
    let _ = std::fs::remove_dir_all(&root);
}
