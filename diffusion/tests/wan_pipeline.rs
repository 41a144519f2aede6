//! 2-step text-to-video and image-to-video runs against diffusers' pipelines on the tiny
//! fixture models: same noise, same steps, same frames.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::pipelines::wan::{initial_noise, PipelineError, Request, WanPipeline};
use dreamfx_diffusion::schedulers::SchedulerConfig;
use tch::{Device, Kind, Tensor};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/wan")
}

fn max_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

fn run(case: &str) {
    let dir = fixtures();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("cases/{case}.json"))).unwrap(),
    )
    .unwrap();
    let t: HashMap<String, Tensor> =
        Tensor::read_safetensors(dir.join(format!("cases/{case}.safetensors")))
            .unwrap()
            .into_iter()
            .collect();
    let pipe =
        WanPipeline::load(&dir.join(json["model_dir"].as_str().unwrap()), Device::Cpu).unwrap();

    let embeds = pipe
        .encode_prompt(json["prompt"].as_str().unwrap())
        .unwrap();
    let e = max_err(&embeds, &t["prompt_embeds"]);
    assert!(e <= 1e-4, "{case}: prompt embeds {e}");

    let noise = initial_noise(&t["initial_noise"].size(), json["seed"].as_u64().unwrap());
    assert_eq!(
        max_err(&noise, &t["initial_noise"]),
        0.0,
        "{case}: same noise"
    );

    let first_frame = json["image"].as_str().map(|name| {
        let img = image::open(dir.join("cases").join(name)).unwrap().to_rgb8();
        let (w, h) = img.dimensions();
        let data: Vec<f32> = img.into_raw().iter().map(|&v| v as f32 / 255.0).collect();
        Tensor::from_slice(&data)
            .view([h as i64, w as i64, 3])
            .permute([2, 0, 1])
            .contiguous()
    });
    let scheduler = match json["scheduler"].as_str().unwrap() {
        "FlowMatchEulerDiscreteScheduler" => Some(SchedulerConfig::Euler {
            num_train_timesteps: 1000,
            shift: json["shift"].as_f64().unwrap(),
        }),
        _ => None,
    };
    let req = Request {
        prompt: json["prompt"].as_str().unwrap().into(),
        negative_prompt: json["negative_prompt"].as_str().unwrap().into(),
        seed: json["seed"].as_u64().unwrap(),
        steps: json["num_inference_steps"].as_u64().unwrap() as usize,
        guidance: json["guidance_scale"].as_f64().unwrap(),
        shift: json["shift"].as_f64(),
        scheduler,
        restart: None,
        width: json["width"].as_i64().unwrap(),
        height: json["height"].as_i64().unwrap(),
        frames: json["num_frames"].as_i64().unwrap(),
        first_frame,
    };
    let mut steps_seen = 0;
    let out = pipe
        .generate(&req, &mut |done, _| {
            steps_seen = done;
            true
        })
        .unwrap();
    assert_eq!(steps_seen, req.steps);
    let e = max_err(&out.latents, &t["final_latents"]);
    assert!(e <= 1e-3, "{case}: final latents {e}");
    let e = max_err(&out.video.unsqueeze(0), &t["video"]);
    assert!(e <= 1e-3, "{case}: video {e}");
    let spread = t["video"].std(false).double_value(&[]);
    assert!(
        spread > 1e-3,
        "{case}: the reference video is not flat ({spread})"
    );
    eprintln!("{case}: video max error {e:.2e}");
    let _ = Kind::Float;
}

#[test]
fn text_to_video_wan21_unipc() {
    run("pipeline_t2v_wan21");
}

#[test]
fn text_to_video_wan21_euler() {
    run("pipeline_t2v_wan21_euler");
}

#[test]
fn text_to_video_wan22() {
    run("pipeline_t2v_wan22");
}

#[test]
fn image_to_video_wan22() {
    run("pipeline_ti2v_wan22");
}

/// A 5-frame 32×32 text-to-video request without guidance for the wan21 fixture model.
fn small_request(seed: u64, steps: usize) -> Request {
    Request {
        prompt: "a red circle moves left".into(),
        negative_prompt: String::new(),
        seed,
        steps,
        guidance: 1.0,
        shift: None,
        scheduler: None,
        restart: None,
        width: 32,
        height: 32,
        frames: 5,
        first_frame: None,
    }
}

#[test]
fn same_seed_same_pixels_other_seed_other_pixels() {
    let pipe = WanPipeline::load(&fixtures().join("models/wan21"), Device::Cpu).unwrap();
    let req = |seed| small_request(seed, 2);
    let a = pipe.generate(&req(1), &mut |_, _| true).unwrap().video;
    let b = pipe.generate(&req(1), &mut |_, _| true).unwrap().video;
    let c = pipe.generate(&req(2), &mut |_, _| true).unwrap().video;
    assert_eq!(max_err(&a, &b), 0.0);
    assert!(max_err(&a, &c) > 1e-3);
    // Cancel between steps.
    assert!(pipe.generate(&req(1), &mut |_, _| false).is_err());
    // Absurd requests are refused with a reason.
    let mut bad = req(1);
    bad.frames = 6;
    let err = pipe
        .generate(&bad, &mut |_, _| true)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("frame count"), "{err}");
}

#[test]
fn video_to_video_from_latents_spans_decode_to_generation() {
    let pipe = WanPipeline::load(&fixtures().join("models/wan21"), Device::Cpu).unwrap();
    let req = |seed| small_request(seed, 4);
    let fresh = pipe.generate(&req(3), &mut |_, _| true).unwrap();
    let from = |strength: f64, seed: u64| {
        let mut steps_seen = Vec::new();
        let out = pipe
            .generate_from_latents(&req(seed), &fresh.latents, strength, &mut |done, total| {
                steps_seen.push((done, total));
                true
            })
            .unwrap();
        (out.video, steps_seen)
    };
    // Strength 0 runs no step: the starting latents, decoded.
    let (none, seen) = from(0.0, 3);
    assert!(seen.is_empty());
    assert_eq!(max_err(&none, &fresh.video), 0.0);
    // Strength 1 starts from σ ≈ 1: the same clip as a generation with that seed.
    let (full, seen) = from(1.0, 3);
    assert_eq!(seen.last(), Some(&(4, 4)));
    assert!(max_err(&full, &fresh.video) < 1e-3);
    // Half strength runs the last two steps, the same for the same seed, and is neither the
    // start nor a fresh clip.
    let (half, seen) = from(0.5, 9);
    assert_eq!(seen, vec![(1, 2), (2, 2)]);
    assert_eq!(max_err(&half, &from(0.5, 9).0), 0.0);
    assert!(max_err(&half, &fresh.video) > 1e-4);
    let other_seed = pipe.generate(&req(9), &mut |_, _| true).unwrap().video;
    assert!(max_err(&half, &other_seed) > 1e-4);
    // What cannot run is refused with a reason.
    let err = |r: Result<_, _>| r.err().map(|e: PipelineError| e.to_string()).unwrap();
    let bad = pipe.generate_from_latents(&req(3), &fresh.latents, 1.5, &mut |_, _| true);
    assert!(err(bad).contains("strength"));
    let wrong = fresh.latents.narrow(2, 0, 1);
    let bad = pipe.generate_from_latents(&req(3), &wrong, 0.5, &mut |_, _| true);
    assert!(err(bad).contains("starting latents"));
}
