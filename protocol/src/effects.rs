//! One declarative description per effect. The OFX descriptors (plugin), the job's canonical
//! parameters and the runtime's validation all come from these lists, so they cannot drift apart.
use crate::job::{Job, ParamValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Filter,
    General,
    Generator,
}

#[derive(Debug, Clone, Copy)]
pub struct ClipSpec {
    pub name: &'static str,
    pub optional: bool,
    pub is_mask: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    Double {
        default: f64,
        min: f64,
        max: f64,
        display_min: f64,
        display_max: f64,
    },
    Int {
        default: i64,
        min: i64,
        max: i64,
        display_min: i64,
        display_max: i64,
    },
    Bool {
        default: bool,
    },
    Choice {
        options: &'static [&'static str],
        default: u32,
    },
    /// A button: an action, never part of a job.
    PushButton,
}

#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub kind: ParamKind,
    pub animates: bool,
    /// The group (twirl-down) the parameter sits in, if any.
    pub group: Option<&'static str>,
}

impl ParamSpec {
    /// Whether the parameter shapes the pixels (and so belongs in the job).
    pub fn in_job(&self) -> bool {
        !matches!(self.kind, ParamKind::PushButton)
    }

    pub fn default_value(&self) -> Option<ParamValue> {
        Some(match self.kind {
            ParamKind::Double { default, .. } => ParamValue::Double(default),
            ParamKind::Int { default, .. } => ParamValue::Int(default),
            ParamKind::Bool { default } => ParamValue::Bool(default),
            ParamKind::Choice { default, .. } => ParamValue::Choice(default),
            ParamKind::PushButton => return None,
        })
    }

    /// Checks a value against the declared type and range; the message names the parameter.
    pub fn check(&self, value: &ParamValue) -> Result<(), String> {
        let out_of_range = |v: String, lo: String, hi: String| {
            Err(format!(
                "{} = {v} is outside its range {lo} … {hi}",
                self.label
            ))
        };
        match (self.kind, value) {
            (ParamKind::Double { min, max, .. }, ParamValue::Double(v)) => {
                if !v.is_finite() {
                    return Err(format!(
                        "{} = {v} is not a finite number; give a value from {min} to {max}",
                        self.label
                    ));
                }
                if *v < min || *v > max {
                    return out_of_range(v.to_string(), min.to_string(), max.to_string());
                }
            }
            (ParamKind::Int { min, max, .. }, ParamValue::Int(v)) => {
                if *v < min || *v > max {
                    return out_of_range(v.to_string(), min.to_string(), max.to_string());
                }
            }
            (ParamKind::Bool { .. }, ParamValue::Bool(_)) => {}
            (ParamKind::Choice { options, .. }, ParamValue::Choice(v)) => {
                if *v as usize >= options.len() {
                    return Err(format!(
                        "{} = option {v}, but it has only {} options",
                        self.label,
                        options.len()
                    ));
                }
            }
            _ => return Err(format!("{} has the wrong type: {value:?}", self.label)),
        }
        Ok(())
    }
}

/// The input frames an effect reads for one output frame.
#[derive(Debug, Clone, Copy)]
pub enum InputWindow {
    /// Exactly one: the frame being rendered.
    Single,
    /// The frame and up to `r` on each side, `r` being the value of the named Int parameter
    /// (fewer near the ends of a clip).
    Radius { param: &'static str },
}

#[derive(Debug, Clone, Copy)]
pub struct EffectSpec {
    pub id: &'static str,
    pub version_major: u32,
    pub version_minor: u32,
    /// Bumped whenever the runtime's pixels for the same job change.
    pub algorithm_version: u32,
    pub label: &'static str,
    pub description: &'static str,
    pub contexts: &'static [Context],
    /// Input clips (the output clip is implicit).
    pub clips: &'static [ClipSpec],
    pub params: &'static [ParamSpec],
    pub temporal_clip_access: bool,
    /// How many input frames a job may carry (checked before any is copied).
    pub inputs: InputWindow,
    /// Output changes every frame even with constant inputs (generators).
    pub frame_varying: bool,
}

impl EffectSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The most input frames any job of this effect may carry, whatever its parameters.
    pub fn declared_max_inputs(&self) -> usize {
        match self.inputs {
            InputWindow::Single => 1,
            InputWindow::Radius { param } => match self.param(param).map(|p| p.kind) {
                Some(ParamKind::Int { max, .. }) => 2 * max.max(0) as usize + 1,
                _ => panic!("{}: window parameter {param} is not an Int", self.id),
            },
        }
    }

    /// The most input frames this job may carry: its own window (`2r+1` for its radius).
    /// Call after the parameters are validated.
    pub fn max_inputs(&self, job: &Job) -> usize {
        match self.inputs {
            InputWindow::Single => 1,
            InputWindow::Radius { param } => match job.param(param) {
                Some(ParamValue::Int(r)) => {
                    let most = self.declared_max_inputs();
                    (2 * (*r).clamp(0, most as i64) as usize + 1).min(most)
                }
                _ => self.declared_max_inputs(),
            },
        }
    }

    /// The one place a job is checked before any work: the effect, every parameter present
    /// once, typed, finite and in range, the frame size, and the number of input frames.
    /// Every message names what is wrong.
    pub fn validate(&self, job: &Job) -> Result<(), String> {
        if job.effect != self.id {
            return Err(format!("job is for {}, not {}", job.effect, self.id));
        }
        for (i, (name, _)) in job.params.iter().enumerate() {
            if job.params[..i].iter().any(|(n, _)| n == name) {
                return Err(format!("the job gives the parameter {name} twice"));
            }
        }
        for spec in self.params.iter().filter(|p| p.in_job()) {
            let value = job
                .param(spec.name)
                .ok_or_else(|| format!("the job lacks the parameter {}", spec.label))?;
            spec.check(value)?;
        }
        if let Some((name, _)) = job
            .params
            .iter()
            .find(|(n, _)| self.param(n).is_none_or(|p| !p.in_job()))
        {
            return Err(format!("{} has no parameter named {name}", self.label));
        }
        job.check_size()?;
        let max = self.max_inputs(job);
        if job.inputs.len() > max {
            return Err(format!(
                "the job names {} input frames but {} reads at most {max} with these \
                 parameters{}",
                job.inputs.len(),
                self.label,
                match self.inputs {
                    InputWindow::Radius { param } => format!(
                        " (2 x {} + 1)",
                        self.param(param).map_or(param, |p| p.label)
                    ),
                    InputWindow::Single => String::new(),
                }
            ));
        }
        if !job.inputs.is_empty() && job.centre as usize >= job.inputs.len() {
            return Err(format!(
                "the job's centre frame {} is not one of its {} input frames",
                job.centre,
                job.inputs.len()
            ));
        }
        Ok(())
    }
}

pub const GROUPING: &str = "dreamfx";

pub const TEMPORAL_REFINE: EffectSpec = EffectSpec {
    id: "dreamfx.TemporalRefine",
    version_major: 1,
    version_minor: 0,
    algorithm_version: 2,
    label: "Temporal Refine",
    description: "Removes flicker and micro-jitter and sharpens, using neighbouring frames: \
                  optical flow aligns each neighbour to the frame, occluded pixels are rejected \
                  by forward-backward consistency, and the aligned frames are blended.",
    contexts: &[Context::Filter],
    clips: &[ClipSpec {
        name: "Source",
        optional: false,
        is_mask: false,
    }],
    params: &[
        ParamSpec {
            name: "radius",
            label: "Radius",
            hint: "Neighbouring frames used on each side. More frames remove more flicker and \
                   noise; each one costs render time.",
            kind: ParamKind::Int {
                default: 7,
                min: 1,
                max: 15,
                display_min: 1,
                display_max: 10,
            },
            animates: false,
            group: None,
        },
        ParamSpec {
            name: "strength",
            label: "Strength",
            hint: "How much of the refined frame replaces the original (0 = untouched).",
            kind: ParamKind::Double {
                default: 1.0,
                min: 0.0,
                max: 1.0,
                display_min: 0.0,
                display_max: 1.0,
            },
            animates: true,
            group: None,
        },
        ParamSpec {
            name: "detail",
            label: "Detail Preservation",
            hint: "How much fine detail of the frame itself is kept and sharpened on top of the \
                   temporally filtered result.",
            kind: ParamKind::Double {
                default: 0.0,
                min: 0.0,
                max: 1.0,
                display_min: 0.0,
                display_max: 1.0,
            },
            animates: true,
            group: None,
        },
        ParamSpec {
            name: "output",
            label: "Output",
            hint: "Refined frame, or a debug view: the optical flow to the next frame as colour, \
                   or the blending confidence as grey.",
            kind: ParamKind::Choice {
                options: &["Refined", "Flow (debug)", "Confidence (debug)"],
                default: 0,
            },
            animates: false,
            group: Some("debug"),
        },
        ParamSpec {
            name: "clearCache",
            label: "Clear Cache",
            hint: "Forget every frame the dreamfx runtime has cached.",
            kind: ParamKind::PushButton,
            animates: false,
            group: None,
        },
    ],
    temporal_clip_access: true,
    inputs: InputWindow::Radius { param: "radius" },
    frame_varying: false,
};

/// Every effect the bundle declares.
pub const ALL: &[&EffectSpec] = &[&TEMPORAL_REFINE];

pub fn by_id(id: &str) -> Option<&'static EffectSpec> {
    ALL.iter().copied().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_job() -> Job {
        let spec = &TEMPORAL_REFINE;
        Job {
            effect: spec.id.into(),
            effect_version: spec.algorithm_version,
            params: spec
                .params
                .iter()
                .filter_map(|p| Some((p.name.to_string(), p.default_value()?)))
                .collect(),
            width: 8,
            height: 8,
            inputs: vec![],
            centre: 0,
        }
    }

    #[test]
    fn defaults_validate_and_absurd_values_are_named() {
        TEMPORAL_REFINE.validate(&default_job()).unwrap();
        let mut job = default_job();
        job.params.iter_mut().find(|p| p.0 == "radius").unwrap().1 = ParamValue::Int(1000);
        let err = TEMPORAL_REFINE.validate(&job).unwrap_err();
        assert!(err.contains("Radius") && err.contains("1000"), "{err}");
        let mut job = default_job();
        job.params.iter_mut().find(|p| p.0 == "strength").unwrap().1 = ParamValue::Double(f64::NAN);
        assert!(TEMPORAL_REFINE.validate(&job).is_err());
        let mut job = default_job();
        job.params.push(("bogus".into(), ParamValue::Bool(true)));
        assert!(TEMPORAL_REFINE
            .validate(&job)
            .unwrap_err()
            .contains("bogus"));
    }

    #[test]
    fn nan_and_infinity_are_refused_naming_the_parameter() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut job = default_job();
            job.params.iter_mut().find(|p| p.0 == "detail").unwrap().1 = ParamValue::Double(v);
            let err = TEMPORAL_REFINE.validate(&job).unwrap_err();
            assert!(
                err.contains("Detail Preservation") && err.contains("not a finite number"),
                "{err}"
            );
        }
    }

    #[test]
    fn inputs_are_bounded_by_the_jobs_window() {
        assert_eq!(TEMPORAL_REFINE.declared_max_inputs(), 31);
        let mut job = default_job();
        job.params.iter_mut().find(|p| p.0 == "radius").unwrap().1 = ParamValue::Int(2);
        job.inputs = vec![[0; 32]; 5];
        job.centre = 2;
        TEMPORAL_REFINE.validate(&job).unwrap();
        job.inputs = vec![[0; 32]; 3]; // clamped at the clip's start
        job.centre = 0;
        TEMPORAL_REFINE.validate(&job).unwrap();
        job.inputs = vec![[0; 32]; 60_000];
        let err = TEMPORAL_REFINE.validate(&job).unwrap_err();
        assert!(err.contains("60000") && err.contains("at most 5"), "{err}");
        job.inputs = vec![[0; 32]; 5];
        job.centre = 5;
        assert!(TEMPORAL_REFINE
            .validate(&job)
            .unwrap_err()
            .contains("centre"));
    }

    #[test]
    fn empty_and_oversized_frames_are_refused() {
        for (w, h) in [(0, 8), (8, 0), (16385, 8), (8, 100_000), (16384, 16384)] {
            let mut job = default_job();
            (job.width, job.height) = (w, h);
            let err = TEMPORAL_REFINE.validate(&job).unwrap_err();
            assert!(err.contains(&format!("{w}x{h}")), "{err}");
        }
        let mut job = default_job();
        (job.width, job.height) = (8192, 4320);
        TEMPORAL_REFINE.validate(&job).unwrap();
    }

    #[test]
    fn a_parameter_given_twice_is_refused() {
        let mut job = default_job();
        job.params
            .push(("strength".into(), ParamValue::Double(f64::NAN)));
        assert!(TEMPORAL_REFINE
            .validate(&job)
            .unwrap_err()
            .contains("strength twice"));
    }
}
