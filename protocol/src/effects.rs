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
                if !v.is_finite() || *v < min || *v > max {
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
    /// Output changes every frame even with constant inputs (generators).
    pub frame_varying: bool,
}

impl EffectSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Checks that a job carries exactly this effect's parameters, each in range.
    pub fn validate(&self, job: &Job) -> Result<(), String> {
        if job.effect != self.id {
            return Err(format!("job is for {}, not {}", job.effect, self.id));
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
        Ok(())
    }
}

pub const GROUPING: &str = "dreamfx";

pub const TEMPORAL_REFINE: EffectSpec = EffectSpec {
    id: "dreamfx.TemporalRefine",
    version_major: 1,
    version_minor: 0,
    algorithm_version: 1,
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
}
