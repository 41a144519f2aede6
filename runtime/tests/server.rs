//! The runtime process, driven over its real socket by the real client: caching, sharing one
//! job between clients, cancellation, crashes, and hostile input.
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dreamfx_protocol::client::{ClientError, Connection, InputFrame, RenderHooks, RuntimeLocation};
use dreamfx_protocol::effects::TEMPORAL_REFINE;
use dreamfx_protocol::job::{Job, ParamValue};
use dreamfx_protocol::paths;
use dreamfx_protocol::shm::HeaderLayout;
use dreamfx_protocol::wire::{Channel, ClientMsg, ServerMsg};

struct TestRuntime {
    dir: PathBuf,
}

impl TestRuntime {
    fn start(name: &str) -> (TestRuntime, Connection) {
        let dir = std::env::temp_dir().join(format!("dfx-rt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let rt = TestRuntime { dir };
        let conn = Connection::connect_or_start(&rt.location()).expect("runtime starts");
        (rt, conn)
    }
    fn location(&self) -> RuntimeLocation {
        let mut loc = RuntimeLocation::new(Some(env!("CARGO_BIN_EXE_dreamfx-runtime").into()));
        loc.dir = self.dir.clone();
        loc.idle_exit = Duration::from_secs(20);
        loc
    }
    fn raw(&self) -> UnixStream {
        UnixStream::connect(paths::socket_path(&self.dir)).unwrap()
    }
}

impl Drop for TestRuntime {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(paths::pid_path(&self.dir)) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Default)]
struct Hooks {
    progress: Vec<f32>,
    abort_at: Option<Instant>,
}
impl RenderHooks for Hooks {
    fn progress(&mut self, f: f32) {
        self.progress.push(f);
    }
    fn should_abort(&mut self) -> bool {
        self.abort_at.is_some_and(|t| Instant::now() >= t)
    }
}

fn job(w: u32, h: u32, strength: f64, n_inputs: usize) -> Job {
    Job {
        effect: TEMPORAL_REFINE.id.into(),
        effect_version: TEMPORAL_REFINE.algorithm_version,
        params: vec![
            ("radius".into(), ParamValue::Int(n_inputs as i64 / 2)),
            ("strength".into(), ParamValue::Double(strength)),
            ("detail".into(), ParamValue::Double(0.5)),
            ("output".into(), ParamValue::Choice(0)),
        ],
        width: w,
        height: h,
        inputs: vec![],
        centre: (n_inputs / 2) as u32,
    }
}

fn frames(w: u32, h: u32, n: usize, seed: u32) -> Vec<Vec<f32>> {
    (0..n)
        .map(|k| {
            (0..w * h * 4)
                .map(|i| {
                    let p = i / 4;
                    let (x, y) = ((p % w) as f32, (p / w) as f32);
                    if i % 4 == 3 {
                        1.0
                    } else {
                        0.5 + 0.4
                            * ((x + k as f32 * 0.7) * 0.31 + (i % 4) as f32 + seed as f32).sin()
                            * (y * 0.23).cos()
                    }
                })
                .collect()
        })
        .collect()
}

fn inputs(f: &[Vec<f32>], w: u32, h: u32) -> Vec<InputFrame<'_>> {
    f.iter()
        .map(|p| InputFrame {
            width: w,
            height: h,
            pixels: p,
        })
        .collect()
}

#[test]
fn same_job_is_computed_once_and_then_served_from_cache() {
    let (rt, mut a) = TestRuntime::start("cache");
    let f = frames(48, 32, 5, 1);
    let out1 = a
        .render(
            &job(48, 32, 1.0, 5),
            &inputs(&f, 48, 32),
            &mut Hooks::default(),
        )
        .unwrap()
        .pixels
        .to_vec();
    assert_ne!(out1, f[2], "refine changed the frame");
    let mut b = Connection::connect(&rt.dir).unwrap();
    let out2 = b
        .render(
            &job(48, 32, 1.0, 5),
            &inputs(&f, 48, 32),
            &mut Hooks::default(),
        )
        .unwrap()
        .pixels
        .to_vec();
    assert_eq!(out1, out2);
    let s = b.status().unwrap();
    assert_eq!(s.jobs_run, 1);
    assert_eq!(s.cache_hits, 1);
    // Strength 0 is a different job and gives the centre frame back.
    let out3 = b
        .render(
            &job(48, 32, 0.0, 5),
            &inputs(&f, 48, 32),
            &mut Hooks::default(),
        )
        .unwrap()
        .pixels
        .to_vec();
    assert_eq!(out3, f[2]);
    assert_eq!(b.status().unwrap().jobs_run, 2);
}

#[test]
fn concurrent_clients_asking_the_same_job_share_one_computation() {
    let (rt, _keep) = TestRuntime::start("share");
    let f = frames(320, 240, 7, 2);
    let results: Vec<Vec<f32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let f = &f;
                let dir = rt.dir.clone();
                s.spawn(move || {
                    let mut c = Connection::connect(&dir).unwrap();
                    c.render(
                        &job(320, 240, 1.0, 7),
                        &inputs(f, 320, 240),
                        &mut Hooks::default(),
                    )
                    .unwrap()
                    .pixels
                    .to_vec()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    let s = Connection::connect(&rt.dir).unwrap().status().unwrap();
    assert_eq!(s.jobs_run, 1, "three clients, one computation: {s:?}");
}

#[test]
fn cancelling_the_only_waiter_cancels_the_job() {
    let (_rt, mut c) = TestRuntime::start("cancel");
    let f = frames(640, 480, 15, 3);
    let mut hooks = Hooks {
        abort_at: Some(Instant::now() + Duration::from_millis(300)),
        ..Default::default()
    };
    let started = Instant::now();
    let r = c.render(&job(640, 480, 1.0, 15), &inputs(&f, 640, 480), &mut hooks);
    assert!(matches!(r, Err(ClientError::Cancelled)), "{:?}", r.err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancel answered promptly"
    );
    // The connection stays usable.
    let small = frames(16, 16, 3, 4);
    c.render(
        &job(16, 16, 1.0, 3),
        &inputs(&small, 16, 16),
        &mut Hooks::default(),
    )
    .unwrap();
}

#[test]
fn sigkill_mid_render_fails_clearly_and_a_new_runtime_takes_over() {
    let (rt, mut c) = TestRuntime::start("kill");
    let pid = c.runtime_pid() as i32;
    let f = frames(960, 540, 15, 5);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let r = c.render(
        &job(960, 540, 1.0, 15),
        &inputs(&f, 960, 540),
        &mut Hooks::default(),
    );
    killer.join().unwrap();
    let err = r.err().expect("render must fail");
    assert!(matches!(err, ClientError::RuntimeGone { .. }), "{err:?}");
    assert!(err.to_string().contains("Render again"), "{err}");
    drop(c);
    let start = Instant::now();
    let mut c2 = Connection::connect_or_start(&rt.location()).unwrap();
    assert_ne!(c2.runtime_pid() as i32, pid);
    assert!(start.elapsed() < Duration::from_secs(30));
    let small = frames(16, 16, 3, 6);
    c2.render(
        &job(16, 16, 1.0, 3),
        &inputs(&small, 16, 16),
        &mut Hooks::default(),
    )
    .unwrap();
}

#[test]
fn malformed_and_oversized_messages_close_that_connection_only() {
    let (rt, mut good) = TestRuntime::start("hostile");
    // Garbage after a valid handshake.
    let s = rt.raw();
    let mut ch = Channel::new(s.try_clone().unwrap());
    ch.send(
        &ClientMsg::Hello {
            protocol: dreamfx_protocol::PROTOCOL_VERSION,
            header_layout: HeaderLayout::this_build(),
            client: "test".into(),
        },
        &[],
    )
    .unwrap();
    assert!(matches!(
        ch.recv::<ServerMsg>(Some(Duration::from_secs(5))).unwrap(),
        Some((ServerMsg::Welcome { .. }, _))
    ));
    (&s).write_all(&[7, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        .unwrap();
    match ch.recv::<ServerMsg>(Some(Duration::from_secs(5))) {
        Ok(Some((ServerMsg::ProtocolError { .. }, _))) | Err(_) => {}
        other => panic!(
            "expected a protocol error, got {:?}",
            other.map(|o| o.map(|m| m.0))
        ),
    }
    // An absurd length prefix before any handshake.
    let s2 = rt.raw();
    (&s2).write_all(&u32::MAX.to_le_bytes()).unwrap();
    (&s2).write_all(&[0u8; 16]).unwrap();
    let mut ch2 = Channel::new(s2);
    assert!(!matches!(
        ch2.recv::<ServerMsg>(Some(Duration::from_secs(5))),
        Ok(Some((ServerMsg::Welcome { .. }, _)))
    ));
    // A wrong protocol version is refused, naming both versions.
    let mut ch3 = Channel::new(rt.raw());
    ch3.send(
        &ClientMsg::Hello {
            protocol: 999,
            header_layout: HeaderLayout::this_build(),
            client: "old".into(),
        },
        &[],
    )
    .unwrap();
    match ch3.recv::<ServerMsg>(Some(Duration::from_secs(5))).unwrap() {
        Some((ServerMsg::Refused { reason }, _)) => {
            assert!(
                reason.contains("999")
                    && reason.contains(&dreamfx_protocol::PROTOCOL_VERSION.to_string()),
                "{reason}"
            )
        }
        other => panic!("{:?}", other.map(|m| m.0)),
    }
    // An absurd parameter gets a message naming it.
    let f = frames(16, 16, 3, 7);
    let mut bad = job(16, 16, 1.0, 3);
    bad.params[1].1 = ParamValue::Double(1e9);
    match good.render(&bad, &inputs(&f, 16, 16), &mut Hooks::default()) {
        Err(ClientError::RenderFailed(m)) => assert!(m.contains("Strength"), "{m}"),
        other => panic!("{:?}", other.map(|v| v.width)),
    }
    // The runtime still serves the well-behaved client.
    good.render(
        &job(16, 16, 1.0, 3),
        &inputs(&f, 16, 16),
        &mut Hooks::default(),
    )
    .unwrap();
}
