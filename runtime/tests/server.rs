//! The runtime process, driven over its real socket by the real client: caching, sharing one
//! job between clients, cancellation, crashes, and hostile input.
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dreamfx_effects::TEMPORAL_REFINE;
use dreamfx_protocol::client::{ClientError, Connection, InputFrame, RenderHooks, RuntimeLocation};
use dreamfx_protocol::job::{Job, ParamValue};
use dreamfx_protocol::paths;
use dreamfx_protocol::shm::{
    content_hash, frame_bytes, FrameHeader, HeaderLayout, Segment, FRAME_DATA_OFFSET,
    FRAME_HEADER_VERSION, FRAME_MAGIC, SAMPLE_F32,
};
use dreamfx_protocol::wire::{Channel, ClientMsg, FrameRef, SegmentInfo, ServerMsg};

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
            ("scale".into(), ParamValue::Choice(0)),
            ("stabilise".into(), ParamValue::Double(0.0)),
            ("edges".into(), ParamValue::Choice(0)),
        ],
        width: w,
        height: h,
        inputs: vec![],
        centre: (n_inputs / 2) as u32,
        position: None,
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

// Hostile clients below speak the protocol by hand (real socket, real memfds) and use only the
// wire format, so the same file also runs against a runtime without the defences.

/// A raw connection that has done the handshake.
fn hello(rt: &TestRuntime) -> Channel {
    let mut ch = Channel::new(rt.raw());
    ch.send(
        &ClientMsg::Hello {
            protocol: dreamfx_protocol::PROTOCOL_VERSION,
            header_layout: HeaderLayout::this_build(),
            client: "hostile test".into(),
        },
        &[],
    )
    .unwrap();
    match ch.recv::<ServerMsg>(Some(Duration::from_secs(10))).unwrap() {
        Some((ServerMsg::Welcome { .. }, _)) => ch,
        other => panic!("no Welcome: {:?}", other.map(|m| m.0)),
    }
}

/// The next answer that is not progress (the runtime must answer within 30 s).
fn answer(ch: &mut Channel) -> ServerMsg {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match ch.recv::<ServerMsg>(Some(Duration::from_millis(200))) {
            Ok(Some((ServerMsg::Progress { .. }, _))) | Ok(None) => {}
            Ok(Some((msg, _))) => return msg,
            Err(e) => panic!("the runtime closed the connection: {e}"),
        }
    }
    panic!("no answer within 30 s");
}

fn failed(msg: ServerMsg) -> String {
    match msg {
        ServerMsg::Failed { message, .. } => message,
        other => panic!("expected a Failed answer, got {other:?}"),
    }
}

/// Writes a frame (header and pixels) into any fd, as a client could without `Segment`.
fn put_frame(file: &std::fs::File, offset: u64, w: u32, h: u32, pixels: &[f32]) {
    let header = FrameHeader {
        magic: FRAME_MAGIC,
        version: FRAME_HEADER_VERSION,
        width: w,
        height: h,
        channels: 4,
        sample_format: SAMPLE_F32,
        row_stride: w as u64 * 4,
        data_offset: FRAME_DATA_OFFSET,
        content_hash: [0; 32],
    };
    // SAFETY: FrameHeader is repr(C) plain integers; pixels are plain f32.
    let (hb, pb) = unsafe {
        (
            std::slice::from_raw_parts(
                &header as *const FrameHeader as *const u8,
                std::mem::size_of::<FrameHeader>(),
            ),
            std::slice::from_raw_parts(pixels.as_ptr() as *const u8, pixels.len() * 4),
        )
    };
    file.write_all_at(hb, offset).unwrap();
    file.write_all_at(pb, offset + FRAME_DATA_OFFSET).unwrap();
}

/// A render request for `frames` laid out one after another from offset 0 of `segment`.
fn render_msg(
    request: u64,
    strength: f64,
    f: &[Vec<f32>],
    w: u32,
    h: u32,
    segment: u64,
    new_segment: Option<u64>,
) -> ClientMsg {
    let mut j = job(w, h, strength, f.len());
    j.inputs = f.iter().map(|p| content_hash(w, h, p)).collect();
    let step = frame_bytes(w, h).next_multiple_of(64);
    ClientMsg::Render {
        request,
        job: j,
        inputs: (0..f.len() as u64)
            .map(|k| FrameRef {
                segment,
                offset: k * step,
            })
            .collect(),
        new_segment: new_segment.map(|len| SegmentInfo { id: segment, len }),
    }
}

fn still_serves(rt: &TestRuntime, good: &mut Connection, seed: u32) {
    let f = frames(16, 16, 3, seed);
    good.render(
        &job(16, 16, 1.0, 3),
        &inputs(&f, 16, 16),
        &mut Hooks::default(),
    )
    .expect("the runtime still serves a well-behaved client");
    Connection::connect(&rt.dir)
        .expect("and accepts new clients")
        .status()
        .unwrap();
}

#[test]
fn an_unsealed_memfd_is_refused_so_shrinking_it_cannot_crash_the_runtime() {
    let (rt, mut good) = TestRuntime::start("unsealed");
    let pid = good.runtime_pid();
    let mut ch = hello(&rt);
    let f = frames(16, 16, 3, 11);
    let len = 3 * frame_bytes(16, 16).next_multiple_of(64);
    let fd: OwnedFd =
        nix::sys::memfd::memfd_create(c"hostile-unsealed", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
            .unwrap();
    nix::unistd::ftruncate(&fd, len as i64).unwrap();
    let file = std::fs::File::from(fd);
    let step = frame_bytes(16, 16).next_multiple_of(64);
    for (k, p) in f.iter().enumerate() {
        put_frame(&file, k as u64 * step, 16, 16, p);
    }
    ch.send(
        &render_msg(1, 0.7, &f, 16, 16, 1, Some(len)),
        &[file.as_raw_fd()],
    )
    .unwrap();
    let m = failed(answer(&mut ch));
    assert!(m.contains("not sealed"), "{m}");
    // Were it mapped, this shrink would make the runtime's next read of it a SIGBUS.
    file.set_len(0).unwrap();
    ch.send(&render_msg(2, 0.6, &f, 16, 16, 1, None), &[])
        .unwrap();
    let m = failed(answer(&mut ch));
    assert!(m.contains("unknown upload segment"), "{m}");
    still_serves(&rt, &mut good, 12);
    assert_eq!(good.runtime_pid(), pid);
}

#[test]
fn a_sealed_segment_cannot_be_shrunk_so_the_runtime_keeps_reading_it() {
    let (rt, mut good) = TestRuntime::start("sealed");
    let mut ch = hello(&rt);
    let f = frames(16, 16, 3, 13);
    let step = frame_bytes(16, 16).next_multiple_of(64);
    let seg = Segment::create(1, 3 * step).unwrap();
    for (k, p) in f.iter().enumerate() {
        seg.write_frame(k as u64 * step, 16, 16, p, [0; 32])
            .unwrap();
    }
    ch.send(
        &render_msg(1, 0.7, &f, 16, 16, 1, Some(seg.len())),
        &[seg.fd().as_raw_fd()],
    )
    .unwrap();
    assert!(matches!(answer(&mut ch), ServerMsg::FrameReady { .. }));
    // The hostile move: shrink the segment the runtime has mapped. The seals refuse it.
    assert!(
        nix::unistd::ftruncate(seg.fd(), 0).is_err(),
        "a segment handed to the runtime could be shrunk"
    );
    ch.send(&render_msg(2, 0.6, &f, 16, 16, 1, None), &[])
        .unwrap();
    assert!(matches!(answer(&mut ch), ServerMsg::FrameReady { .. }));
    still_serves(&rt, &mut good, 14);
}

#[test]
fn a_render_naming_60000_inputs_is_refused_before_any_is_copied() {
    let (rt, mut good) = TestRuntime::start("inputs");
    let mut ch = hello(&rt);
    let f = frames(16, 16, 1, 15);
    let mut j = job(16, 16, 1.0, 3); // radius 1: at most 3 frames
    j.inputs = vec![content_hash(16, 16, &f[0]); 60_000];
    ch.send(
        &ClientMsg::Render {
            request: 1,
            job: j.clone(),
            inputs: vec![],
            new_segment: None,
        },
        &[],
    )
    .unwrap();
    let m = failed(answer(&mut ch));
    assert!(m.contains("60000") && m.contains("at most 3"), "{m}");
    // The same with the inputs attached: 60,000 references to one uploaded frame.
    let seg = Segment::create(1, frame_bytes(16, 16)).unwrap();
    seg.write_frame(0, 16, 16, &f[0], [0; 32]).unwrap();
    ch.send(
        &ClientMsg::Render {
            request: 2,
            job: j,
            inputs: vec![
                FrameRef {
                    segment: 1,
                    offset: 0
                };
                60_000
            ],
            new_segment: Some(SegmentInfo {
                id: 1,
                len: seg.len(),
            }),
        },
        &[seg.fd().as_raw_fd()],
    )
    .unwrap();
    let m = failed(answer(&mut ch));
    assert!(m.contains("60000"), "{m}");
    still_serves(&rt, &mut good, 16);
}

#[test]
fn oversized_or_empty_frame_sizes_are_refused_naming_the_limit() {
    let (rt, mut good) = TestRuntime::start("size");
    let mut ch = hello(&rt);
    let f = frames(16, 16, 3, 17);
    for (k, (w, h)) in [(100_000, 100_000), (20_000, 8), (16_000, 16_000), (0, 16)]
        .into_iter()
        .enumerate()
    {
        let mut j = job(w, h, 1.0, 3);
        j.inputs = f.iter().map(|p| content_hash(16, 16, p)).collect();
        ch.send(
            &ClientMsg::Render {
                request: k as u64,
                job: j,
                inputs: vec![],
                new_segment: None,
            },
            &[],
        )
        .unwrap();
        let m = failed(answer(&mut ch));
        assert!(m.contains(&format!("{w}x{h}")), "{m}");
        if w > 0 {
            assert!(m.contains("16384") && m.contains("8192x8192"), "{m}");
        }
    }
    still_serves(&rt, &mut good, 18);
}

#[test]
fn an_upload_segment_past_a_clients_share_is_refused() {
    let (rt, mut good) = TestRuntime::start("share-limit");
    let mut ch = hello(&rt);
    let f = frames(16, 16, 3, 19);
    // 40 GiB of address space but a few pages of memory: memfds are sparse.
    let seg = Segment::create(1, 40 << 30).unwrap();
    let step = frame_bytes(16, 16).next_multiple_of(64);
    for (k, p) in f.iter().enumerate() {
        seg.write_frame(k as u64 * step, 16, 16, p, [0; 32])
            .unwrap();
    }
    ch.send(
        &render_msg(1, 0.7, &f, 16, 16, 1, Some(seg.len())),
        &[seg.fd().as_raw_fd()],
    )
    .unwrap();
    let m = failed(answer(&mut ch));
    assert!(m.contains("a client may hand the runtime"), "{m}");
    still_serves(&rt, &mut good, 20);
}

#[test]
fn fds_that_no_message_announces_close_that_connection_only() {
    let (rt, mut good) = TestRuntime::start("fds");
    let ch = hello(&rt);
    // A Status frame as the wire writes it (it announces no fds); four come along each time.
    let (a, mut b) = UnixStream::pair().unwrap();
    Channel::new(a).send(&ClientMsg::Status, &[]).unwrap();
    b.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut frame = vec![0u8; 64];
    let n = std::io::Read::read(&mut b, &mut frame).unwrap();
    frame.truncate(n);
    assert_eq!(frame[4], 0, "announces no fds");
    let spare: Vec<OwnedFd> = (0..4)
        .map(|_| {
            nix::sys::memfd::memfd_create(c"spare", nix::sys::memfd::MFdFlags::MFD_CLOEXEC).unwrap()
        })
        .collect();
    let raw: Vec<i32> = spare.iter().map(|f| f.as_raw_fd()).collect();
    let mut closed_with = None;
    let mut rx = Channel::new(ch.stream().try_clone().unwrap());
    for _ in 0..5 {
        let sent = nix::sys::socket::sendmsg::<()>(
            ch.stream().as_raw_fd(),
            &[std::io::IoSlice::new(&frame)],
            &[nix::sys::socket::ControlMessage::ScmRights(&raw)],
            nix::sys::socket::MsgFlags::MSG_NOSIGNAL,
            None,
        );
        if sent.is_err() {
            break;
        }
        match rx.recv::<ServerMsg>(Some(Duration::from_secs(5))) {
            Ok(Some((ServerMsg::Status(_), _))) => {}
            Ok(Some((ServerMsg::ProtocolError { message }, _))) => {
                closed_with = Some(message);
                break;
            }
            other => panic!("{:?}", other.map(|o| o.map(|m| m.0))),
        }
    }
    let m = closed_with.expect("unannounced fds were accepted without end");
    assert!(m.contains("no message announced"), "{m}");
    still_serves(&rt, &mut good, 22);
}

#[test]
fn nan_parameters_are_refused_naming_them_and_nan_results_are_never_cached() {
    let (rt, mut good) = TestRuntime::start("nan");
    let f = frames(16, 16, 3, 23);
    for (i, v) in [(1, f64::NAN), (2, f64::INFINITY)] {
        let mut bad = job(16, 16, 1.0, 3);
        bad.params[i].1 = ParamValue::Double(v);
        let name = ["", "Strength", "Detail Preservation"][i];
        match good.render(&bad, &inputs(&f, 16, 16), &mut Hooks::default()) {
            Err(ClientError::RenderFailed(m)) => {
                assert!(m.contains(name) && m.contains("not a finite number"), "{m}")
            }
            other => panic!("{:?}", other.map(|v| v.width)),
        }
    }
    // NaN in the source frames: the result is refused naming the effect, and never cached.
    let mut poisoned = f.clone();
    for p in &mut poisoned {
        p[4 * 40] = f32::NAN;
    }
    for _ in 0..2 {
        match good.render(
            &job(16, 16, 1.0, 3),
            &inputs(&poisoned, 16, 16),
            &mut Hooks::default(),
        ) {
            Err(ClientError::RenderFailed(m)) => {
                assert!(m.contains("Temporal Refine") && m.contains("NaN"), "{m}")
            }
            other => panic!(
                "a NaN frame was served: {:?}",
                other.map(|v| v.pixels.iter().filter(|p| p.is_nan()).count())
            ),
        }
    }
    let s = good.status().unwrap();
    assert_eq!((s.cached_frames, s.cache_hits), (0, 0), "{s:?}");
    still_serves(&rt, &mut good, 24);
}

#[test]
fn a_stopped_runtime_gives_a_clear_message_within_the_deadline() {
    // SIGSTOP (or a hang) leaves the socket open and silent: the client must not wait forever.
    let (rt, first) = TestRuntime::start("stopped");
    drop(first);
    let second = Duration::from_secs(1);
    let mut conn = Connection::connect_within(&rt.dir, second).unwrap();
    let pid = conn.runtime_pid() as i32;
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let f = frames(16, 16, 3, 11);
    let started = Instant::now();
    let outcome = conn.render(
        &job(16, 16, 0.7, 3),
        &inputs(&f, 16, 16),
        &mut Hooks::default(),
    );
    let waited = started.elapsed();
    let fresh = Connection::connect_within(&rt.dir, second).map(|_| ());
    unsafe { libc::kill(pid, libc::SIGCONT) };
    match outcome {
        Err(e @ ClientError::NotAnswering { .. }) => {
            let m = e.to_string();
            assert!(m.contains(&pid.to_string()) && m.contains("stopped"), "{m}");
        }
        other => panic!("{:?}", other.map(|v| v.width)),
    }
    assert!(waited < Duration::from_secs(6), "waited {waited:?}");
    match fresh {
        Err(ClientError::Start(m)) => assert!(m.contains("did not answer"), "{m}"),
        other => panic!("a new connection to a stopped runtime: {other:?}"),
    }
    // Once it runs again it serves.
    let mut again = Connection::connect(&rt.dir).unwrap();
    again
        .render(
            &job(16, 16, 0.7, 3),
            &inputs(&f, 16, 16),
            &mut Hooks::default(),
        )
        .unwrap();
}
