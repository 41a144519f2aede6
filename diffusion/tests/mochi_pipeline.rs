//! The whole Mochi pipeline against diffusers' `MochiPipeline` on the tiny fixture model
//! (diffusion/fixtures/mochi/cases/pipeline.*): noise, schedule, every step's guided latents,
//! the final latents and the decoded frames, fp32 CPU.
use std::collections::HashMap;
use std::path::PathBuf;

use dreamfx_diffusion::pipelines::mochi::MochiPipeline;
use dreamfx_diffusion::pipelines::wan::{initial_noise, PipelineError, Request};
use dreamfx_diffusion::pipelines::{detect, Family};
use tch::{Device, Tensor};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mochi")
}

fn max_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a - b).abs().max().double_value(&[])
}

fn request(json: &serde_json::Value) -> Request {
    Request {
        prompt: json["prompt"].as_str().unwrap().into(),
        negative_prompt: json["negative_prompt"].as_str().unwrap().into(),
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
    let dir = fixtures();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases/pipeline.json")).unwrap())
            .unwrap();
    let t: HashMap<String, Tensor> =
        Tensor::read_safetensors(dir.join("cases/pipeline.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let model = dir.join(json["model_dir"].as_str().unwrap());
    assert_eq!(detect(&model).unwrap(), Family::Mochi);
    let pipe = MochiPipeline::load(&model, Device::Cpu).unwrap();
    let req = request(&json);

    assert_eq!(
        pipe.latent_shape(&req).unwrap().as_slice(),
        t["initial_noise"].size().as_slice()
    );
    let noise = initial_noise(&t["initial_noise"].size(), req.seed);
    assert_eq!(max_err(&noise, &t["initial_noise"]), 0.0, "same noise");

    // The CFG batch's masks ([negative, prompt]) are what the tokenizer gives.
    let (_, neg_mask) = pipe.encode_prompt(&req.negative_prompt).unwrap();
    let (_, mask) = pipe.encode_prompt(&req.prompt).unwrap();
    let both = Tensor::cat(&[neg_mask, mask], 0).to_kind(tch::Kind::Int64);
    assert!(both.equal(&t["attention_mask"]), "attention mask");

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
fn requests_mochi_cannot_run_are_refused() {
    let pipe = MochiPipeline::load(&fixtures().join("models/mochi"), Device::Cpu).unwrap();
    let ok = Request {
        prompt: "a red circle".into(),
        negative_prompt: String::new(),
        seed: 1,
        steps: 2,
        guidance: 4.5,
        shift: None,
        scheduler: None,
        restart: None,
        width: 48,
        height: 32,
        frames: 7,
        first_frame: None,
    };
    assert_eq!(pipe.latent_shape(&ok).unwrap(), [1, 12, 2, 4, 6]);
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
        "6·k + 1",
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
            steps: 1,
            ..request_like(&ok)
        },
        "steps",
    );
    refused(
        Request {
            shift: Some(3.0),
            ..request_like(&ok)
        },
        "shift",
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
