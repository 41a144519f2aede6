//! The whole HunyuanVideo pipeline against diffusers' `HunyuanVideoPipeline` on the tiny
//! fixture model (diffusion/fixtures/hunyuan_video/cases/pipeline.*): noise, schedule (shift 7),
//! the prompt encodings, every step's latents, the final latents and the decoded frames, fp32
//! CPU; and the model directory behind the family-neutral `Pipeline`.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::pipelines::hunyuan_video::{HunyuanVideoPipeline, NATIVE};
use dreamfx_diffusion::pipelines::wan::{initial_noise, PipelineError, Request};
use dreamfx_diffusion::pipelines::{detect, Family, Pipeline};
use tch::{Device, Kind, Tensor};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/hunyuan_video")
}

fn max_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

fn settings() -> serde_json::Value {
    let path = fixtures().join("cases/pipeline.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn request(json: &serde_json::Value) -> Request {
    Request {
        prompt: json["prompt"].as_str().unwrap().into(),
        negative_prompt: String::new(),
        seed: json["seed"].as_u64().unwrap(),
        steps: json["num_inference_steps"].as_u64().unwrap() as usize,
        guidance: json["guidance_scale"].as_f64().unwrap(),
        shift: None,
        scheduler: None,
        restart: None,
        width: json["width"].as_i64().unwrap(),
        height: json["height"].as_i64().unwrap(),
        frames: json["num_frames"].as_i64().unwrap(),
        first_frame: None,
    }
}

#[test]
fn text_to_video_matches_diffusers() {
    let json = settings();
    let t: HashMap<String, Tensor> =
        Tensor::read_safetensors(fixtures().join("cases/pipeline.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let model = fixtures().join(json["model_dir"].as_str().unwrap());
    assert_eq!(detect(&model).unwrap(), Family::HunyuanVideo);
    let pipe = HunyuanVideoPipeline::load(&model, Device::Cpu).unwrap();
    let req = request(&json);

    assert_eq!(
        pipe.latent_shape(&req).unwrap().as_slice(),
        t["initial_noise"].size().as_slice()
    );
    let noise = initial_noise(&t["initial_noise"].size(), req.seed);
    assert_eq!(max_err(&noise, &t["initial_noise"]), 0.0, "same noise");

    // The schedule: linspace(1, 0, n + 1)[:-1], shifted by 7.
    let n = req.steps;
    let sigmas: Vec<f64> = (0..n).map(|i| 1.0 - i as f64 / n as f64).collect();
    let sched = pipe.scheduler.build_with_sigmas(&sigmas).unwrap();
    let want: Vec<f32> = Vec::try_from(&t["sigmas"]).unwrap();
    let rel = sched
        .sigmas()
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(rel <= 1e-7, "sigmas {:?} vs {want:?}", sched.sigmas());

    let (embeds, mask, pooled) = pipe.encode_prompt(&req.prompt).unwrap();
    assert!(
        mask.equal(&t["prompt_attention_mask"].to_kind(Kind::Int64)),
        "prompt mask"
    );
    let e = max_err(&embeds, &t["prompt_embeds"]);
    assert!(e <= 1e-5, "prompt embeds {e}");
    let e = max_err(&pooled, &t["pooled_prompt_embeds"]);
    assert!(e <= 1e-5, "pooled embeds {e}");

    // Every step's transformer call on diffusers' inputs.
    for i in 0..req.steps {
        let pred = tch::no_grad(|| {
            pipe.transformer.forward(
                &t[&format!("step{i}.model_input")],
                &t[&format!("step{i}.timestep")],
                &t["prompt_embeds"],
                &t["prompt_attention_mask"],
                &t["pooled_prompt_embeds"],
                Some(&t["guidance"]),
            )
        });
        let e = max_err(&pred, &t[&format!("step{i}.noise_pred")]);
        assert!(e <= 1e-5, "step {i} noise_pred {e}");
    }

    let mut steps_seen = 0;
    let out = pipe
        .generate(&req, &mut |done, _| {
            steps_seen = done;
            true
        })
        .unwrap();
    assert_eq!(steps_seen, req.steps);
    let e = max_err(&out.latents, &t["final_latents"]);
    eprintln!("final latents: max abs error {e:.2e}");
    assert!(e <= 1e-4, "final latents {e}");
    let e = max_err(&out.video.unsqueeze(0), &t["video"]);
    eprintln!(
        "video: max abs error {e:.2e} (8-bit levels: {:.3})",
        e * 255.0
    );
    assert!(e <= 2.0 / 255.0, "video {e}");
    let spread = t["video"].std(false).double_value(&[]);
    assert!(spread > 1e-3, "the reference video is not flat ({spread})");
}

#[test]
fn the_family_neutral_pipeline_takes_a_hunyuan_directory() {
    let model = fixtures().join("models/hunyuan_video");
    let pipe = Pipeline::load(&model, Device::Cpu).unwrap();
    assert_eq!(pipe.family(), Family::HunyuanVideo);
    assert!(!pipe.continues_from_image());
    // No `_dreamfx_native_clip` in a plain diffusers directory: the pipeline's defaults.
    assert_eq!(pipe.native(&model), NATIVE);
    assert_eq!(
        (NATIVE.width, NATIVE.height, NATIVE.frames),
        (1280, 720, 129)
    );
    assert!(pipe.check_prompt("a red circle").unwrap().is_clean());
    assert!(!pipe.check_prompt("a red xylophone").unwrap().is_clean());
    let json = settings();
    let req = request(&json);
    let out = pipe.generate(&req, None, &mut |_, _| true).unwrap();
    assert_eq!(out.video.size(), [9, 32, 48, 3]);
    match pipe.generate(&req, Some(("a blue square", 0.5)), &mut |_, _| true) {
        Err(PipelineError::BadRequest(why)) => assert!(why.contains("Prompt Mix"), "{why}"),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn requests_hunyuan_cannot_run_are_refused() {
    let pipe =
        HunyuanVideoPipeline::load(&fixtures().join("models/hunyuan_video"), Device::Cpu).unwrap();
    let ok = request(&settings());
    assert_eq!(pipe.latent_shape(&ok).unwrap(), [1, 4, 3, 4, 6]);
    let refused = |req: Request, what: &str| match pipe.latent_shape(&req) {
        Err(PipelineError::BadRequest(why)) => assert!(why.contains(what), "{why}"),
        other => panic!(
            "expected a refusal naming {what:?}, got {:?}",
            other.map(|_| ())
        ),
    };
    refused(
        Request {
            frames: 8,
            ..request_like(&ok)
        },
        "4·k + 1",
    );
    refused(
        Request {
            width: 40,
            ..request_like(&ok)
        },
        "multiples of 16",
    );
    refused(
        Request {
            steps: 0,
            ..request_like(&ok)
        },
        "steps",
    );
    refused(
        Request {
            first_frame: Some(Tensor::zeros([3, 32, 48], (Kind::Float, Device::Cpu))),
            ..request_like(&ok)
        },
        "text-to-video",
    );
}

fn request_like(r: &Request) -> Request {
    Request {
        prompt: r.prompt.clone(),
        negative_prompt: r.negative_prompt.clone(),
        first_frame: None,
        scheduler: None,
        ..*r
    }
}
