//! The wire decoder against hostile bytes: framed messages built from real ones with bytes
//! flipped, cut short or extended, random payloads, and random headers, through a real socket
//! pair into `Channel::recv` — as the runtime (ClientMsg) and the plugin (ServerMsg) read them.
//! No input may panic or hang; each ends as a message or a typed error.
//!
//! `DREAMFX_FUZZ_CASES` sets how many (CI: 20,000); a million:
//!   DREAMFX_FUZZ_CASES=1000000 cargo test --release -p dreamfx-protocol --test fuzz_wire -- --nocapture
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Instant;

use dreamfx_protocol::job::{Job, ParamValue};
use dreamfx_protocol::shm::HeaderLayout;
use dreamfx_protocol::wire::{
    Channel, ClientMsg, FrameRef, SegmentInfo, ServerMsg, WireError, MAX_MESSAGE_BYTES,
};

/// splitmix64: a fixed sequence, so a failure names a case that can be run again.
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

fn seeds() -> Vec<Vec<u8>> {
    let job = Job {
        effect: "dreamfx.TemporalRefine".into(),
        effect_version: 3,
        params: vec![
            ("radius".into(), ParamValue::Int(7)),
            ("strength".into(), ParamValue::Double(0.8)),
            ("output".into(), ParamValue::Choice(1)),
            ("prompt".into(), ParamValue::Text("a red circle".into())),
            ("debug".into(), ParamValue::Bool(true)),
        ],
        width: 1920,
        height: 1080,
        inputs: vec![[7; 32]; 3],
        centre: 1,
        position: None,
    };
    let client = [
        ClientMsg::Hello {
            protocol: 1,
            header_layout: HeaderLayout::this_build(),
            client: "fuzz".into(),
        },
        ClientMsg::Render {
            request: 9,
            job,
            inputs: vec![
                FrameRef {
                    segment: 1,
                    offset: 64
                };
                3
            ],
            new_segment: Some(SegmentInfo {
                id: 1,
                len: 1 << 20,
            }),
        },
        ClientMsg::Cancel { request: 9 },
        ClientMsg::ForgetSegment { id: 4 },
        ClientMsg::PurgeCache,
        ClientMsg::Status,
    ];
    let server = [
        ServerMsg::Failed {
            request: 2,
            message: "no".into(),
        },
        ServerMsg::FrameReady {
            request: 2,
            frame: FrameRef {
                segment: 3,
                offset: 0,
            },
            new_segment: None,
            from_cache: true,
        },
        ServerMsg::Progress {
            request: 2,
            fraction: 0.5,
        },
    ];
    let mut out: Vec<Vec<u8>> = client
        .iter()
        .map(|m| postcard::to_stdvec(m).unwrap())
        .collect();
    out.extend(server.iter().map(|m| postcard::to_stdvec(m).unwrap()));
    out
}

/// One hostile frame: header (length, fd count) and payload.
fn case(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut payload = seeds[rng.below(seeds.len() as u64) as usize].clone();
    let mut len_field = None;
    let mut nfds = 0u8;
    match rng.below(6) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(payload.len() as u64) as usize;
                payload[i] ^= 1 << rng.below(8);
            }
        }
        1 => payload.truncate(rng.below(payload.len() as u64) as usize),
        2 => payload.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
        3 => {
            payload = (0..rng.below(256)).map(|_| rng.next() as u8).collect();
        }
        // A length that lies (larger or smaller than what follows, or past the limit).
        4 => len_field = Some(rng.next() as u32),
        // Announced fds that never come.
        _ => nfds = 1 + rng.below(255) as u8,
    }
    let len = len_field.unwrap_or(payload.len() as u32);
    let mut frame = len.to_le_bytes().to_vec();
    frame.push(nfds);
    frame.extend(payload);
    frame
}

#[test]
fn hostile_frames_end_as_a_message_or_a_typed_error() {
    let cases: u64 = std::env::var("DREAMFX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seeds = seeds();
    let mut rng = Rng(20261205);
    let (mut decoded, mut errors) = (0u64, 0u64);
    let started = Instant::now();
    for n in 0..cases {
        let frame = case(&mut rng, &seeds);
        let announced = u32::from_le_bytes(frame[..4].try_into().unwrap()) as usize;
        let (mut writer, reader) = UnixStream::pair().unwrap();
        writer.write_all(&frame).unwrap();
        // The writer goes away, as a hostile client would: a short frame ends as Closed.
        drop(writer);
        let mut channel = Channel::new(reader);
        let outcome = if n % 2 == 0 {
            channel.recv::<ClientMsg>(None).map(|m| m.is_some())
        } else {
            channel.recv::<ServerMsg>(None).map(|m| m.is_some())
        };
        if announced > MAX_MESSAGE_BYTES {
            assert!(
                matches!(outcome, Err(WireError::Oversized(_))),
                "case {n}: a {announced}-byte frame was not refused as oversized"
            );
        }
        match outcome {
            Ok(true) => decoded += 1,
            Ok(false) => panic!("case {n}: no message and no error without a time-out"),
            Err(WireError::Io(e)) => panic!("case {n}: I/O error on a local socket pair: {e}"),
            // Closed (a short frame), Malformed, Oversized, missing fds: typed, as wanted.
            Err(_) => errors += 1,
        }
    }
    println!(
        "{cases} hostile frames in {:.1} s: {decoded} decoded as messages, {errors} typed errors, no panic",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(decoded + errors, cases);
    assert!(decoded > 0 && errors > 0, "both outcomes exercised");
}
