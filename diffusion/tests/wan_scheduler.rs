//! Sigmas, timesteps and step outputs of both samplers against diffusers (fixtures made by
//! diffusion/fixtures/wan/make_fixtures.py).
use std::path::PathBuf;

use dreamfx_diffusion::schedulers::SchedulerConfig;
use tch::Tensor;

fn cases() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/wan/cases")
}

fn config(kind: &str, shift: f64) -> SchedulerConfig {
    match kind {
        "euler" => SchedulerConfig::Euler {
            num_train_timesteps: 1000,
            shift,
        },
        _ => SchedulerConfig::unipc_flow(shift),
    }
}

fn check(kind: &str) {
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cases().join(format!("scheduler_{kind}.json"))).unwrap(),
    )
    .unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let mut checked = 0;
    for case in json["set_timesteps"].as_array().unwrap() {
        let shift = case["shift"].as_f64().unwrap();
        let steps = case["num_inference_steps"].as_u64().unwrap() as usize;
        let s = config(kind, shift).build(steps);
        let (want_sigmas, want_t) = (floats(&case["sigmas"]), floats(&case["timesteps"]));
        assert_eq!(s.sigmas().len(), want_sigmas.len());
        for (a, b) in s.sigmas().iter().zip(&want_sigmas) {
            assert!(
                (*a as f64 - b).abs() <= 1e-6,
                "{kind} shift {shift} steps {steps}: sigma {a} vs {b}"
            );
        }
        for (a, b) in s.timesteps().iter().zip(&want_t) {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{kind} shift {shift} steps {steps}: t {a} vs {b}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 9);
    let tensors: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(cases().join(format!("scheduler_{kind}.safetensors")))
            .unwrap()
            .into_iter()
            .collect();
    for case in json["step_sequences"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let shift = case["shift"].as_f64().unwrap();
        let steps = case["num_inference_steps"].as_u64().unwrap() as usize;
        let mut s = config(kind, shift).build(steps);
        let mut x = tensors[&format!("{name}.sample")].shallow_clone();
        let outs = &tensors[&format!("{name}.model_outputs")];
        let prevs = &tensors[&format!("{name}.prev_samples")];
        for i in 0..steps as i64 {
            x = s.step(&outs.get(i), &x);
            let err = (&x - prevs.get(i)).abs().max().double_value(&[]);
            assert!(err <= 1e-5, "{kind} {name} step {i}: max error {err}");
        }
    }
}

#[test]
fn euler_matches_diffusers() {
    check("euler");
}

#[test]
fn unipc_matches_diffusers() {
    check("unipc");
}
