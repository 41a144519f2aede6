//! The subcommands that moved into `dreamfx` (refine-report, tiny-eval, tiny-transplant) and
//! `dreamfx cache`, run as a user runs them: the real binary, and for `cache` a real runtime.
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use dreamfx_effects::TEMPORAL_REFINE;
use dreamfx_protocol::client::{Connection, InputFrame, RenderHooks, RuntimeLocation};
use dreamfx_protocol::job::{Job, ParamValue};
use dreamfx_protocol::paths;

fn dreamfx(args: &[&str]) -> Output {
    dreamfx_in(args, None)
}

/// `dreamfx args…`, talking to the runtime of `runtime_dir` when given.
fn dreamfx_in(args: &[&str], runtime_dir: Option<&PathBuf>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dreamfx"));
    cmd.args(args);
    if let Some(dir) = runtime_dir {
        cmd.env("DREAMFX_RUNTIME_DIR", dir);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("dfx-sub-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

#[test]
fn help_lists_every_flag_of_the_moved_subcommands() {
    for (sub, flags) in [
        (
            "refine-report",
            &[
                "--width",
                "--height",
                "--frames",
                "--seeds",
                "--radius",
                "--strength",
                "--detail",
                "--set",
                "--no-ffmpeg",
                "--bench",
                "--full",
                "--speed",
                "--upscale",
                "--stabilise",
                "--jitter",
            ][..],
        ),
        (
            "tiny-eval",
            &[
                "--model",
                "--clips",
                "--first",
                "--split",
                "--steps",
                "--guidance",
                "--restart-sampling",
                "--from-truth",
                "--from-other-shape",
                "--text-only",
            ][..],
        ),
        (
            "tiny-transplant",
            &["--model", "--clips", "--first", "--split"][..],
        ),
    ] {
        let o = dreamfx(&[sub, "--help"]);
        assert!(o.status.success(), "{sub} --help: {}", text(&o.stderr));
        let help = text(&o.stdout);
        for flag in flags {
            assert!(help.contains(flag), "{sub} --help lacks {flag}:\n{help}");
        }
    }
    let o = dreamfx(&["cache", "--help"]);
    let help = text(&o.stdout);
    assert!(help.contains("status") && help.contains("clear"), "{help}");
}

#[test]
fn typos_and_out_of_range_values_are_errors_naming_the_flag() {
    for (args, named) in [
        (&["refine-report", "--widht", "64"][..], "--widht"),
        (&["refine-report", "--radius", "0"][..], "--radius"),
        (&["refine-report", "--strength", "NaN"][..], "--strength"),
        (&["refine-report", "--set", "fb_toll=1"][..], "fb_toll"),
        (&["refine-report", "--width"][..], "--width"),
        (&["tiny-eval", "--clip", "2"][..], "--clip"),
        (&["tiny-eval", "--split", "test"][..], "--split"),
        (&["tiny-eval", "--from-truth", "1.5"][..], "--from-truth"),
        (&["tiny-eval", "--from-other-shape"][..], "--from-truth"),
        (
            &["tiny-eval", "--restart-sampling", "fast"][..],
            "--restart-sampling",
        ),
        (&["tiny-transplant", "--clips", "0"][..], "--clips"),
        (&["cache", "stats"][..], "stats"),
    ] {
        let o = dreamfx(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?} must be refused: {err}");
        assert!(
            err.contains(named),
            "{args:?}: the error must name {named}: {err}"
        );
    }
}

#[test]
fn refine_report_prints_its_table() {
    let o = dreamfx(&[
        "refine-report",
        "--width",
        "64",
        "--height",
        "48",
        "--frames",
        "6",
        "--seeds",
        "11",
        "--radius",
        "2",
        "--set",
        "fb_tol=0.5",
        "--no-ffmpeg",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("64x48, 6 frames, radius 2"), "{out}");
    assert!(out.contains("seed 11"), "{out}");
    for row in ["input (degraded)", "Temporal Refine", "clean"] {
        assert!(out.contains(row), "no {row} row:\n{out}");
    }
    assert!(!out.contains("ffmpeg deflicker"), "--no-ffmpeg: {out}");
}

#[test]
fn tiny_eval_scores_a_few_captions() {
    // Two steps without guidance or restart passes: the command's path, not the model's
    // quality (tiny/tests/tiny_model.rs holds the model to its bar).
    let o = dreamfx(&[
        "tiny-eval",
        "--clips",
        "2",
        "--text-only",
        "--steps",
        "2",
        "--guidance",
        "1",
        "--restart-sampling",
        "off",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("held-out captions: 2 (steps 2, guidance 1"),
        "{out}"
    );
    for line in ["colour accuracy", "shape accuracy", "motion accuracy"] {
        assert!(out.contains(line), "no {line}:\n{out}");
    }
    assert!(
        !out.contains("image-to-video: frame-0 PSNR"),
        "--text-only: {out}"
    );
}

#[test]
fn cache_without_a_runtime_says_so_and_starts_none() {
    let dir = tmp("no-runtime");
    std::fs::create_dir_all(&dir).unwrap();
    for action in ["status", "clear"] {
        let o = dreamfx_in(&["cache", action], Some(&dir));
        assert_eq!(
            o.status.code(),
            Some(1),
            "cache {action}: {}",
            text(&o.stdout)
        );
        let err = text(&o.stderr);
        assert!(err.contains("no dreamfx runtime is running"), "{err}");
        assert!(
            !paths::socket_path(&dir).exists(),
            "cache {action} started a runtime"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A runtime of its own in a private directory, killed on drop.
struct TestRuntime {
    dir: PathBuf,
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

struct NoHooks;
impl RenderHooks for NoHooks {
    fn progress(&mut self, _: f32) {}
    fn should_abort(&mut self) -> bool {
        false
    }
}

#[test]
fn cache_status_and_clear_talk_to_the_running_runtime() {
    // Beside this test's executable (target/debug/deps/…), wherever the target dir is.
    let exe = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("dreamfx-runtime");
    assert!(
        exe.is_file(),
        "{} is missing: `cargo build --workspace` builds it (cargo test -p dreamfx-cli does not)",
        exe.display()
    );
    let rt = TestRuntime {
        dir: tmp("runtime"),
    };
    let mut loc = RuntimeLocation::new(Some(exe));
    loc.dir = rt.dir.clone();
    loc.idle_exit = Duration::from_secs(20);
    let mut conn = Connection::connect_or_start(&loc).expect("the runtime starts");

    // One refined frame in its cache.
    let (w, h) = (32u32, 24u32);
    let frames: Vec<Vec<f32>> = (0..3)
        .map(|k| {
            (0..w * h * 4)
                .map(|i| ((i * 7 + k * 13) % 101) as f32 / 100.0)
                .collect()
        })
        .collect();
    let inputs: Vec<InputFrame> = frames
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
            ("strength".into(), ParamValue::Double(1.0)),
            ("detail".into(), ParamValue::Double(0.0)),
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
    conn.render(&job, &inputs, &mut NoHooks).expect("render");

    let o = dreamfx_in(&["cache", "status"], Some(&rt.dir));
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    assert!(
        out.contains(&format!("runtime pid      {}", conn.runtime_pid())),
        "{out}"
    );
    assert!(out.contains("cached frames    1\n"), "{out}");
    assert!(out.contains("jobs run         1\n"), "{out}");
    for counter in ["cache size", "cache hits", "jobs cancelled", "connections"] {
        assert!(out.contains(counter), "no {counter}:\n{out}");
    }

    let o = dreamfx_in(&["cache", "clear"], Some(&rt.dir));
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    assert!(out.contains("cleared 1 cached frames"), "{out}");
    assert_eq!(
        conn.status().unwrap().cached_frames,
        0,
        "the cache is empty"
    );
}

#[test]
fn runtime_and_train_hand_over_to_the_executables_beside_dreamfx() {
    for (sub, usage) in [
        ("runtime", "usage: dreamfx-runtime"),
        ("train", "usage: train-tiny"),
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_dreamfx"))
            .args([sub, "--help"])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && out.contains(usage), "{sub}: {out}");
    }
}
