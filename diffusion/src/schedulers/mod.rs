//! Flow-matching samplers as the Wan pipelines configure them: Euler (diffusers
//! `FlowMatchEulerDiscreteScheduler`) and UniPC multistep in flow-prediction mode
//! (`UniPCMultistepScheduler` with `use_flow_sigmas`). Sigma schedules follow the reference's
//! arithmetic step by step (numpy float64 where it uses numpy, float32 where it uses torch), so
//! they agree to float32 rounding.
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::loading::LoadError;

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    #[serde(rename = "_class_name")]
    class_name: String,
    #[serde(default = "default_train_steps")]
    num_train_timesteps: u32,
    // Euler
    #[serde(default = "one")]
    shift: f64,
    #[serde(default)]
    use_dynamic_shifting: bool,
    #[serde(default)]
    use_karras_sigmas: bool,
    #[serde(default)]
    invert_sigmas: bool,
    #[serde(default)]
    shift_terminal: Option<f64>,
    // UniPC
    #[serde(default = "two")]
    solver_order: usize,
    #[serde(default)]
    prediction_type: Option<String>,
    #[serde(default)]
    use_flow_sigmas: bool,
    #[serde(default = "one")]
    flow_shift: f64,
    #[serde(default = "yes")]
    lower_order_final: bool,
    #[serde(default = "yes")]
    predict_x0: bool,
    #[serde(default = "bh2")]
    solver_type: String,
    #[serde(default = "zero")]
    final_sigmas_type: String,
    #[serde(default)]
    disable_corrector: Vec<usize>,
}
fn default_train_steps() -> u32 {
    1000
}
fn one() -> f64 {
    1.0
}
fn two() -> usize {
    2
}
fn yes() -> bool {
    true
}
fn bh2() -> String {
    "bh2".into()
}
fn zero() -> String {
    "zero".into()
}

/// Which sampler, and its settings, as read from `scheduler/scheduler_config.json` or chosen by
/// the user.
#[derive(Debug, Clone, PartialEq)]
pub enum SchedulerConfig {
    Euler {
        num_train_timesteps: u32,
        shift: f64,
    },
    UniPc {
        num_train_timesteps: u32,
        flow_shift: f64,
        solver_order: usize,
        bh2: bool,
        lower_order_final: bool,
        final_sigma_zero: bool,
        disable_corrector: Vec<usize>,
    },
}

impl SchedulerConfig {
    /// UniPC in flow-prediction mode as the Wan pipelines configure it (order 2, bh2, lower
    /// order at the end, final sigma 0), with `flow_shift`.
    pub fn unipc_flow(flow_shift: f64) -> Self {
        SchedulerConfig::UniPc {
            num_train_timesteps: 1000,
            flow_shift,
            solver_order: 2,
            bh2: true,
            lower_order_final: true,
            final_sigma_zero: true,
            disable_corrector: vec![],
        }
    }

    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let path = dir.join("scheduler_config.json");
        let text = std::fs::read_to_string(&path).map_err(|_| LoadError::MissingFile {
            what: "scheduler config".into(),
            path: path.clone(),
        })?;
        let raw: RawConfig = serde_json::from_str(&text).map_err(|e| LoadError::BadConfig {
            path: path.clone(),
            why: e.to_string(),
        })?;
        Self::from_raw(raw).map_err(|why| LoadError::BadConfig { path, why })
    }

    fn from_raw(raw: RawConfig) -> Result<Self, String> {
        match raw.class_name.as_str() {
            "FlowMatchEulerDiscreteScheduler" => {
                if raw.use_dynamic_shifting
                    || raw.use_karras_sigmas
                    || raw.invert_sigmas
                    || raw.shift_terminal.is_some()
                {
                    return Err("dynamic shifting, karras sigmas, inverted sigmas and shift_terminal are not supported".into());
                }
                Ok(SchedulerConfig::Euler {
                    num_train_timesteps: raw.num_train_timesteps,
                    shift: raw.shift,
                })
            }
            "UniPCMultistepScheduler" => {
                if !raw.use_flow_sigmas
                    || raw.prediction_type.as_deref() != Some("flow_prediction")
                    || !raw.predict_x0
                {
                    return Err("only UniPC with use_flow_sigmas, flow_prediction and predict_x0 (as Wan uses it) is supported".into());
                }
                if !(1..=3).contains(&raw.solver_order) {
                    return Err(format!("solver_order {} not supported", raw.solver_order));
                }
                Ok(SchedulerConfig::UniPc {
                    num_train_timesteps: raw.num_train_timesteps,
                    flow_shift: raw.flow_shift,
                    solver_order: raw.solver_order,
                    bh2: match raw.solver_type.as_str() {
                        "bh2" => true,
                        "bh1" => false,
                        other => return Err(format!("solver_type {other} not supported")),
                    },
                    lower_order_final: raw.lower_order_final,
                    final_sigma_zero: raw.final_sigmas_type == "zero",
                    disable_corrector: raw.disable_corrector,
                })
            }
            other => Err(format!(
                "scheduler {other} is not supported (FlowMatchEulerDiscreteScheduler or UniPCMultistepScheduler)"
            )),
        }
    }

    /// The same sampler with another shift (the user's "shift" parameter).
    pub fn with_shift(self, new_shift: f64) -> Self {
        match self {
            SchedulerConfig::Euler {
                num_train_timesteps,
                ..
            } => SchedulerConfig::Euler {
                num_train_timesteps,
                shift: new_shift,
            },
            SchedulerConfig::UniPc {
                num_train_timesteps,
                solver_order,
                bh2,
                lower_order_final,
                final_sigma_zero,
                disable_corrector,
                ..
            } => SchedulerConfig::UniPc {
                num_train_timesteps,
                flow_shift: new_shift,
                solver_order,
                bh2,
                lower_order_final,
                final_sigma_zero,
                disable_corrector,
            },
        }
    }

    /// A sampler set up for `steps` denoising steps.
    pub fn build(&self, steps: usize) -> Scheduler {
        match self {
            SchedulerConfig::Euler {
                num_train_timesteps,
                shift,
            } => euler(*num_train_timesteps, *shift, steps),
            SchedulerConfig::UniPc {
                num_train_timesteps,
                flow_shift,
                final_sigma_zero,
                ..
            } => unipc(
                self.clone(),
                *num_train_timesteps,
                *flow_shift,
                *final_sigma_zero,
                steps,
            ),
        }
    }
}

/// Mochi's sigma schedule (diffusers' `linear_quadratic_schedule`, from genmo's reference):
/// the first half of the steps lowers the noise linearly to `1 - threshold_noise`, the second
/// half quadratically to 0 (the trailing 0 is the scheduler's). Python float arithmetic, in the
/// same order. Mochi-1 uses `threshold_noise` 0.025. Fewer than 2 steps is an error: the
/// reference divides by zero there.
pub fn linear_quadratic_sigmas(steps: usize, threshold_noise: f64) -> Result<Vec<f64>, String> {
    if steps < 2 {
        return Err(format!(
            "Mochi's linear-quadratic schedule needs at least 2 steps, got {steps}"
        ));
    }
    let linear_steps = (steps / 2) as f64;
    let n = steps as f64;
    let step_diff = linear_steps - threshold_noise * n;
    let quadratic_steps = n - linear_steps;
    let quadratic_coef = step_diff / (linear_steps * quadratic_steps.powi(2));
    let linear_coef = threshold_noise / linear_steps - 2.0 * step_diff / quadratic_steps.powi(2);
    let constant = quadratic_coef * linear_steps.powi(2);
    let linear = (0..steps / 2).map(|i| i as f64 * threshold_noise / linear_steps);
    let quadratic = (steps / 2..steps).map(|i| {
        let i = i as f64;
        quadratic_coef * i.powi(2) + linear_coef * i + constant
    });
    Ok(linear.chain(quadratic).map(|x| 1.0 - x).collect())
}

impl SchedulerConfig {
    /// The sampler over given `sigmas`, one per step (diffusers' `set_timesteps(sigmas=...)`,
    /// as `MochiPipeline` calls it): cast to float32, shifted once, a trailing 0 appended;
    /// timesteps `sigma * num_train_timesteps`. Euler only (UniPC takes no custom sigmas).
    pub fn build_with_sigmas(&self, sigmas: &[f64]) -> Result<Scheduler, String> {
        let SchedulerConfig::Euler {
            num_train_timesteps,
            shift,
        } = self
        else {
            return Err("custom sigmas need the flow-matching Euler scheduler".into());
        };
        if sigmas.is_empty() {
            return Err("no sigmas".into());
        }
        // numpy float32 arithmetic (python scalars do not widen a float32 array).
        let shift = *shift as f32;
        let mut shifted: Vec<f32> = sigmas
            .iter()
            .map(|&s| {
                let s = s as f32;
                shift * s / (1.0 + (shift - 1.0) * s)
            })
            .collect();
        let timesteps = shifted
            .iter()
            .map(|s| (s * *num_train_timesteps as f32) as f64)
            .collect();
        shifted.push(0.0);
        Ok(Scheduler {
            sigmas: shifted,
            timesteps,
            timestep_kind: Kind::Float,
            step_index: 0,
            solver: Solver::Euler,
        })
    }
}

/// numpy.linspace in float64, as numpy computes it.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
    v[n - 1] = stop;
    v
}

fn euler(train: u32, shift: f64, steps: usize) -> Scheduler {
    let n = train as f64;
    let shift32 = shift as f32;
    // __init__: torch float32 sigmas over the training steps, shifted once.
    let init = |t: f32| {
        let s = t / train as f32;
        shift32 * s / (1.0 + (shift32 - 1.0) * s)
    };
    let sigma_max = init(train as f32) as f64;
    let sigma_min = init(1.0) as f64;
    // set_timesteps: numpy float64 between the (already shifted) ends, shifted again — the
    // reference applies the shift twice; matching it is what keeps the same pixels.
    let sigmas: Vec<f32> = linspace(sigma_max * n, sigma_min * n, steps)
        .into_iter()
        .map(|t| {
            let s = t / n;
            (shift * s / (1.0 + (shift - 1.0) * s)) as f32
        })
        .collect();
    let timesteps = sigmas.iter().map(|s| (s * train as f32) as f64).collect();
    let mut all = sigmas;
    all.push(0.0);
    Scheduler {
        sigmas: all,
        timesteps,
        timestep_kind: Kind::Float,
        step_index: 0,
        solver: Solver::Euler,
    }
}

fn unipc(
    config: SchedulerConfig,
    train: u32,
    shift: f64,
    final_zero: bool,
    steps: usize,
) -> Scheduler {
    let mut sig: Vec<f64> = linspace(1.0, 1.0 / train as f64, steps + 1)[..steps]
        .iter()
        .map(|&s| shift * s / (1.0 + (shift - 1.0) * s))
        .collect();
    // As the reference: keeps log(alpha) finite at the first update.
    if (sig[0] - 1.0).abs() < 1e-6 {
        sig[0] -= 1e-6;
    }
    let timesteps: Vec<f64> = sig.iter().map(|s| (s * train as f64).trunc()).collect();
    let last = if final_zero {
        0.0
    } else {
        *sig.last().unwrap()
    };
    let mut sigmas: Vec<f32> = sig.iter().map(|&s| s as f32).collect();
    sigmas.push(last as f32);
    let SchedulerConfig::UniPc {
        solver_order,
        bh2,
        lower_order_final,
        disable_corrector,
        ..
    } = config
    else {
        unreachable!()
    };
    Scheduler {
        sigmas,
        timesteps,
        timestep_kind: Kind::Int64,
        step_index: 0,
        solver: Solver::UniPc(UniPcState {
            order: solver_order,
            bh2,
            lower_order_final,
            disable_corrector,
            model_outputs: Vec::new(),
            last_sample: None,
            lower_order_nums: 0,
            this_order: 0,
        }),
    }
}

enum Solver {
    Euler,
    UniPc(UniPcState),
}

struct UniPcState {
    order: usize,
    bh2: bool,
    lower_order_final: bool,
    disable_corrector: Vec<usize>,
    /// The last `order` converted model outputs (x0 predictions), oldest first.
    model_outputs: Vec<Tensor>,
    last_sample: Option<Tensor>,
    lower_order_nums: usize,
    this_order: usize,
}

/// A sampler for one generation: call [`Scheduler::step`] once per timestep, in order.
pub struct Scheduler {
    sigmas: Vec<f32>,
    timesteps: Vec<f64>,
    timestep_kind: Kind,
    step_index: usize,
    solver: Solver,
}

impl Scheduler {
    /// Sigmas, with the final one appended (steps + 1 values).
    pub fn sigmas(&self) -> &[f32] {
        &self.sigmas
    }
    pub fn timesteps(&self) -> &[f64] {
        &self.timesteps
    }
    /// Timestep `i` as the reference hands it to the transformer (float for Euler, int64 for
    /// UniPC), shape [batch].
    pub fn timestep_tensor(&self, i: usize, batch: i64) -> Tensor {
        Tensor::from_slice(&[self.timesteps[i]])
            .to_kind(self.timestep_kind)
            .expand([batch], false)
    }
    pub fn steps(&self) -> usize {
        self.timesteps.len()
    }

    /// Starts a fresh sampler at step `index` instead of 0 (diffusers' `set_begin_index`, as
    /// its video-to-video pipelines use): a multistep solver has no history yet, so it begins
    /// at first order there as it does at step 0.
    pub fn begin_at(&mut self, index: usize) {
        assert!(
            self.step_index == 0 && index <= self.steps(),
            "begin_at({index}) on a sampler of {} steps that has already stepped {}",
            self.steps(),
            self.step_index
        );
        self.step_index = index;
    }

    /// One denoising step from `sample` given the model's (guided) flow prediction.
    pub fn step(&mut self, model_output: &Tensor, sample: &Tensor) -> Tensor {
        let i = self.step_index;
        assert!(
            i < self.timesteps.len(),
            "scheduler stepped past its last timestep"
        );
        let out = match &mut self.solver {
            Solver::Euler => {
                let dt = self.sigmas[i + 1] - self.sigmas[i];
                let s = sample.to_kind(Kind::Float);
                (s + model_output.to_kind(Kind::Float) * dt as f64).to_kind(model_output.kind())
            }
            Solver::UniPc(st) => unipc_step(
                st,
                &self.sigmas,
                self.timesteps.len(),
                i,
                model_output,
                sample,
            ),
        };
        self.step_index += 1;
        out
    }
}

/// (alpha_t, sigma_t) for flow sigmas, in float32 like the reference's tensors.
fn alpha_sigma(s: f32) -> (f32, f32) {
    (1.0 - s, s)
}
fn lambda(s: f32) -> f32 {
    let (a, s) = alpha_sigma(s);
    a.ln() - s.ln()
}

/// The R matrix and b vector of the UniPC update for `order` (bh1/bh2), float32.
fn unipc_coefficients(
    rks: &[f32],
    hh: f32,
    bh2: bool,
    order: usize,
) -> (Vec<Vec<f32>>, Vec<f32>, f32, f32) {
    let h_phi_1 = hh.exp_m1();
    let mut h_phi_k = h_phi_1 / hh - 1.0;
    let mut factorial = 1.0f32;
    let b_h = if bh2 { hh.exp_m1() } else { hh };
    let mut r = Vec::new();
    let mut b = Vec::new();
    for i in 1..=order {
        r.push(rks.iter().map(|rk| rk.powi(i as i32 - 1)).collect());
        b.push(h_phi_k * factorial / b_h);
        factorial *= (i + 1) as f32;
        h_phi_k = h_phi_k / hh - 1.0 / factorial;
    }
    (r, b, h_phi_1, b_h)
}

/// Solves a small dense system (Gaussian elimination with partial pivoting), float32.
fn solve(mut a: Vec<Vec<f32>>, mut b: Vec<f32>) -> Vec<f32> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        let (pivot_rows, rest) = a.split_at_mut(c + 1);
        let pivot = &pivot_rows[c];
        for (r, row) in rest.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[c + 1 + r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f32 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

fn unipc_step(
    st: &mut UniPcState,
    sigmas: &[f32],
    steps: usize,
    i: usize,
    model_output: &Tensor,
    sample: &Tensor,
) -> Tensor {
    // convert_model_output: x0 = sample - sigma_t * v
    let x0 = sample - model_output * sigmas[i] as f64;
    let mut sample = sample.shallow_clone();
    let use_corrector =
        i > 0 && !st.disable_corrector.contains(&(i - 1)) && st.last_sample.is_some();
    if use_corrector {
        sample = unipc_corrector(
            st,
            sigmas,
            i,
            &x0,
            st.last_sample.as_ref().unwrap(),
            &sample,
        );
    }
    st.model_outputs.push(x0);
    if st.model_outputs.len() > st.order {
        drop(st.model_outputs.remove(0));
    }
    let this_order = if st.lower_order_final {
        st.order.min(steps - i)
    } else {
        st.order
    };
    st.this_order = this_order.min(st.lower_order_nums + 1);
    st.last_sample = Some(sample.shallow_clone());
    let prev = unipc_predictor(st, sigmas, i, &sample);
    if st.lower_order_nums < st.order {
        st.lower_order_nums += 1;
    }
    prev
}

fn unipc_predictor(st: &UniPcState, sigmas: &[f32], i: usize, x: &Tensor) -> Tensor {
    let order = st.this_order;
    let outs = &st.model_outputs;
    let m0 = &outs[outs.len() - 1];
    let (alpha_t, sigma_t) = alpha_sigma(sigmas[i + 1]);
    let (_, sigma_s0) = alpha_sigma(sigmas[i]);
    let lambda_s0 = lambda(sigmas[i]);
    let h = lambda(sigmas[i + 1]) - lambda_s0;
    let mut rks = Vec::new();
    let mut d1s = Vec::new();
    for k in 1..order {
        let rk = (lambda(sigmas[i - k]) - lambda_s0) / h;
        rks.push(rk);
        d1s.push((&outs[outs.len() - 1 - k] - m0) / rk as f64);
    }
    rks.push(1.0);
    let hh = -h;
    let (r, b, h_phi_1, b_h) = unipc_coefficients(&rks, hh, st.bh2, order);
    let x_t_ = x * (sigma_t / sigma_s0) as f64 - m0 * (alpha_t * h_phi_1) as f64;
    if d1s.is_empty() {
        return x_t_.to_kind(x.kind());
    }
    let rhos: Vec<f32> = if order == 2 {
        vec![0.5]
    } else {
        let n = order - 1;
        solve(
            r[..n].iter().map(|row| row[..n].to_vec()).collect(),
            b[..n].to_vec(),
        )
    };
    let mut pred_res = d1s[0].zeros_like();
    for (rho, d) in rhos.iter().zip(&d1s) {
        pred_res += d * *rho as f64;
    }
    (x_t_ - pred_res * (alpha_t * b_h) as f64).to_kind(x.kind())
}

fn unipc_corrector(
    st: &UniPcState,
    sigmas: &[f32],
    i: usize,
    model_t: &Tensor,
    last_sample: &Tensor,
    _this_sample: &Tensor,
) -> Tensor {
    let order = st.this_order;
    let outs = &st.model_outputs;
    let m0 = &outs[outs.len() - 1];
    let (alpha_t, sigma_t) = alpha_sigma(sigmas[i]);
    let (_, sigma_s0) = alpha_sigma(sigmas[i - 1]);
    let lambda_s0 = lambda(sigmas[i - 1]);
    let h = lambda(sigmas[i]) - lambda_s0;
    let mut rks = Vec::new();
    let mut d1s = Vec::new();
    for k in 1..order {
        let rk = (lambda(sigmas[i - (k + 1)]) - lambda_s0) / h;
        rks.push(rk);
        d1s.push((&outs[outs.len() - 1 - k] - m0) / rk as f64);
    }
    rks.push(1.0);
    let hh = -h;
    let (r, b, h_phi_1, b_h) = unipc_coefficients(&rks, hh, st.bh2, order);
    let rhos_c: Vec<f32> = if order == 1 { vec![0.5] } else { solve(r, b) };
    let x_t_ = last_sample * (sigma_t / sigma_s0) as f64 - m0 * (alpha_t * h_phi_1) as f64;
    let mut corr_res = m0.zeros_like();
    for (rho, d) in rhos_c.iter().zip(&d1s) {
        corr_res += d * *rho as f64;
    }
    let d1_t = model_t - m0;
    let last_rho = *rhos_c.last().unwrap() as f64;
    (x_t_ - (corr_res + d1_t * last_rho) * (alpha_t * b_h) as f64).to_kind(last_sample.kind())
}

/// Restart sampling (Xu et al. 2023, "Restart Sampling for Improving Generative Processes"):
/// once the sampler has come down to `sigma_min`, the sample is noised back up to `sigma_max`
/// with fresh noise and that stretch of the schedule is run again, `extra_passes` times, before
/// the rest of the schedule. Each pass contracts the error the earlier ones left, at the cost of
/// the repeated steps; dreamfx-tiny holds more of its outlines with it (model card).
/// Sigmas name the stretch so one setting means the same noise levels at any step count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RestartSampling {
    pub sigma_max: f64,
    pub sigma_min: f64,
    pub extra_passes: usize,
}

/// The most extra passes a request may ask for: each repeats a stretch of the schedule.
pub const MAX_RESTART_PASSES: usize = 16;

impl RestartSampling {
    /// No restarts: one pass through the schedule.
    pub const OFF: RestartSampling = RestartSampling {
        sigma_max: 1.0,
        sigma_min: 0.0,
        extra_passes: 0,
    };

    /// `off`, or `SIGMA_MAX,SIGMA_MIN,EXTRA_PASSES` (e.g. `0.97,0.83,3`), validated.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim() == "off" {
            return Ok(Self::OFF);
        }
        let usage = || {
            format!("restart sampling {text:?}: give off or SIGMA_MAX,SIGMA_MIN,EXTRA_PASSES (e.g. 0.97,0.83,3)")
        };
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let [hi, lo, n] = parts[..] else {
            return Err(usage());
        };
        let r = RestartSampling {
            sigma_max: hi.parse().map_err(|_| usage())?,
            sigma_min: lo.parse().map_err(|_| usage())?,
            extra_passes: n.parse().map_err(|_| usage())?,
        };
        r.validate()?;
        Ok(r)
    }

    pub fn validate(&self) -> Result<(), String> {
        let ok = |s: f64| s.is_finite() && (0.0..=1.0).contains(&s);
        if !ok(self.sigma_max) || !ok(self.sigma_min) || self.sigma_min >= self.sigma_max {
            return Err(format!(
                "restart sampling needs 0 ≤ sigma_min < sigma_max ≤ 1, got sigma_min {} and sigma_max {}",
                self.sigma_min, self.sigma_max
            ));
        }
        if self.extra_passes > MAX_RESTART_PASSES {
            return Err(format!(
                "restart sampling: at most {MAX_RESTART_PASSES} extra passes, got {}",
                self.extra_passes
            ));
        }
        Ok(())
    }

    /// The passes over a schedule's steps, as half-open step ranges, when sampling starts at
    /// step `first`: the stretch runs from the first step whose sigma is at most `sigma_max` to
    /// the first whose sigma is at most `sigma_min`. A stretch of no steps, or one that starts
    /// before `first` or reaches the schedule's end, is no restart: one pass.
    pub fn passes(&self, sigmas: &[f32], first: usize) -> Vec<(usize, usize)> {
        let steps = sigmas.len().saturating_sub(1);
        let at_most = |s: f64| {
            (0..steps)
                .find(|&i| sigmas[i] as f64 <= s + 1e-6)
                .unwrap_or(steps)
        };
        let (from, to) = (at_most(self.sigma_max), at_most(self.sigma_min));
        if self.extra_passes == 0 || from < first || from >= to || to >= steps {
            return vec![(first, steps)];
        }
        let mut passes = vec![(first, to)];
        passes.extend(std::iter::repeat_n((from, to), self.extra_passes - 1));
        passes.push((from, steps));
        passes
    }
}

/// Moves a flow-matching sample `x = (1 − σ_lo)·x0 + σ_lo·n` to the higher noise level σ_hi
/// with `fresh` standard noise: `(1 − σ_hi)·x0 + σ_hi·n′`, `n′` again standard normal.
pub fn renoise(x: &Tensor, sigma_lo: f64, sigma_hi: f64, fresh: &Tensor) -> Tensor {
    let scale = (1.0 - sigma_hi) / (1.0 - sigma_lo);
    let added = (sigma_hi * sigma_hi - scale * scale * sigma_lo * sigma_lo)
        .max(0.0)
        .sqrt();
    x * scale + fresh * added
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euler_cfg(shift: f64) -> SchedulerConfig {
        SchedulerConfig::Euler {
            num_train_timesteps: 1000,
            shift,
        }
    }

    #[test]
    fn euler_with_shift_one_is_a_plain_linspace() {
        let s = euler_cfg(1.0).build(5);
        let want = [1.0, 0.75025, 0.5005, 0.25075, 0.001, 0.0];
        for (a, b) in s.sigmas().iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-6, "{:?}", s.sigmas());
        }
        assert!((s.timesteps()[0] - 1000.0).abs() < 1e-3);
    }

    #[test]
    fn euler_steps_along_the_flow() {
        let mut s = euler_cfg(3.0).build(2);
        let x = Tensor::ones([2, 3], (Kind::Float, tch::Device::Cpu));
        let v = Tensor::full([2, 3], 0.5, (Kind::Float, tch::Device::Cpu));
        let y = s.step(&v, &x);
        let dt = s.sigmas()[1] - s.sigmas()[0];
        assert!((y.double_value(&[0, 0]) - (1.0 + 0.5 * dt as f64)).abs() < 1e-6);
    }

    #[test]
    fn unipc_flow_sigmas_end_at_zero_and_timesteps_are_integers() {
        let cfg = SchedulerConfig::unipc_flow(3.0);
        let s = cfg.build(10);
        assert_eq!(s.sigmas().len(), 11);
        assert_eq!(*s.sigmas().last().unwrap(), 0.0);
        assert!(s.timesteps().iter().all(|t| t.fract() == 0.0));
        assert!(s.sigmas().windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn unipc_on_an_exact_flow_lands_on_the_data() {
        // For x_t = (1 - s) x0 + s n with the true velocity v = n - x0, every solver must
        // reach x0 at sigma 0.
        let cfg = SchedulerConfig::unipc_flow(3.0);
        let x0 = Tensor::from_slice(&[0.3f32, -0.7, 0.1]).to_kind(Kind::Float);
        let n = Tensor::from_slice(&[1.0f32, 0.5, -1.2]);
        let mut s = cfg.build(6);
        let mut x = &x0 * (1.0 - s.sigmas()[0] as f64) + &n * s.sigmas()[0] as f64;
        for _ in 0..6 {
            let v = &n - &x0;
            x = s.step(&v, &x);
        }
        let err = (&x - &x0).abs().max().double_value(&[]);
        assert!(err < 1e-5, "{err}");
    }

    #[test]
    fn restart_passes_repeat_the_named_stretch_then_finish() {
        // 20 UniPC steps at shift 3: sigma 0.964 at step 2, 0.818 at step 8.
        let s = SchedulerConfig::unipc_flow(3.0).build(20);
        let r = RestartSampling {
            sigma_max: 0.97,
            sigma_min: 0.83,
            extra_passes: 2,
        };
        assert_eq!(r.passes(s.sigmas(), 0), vec![(0, 8), (2, 8), (2, 20)]);
        // The same sigmas at 40 steps name twice the steps.
        let s40 = SchedulerConfig::unipc_flow(3.0).build(40);
        assert_eq!(r.passes(s40.sigmas(), 0), vec![(0, 16), (4, 16), (4, 40)]);
        // Off, or a stretch the sampling starts below, is one plain pass.
        assert_eq!(RestartSampling::OFF.passes(s.sigmas(), 0), vec![(0, 20)]);
        assert_eq!(r.passes(s.sigmas(), 5), vec![(5, 20)]);
    }

    #[test]
    fn restart_settings_out_of_range_are_refused() {
        let bad = [
            (0.8, 0.9, 1),
            (1.5, 0.5, 1),
            (0.9, -0.1, 1),
            (f64::NAN, 0.5, 1),
            (0.9, 0.5, MAX_RESTART_PASSES + 1),
        ];
        for (sigma_max, sigma_min, extra_passes) in bad {
            let r = RestartSampling {
                sigma_max,
                sigma_min,
                extra_passes,
            };
            assert!(r.validate().is_err(), "{r:?}");
        }
        assert!(RestartSampling::OFF.validate().is_ok());
        assert_eq!(
            RestartSampling::parse("0.97, 0.83, 3"),
            Ok(RestartSampling {
                sigma_max: 0.97,
                sigma_min: 0.83,
                extra_passes: 3
            })
        );
        assert_eq!(RestartSampling::parse("off"), Ok(RestartSampling::OFF));
        for bad in ["0.97,0.83", "a,b,c", "0.5,0.8,1", "0.9,0.5,-1"] {
            assert!(RestartSampling::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renoise_keeps_the_signal_and_tops_the_noise_up() {
        // Many samples of x0 = 0 at sigma 0.5, moved to 0.9: the result's spread is 0.9.
        let n = Tensor::randn([200_000], (Kind::Float, tch::Device::Cpu));
        let fresh = Tensor::randn([200_000], (Kind::Float, tch::Device::Cpu));
        let x = renoise(&(&n * 0.5), 0.5, 0.9, &fresh);
        assert!((x.std(true).double_value(&[]) - 0.9).abs() < 0.01);
        // And a clean signal is scaled to its share at the new level.
        let one = Tensor::ones([1], (Kind::Float, tch::Device::Cpu));
        let zero = Tensor::zeros([1], (Kind::Float, tch::Device::Cpu));
        let y = renoise(&(&one * 0.5), 0.5, 0.9, &zero);
        assert!((y.double_value(&[0]) - 0.1).abs() < 1e-6);
    }
}
