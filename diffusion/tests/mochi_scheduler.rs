//! Mochi's sampling schedule (diffusers' `linear_quadratic_schedule` through
//! `FlowMatchEulerDiscreteScheduler.set_timesteps(sigmas=...)`) against the reference
//! (diffusion/fixtures/mochi/cases/scheduler.json).
use std::path::PathBuf;

use dreamfx_diffusion::schedulers::{linear_quadratic_sigmas, SchedulerConfig};

#[test]
fn linear_quadratic_schedule_matches_diffusers() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mochi/cases/scheduler.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let threshold = json["threshold_noise"].as_f64().unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let config = SchedulerConfig::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/mochi/models/mochi/scheduler"),
    )
    .unwrap();
    let mut checked = 0;
    for case in json["cases"].as_array().unwrap() {
        let steps = case["num_inference_steps"].as_u64().unwrap() as usize;
        let schedule = linear_quadratic_sigmas(steps, threshold).unwrap();
        let want = floats(&case["schedule_sigmas"]);
        assert_eq!(schedule.len(), want.len());
        for (a, b) in schedule.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-15, "steps {steps}: {a} vs {b}");
        }
        let s = config.build_with_sigmas(&schedule).unwrap();
        let (want_sigmas, want_t) = (floats(&case["sigmas"]), floats(&case["timesteps"]));
        assert_eq!(s.sigmas().len(), steps + 1);
        for (a, b) in s.sigmas().iter().zip(&want_sigmas) {
            // float32 values (serde_json's float parsing can be 1 ulp off in f64).
            assert_eq!(*a, *b as f32, "steps {steps}: sigma");
        }
        for (a, b) in s.timesteps().iter().zip(&want_t) {
            assert_eq!(*a as f32, *b as f32, "steps {steps}: timestep");
        }
        checked += 1;
    }
    assert!(checked >= 7);
    assert!(linear_quadratic_sigmas(1, threshold).is_err());
    assert!(SchedulerConfig::unipc_flow(3.0)
        .build_with_sigmas(&[1.0, 0.5])
        .is_err());
}
