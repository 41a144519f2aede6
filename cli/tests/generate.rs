//! `dreamfx generate` as a user runs it: the real binary, the real models.
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use tch::Tensor;

fn dreamfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dreamfx"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("dfx-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../diffusion/fixtures/wan")
}

#[test]
fn generate_writes_the_reference_frames() {
    let dir = fixtures();
    let out = tmp("reference");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("cases/pipeline_t2v_wan21.json")).unwrap(),
    )
    .unwrap();
    let s = |k: &str| json[k].to_string().trim_matches('"').to_string();
    let o = dreamfx(&[
        "generate",
        "--model",
        dir.join("models/wan21").to_str().unwrap(),
        "--prompt",
        &s("prompt"),
        "--negative",
        &s("negative_prompt"),
        "--seed",
        &s("seed"),
        "--steps",
        &s("num_inference_steps"),
        "--guidance",
        &s("guidance_scale"),
        "--shift",
        &s("shift"),
        "--width",
        &s("width"),
        "--height",
        &s("height"),
        "--frames",
        &s("num_frames"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let frames = Tensor::read_safetensors(out.join("frames.safetensors")).unwrap();
    let reference: HashMap<String, Tensor> =
        Tensor::read_safetensors(dir.join("cases/pipeline_t2v_wan21.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let e = (&frames[0].1.unsqueeze(0) - &reference["video"])
        .abs()
        .max()
        .double_value(&[]);
    assert!(e <= 1e-3, "generate frames vs reference: {e}");
    for i in 0..json["num_frames"].as_u64().unwrap() {
        assert!(out.join(format!("frame_{i:04}.png")).is_file());
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn words_the_built_in_model_cannot_read_are_named() {
    let out = tmp("unknown");
    let o = dreamfx(&[
        "generate",
        "--prompt",
        "a dog runs fast",
        "--steps",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("dog, runs, fast") && e.contains("dreamfx vocabulary"),
        "{e}"
    );
    let q = dreamfx(&[
        "-q",
        "generate",
        "--prompt",
        "a dog",
        "--steps",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert!(
        q.status.success() && q.stderr.is_empty(),
        "quiet: {}",
        stderr(&q)
    );
    let v = dreamfx(&["vocabulary"]);
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(
        text.contains("circle") && text.contains("32 tokens"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_used_out_directory_is_refused_before_any_work_and_replaced_whole_with_force() {
    let out = tmp("reuse");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("frame_0099.png"), b"an older run").unwrap();
    let o = dreamfx(&["generate", "--steps", "2", "--out", out.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(out.join("frame_0099.png").is_file(), "nothing touched");
    let o = dreamfx(&[
        "generate",
        "--steps",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("frame_0099.png").exists(), "runs never mix");
    assert!(out.join("frame_0016.png").is_file());
    let parent: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".dfx-cli-reuse-{}", std::process::id())))
        .collect();
    assert!(parent.is_empty(), "no staging left: {parent:?}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn typos_and_absurd_values_are_errors_naming_the_flag() {
    for (args, says) in [
        (vec!["generate", "--stepz", "3"], "--stepz"),
        (vec!["generate", "--shift", "NaN"], "--shift"),
        (vec!["generate", "--guidance", "inf"], "--guidance"),
        (vec!["generate", "--width", "100000"], "--width"),
        (vec!["generate", "--steps"], "--steps"),
    ] {
        let o = dreamfx(&args);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_prompt_that_is_not_utf8_is_an_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let o = Command::new(env!("CARGO_BIN_EXE_dreamfx"))
        .arg("generate")
        .arg("--prompt")
        .arg(std::ffi::OsStr::from_bytes(b"a red \xff circle"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
}
