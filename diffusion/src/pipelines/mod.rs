//! Pipelines: text encoder + scheduler + denoiser + VAE, from a prompt to frames.
//!
//! Which pipeline a model directory needs is read from its `model_index.json` ([`detect`]), so
//! one `--model DIR` takes any supported family.
use std::path::Path;

use crate::loading::LoadError;

pub mod hunyuan_video;
pub mod mochi;
pub mod wan;

/// A model family: the diffusers pipeline classes that one loader serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `WanPipeline`, `WanImageToVideoPipeline` (Wan2.1 T2V, Wan2.2 TI2V; dreamfx-tiny).
    Wan,
    /// `MochiPipeline` (Mochi-1).
    Mochi,
    /// `HunyuanVideoPipeline`, `HunyuanVideoImageToVideoPipeline`.
    HunyuanVideo,
}

impl Family {
    /// The family of a diffusers pipeline class name (`model_index.json`'s `_class_name`).
    pub fn from_class_name(class_name: &str) -> Option<Family> {
        match class_name {
            "WanPipeline" | "WanImageToVideoPipeline" => Some(Family::Wan),
            "MochiPipeline" => Some(Family::Mochi),
            "HunyuanVideoPipeline" | "HunyuanVideoImageToVideoPipeline" => {
                Some(Family::HunyuanVideo)
            }
            _ => None,
        }
    }

    /// The name users know it by.
    pub fn name(self) -> &'static str {
        match self {
            Family::Wan => "Wan",
            Family::Mochi => "Mochi-1",
            Family::HunyuanVideo => "HunyuanVideo",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The pipeline classes [`Family::from_class_name`] knows, for error messages.
const KNOWN_CLASSES: &str = "WanPipeline, WanImageToVideoPipeline, MochiPipeline, \
     HunyuanVideoPipeline, HunyuanVideoImageToVideoPipeline";

/// The family of the model directory `dir`, from the `_class_name` of its `model_index.json`.
/// A missing file, a file without `_class_name`, and an unknown class are errors that name
/// what was found.
pub fn detect(dir: &Path) -> Result<Family, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NoDirectory { dir: dir.into() });
    }
    let path = dir.join("model_index.json");
    let text = std::fs::read_to_string(&path).map_err(|_| LoadError::MissingFile {
        what: "model index (it names the pipeline class, and so the model family)".into(),
        path: path.clone(),
    })?;
    let bad = |why: String| LoadError::BadConfig {
        path: path.clone(),
        why,
    };
    let index: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let class_name = index
        .get("_class_name")
        .and_then(|v| v.as_str())
        .ok_or_else(|| bad("no \"_class_name\" string naming the pipeline class".into()))?;
    Family::from_class_name(class_name).ok_or_else(|| {
        bad(format!(
            "pipeline class {class_name:?} is not a model family dreamfx runs (it runs \
             {KNOWN_CLASSES})"
        ))
    })
}

/// A loaded model of any supported family, behind one interface: what the runtime's generator
/// and `dreamfx generate` call, so `--model DIR` and the effects' `model` parameter take any
/// family without another flag.
// One value per loaded model, made once and moved rarely: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Pipeline {
    Wan(wan::WanPipeline),
    Mochi(mochi::MochiPipeline),
    HunyuanVideo(hunyuan_video::HunyuanVideoPipeline),
}

/// Mochi-1's clip (its training length: 163 frames of 848×480 at 30 frames/s), for Mochi
/// directories that do not say.
pub const MOCHI_NATIVE: wan::NativeClip = wan::NativeClip {
    width: 848,
    height: 480,
    frames: 163,
    fps: 30.0,
};

impl Pipeline {
    /// Loads `dir` as the family its `model_index.json` names.
    pub fn load(dir: &Path, device: tch::Device) -> Result<Pipeline, LoadError> {
        match detect(dir)? {
            Family::Wan => Ok(Pipeline::Wan(wan::WanPipeline::load(dir, device)?)),
            Family::Mochi => Ok(Pipeline::Mochi(mochi::MochiPipeline::load(dir, device)?)),
            Family::HunyuanVideo => {
                if index_class(dir).as_deref() == Some("HunyuanVideoImageToVideoPipeline") {
                    return Err(LoadError::BadConfig {
                        path: dir.join("model_index.json"),
                        why: "HunyuanVideo image-to-video is not ported yet: dreamfx runs \
                              HunyuanVideoPipeline (text-to-video) models"
                            .into(),
                    });
                }
                Ok(Pipeline::HunyuanVideo(
                    hunyuan_video::HunyuanVideoPipeline::load(dir, device)?,
                ))
            }
        }
    }

    pub fn family(&self) -> Family {
        match self {
            Pipeline::Wan(_) => Family::Wan,
            Pipeline::Mochi(_) => Family::Mochi,
            Pipeline::HunyuanVideo(_) => Family::HunyuanVideo,
        }
    }

    /// The clip the model makes in one generation (`_dreamfx_native_clip`, else the family's).
    pub fn native(&self, dir: &Path) -> wan::NativeClip {
        match self {
            Pipeline::Wan(p) => p.native,
            Pipeline::Mochi(_) => index_native_clip(dir).unwrap_or(MOCHI_NATIVE),
            Pipeline::HunyuanVideo(_) => index_native_clip(dir).unwrap_or(hunyuan_video::NATIVE),
        }
    }

    /// The words of `prompt` this model cannot read (unknown, or past its prompt length).
    pub fn check_prompt(
        &self,
        prompt: &str,
    ) -> Result<crate::text::umt5::PromptCheck, wan::PipelineError> {
        match self {
            Pipeline::Wan(p) => p.check_prompt(prompt),
            Pipeline::Mochi(p) => p
                .tokenizer
                .check(prompt, crate::text::t5::MAX_SEQUENCE_LENGTH)
                .map_err(|e| wan::PipelineError::Prompt(e.to_string())),
            Pipeline::HunyuanVideo(p) => p.check_prompt(prompt),
        }
    }

    /// The model's own sampler.
    pub fn scheduler(&self) -> &crate::schedulers::SchedulerConfig {
        match self {
            Pipeline::Wan(p) => &p.scheduler,
            Pipeline::Mochi(p) => &p.scheduler,
            Pipeline::HunyuanVideo(p) => &p.scheduler,
        }
    }

    /// Whether a clip can start from a given frame (image-to-video, and segments that continue
    /// from the one before): Wan2.2 TI2V-style models.
    pub fn continues_from_image(&self) -> bool {
        match self {
            Pipeline::Wan(p) => p.expand_timesteps,
            Pipeline::Mochi(_) | Pipeline::HunyuanVideo(_) => false,
        }
    }

    /// Generates `req`; `prompt_end`, when given, is a second prompt whose embedding is mixed
    /// in by the weight (0 = `req.prompt` alone).
    pub fn generate(
        &self,
        req: &wan::Request,
        prompt_end: Option<(&str, f64)>,
        on_step: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<wan::Generated, wan::PipelineError> {
        match self {
            Pipeline::Wan(p) => {
                let mut embeds = p.encode_prompt(&req.prompt)?;
                if let Some((end, mix)) = prompt_end.filter(|(e, m)| *m > 0.0 && !e.is_empty()) {
                    embeds = embeds * (1.0 - mix) + p.encode_prompt(end)? * mix;
                }
                p.generate_with_prompt_embeds(req, &embeds, on_step)
            }
            Pipeline::Mochi(p) => {
                if prompt_end.is_some_and(|(e, m)| m > 0.0 && !e.is_empty()) {
                    return Err(wan::PipelineError::BadRequest(
                        "Prompt Mix blends prompt embeddings of equal length, which Mochi-1's \
                         masked prompts are not: set Prompt Mix to 0 or use a Wan model"
                            .into(),
                    ));
                }
                if req.first_frame.is_some() {
                    return Err(wan::PipelineError::BadRequest(
                        "Mochi-1 generates from text only: starting from an image needs a \
                         Wan2.2 TI2V model"
                            .into(),
                    ));
                }
                p.generate(req, on_step)
            }
            Pipeline::HunyuanVideo(p) => {
                if prompt_end.is_some_and(|(e, m)| m > 0.0 && !e.is_empty()) {
                    return Err(wan::PipelineError::BadRequest(
                        "Prompt Mix blends prompt embeddings of equal length, which \
                         HunyuanVideo's masked prompts are not: set Prompt Mix to 0 or use a \
                         Wan model"
                            .into(),
                    ));
                }
                if req.first_frame.is_some() {
                    return Err(wan::PipelineError::BadRequest(
                        "HunyuanVideo generates from text only here: starting from an image \
                         needs a Wan2.2 TI2V model"
                            .into(),
                    ));
                }
                p.generate(req, on_step)
            }
        }
    }
}

/// `model_index.json`'s `_class_name`, if readable.
fn index_class(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("model_index.json")).ok()?;
    let index: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(index.get("_class_name")?.as_str()?.to_string())
}

/// `model_index.json`'s `_dreamfx_native_clip`, when it has one.
fn index_native_clip(dir: &Path) -> Option<wan::NativeClip> {
    let text = std::fs::read_to_string(dir.join("model_index.json")).ok()?;
    let index: serde_json::Value = serde_json::from_str(&text).ok()?;
    serde_json::from_value(index.get("_dreamfx_native_clip")?.clone()).ok()
}
