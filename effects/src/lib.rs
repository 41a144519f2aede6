//! One declarative description per effect. The OFX descriptors (plugin), the job's canonical
//! parameters and the runtime's validation all come from these lists, so they cannot drift apart.
//! Adding an effect: a file here with its [`EffectSpec`], a line in [`ALL`], a file in
//! `plugins/src/effects/` and a runner in `runtime/src/runners/`.
mod generators;
mod temporal_refine;

pub use generators::{clip_host_frames, IMAGE_TO_VIDEO, MAX_CLIP_SECONDS, TEXT_TO_VIDEO};
pub use temporal_refine::{scale_factor, SCALE_FACTORS, TEMPORAL_REFINE};

use dreamfx_protocol::job::{Job, ParamValue};

/// Longest text a String parameter may hold (a prompt is a few hundred bytes).
pub const MAX_TEXT_BYTES: usize = 16 << 10;

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
    /// The contexts the clip is defined in (a generator context has no Source).
    pub in_contexts: &'static [Context],
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
    /// Text (a prompt, a path). Never animated: hosts interpolate no strings.
    Text {
        default: &'static str,
        multiline: bool,
    },
    /// A button: an action, never part of a job.
    PushButton,
    /// A read-only line the plugin writes (what the runtime says); never part of a job.
    Status,
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
        !matches!(self.kind, ParamKind::PushButton | ParamKind::Status)
    }

    pub fn default_value(&self) -> Option<ParamValue> {
        Some(match self.kind {
            ParamKind::Double { default, .. } => ParamValue::Double(default),
            ParamKind::Int { default, .. } => ParamValue::Int(default),
            ParamKind::Bool { default } => ParamValue::Bool(default),
            ParamKind::Choice { default, .. } => ParamValue::Choice(default),
            ParamKind::Text { default, .. } => ParamValue::Text(default.into()),
            ParamKind::PushButton | ParamKind::Status => return None,
        })
    }

    /// Checks a value against the declared type and range; the message names the parameter.
    /// A curve (an animated parameter of a generator) is checked value by value.
    pub fn check(&self, value: &ParamValue) -> Result<(), String> {
        if let ParamValue::Curve(values) = value {
            if !self.animates || !matches!(self.kind, ParamKind::Double { .. }) {
                return Err(format!("{} is not an animated number", self.label));
            }
            return values
                .iter()
                .try_for_each(|v| self.check(&ParamValue::Double(*v)));
        }
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
            (ParamKind::Text { .. }, ParamValue::Text(t)) => {
                if t.len() > MAX_TEXT_BYTES {
                    return Err(format!(
                        "{} is {} bytes long; at most {MAX_TEXT_BYTES} are read",
                        self.label,
                        t.len()
                    ));
                }
            }
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
    /// None: the output comes from the parameters alone (Text to Video).
    Nothing,
    /// One frame that conditions a whole generated clip (Image to Video's first frame).
    Conditioning,
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
            InputWindow::Nothing => 0,
            InputWindow::Single | InputWindow::Conditioning => 1,
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
            InputWindow::Nothing => 0,
            InputWindow::Single | InputWindow::Conditioning => 1,
            InputWindow::Radius { param } => match job.param(param) {
                Some(ParamValue::Int(r)) => {
                    let most = self.declared_max_inputs();
                    (2 * (*r).clamp(0, most as i64) as usize + 1).min(most)
                }
                _ => self.declared_max_inputs(),
            },
        }
    }

    /// The size of the frame the runtime returns for this job: the job's `width`×`height` (the
    /// input frames' size) times the effect's output scale (Temporal Refine's `scale`: 1, 2 or 4;
    /// every other effect 1). The result buffer holds `w · h · 4` floats.
    pub fn output_size(&self, job: &Job) -> (u32, u32) {
        let s = if self.id == TEMPORAL_REFINE.id {
            scale_factor(job)
        } else {
            1
        };
        (job.width.saturating_mul(s), job.height.saturating_mul(s))
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
        let (ow, oh) = self.output_size(job);
        if (ow, oh) != (job.width, job.height) {
            // The output obeys the same frame limits as the input.
            Job {
                width: ow,
                height: oh,
                ..job.clone()
            }
            .check_size()
            .map_err(|_| {
                format!(
                    "{}: scale x{} makes a {ow}x{oh} output frame, larger than dreamfx renders; \
                     pick a smaller scale or render at a lower resolution",
                    self.label,
                    ow / job.width.max(1)
                )
            })?;
        }
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
                    _ => String::new(),
                }
            ));
        }
        let needed = match self.inputs {
            InputWindow::Nothing => 0,
            _ => 1,
        };
        if job.inputs.len() < needed {
            return Err(format!(
                "{} needs an input frame; the job names none",
                self.label
            ));
        }
        self.validate_clip(job)?;
        if !job.inputs.is_empty() && job.centre as usize >= job.inputs.len() {
            return Err(format!(
                "the job's centre frame {} is not one of its {} input frames",
                job.centre,
                job.inputs.len()
            ));
        }
        Ok(())
    }

    /// A generator's frame must say where in the clip it lies, and its animated parameters
    /// must be sampled at every host frame of the clip; a filter's must do neither.
    fn validate_clip(&self, job: &Job) -> Result<(), String> {
        let Some(pos) = job.position else {
            if self.frame_varying {
                return Err(format!(
                    "{} jobs must give the frame's clip position",
                    self.label
                ));
            }
            return Ok(());
        };
        if !self.frame_varying {
            return Err(format!(
                "{} is not a generator: the job gives a clip position",
                self.label
            ));
        }
        if !(pos.rate.is_finite() && pos.rate > 0.0 && pos.rate <= 1000.0) {
            return Err(format!(
                "the host's frame rate {} is not one dreamfx can map: 0 … 1000 frames/s",
                pos.rate
            ));
        }
        if !(pos.pixel_aspect.is_finite() && (0.1..=10.0).contains(&pos.pixel_aspect)) {
            return Err(format!("pixel aspect ratio {} is absurd", pos.pixel_aspect));
        }
        if !(pos.frame.is_finite() && pos.frame.abs() <= 1e9) {
            return Err(format!("clip frame {} is absurd", pos.frame));
        }
        let duration = match job.param("duration") {
            Some(ParamValue::Double(d)) => *d,
            _ => return Err(format!("{} jobs must give the duration", self.label)),
        };
        let frames = clip_host_frames(duration, pos.rate);
        for spec in self.params.iter().filter(|p| p.in_job() && p.animates) {
            match job.param(spec.name) {
                Some(ParamValue::Curve(values)) if values.len() == frames => {}
                Some(ParamValue::Curve(values)) => {
                    return Err(format!(
                        "{} is sampled at {} frames, but the clip has {frames} ({duration} s at \
                         {} frames/s)",
                        spec.label,
                        values.len(),
                        pos.rate
                    ))
                }
                _ => {
                    return Err(format!(
                        "{} animates: the job must give it at every frame of the clip",
                        spec.label
                    ))
                }
            }
        }
        Ok(())
    }
}

pub const GROUPING: &str = "dreamfx";

/// Every effect the bundle declares.
pub const ALL: &[&EffectSpec] = &[&TEMPORAL_REFINE, &TEXT_TO_VIDEO, &IMAGE_TO_VIDEO];

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
            inputs: vec![[0; 32]],
            centre: 0,
            position: None,
        }
    }

    fn generator_job(rate: f64) -> Job {
        let spec = &TEXT_TO_VIDEO;
        let frames = clip_host_frames(2.0, rate);
        Job {
            effect: spec.id.into(),
            effect_version: spec.algorithm_version,
            params: spec
                .params
                .iter()
                .filter_map(|p| {
                    let v = p.default_value()?;
                    Some((
                        p.name.to_string(),
                        match v {
                            ParamValue::Double(d) if p.animates => {
                                ParamValue::Curve(vec![d; frames])
                            }
                            v => v,
                        },
                    ))
                })
                .collect(),
            width: 320,
            height: 180,
            inputs: vec![],
            centre: 0,
            position: Some(dreamfx_protocol::job::ClipPosition {
                frame: 3.0,
                rate,
                pixel_aspect: 1.0,
                preview: false,
            }),
        }
    }

    #[test]
    fn a_generator_job_gives_its_position_and_every_animated_value_of_the_clip() {
        TEXT_TO_VIDEO.validate(&generator_job(24.0)).unwrap();
        TEXT_TO_VIDEO.validate(&generator_job(29.97)).unwrap();
        let mut job = generator_job(24.0);
        job.position = None;
        assert!(TEXT_TO_VIDEO
            .validate(&job)
            .unwrap_err()
            .contains("position"));
        // A curve one frame short: the clip's keyframes were not all sampled.
        let mut job = generator_job(24.0);
        if let Some((_, ParamValue::Curve(c))) = job.params.iter_mut().find(|p| p.0 == "guidance") {
            c.pop();
        }
        let err = TEXT_TO_VIDEO.validate(&job).unwrap_err();
        assert!(err.contains("Guidance") && err.contains("47"), "{err}");
        // A NaN inside a curve is named.
        let mut job = generator_job(24.0);
        if let Some((_, ParamValue::Curve(c))) = job.params.iter_mut().find(|p| p.0 == "promptMix")
        {
            c[10] = f64::NAN;
        }
        assert!(TEXT_TO_VIDEO
            .validate(&job)
            .unwrap_err()
            .contains("Prompt Mix"));
        // An animated value given as one number, and an absurd frame rate.
        let mut job = generator_job(24.0);
        job.params.iter_mut().find(|p| p.0 == "guidance").unwrap().1 = ParamValue::Double(4.0);
        assert!(TEXT_TO_VIDEO.validate(&job).is_err());
        let mut job = generator_job(24.0);
        job.position.as_mut().unwrap().rate = f64::INFINITY;
        assert!(TEXT_TO_VIDEO
            .validate(&job)
            .unwrap_err()
            .contains("frame rate"));
        // Image to Video needs its Source frame.
        let mut job = generator_job(24.0);
        job.effect = IMAGE_TO_VIDEO.id.into();
        job.params
            .push(("conditionFrame".into(), ParamValue::Int(-1)));
        assert!(IMAGE_TO_VIDEO
            .validate(&job)
            .unwrap_err()
            .contains("needs an input frame"));
        job.inputs = vec![[1; 32]];
        IMAGE_TO_VIDEO.validate(&job).unwrap();
    }

    #[test]
    fn a_prompt_past_the_text_limit_is_refused() {
        let mut job = generator_job(24.0);
        job.params.iter_mut().find(|p| p.0 == "prompt").unwrap().1 =
            ParamValue::Text("word ".repeat(10_000));
        assert!(TEXT_TO_VIDEO
            .validate(&job)
            .unwrap_err()
            .contains("bytes long"));
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
    fn output_size_follows_the_scale() {
        let mut job = default_job();
        (job.width, job.height) = (320, 180);
        assert_eq!(TEMPORAL_REFINE.output_size(&job), (320, 180));
        job.params.iter_mut().find(|p| p.0 == "scale").unwrap().1 = ParamValue::Choice(2);
        assert_eq!(TEMPORAL_REFINE.output_size(&job), (1280, 720));
        TEMPORAL_REFINE.validate(&job).unwrap();
        // 4x of a 4K frame is past the frame limits: refused before any work.
        (job.width, job.height) = (3840, 2160);
        let err = TEMPORAL_REFINE.validate(&job).unwrap_err();
        assert!(err.contains("x4") && err.contains("15360x8640"), "{err}");
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
