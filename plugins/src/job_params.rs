//! A job's parameters, read from the host the way the runtime validates them
//! (`EffectSpec::validate`): every `in_job()` parameter, typed and clamped to its range, and for a
//! generator each animated Double sampled at every host frame of the clip.
use dreamfx_effects::{clip_host_frames, EffectSpec, ParamKind};
use dreamfx_host_adapter::effect::ParamSet;
use dreamfx_host_adapter::Error;
use dreamfx_protocol::job::ParamValue;

/// Where parameter values come from: the host's parameter suite, or a table in tests.
pub trait ParamSource {
    fn double_at(&self, name: &str, t: f64) -> Result<f64, Error>;
    /// Integer, boolean and choice parameters.
    fn int_at(&self, name: &str, t: f64) -> Result<i32, Error>;
    fn text_at(&self, name: &str, t: f64) -> Result<String, Error>;
}

impl ParamSource for ParamSet {
    fn double_at(&self, name: &str, t: f64) -> Result<f64, Error> {
        self.param(name)?.double_at(t)
    }
    fn int_at(&self, name: &str, t: f64) -> Result<i32, Error> {
        self.param(name)?.int_at(t)
    }
    fn text_at(&self, name: &str, t: f64) -> Result<String, Error> {
        self.param(name)?.string_at(t)
    }
}

/// A generated clip's place in host time: the frames its animated parameters are sampled at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipFrames {
    /// The host frame of the clip's first frame (`startFrame`).
    pub start: f64,
    /// Host frames in the clip (`clip_host_frames(duration, rate)`).
    pub count: usize,
}

impl ClipFrames {
    /// The clip as the parameters at `t` and the host's frame `rate` place it.
    pub fn read(
        spec: &EffectSpec,
        src: &dyn ParamSource,
        t: f64,
        rate: f64,
    ) -> Result<ClipFrames, Error> {
        let start = match value_at(spec, src, "startFrame", t)? {
            ParamValue::Int(v) => v as f64,
            _ => 0.0,
        };
        let duration = match value_at(spec, src, "duration", t)? {
            ParamValue::Double(v) => v,
            _ => 1.0,
        };
        Ok(ClipFrames {
            start,
            count: clip_host_frames(duration, rate),
        })
    }

    pub fn last(&self) -> f64 {
        self.start + self.count as f64 - 1.0
    }
}

/// One parameter's value at `t`, clamped to its declared range. Hosts need not hold values
/// inside the range (the official HostSupport does not for values a script sets): clamping
/// where the job is built makes the job ask for what the frames needed already assumed.
pub fn value_at(
    spec: &EffectSpec,
    src: &dyn ParamSource,
    name: &str,
    t: f64,
) -> Result<ParamValue, Error> {
    let p = spec
        .param(name)
        .ok_or_else(|| Error::failed(format!("{} has no parameter {name}", spec.label)))?;
    Ok(match p.kind {
        ParamKind::Double { min, max, .. } => {
            ParamValue::Double(finite(spec, p.label, src.double_at(name, t)?, min, max)?)
        }
        ParamKind::Int { min, max, .. } => {
            ParamValue::Int((src.int_at(name, t)? as i64).clamp(min, max))
        }
        ParamKind::Bool { .. } => ParamValue::Bool(src.int_at(name, t)? != 0),
        ParamKind::Choice { options, .. } => ParamValue::Choice(
            (src.int_at(name, t)?.max(0) as u32).min(options.len().saturating_sub(1) as u32),
        ),
        ParamKind::Text { .. } => ParamValue::Text(src.text_at(name, t)?),
        ParamKind::PushButton | ParamKind::Status => {
            return Err(Error::failed(format!(
                "{}: {} is not part of a job",
                spec.label, p.label
            )))
        }
    })
}

/// NaN or infinity is refused naming the parameter; a finite value is clamped.
fn finite(spec: &EffectSpec, label: &str, v: f64, min: f64, max: f64) -> Result<f64, Error> {
    if !v.is_finite() {
        return Err(Error::failed(format!(
            "{}: {label} is {v}; give a number from {min} to {max}",
            spec.label
        )));
    }
    Ok(v.clamp(min, max))
}

/// Every parameter that shapes the pixels, in the effect's declared order: sampled at `t`, or
/// for a generator (`clip` given) each animated Double as a curve over the clip's host frames
/// `clip.start + i`.
pub fn job_params(
    spec: &EffectSpec,
    src: &dyn ParamSource,
    t: f64,
    clip: Option<ClipFrames>,
) -> Result<Vec<(String, ParamValue)>, Error> {
    let mut out = Vec::new();
    for p in spec.params.iter().filter(|p| p.in_job()) {
        let value = match (p.kind, clip) {
            (ParamKind::Double { min, max, .. }, Some(clip)) if p.animates => ParamValue::Curve(
                (0..clip.count)
                    .map(|i| {
                        let v = src.double_at(p.name, clip.start + i as f64)?;
                        finite(spec, p.label, v, min, max)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => value_at(spec, src, p.name, t)?,
        };
        out.push((p.name.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use dreamfx_effects::{TEMPORAL_REFINE, TEXT_TO_VIDEO};
    use dreamfx_protocol::job::{ClipPosition, Job};
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// Parameter values by name; doubles may vary with time. Records every time a double is
    /// read at.
    #[derive(Default)]
    pub struct Table {
        pub doubles: HashMap<&'static str, Box<dyn Fn(f64) -> f64>>,
        pub ints: HashMap<&'static str, i32>,
        pub texts: HashMap<&'static str, String>,
        pub read_at: RefCell<Vec<(String, f64)>>,
    }

    impl Table {
        /// Every parameter of `spec` at its default.
        pub fn defaults(spec: &EffectSpec) -> Table {
            let mut t = Table::default();
            for p in spec.params {
                match p.kind {
                    ParamKind::Double { default, .. } => t.double(p.name, move |_| default),
                    ParamKind::Int { default, .. } => {
                        t.ints.insert(p.name, default as i32);
                    }
                    ParamKind::Bool { default } => {
                        t.ints.insert(p.name, default as i32);
                    }
                    ParamKind::Choice { default, .. } => {
                        t.ints.insert(p.name, default as i32);
                    }
                    ParamKind::Text { default, .. } => {
                        t.texts.insert(p.name, default.to_string());
                    }
                    ParamKind::PushButton | ParamKind::Status => {}
                }
            }
            t
        }
        pub fn double(&mut self, name: &'static str, f: impl Fn(f64) -> f64 + 'static) {
            self.doubles.insert(name, Box::new(f));
        }
    }

    impl ParamSource for Table {
        fn double_at(&self, name: &str, t: f64) -> Result<f64, Error> {
            self.read_at.borrow_mut().push((name.to_string(), t));
            Ok(self.doubles[name](t))
        }
        fn int_at(&self, name: &str, _: f64) -> Result<i32, Error> {
            Ok(self.ints[name])
        }
        fn text_at(&self, name: &str, _: f64) -> Result<String, Error> {
            Ok(self.texts[name].clone())
        }
    }

    fn generator_job(spec: &EffectSpec, src: &Table, t: f64, rate: f64) -> Job {
        let clip = ClipFrames::read(spec, src, t, rate).unwrap();
        Job {
            effect: spec.id.into(),
            effect_version: spec.algorithm_version,
            params: job_params(spec, src, t, Some(clip)).unwrap(),
            width: 320,
            height: 180,
            inputs: vec![],
            centre: 0,
            position: Some(ClipPosition {
                frame: t - clip.start,
                rate,
                pixel_aspect: 1.0,
                preview: false,
            }),
        }
    }

    #[test]
    fn animated_doubles_are_sampled_at_every_host_frame_of_the_clip() {
        let mut src = Table::defaults(&TEXT_TO_VIDEO);
        src.ints.insert("startFrame", 10);
        src.double("duration", |_| 2.0);
        src.double("promptMix", |t| (t - 10.0) / 47.0);
        let job = generator_job(&TEXT_TO_VIDEO, &src, 12.0, 24.0);
        let Some(ParamValue::Curve(mix)) = job.param("promptMix") else {
            panic!("promptMix is a curve: {:?}", job.param("promptMix"));
        };
        assert_eq!(mix.len(), 48);
        assert_eq!(
            (mix[0], mix[47]),
            (0.0, 1.0),
            "first and last host frame of the clip"
        );
        let times: Vec<f64> = src
            .read_at
            .borrow()
            .iter()
            .filter(|(n, _)| n == "promptMix")
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(times, (10..58).map(f64::from).collect::<Vec<_>>());
        assert!(matches!(job.param("guidance"), Some(ParamValue::Curve(g)) if g.len() == 48));
        assert!(matches!(job.param("shift"), Some(ParamValue::Double(_))));
        assert!(matches!(job.param("prompt"), Some(ParamValue::Text(_))));
        assert!(job.param("status").is_none() && job.param("generateNow").is_none());
        TEXT_TO_VIDEO.validate(&job).unwrap();
        // 29.97 fps: the count the runtime checks against.
        let job = generator_job(&TEXT_TO_VIDEO, &src, 12.0, 30000.0 / 1001.0);
        TEXT_TO_VIDEO.validate(&job).unwrap();
    }

    #[test]
    fn out_of_range_values_are_clamped_and_nan_is_named() {
        let mut src = Table::defaults(&TEXT_TO_VIDEO);
        src.ints.insert("steps", 100_000);
        src.ints.insert("quality", 9);
        src.double("guidance", |t| if t < 5.0 { -3.0 } else { 99.0 });
        src.double("duration", |_| 1e9);
        let job = generator_job(&TEXT_TO_VIDEO, &src, 0.0, 24.0);
        assert_eq!(job.param("steps"), Some(&ParamValue::Int(200)));
        assert_eq!(job.param("quality"), Some(&ParamValue::Choice(1)));
        assert_eq!(job.param("duration"), Some(&ParamValue::Double(600.0)));
        let Some(ParamValue::Curve(g)) = job.param("guidance") else {
            panic!()
        };
        assert_eq!(g.len(), 600 * 24);
        assert_eq!((g[0], g[10]), (1.0, 20.0));
        TEXT_TO_VIDEO.validate(&job).unwrap();

        src.double("promptMix", |t| if t == 3.0 { f64::NAN } else { 0.0 });
        let clip = ClipFrames::read(&TEXT_TO_VIDEO, &src, 0.0, 24.0).unwrap();
        let err = job_params(&TEXT_TO_VIDEO, &src, 0.0, Some(clip)).unwrap_err();
        assert!(
            err.message.contains("Prompt Mix") && err.message.contains("NaN"),
            "{err}"
        );
    }

    #[test]
    fn a_filter_reads_every_parameter_at_t() {
        let mut src = Table::defaults(&TEMPORAL_REFINE);
        src.double("strength", |t| t / 10.0);
        let params = job_params(&TEMPORAL_REFINE, &src, 4.0, None).unwrap();
        assert!(params.contains(&("strength".into(), ParamValue::Double(0.4))));
        assert!(params
            .iter()
            .all(|(_, v)| !matches!(v, ParamValue::Curve(_))));
    }

    #[test]
    fn the_clip_has_at_least_one_frame() {
        let mut src = Table::defaults(&TEXT_TO_VIDEO);
        src.double("duration", |_| 0.1);
        let clip = ClipFrames::read(&TEXT_TO_VIDEO, &src, 0.0, 5.0).unwrap();
        assert_eq!(clip.count, 1);
        assert_eq!(clip.last(), clip.start);
    }
}
