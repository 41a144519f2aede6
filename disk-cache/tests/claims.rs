//! Claims between threads and between real processes: exactly one generates.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{assert_success, key, spawn_self, TempDir};
use dreamfx_disk_cache::{key_hex, Claim, DiskCache, Error, Waited};

const LEASE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);

fn claim_path(cache: &DiskCache, k: &[u8; 32]) -> PathBuf {
    cache.dir().join(format!("{}.claim", key_hex(k)))
}

fn payload() -> Vec<u8> {
    b"the generated clip segment ".repeat(10_000)
}

/// Leaves a claim whose holder "died": its lease ran out and nobody released it.
fn plant_expired_claim(cache: &DiskCache, k: &[u8; 32]) {
    match cache.claim(k, Duration::from_millis(1)).unwrap() {
        Claim::Mine(guard) => std::mem::forget(guard),
        other => panic!("expected to claim, got {other:?}"),
    }
    std::thread::sleep(Duration::from_millis(5));
    assert!(claim_path(cache, k).exists());
}

#[test]
fn the_first_claim_is_mine_the_second_is_held_and_drop_releases() {
    let tmp = TempDir::new("claim-basic");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    let Claim::Mine(guard) = cache.claim(&key(1), LEASE).unwrap() else {
        panic!("first claim not ours")
    };
    let text = fs::read_to_string(claim_path(&cache, &key(1))).unwrap();
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    assert!(text.contains("nonce "), "{text}");
    assert!(text.contains("expires_unix_ms "), "{text}");
    match cache.claim(&key(1), LEASE).unwrap() {
        Claim::Held { holder, expires_in } => {
            assert!(
                holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            );
            assert!(expires_in <= LEASE && expires_in > LEASE - Duration::from_secs(5));
        }
        other => panic!("expected Held, got {other:?}"),
    }
    // Another key is independent.
    assert!(matches!(
        cache.claim(&key(2), LEASE).unwrap(),
        Claim::Mine(_)
    ));
    drop(guard);
    assert!(!claim_path(&cache, &key(1)).exists());
    let Claim::Mine(guard) = cache.claim(&key(1), LEASE).unwrap() else {
        panic!("released claim not claimable")
    };
    cache.put(&key(1), b"done", "x").unwrap();
    guard.release().unwrap();
    assert!(matches!(cache.claim(&key(1), LEASE).unwrap(), Claim::Ready));
    // No lock or temp files are left behind by any of that.
    let leftovers: Vec<String> = common::names(tmp.path())
        .into_iter()
        .filter(|n| n.contains(".lock-") || n.starts_with(".tmp-") || n.ends_with(".claim"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

#[test]
fn renew_extends_the_lease() {
    let tmp = TempDir::new("claim-renew");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    let lease = Duration::from_millis(800);
    let Claim::Mine(mut guard) = cache.claim(&key(1), lease).unwrap() else {
        panic!()
    };
    let first_expiry = guard.expires();
    std::thread::sleep(Duration::from_millis(500));
    guard.renew().unwrap();
    assert!(guard.expires() > first_expiry + Duration::from_millis(400));
    // Past the first expiry: still held, because renewed.
    std::thread::sleep(Duration::from_millis(500));
    match cache.claim(&key(1), lease).unwrap() {
        Claim::Held { expires_in, .. } => assert!(expires_in > Duration::ZERO),
        other => panic!("renewed claim was not held: {other:?}"),
    }
    drop(guard);
    assert!(!claim_path(&cache, &key(1)).exists());
}

#[test]
fn a_taken_over_claim_cannot_be_renewed_and_its_drop_leaves_the_new_claim() {
    let tmp = TempDir::new("claim-lost");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    let Claim::Mine(mut slow) = cache.claim(&key(1), Duration::from_millis(20)).unwrap() else {
        panic!()
    };
    std::thread::sleep(Duration::from_millis(40));
    let Claim::Mine(new_owner) = cache.claim(&key(1), LEASE).unwrap() else {
        panic!("expired claim was not taken over")
    };
    let err = slow.renew().unwrap_err();
    assert!(matches!(err, Error::ClaimLost { .. }), "{err:?}");
    drop(slow);
    assert!(
        claim_path(&cache, &key(1)).exists(),
        "old holder removed the new claim"
    );
    assert!(matches!(
        cache.claim(&key(1), LEASE).unwrap(),
        Claim::Held { .. }
    ));
    drop(new_owner);
    assert!(!claim_path(&cache, &key(1)).exists());
}

#[test]
fn an_expired_lease_is_taken_over_by_exactly_one_of_several_racing_threads() {
    let tmp = TempDir::new("claim-takeover");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    const RACERS: usize = 8;
    for round in 0..25u8 {
        let k = key(round);
        plant_expired_claim(&cache, &k);
        let barrier = Arc::new(Barrier::new(RACERS));
        let winners = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..RACERS)
            .map(|_| {
                let (cache, barrier, winners) = (cache.clone(), barrier.clone(), winners.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    match cache.claim(&k, LEASE).unwrap() {
                        Claim::Mine(guard) => {
                            winners.fetch_add(1, Ordering::SeqCst);
                            // Hold it until every racer has answered.
                            std::thread::sleep(Duration::from_millis(100));
                            drop(guard);
                        }
                        Claim::Held { .. } => {}
                        Claim::Ready => panic!("no entry was written"),
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(winners.load(Ordering::SeqCst), 1, "round {round}");
        assert!(!claim_path(&cache, &k).exists());
    }
    let leftovers: Vec<String> = common::names(tmp.path())
        .into_iter()
        .filter(|n| n.contains(".lock-") || n.starts_with(".tmp-"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

#[test]
fn two_threads_race_one_generates_the_other_waits_and_reads() {
    let tmp = TempDir::new("claim-threads");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    let generated = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (cache, generated, barrier) = (cache.clone(), generated.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let result = cache
                    .wait_or_claim(&key(1), LEASE, POLL, &mut || true)
                    .unwrap();
                match result {
                    Waited::Mine(guard) => {
                        generated.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(200));
                        cache.put(&key(1), &payload(), "generated once").unwrap();
                        drop(guard);
                        "generated"
                    }
                    Waited::Ready(bytes) => {
                        assert_eq!(bytes, payload());
                        "read"
                    }
                    Waited::Cancelled => panic!("nobody cancelled"),
                }
            })
        })
        .collect();
    let mut outcomes: Vec<&str> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    outcomes.sort();
    assert_eq!(outcomes, ["generated", "read"]);
    assert_eq!(generated.load(Ordering::SeqCst), 1);
}

#[test]
fn waiting_stops_when_asked_to() {
    let tmp = TempDir::new("claim-cancel");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    let Claim::Mine(_held) = cache.claim(&key(1), LEASE).unwrap() else {
        panic!()
    };
    let mut asked = 0;
    let started = Instant::now();
    let result = cache
        .wait_or_claim(&key(1), LEASE, POLL, &mut || {
            asked += 1;
            asked < 4
        })
        .unwrap();
    assert!(matches!(result, Waited::Cancelled), "{result:?}");
    assert_eq!(asked, 4);
    assert!(started.elapsed() >= POLL * 3);
}

#[test]
fn a_waiter_takes_over_when_the_holder_dies() {
    let tmp = TempDir::new("claim-dies");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    let Claim::Mine(guard) = cache.claim(&key(1), Duration::from_millis(200)).unwrap() else {
        panic!()
    };
    std::mem::forget(guard); // the holder hangs: never renews, never releases
    let started = Instant::now();
    let result = cache
        .wait_or_claim(&key(1), LEASE, POLL, &mut || true)
        .unwrap();
    assert!(matches!(result, Waited::Mine(_)), "{result:?}");
    assert!(started.elapsed() >= Duration::from_millis(150));
}

// ---- real processes ----------------------------------------------------------------------

const CHILD_DIR: &str = "DREAMFX_DISK_CACHE_TEST_RACE_DIR";

/// Run as a child process by the tests below (does nothing when run directly): waits for the
/// start signal, then races for key(7) like a runtime would.
#[test]
fn child_racer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let cache = DiskCache::open(dir.join("cache"), u64::MAX).unwrap();
    let go = dir.join("go");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !go.exists() {
        assert!(Instant::now() < deadline, "never told to start");
        std::thread::sleep(Duration::from_millis(1));
    }
    let outcome = match cache
        .wait_or_claim(&key(7), LEASE, POLL, &mut || true)
        .unwrap()
    {
        Waited::Mine(guard) => {
            std::thread::sleep(Duration::from_millis(300)); // generating
            cache
                .put(&key(7), &payload(), "generated by a child")
                .unwrap();
            drop(guard);
            "generated"
        }
        Waited::Ready(bytes) => {
            assert_eq!(bytes, payload());
            "read"
        }
        Waited::Cancelled => unreachable!(),
    };
    // One file per child: appends to a shared file from several processes can interleave.
    fs::write(dir.join(format!("outcome-{}", std::process::id())), outcome).unwrap();
}

fn race_processes(dir: &Path, children: usize) -> Vec<String> {
    let running: Vec<_> = (0..children)
        .map(|_| spawn_self("child_racer", &[(CHILD_DIR, dir.display().to_string())]))
        .collect();
    // Both processes are started (and usually polling) before the signal.
    std::thread::sleep(Duration::from_millis(200));
    fs::write(dir.join("go"), b"").unwrap();
    for child in running {
        let output = child.wait_with_output().unwrap();
        assert_success(&output, "child racer");
    }
    let mut outcomes: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("outcome-")
        })
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    outcomes.sort();
    outcomes
}

#[test]
fn two_processes_race_one_generates_the_other_waits_and_reads() {
    let tmp = TempDir::new("claim-procs");
    let cache = DiskCache::open(tmp.path().join("cache"), u64::MAX).unwrap();
    assert_eq!(race_processes(tmp.path(), 2), ["generated", "read"]);
    assert_eq!(cache.get(&key(7)).unwrap(), Some(payload()));
    assert!(!claim_path(&cache, &key(7)).exists());
}

#[test]
fn processes_racing_for_an_expired_claim_exactly_one_takes_it_over() {
    let tmp = TempDir::new("claim-procs-stale");
    let cache = DiskCache::open(tmp.path().join("cache"), u64::MAX).unwrap();
    plant_expired_claim(&cache, &key(7));
    assert_eq!(race_processes(tmp.path(), 3), ["generated", "read", "read"]);
    assert_eq!(cache.get(&key(7)).unwrap(), Some(payload()));
}

#[test]
fn prune_removes_expired_claims_and_keeps_live_ones() {
    let tmp = TempDir::new("claim-prune");
    let cache = DiskCache::open(tmp.path(), u64::MAX).unwrap();
    plant_expired_claim(&cache, &key(1));
    let Claim::Mine(_live) = cache.claim(&key(2), LEASE).unwrap() else {
        panic!()
    };
    cache.prune(u64::MAX).unwrap();
    assert!(!claim_path(&cache, &key(1)).exists());
    assert!(claim_path(&cache, &key(2)).exists());
}
