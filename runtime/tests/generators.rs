//! Text to Video and Image to Video in the runtime process, over its real socket with the real
//! client and the built-in dreamfx-tiny: what the clip shows, segments made once and only
//! again where their inputs changed, the disk cache across a restart, clear errors.
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use dreamfx_effects::{clip_host_frames, EffectSpec, IMAGE_TO_VIDEO, TEXT_TO_VIDEO};
use dreamfx_protocol::client::{ClientError, Connection, InputFrame, RenderHooks, RuntimeLocation};
use dreamfx_protocol::job::{ClipPosition, Job, ParamValue};
use dreamfx_protocol::paths;
use dreamfx_tiny::checkers::{detect, psnr, ClipRef};

static DISK: Once = Once::new();

/// Every runtime of this test binary shares one disk cache, fresh for this run.
fn disk_cache_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dfx-gen-disk-{}", std::process::id()));
    DISK.call_once(|| {
        let _ = std::fs::remove_dir_all(&dir);
        std::env::set_var("DREAMFX_CACHE_DIR", &dir);
    });
    dir
}

struct TestRuntime {
    dir: PathBuf,
}

impl TestRuntime {
    fn start(name: &str) -> (TestRuntime, Connection) {
        disk_cache_dir();
        let dir = std::env::temp_dir().join(format!("dfx-gen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let rt = TestRuntime { dir };
        let conn = rt.connect();
        (rt, conn)
    }
    fn connect(&self) -> Connection {
        let mut loc = RuntimeLocation::new(Some(env!("CARGO_BIN_EXE_dreamfx-runtime").into()));
        loc.dir = self.dir.clone();
        loc.idle_exit = Duration::from_secs(30);
        Connection::connect_or_start(&loc).expect("runtime starts")
    }
    fn kill(&self) {
        if let Ok(pid) = std::fs::read_to_string(paths::pid_path(&self.dir)) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGKILL) };
                std::thread::sleep(Duration::from_millis(300));
            }
        }
    }
}

impl Drop for TestRuntime {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct NoHooks;
impl RenderHooks for NoHooks {
    fn progress(&mut self, _: f32) {}
    fn should_abort(&mut self) -> bool {
        false
    }
}

/// A generator job with the effect's defaults, `changes` applied, for host frame `frame` of a
/// clip at `rate` frames/s.
fn job(
    spec: &EffectSpec,
    (w, h): (u32, u32),
    rate: f64,
    frame: f64,
    changes: &[(&str, ParamValue)],
) -> Job {
    let mut params: Vec<(String, ParamValue)> = spec
        .params
        .iter()
        .filter_map(|p| Some((p.name.to_string(), p.default_value()?)))
        .collect();
    for (name, value) in changes {
        params.iter_mut().find(|p| p.0 == *name).unwrap().1 = value.clone();
    }
    let duration = match params.iter().find(|p| p.0 == "duration").unwrap().1 {
        ParamValue::Double(d) => d,
        _ => unreachable!(),
    };
    let frames = clip_host_frames(duration, rate);
    for p in spec.params.iter().filter(|p| p.animates) {
        let slot = params.iter_mut().find(|q| q.0 == p.name).unwrap();
        if let ParamValue::Double(v) = slot.1 {
            slot.1 = ParamValue::Curve(vec![v; frames]);
        }
    }
    Job {
        effect: spec.id.into(),
        effect_version: spec.algorithm_version,
        params,
        width: w,
        height: h,
        inputs: vec![],
        centre: 0,
        position: Some(ClipPosition {
            frame,
            rate,
            pixel_aspect: 1.0,
            preview: false,
        }),
    }
}

fn render(conn: &mut Connection, job: &Job, inputs: &[InputFrame<'_>]) -> Vec<f32> {
    conn.render(job, inputs, &mut NoHooks)
        .expect("renders")
        .pixels
        .to_vec()
}

fn rgb(rgba: &[f32]) -> Vec<f32> {
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn generated(conn: &mut Connection) -> u64 {
    conn.status().unwrap().segments_generated
}

#[test]
fn a_prompted_clip_at_24_fps_is_red_and_moves_left_and_is_generated_once() {
    let (_rt, mut conn) = TestRuntime::start("t2v");
    let prompt = "a red circle moves left on a dark blue background";
    let size = (320, 180);
    let started = Instant::now();
    let first = render(
        &mut conn,
        &job(
            &TEXT_TO_VIDEO,
            size,
            24.0,
            0.0,
            &[("seed", ParamValue::Int(3))],
        ),
        &[],
    );
    let first_frame = started.elapsed();
    let mut clip = rgb(&first);
    let started = Instant::now();
    for t in 1..48 {
        let j = job(
            &TEXT_TO_VIDEO,
            size,
            24.0,
            t as f64,
            &[("seed", ParamValue::Int(3))],
        );
        clip.extend(rgb(&render(&mut conn, &j, &[])));
    }
    let rest = started.elapsed();
    eprintln!("first frame {first_frame:.2?} (one segment generated), 47 more frames {rest:.2?}");
    assert_eq!(generated(&mut conn), 1, "one segment serves all 48 frames");
    let found = detect(&ClipRef::new(&clip, 48, 180, 320));
    let colour = found.colour.map(|c| format!("{c:?}"));
    let motion = found.motion.map(|m| format!("{m:?}"));
    assert_eq!(colour.as_deref(), Some("Red"), "{prompt}: {found:?}");
    assert!(found.velocity[0] < -0.5, "moves left: {:?}", found.velocity);
    eprintln!(
        "detected colour {colour:?}, motion {motion:?}, velocity {:?}",
        found.velocity
    );
}

#[test]
fn a_keyframe_in_segment_two_regenerates_from_segment_two_only() {
    let (_rt, mut conn) = TestRuntime::start("keys");
    let rate = 12.0;
    let base = [
        ("duration", ParamValue::Double(6.0)),
        ("quality", ParamValue::Choice(0)),
        ("seed", ParamValue::Int(11)),
    ];
    let frames = clip_host_frames(6.0, rate);
    let last = (frames - 1) as f64;
    let before_first = render(
        &mut conn,
        &job(&TEXT_TO_VIDEO, (64, 64), rate, 5.0, &base),
        &[],
    );
    let before_last = render(
        &mut conn,
        &job(&TEXT_TO_VIDEO, (64, 64), rate, last, &base),
        &[],
    );
    assert_eq!(generated(&mut conn), 3, "6 s of 2 s segments");
    // Guidance keyframed up inside the second segment (host frames 24..47 at 12 frames/s).
    let mut guidance = vec![4.0; frames];
    for g in &mut guidance[26..40] {
        *g = 9.0;
    }
    let mut keyed = base.to_vec();
    keyed.push(("guidance", ParamValue::Curve(guidance)));
    let after_first = render(
        &mut conn,
        &job(&TEXT_TO_VIDEO, (64, 64), rate, 5.0, &keyed),
        &[],
    );
    assert_eq!(after_first, before_first, "segment 1 is byte-identical");
    assert_eq!(generated(&mut conn), 3, "and not generated again");
    let after_last = render(
        &mut conn,
        &job(&TEXT_TO_VIDEO, (64, 64), rate, last, &keyed),
        &[],
    );
    assert_eq!(generated(&mut conn), 5, "segments 2 and 3 are made again");
    assert_ne!(after_last, before_last);
}

#[test]
fn a_restarted_runtime_serves_a_generated_clip_from_the_disk_cache() {
    let (rt, mut conn) = TestRuntime::start("restart");
    let j = job(
        &TEXT_TO_VIDEO,
        (96, 54),
        25.0,
        10.0,
        &[
            ("seed", ParamValue::Int(77)),
            ("quality", ParamValue::Choice(0)),
        ],
    );
    let before = render(&mut conn, &j, &[]);
    assert_eq!(generated(&mut conn), 1);
    drop(conn);
    rt.kill();
    let mut conn = rt.connect();
    let started = Instant::now();
    let after = render(&mut conn, &j, &[]);
    eprintln!("after a restart, from disk: {:.2?}", started.elapsed());
    assert_eq!(
        generated(&mut conn),
        0,
        "nothing generated after the restart"
    );
    assert_eq!(after, before);
}

#[test]
fn image_to_video_starts_from_the_source_frame() {
    let (_rt, mut conn) = TestRuntime::start("i2v");
    // A still from Text to Video (a known scene) as the Source, at the model's own size.
    let still = render(
        &mut conn,
        &job(
            &TEXT_TO_VIDEO,
            (64, 64),
            8.0,
            8.0,
            &[
                (
                    "prompt",
                    ParamValue::Text("a green square moves up on a black background".into()),
                ),
                ("seed", ParamValue::Int(5)),
            ],
        ),
        &[],
    );
    let source = [InputFrame {
        width: 64,
        height: 64,
        pixels: &still,
    }];
    let changes = [
        (
            "prompt",
            ParamValue::Text("a green square moves right on a black background".into()),
        ),
        ("seed", ParamValue::Int(9)),
    ];
    let frame0 = render(
        &mut conn,
        &job(&IMAGE_TO_VIDEO, (64, 64), 8.0, 0.0, &changes),
        &source,
    );
    let db = psnr(&rgb(&frame0), &rgb(&still));
    assert!(db >= 30.0, "frame 0 follows the Source: {db:.1} dB");
    let later = render(
        &mut conn,
        &job(&IMAGE_TO_VIDEO, (64, 64), 8.0, 15.0, &changes),
        &source,
    );
    assert_ne!(later, frame0, "and it moves");
}

#[test]
fn a_missing_model_directory_is_a_message_naming_it() {
    let (_rt, mut conn) = TestRuntime::start("nomodel");
    let j = job(
        &TEXT_TO_VIDEO,
        (64, 64),
        24.0,
        0.0,
        &[("model", ParamValue::Text("/nonexistent/wan-model".into()))],
    );
    match conn.render(&j, &[], &mut NoHooks) {
        Err(ClientError::RenderFailed(m)) => {
            assert!(
                m.contains("/nonexistent/wan-model") && m.contains("built-in"),
                "{m}"
            )
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("rendered without a model"),
    }
    let j = job(
        &TEXT_TO_VIDEO,
        (64, 64),
        24.0,
        0.0,
        &[("model", ParamValue::Text("relative/model".into()))],
    );
    match conn.render(&j, &[], &mut NoHooks) {
        Err(ClientError::RenderFailed(m)) => assert!(m.contains("absolute"), "{m}"),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn prepare_generates_with_nobody_waiting_and_prompts_are_checked() {
    let (_rt, mut conn) = TestRuntime::start("prepare");
    let j = job(
        &TEXT_TO_VIDEO,
        (64, 64),
        24.0,
        47.0,
        &[
            ("seed", ParamValue::Int(123)),
            ("quality", ParamValue::Choice(0)),
        ],
    );
    conn.prepare(&j, &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while generated(&mut conn) == 0 {
        assert!(Instant::now() < deadline, "prepared clip never generated");
        std::thread::sleep(Duration::from_millis(100));
    }
    render(&mut conn, &j, &[]);
    assert_eq!(
        generated(&mut conn),
        1,
        "the render found the prepared clip"
    );
    let notes = conn
        .check_prompt("", &["a red circle moves left", "a dog runs"])
        .unwrap();
    assert_eq!(notes[0], "");
    assert!(notes[1].contains("dog"), "{notes:?}");
}

#[test]
fn a_preview_shows_a_draft_until_the_final_clip_is_made_and_then_the_final_clip() {
    let (_rt, mut conn) = TestRuntime::start("preview");
    let seed = [("seed", ParamValue::Int(4242))];
    let mut preview = job(&TEXT_TO_VIDEO, (80, 45), 24.0, 20.0, &seed);
    preview.position.as_mut().unwrap().preview = true;
    let draft = render(&mut conn, &preview, &[]);
    assert_eq!(
        generated(&mut conn),
        1,
        "a draft segment, not the final one"
    );
    let final_job = job(&TEXT_TO_VIDEO, (80, 45), 24.0, 20.0, &seed);
    let final_frame = render(&mut conn, &final_job, &[]);
    assert_eq!(
        generated(&mut conn),
        2,
        "the final render generates the final segment"
    );
    assert_ne!(draft, final_frame, "the draft is another clip");
    assert_eq!(
        render(&mut conn, &preview, &[]),
        final_frame,
        "now the preview shows the final clip"
    );
    assert_eq!(generated(&mut conn), 2);
}

struct AbortAfter(Instant);
impl RenderHooks for AbortAfter {
    fn progress(&mut self, _: f32) {}
    fn should_abort(&mut self) -> bool {
        Instant::now() >= self.0
    }
}

#[test]
fn an_abort_cancels_the_generation_when_nobody_else_waits() {
    let (_rt, mut conn) = TestRuntime::start("abort");
    // Long enough to be mid-generation when the host aborts (12 s: six segments).
    let j = job(
        &TEXT_TO_VIDEO,
        (64, 64),
        24.0,
        287.0,
        &[
            ("seed", ParamValue::Int(31337)),
            ("duration", ParamValue::Double(12.0)),
        ],
    );
    let abort = AbortAfter(Instant::now() + Duration::from_millis(800));
    match conn.render(&j, &[], &mut { abort }) {
        Err(ClientError::Cancelled) => {}
        other => panic!("expected a cancelled render, got {:?}", other.map(|_| ())),
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = conn.status().unwrap();
        if s.jobs_cancelled >= 1 {
            assert!(
                s.segments_generated < 6,
                "the generation stopped: {} segments made",
                s.segments_generated
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the job was not cancelled: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn two_clients_asking_for_different_frames_of_one_new_clip_share_one_generation() {
    let (rt, mut first) = TestRuntime::start("two-clients");
    let mut second = rt.connect();
    let seed = [
        ("seed", ParamValue::Int(2024)),
        ("quality", ParamValue::Choice(0)),
    ];
    let a = job(&TEXT_TO_VIDEO, (64, 36), 24.0, 3.0, &seed);
    let b = job(&TEXT_TO_VIDEO, (64, 36), 24.0, 40.0, &seed);
    let other = std::thread::spawn(move || render(&mut second, &b, &[]));
    let frame_a = render(&mut first, &a, &[]);
    let frame_b = other.join().unwrap();
    assert_ne!(frame_a, frame_b);
    assert_eq!(generated(&mut first), 1, "one segment for both");
}

/// A Wan directory (the random tiny Wan2.1 config of the parity tests) as `model`, with its
/// native clip format said in its model_index.json.
fn tiny_wan_dir(name: &str) -> PathBuf {
    fixture_model_dir("wan/models/wan21", name, (48, 32, 9, 16.0))
}

/// A copy of a parity-test model (a random tiny config) whose model_index.json says its native
/// clip: (width, height, frames, fps).
fn fixture_model_dir(fixture: &str, name: &str, clip: (i64, i64, i64, f64)) -> PathBuf {
    let (w, h, frames, fps) = clip;
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../diffusion/fixtures")
        .join(fixture);
    let dir = std::env::temp_dir().join(format!("dfx-gen-model-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for part in [
        "scheduler",
        "text_encoder",
        "tokenizer",
        "transformer",
        "vae",
    ] {
        std::fs::create_dir_all(dir.join(part)).unwrap();
        for f in std::fs::read_dir(fixture.join(part)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.join(part).join(f.file_name())).unwrap();
        }
    }
    let index = std::fs::read_to_string(fixture.join("model_index.json")).unwrap();
    let native = format!(
        r#"{{ "_dreamfx_native_clip": {{ "width": {w}, "height": {h}, "frames": {frames}, "fps": {fps:?} }},"#
    );
    std::fs::write(
        dir.join("model_index.json"),
        index.replacen('{', &native, 1),
    )
    .unwrap();
    dir
}

#[test]
fn a_wan_directory_works_as_the_model() {
    let (_rt, mut conn) = TestRuntime::start("wan");
    let wan = tiny_wan_dir("ok");
    let model = ParamValue::Text(wan.to_str().unwrap().into());
    let changes = [
        ("model", model.clone()),
        ("steps", ParamValue::Int(2)),
        ("duration", ParamValue::Double(0.5)),
    ];
    let frame = render(
        &mut conn,
        &job(&TEXT_TO_VIDEO, (96, 64), 16.0, 3.0, &changes),
        &[],
    );
    assert_eq!(frame.len(), 96 * 64 * 4);
    assert!(frame.iter().all(|v| v.is_finite()));
    assert_eq!(generated(&mut conn), 1);
    // Two segments need a model that continues from an image (TI2V); Wan2.1 T2V does not.
    let long = [
        ("model", model),
        ("steps", ParamValue::Int(2)),
        ("duration", ParamValue::Double(2.0)),
    ];
    match conn.render(
        &job(&TEXT_TO_VIDEO, (96, 64), 16.0, 20.0, &long),
        &[],
        &mut NoHooks,
    ) {
        Err(ClientError::RenderFailed(m)) => {
            assert!(m.contains("TI2V") && m.contains("Duration"), "{m}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let _ = std::fs::remove_dir_all(&wan);
}

#[test]
fn a_mochi_directory_works_as_the_model_and_says_it_cannot_start_from_an_image() {
    let (_rt, mut conn) = TestRuntime::start("mochi");
    let mochi = fixture_model_dir("mochi/models/mochi", "mochi", (48, 32, 13, 30.0));
    let model = ParamValue::Text(mochi.to_str().unwrap().into());
    let changes = [
        ("model", model),
        ("steps", ParamValue::Int(2)),
        ("duration", ParamValue::Double(0.4)),
    ];
    let frame = render(
        &mut conn,
        &job(&TEXT_TO_VIDEO, (96, 64), 30.0, 5.0, &changes),
        &[],
    );
    assert_eq!(frame.len(), 96 * 64 * 4);
    assert!(frame.iter().all(|v| v.is_finite()));
    assert_eq!(generated(&mut conn), 1);
    let still = vec![0.5f32; 48 * 32 * 4];
    let source = [InputFrame {
        width: 48,
        height: 32,
        pixels: &still,
    }];
    let i2v = job(&IMAGE_TO_VIDEO, (96, 64), 30.0, 5.0, &changes);
    match conn.render(&i2v, &source, &mut NoHooks) {
        Err(ClientError::RenderFailed(m)) => assert!(m.contains("text only"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let _ = std::fs::remove_dir_all(&mochi);
}
