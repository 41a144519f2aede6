//! The runtime's request handler against a fuzzing client: after a real handshake, thousands
//! of well-formed but hostile messages (renders of random effects, sizes, parameters of every
//! kind and value including NaN, input lists of any length and frame references into nothing,
//! cancels and forgets of unknown ids, cache purges, status), sent as fast as the socket
//! takes them. The runtime must answer each render with a typed answer, never die, and still
//! render for a well-behaved client afterwards.
//!
//! `DREAMFX_FUZZ_CASES` sets how many messages (default 3,000).
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dreamfx_effects::TEMPORAL_REFINE;
use dreamfx_protocol::client::{Connection, InputFrame, RenderHooks, RuntimeLocation};
use dreamfx_protocol::job::{Job, ParamValue};
use dreamfx_protocol::paths;
use dreamfx_protocol::shm::HeaderLayout;
use dreamfx_protocol::wire::{Channel, ClientMsg, FrameRef, SegmentInfo, ServerMsg};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn value(rng: &mut Rng) -> ParamValue {
    match rng.below(7) {
        0 => ParamValue::Double(f64::from_bits(rng.next())),
        1 => ParamValue::Double([f64::NAN, f64::INFINITY, -0.0, 1e308, 0.5][rng.below(5) as usize]),
        2 => ParamValue::Int(rng.next() as i64),
        3 => ParamValue::Int(rng.below(40) as i64 - 5),
        4 => ParamValue::Bool(rng.below(2) == 1),
        5 => ParamValue::Choice(rng.next() as u32),
        _ => ParamValue::Text("x".repeat(rng.below(300) as usize)),
    }
}

fn job(rng: &mut Rng) -> Job {
    let names = [
        "radius", "strength", "detail", "output", "prompt", "", "radius",
    ];
    let effect = match rng.below(4) {
        0 => "dreamfx.Nothing".to_string(),
        _ => TEMPORAL_REFINE.id.to_string(),
    };
    let side = |rng: &mut Rng| match rng.below(4) {
        0 => rng.next() as u32,
        1 => 0,
        _ => 1 + rng.below(64) as u32,
    };
    let n_inputs = match rng.below(5) {
        0 => rng.below(70_000) as usize,
        _ => rng.below(8) as usize,
    };
    Job {
        effect,
        effect_version: if rng.below(3) == 0 {
            rng.next() as u32
        } else {
            TEMPORAL_REFINE.algorithm_version
        },
        params: (0..rng.below(6))
            .map(|_| {
                (
                    names[rng.below(names.len() as u64) as usize].to_string(),
                    value(rng),
                )
            })
            .collect(),
        width: side(rng),
        height: side(rng),
        inputs: (0..n_inputs).map(|_| [rng.next() as u8; 32]).collect(),
        centre: rng.below(10) as u32,
        position: None,
    }
}

fn message(rng: &mut Rng, request: u64) -> ClientMsg {
    match rng.below(10) {
        0 => ClientMsg::Cancel {
            request: rng.next(),
        },
        1 => ClientMsg::ForgetSegment { id: rng.next() },
        2 => ClientMsg::Status,
        3 if rng.below(20) == 0 => ClientMsg::PurgeCache,
        _ => ClientMsg::Render {
            request,
            job: job(rng),
            inputs: (0..rng.below(5))
                .map(|_| FrameRef {
                    segment: rng.below(3),
                    offset: rng.next() % 4096,
                })
                .collect(),
            // A segment announced without its fd.
            new_segment: (rng.below(10) == 0).then(|| SegmentInfo {
                id: rng.next(),
                len: rng.next(),
            }),
        },
    }
}

struct NoHooks;
impl RenderHooks for NoHooks {
    fn progress(&mut self, _: f32) {}
    fn should_abort(&mut self) -> bool {
        false
    }
}

#[test]
fn a_fuzzing_client_gets_answers_and_the_runtime_keeps_serving() {
    let dir = std::env::temp_dir().join(format!("dfx-rt-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut loc = RuntimeLocation::new(Some(PathBuf::from(env!("CARGO_BIN_EXE_dreamfx-runtime"))));
    loc.dir = dir.clone();
    loc.idle_exit = Duration::from_secs(20);
    let good = Connection::connect_or_start(&loc).expect("runtime starts");
    let pid = good.runtime_pid();
    drop(good);

    let cases: u64 = std::env::var("DREAMFX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let mut rng = Rng(20_261_205);
    let started = Instant::now();
    let (mut sent, mut answered, mut connections) = (0u64, 0u64, 0u64);
    while sent < cases {
        connections += 1;
        let mut ch = Channel::new(UnixStream::connect(paths::socket_path(&dir)).unwrap());
        ch.send(
            &ClientMsg::Hello {
                protocol: dreamfx_protocol::PROTOCOL_VERSION,
                header_layout: HeaderLayout::this_build(),
                client: "fuzz".into(),
            },
            &[],
        )
        .unwrap();
        match ch.recv::<ServerMsg>(Some(Duration::from_secs(10))).unwrap() {
            Some((ServerMsg::Welcome { .. }, _)) => {}
            other => panic!("handshake: {:?}", other.map(|m| m.0)),
        }
        // Up to 200 messages on one connection, each render awaited, until the runtime
        // closes it (a protocol error) or the batch is done.
        'connection: for _ in 0..200 {
            if sent == cases {
                break;
            }
            sent += 1;
            let msg = message(&mut rng, sent);
            let is_render = matches!(msg, ClientMsg::Render { .. });
            if ch.send(&msg, &[]).is_err() {
                break;
            }
            if !is_render {
                continue;
            }
            loop {
                match ch.recv::<ServerMsg>(Some(Duration::from_secs(30))) {
                    Ok(Some((
                        ServerMsg::NeedInputs { request }
                        | ServerMsg::Failed { request, .. }
                        | ServerMsg::FrameReady { request, .. },
                        _,
                    ))) if request == sent => {
                        answered += 1;
                        break;
                    }
                    Ok(Some((ServerMsg::ProtocolError { .. }, _))) | Err(_) => {
                        answered += 1;
                        break 'connection;
                    }
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("message {sent}: no answer within 30 s"),
                }
            }
        }
    }
    println!(
        "{sent} fuzzed messages on {connections} connections in {:.1} s, {answered} renders answered",
        started.elapsed().as_secs_f64()
    );
    // Same runtime, still serving a well-behaved client.
    let mut good = Connection::connect(&dir).unwrap();
    assert_eq!(good.runtime_pid(), pid, "the runtime did not restart");
    let (w, h) = (16u32, 16u32);
    let f: Vec<Vec<f32>> = (0..3)
        .map(|k| vec![0.25 + 0.1 * k as f32; (w * h * 4) as usize])
        .collect();
    let inputs: Vec<InputFrame<'_>> = f
        .iter()
        .map(|p| InputFrame {
            width: w,
            height: h,
            pixels: p,
        })
        .collect();
    let job = Job {
        effect: TEMPORAL_REFINE.id.into(),
        effect_version: TEMPORAL_REFINE.algorithm_version,
        params: vec![
            ("radius".into(), ParamValue::Int(1)),
            ("strength".into(), ParamValue::Double(0.5)),
            ("detail".into(), ParamValue::Double(0.5)),
            ("output".into(), ParamValue::Choice(0)),
            ("scale".into(), ParamValue::Choice(0)),
            ("stabilise".into(), ParamValue::Double(0.0)),
            ("edges".into(), ParamValue::Choice(0)),
        ],
        width: w,
        height: h,
        inputs: vec![],
        centre: 1,
        position: None,
    };
    good.render(&job, &inputs, &mut NoHooks)
        .expect("a good render after the fuzzing");
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let _ = std::fs::remove_dir_all(&dir);
}
