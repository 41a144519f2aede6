//! Absurd requests are refused with a message before anything is allocated: a clip past the
//! model's RoPE tables (once a panic), one this machine cannot hold (once a hang or an OOM), a
//! shift of 0 or NaN (once all-NaN frames and a success).
use std::path::PathBuf;
use std::time::Instant;

use dreamfx_diffusion::pipelines::wan::{PipelineError, Request, WanPipeline};
use tch::Device;

fn tiny() -> WanPipeline {
    WanPipeline::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny"),
        Device::Cpu,
    )
    .unwrap()
}

fn request(width: i64, height: i64, frames: i64) -> Request {
    Request {
        prompt: "a red circle moves left".into(),
        negative_prompt: String::new(),
        seed: 0,
        steps: 2,
        guidance: 4.0,
        shift: None,
        scheduler: None,
        restart: None,
        width,
        height,
        frames,
        first_frame: None,
    }
}

fn refused(pipe: &WanPipeline, req: &Request) -> String {
    let started = Instant::now();
    let e = match pipe.generate(req, &mut |_, _| true) {
        Err(PipelineError::BadRequest(m)) => m,
        Err(e) => panic!("not a bad request: {e}"),
        Ok(_) => panic!("generated {}x{}x{}", req.width, req.height, req.frames),
    };
    assert!(started.elapsed().as_secs() < 2, "refused before any work");
    e
}

#[test]
fn clips_past_the_rope_tables_or_the_memory_are_refused_at_once() {
    let pipe = tiny();
    // 4·1025+1 frames: 1026 latent frames, past rope_max_seq_len 1024.
    let m = refused(&pipe, &request(64, 64, 4 * 1025 + 1));
    assert!(
        m.contains("rope_max_seq_len") && m.contains("frames"),
        "{m}"
    );
    let m = refused(&pipe, &request(8192, 8192, 17));
    assert!(m.contains("GiB"), "{m}");
}

#[test]
fn a_shift_of_zero_or_nan_is_refused() {
    let pipe = tiny();
    for shift in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut req = request(64, 64, 17);
        req.shift = Some(shift);
        let m = refused(&pipe, &req);
        assert!(m.contains("shift"), "{m}");
    }
}
