//! The generators' runner (Text to Video, Image to Video): a frame of a generated clip.
//!
//! A job names one host frame of a clip. The clip is made of segments (see [`timeline`]), each
//! keyed by everything that decides its pixels: the model's identity, the prompt(s), seed,
//! steps, the segment's own slice of the animated curves, and what it starts from (the Source
//! frame's hash, or the key of the segment before). Segments live in memory and in the shared
//! disk cache, so a segment is generated once however many instances, hosts, restarts or farm
//! nodes ask; only the segments whose inputs changed are made again.
pub mod fit;
pub mod interpolate;
pub mod timeline;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dreamfx_diffusion::loading::model_identity;
use dreamfx_diffusion::pipelines::wan::{PipelineError, Request, MAX_SEQUENCE_LENGTH};
use dreamfx_diffusion::pipelines::Pipeline;
use dreamfx_diffusion::schedulers::RestartSampling;
use dreamfx_diffusion::text::umt5::PromptTokenizer;
use dreamfx_disk_cache::{DiskCache, Waited};
use dreamfx_effects::{by_id, IMAGE_TO_VIDEO};
use dreamfx_protocol::job::{ClipPosition, EngineIdentity, Job, ParamValue};
use log::{info, warn};
use parking_lot::Mutex;
use serde::Serialize;
use tch::{Device, Kind, Tensor};

use self::fit::Fit;
use self::timeline::Timeline;
use super::{to_rgba_pixels, Frame, Progress, RunError, Runner};

/// Bumped when a segment's pixels for the same parameters change (seeds, conditioning, steps).
const SEGMENT_VERSION: u32 = 1;
/// Draft quality: this many steps at most, and no restart sampling.
const DRAFT_STEPS: usize = 4;
/// Loaded models kept (each holds its weights in memory).
const MODELS_KEPT: usize = 2;
/// Bytes of decoded segments kept in memory (below this, the disk cache).
const SEGMENT_MEMORY_BYTES: usize = 1 << 30;
/// How long a claim on a segment in the disk cache lasts without renewal: a generating
/// process renews it while it works; one that died frees the segment after this.
const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// A generator job's parameters, read once.
struct ClipJob<'a> {
    effect: &'a str,
    prompt: &'a str,
    negative_prompt: &'a str,
    prompt_end: &'a str,
    seed: u64,
    steps: usize,
    shift: Option<f64>,
    draft: bool,
    fit: Fit,
    duration: f64,
    guidance: &'a [f64],
    prompt_mix: &'a [f64],
    model: PathBuf,
    position: ClipPosition,
}

fn text<'a>(job: &'a Job, name: &str) -> &'a str {
    match job.param(name) {
        Some(ParamValue::Text(t)) => t,
        _ => "",
    }
}

fn curve<'a>(job: &'a Job, name: &str) -> Result<&'a [f64], RunError> {
    match job.param(name) {
        Some(ParamValue::Curve(v)) if !v.is_empty() => Ok(v),
        _ => Err(RunError::BadJob(format!("the job lacks the curve {name}"))),
    }
}

impl<'a> ClipJob<'a> {
    fn read(job: &'a Job, builtin: &Path) -> Result<ClipJob<'a>, RunError> {
        let spec = by_id(&job.effect)
            .ok_or_else(|| RunError::BadJob(format!("unknown effect {}", job.effect)))?;
        let number = |name| job.param(name).and_then(ParamValue::as_f64).unwrap_or(0.0);
        let shift = number("shift");
        Ok(ClipJob {
            effect: spec.id,
            prompt: text(job, "prompt"),
            negative_prompt: text(job, "negativePrompt"),
            prompt_end: text(job, "promptEnd"),
            seed: number("seed") as u64,
            steps: number("steps").max(1.0) as usize,
            shift: (shift > 0.0).then_some(shift),
            draft: matches!(job.param("quality"), Some(ParamValue::Choice(0))),
            fit: match job.param("fit") {
                Some(ParamValue::Choice(i)) => Fit::from_choice(*i),
                _ => Fit::Fill,
            },
            duration: number("duration"),
            guidance: curve(job, "guidance")?,
            prompt_mix: curve(job, "promptMix")?,
            model: model_dir(text(job, "model"), builtin).map_err(RunError::BadJob)?,
            position: job
                .position
                .ok_or_else(|| RunError::BadJob("a generator job needs its position".into()))?,
        })
    }

    fn label(&self) -> &'static str {
        by_id(self.effect).map_or("Generator", |e| e.label)
    }
}

/// The `model` parameter as a directory: empty is the built-in model; `~/` is the home
/// directory; anything else must be absolute (the runtime's working directory is not the
/// host's).
pub fn model_dir(param: &str, builtin: &Path) -> Result<PathBuf, String> {
    let param = param.trim();
    if param.is_empty() {
        return Ok(builtin.to_path_buf());
    }
    let path = match param.strip_prefix("~/") {
        Some(rest) => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(rest),
        None => PathBuf::from(param),
    };
    if !path.is_absolute() {
        return Err(format!(
            "Model is {param:?}, a relative path: give the model directory's absolute path \
             (or leave Model empty for the built-in dreamfx-tiny)"
        ));
    }
    Ok(path)
}

/// Everything that decides one segment's pixels: hashed into its key.
#[derive(Serialize)]
struct SegmentKeyParts<'a> {
    model: &'a EngineIdentity,
    effect: &'a str,
    /// How segments are generated ([`SEGMENT_VERSION`]): not the effect's algorithm version,
    /// which also covers what happens after (resampling, fitting) and must not make clips
    /// generate again.
    segment_version: u32,
    prompt: &'a str,
    negative_prompt: &'a str,
    prompt_end: &'a str,
    seed: u64,
    steps: usize,
    draft: bool,
    shift: Option<u64>,
    guidance: u64,
    prompt_mix: u64,
    segment: usize,
    /// The Source frame's content hash (segment 0 of Image to Video) or the previous segment's
    /// key: a segment changes when what it continues from changes.
    starts_from: Option<[u8; 32]>,
}

type SegmentKey = [u8; 32];

/// Decoded segments in memory, `[frames, h, w, 3]` in 0..1, least recently used out first.
#[derive(Default)]
struct SegmentMemory {
    entries: HashMap<SegmentKey, (Tensor, u64)>,
    clock: u64,
    bytes: usize,
}

impl SegmentMemory {
    /// A handle on the same storage (libtorch tensors are shared, not copied).
    fn get(&mut self, key: &SegmentKey) -> Option<Tensor> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(t, used)| {
            *used = clock;
            t.shallow_clone()
        })
    }

    fn insert(&mut self, key: SegmentKey, segment: Tensor) {
        self.clock += 1;
        self.bytes += segment.numel() * 4;
        if let Some((old, _)) = self.entries.insert(key, (segment, self.clock)) {
            self.bytes -= old.numel() * 4;
        }
        while self.bytes > SEGMENT_MEMORY_BYTES && self.entries.len() > 1 {
            let oldest = *self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k)
                .expect("not empty");
            if let Some((t, _)) = self.entries.remove(&oldest) {
                self.bytes -= t.numel() * 4;
            }
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

pub struct GenerateRunner {
    device: Device,
    builtin: PathBuf,
    /// libtorch modules may be used from one thread at a time: each model behind its lock.
    models: Mutex<Vec<(PathBuf, Arc<Mutex<Pipeline>>)>>,
    /// Tokenizers alone, for prompt checks that must not wait behind a generation.
    tokenizers: Mutex<Vec<(PathBuf, Arc<PromptTokenizer>)>>,
    segments: Mutex<SegmentMemory>,
    disk: Option<DiskCache>,
    generated: AtomicU64,
}

impl GenerateRunner {
    pub fn new(builtin: PathBuf, disk: Option<DiskCache>) -> Self {
        GenerateRunner {
            device: Device::Cpu,
            builtin,
            models: Mutex::new(Vec::new()),
            tokenizers: Mutex::new(Vec::new()),
            segments: Mutex::new(SegmentMemory::default()),
            disk,
            generated: AtomicU64::new(0),
        }
    }

    /// Segments generated by this process (not found in memory or on disk).
    pub fn segments_generated(&self) -> u64 {
        self.generated.load(Ordering::Relaxed)
    }

    pub fn disk(&self) -> Option<&DiskCache> {
        self.disk.as_ref()
    }

    /// Forgets the decoded segments held in memory (the disk cache stays).
    pub fn clear_memory(&self) {
        self.segments.lock().clear();
    }

    fn pipeline(&self, dir: &Path, label: &str) -> Result<Arc<Mutex<Pipeline>>, RunError> {
        let mut models = self.models.lock();
        if let Some(i) = models.iter().position(|(d, _)| d == dir) {
            let entry = models.remove(i);
            let pipe = entry.1.clone();
            models.push(entry);
            return Ok(pipe);
        }
        let started = Instant::now();
        let pipe = Pipeline::load(dir, self.device).map_err(|e| {
            RunError::Failed(format!(
                "{label}: the model {} cannot be used: {e}. Model takes a directory in the \
                 diffusers layout (model_index.json, transformer/, vae/, text_encoder/, \
                 tokenizer/, scheduler/; safetensors weights); leave it empty for the built-in \
                 dreamfx-tiny",
                dir.display()
            ))
        })?;
        info!(
            "loaded {} ({}) in {:.2?}",
            dir.display(),
            pipe.family(),
            started.elapsed()
        );
        let pipe = Arc::new(Mutex::new(pipe));
        models.push((dir.to_path_buf(), pipe.clone()));
        if models.len() > MODELS_KEPT {
            models.remove(0);
        }
        Ok(pipe)
    }

    /// For each text, the words `model` cannot read ("" when it reads them all).
    pub fn check_prompts(&self, model: &str, texts: &[String]) -> Result<Vec<String>, String> {
        let dir = model_dir(model, &self.builtin)?;
        let tokenizer = {
            let mut known = self.tokenizers.lock();
            match known.iter().find(|(d, _)| *d == dir) {
                Some((_, t)) => t.clone(),
                None => {
                    let t =
                        Arc::new(PromptTokenizer::load(&dir.join("tokenizer")).map_err(|e| {
                            format!("the model {} has no usable tokenizer: {e}", dir.display())
                        })?);
                    known.push((dir.clone(), t.clone()));
                    if known.len() > 4 {
                        known.remove(0);
                    }
                    t
                }
            }
        };
        let length = tokenizer
            .model_max_length()
            .map_or(MAX_SEQUENCE_LENGTH, |n| n.min(MAX_SEQUENCE_LENGTH));
        texts
            .iter()
            .map(|t| {
                let check = tokenizer.check(t, length).map_err(|e| e.to_string())?;
                Ok(if check.is_clean() {
                    String::new()
                } else {
                    check.to_string()
                })
            })
            .collect()
    }

    fn is_cached(&self, key: &SegmentKey) -> bool {
        self.segments.lock().entries.contains_key(key)
            || self.disk.as_ref().is_some_and(|d| d.contains(key))
    }

    /// The segment from memory, else from the disk cache (then kept in memory).
    fn cached(&self, key: &SegmentKey) -> Option<Tensor> {
        if let Some(t) = self.segments.lock().get(key) {
            return Some(t);
        }
        let bytes = match self.disk.as_ref()?.get(key) {
            Ok(Some(b)) => b,
            Ok(None) => return None,
            Err(e) => {
                warn!("disk cache: {e}");
                return None;
            }
        };
        let segment = decode_segment(&bytes)?;
        self.segments.lock().insert(*key, segment.shallow_clone());
        Some(segment)
    }

    fn remember(&self, key: SegmentKey, segment: &Tensor, description: &str) {
        self.segments.lock().insert(key, segment.shallow_clone());
        if let Some(disk) = &self.disk {
            if let Err(e) = disk.put(&key, &encode_segment(segment), description) {
                // The clip is still served from memory; say why it will not survive a restart.
                warn!("disk cache: {e}");
            }
        }
    }
}

/// `[frames, h, w, 3]` f32 as bytes: the three sizes (u32 LE), then the values (f32 LE).
fn encode_segment(t: &Tensor) -> Vec<u8> {
    let t = t.to_kind(Kind::Float).contiguous();
    let size = t.size();
    let n = t.numel();
    let mut values = vec![0f32; n];
    t.copy_data(&mut values, n);
    let mut out = Vec::with_capacity(12 + 4 * n);
    for d in &size[..3] {
        out.extend_from_slice(&(*d as u32).to_le_bytes());
    }
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn decode_segment(bytes: &[u8]) -> Option<Tensor> {
    let dim =
        |i: usize| Some(u32::from_le_bytes(bytes.get(4 * i..4 * i + 4)?.try_into().ok()?) as i64);
    let (f, h, w) = (dim(0)?, dim(1)?, dim(2)?);
    let n = (f * h * w * 3) as usize;
    if bytes.len() != 12 + 4 * n {
        warn!(
            "disk cache: a segment of {} bytes does not hold {f}x{h}x{w}x3",
            bytes.len()
        );
        return None;
    }
    let values: Vec<f32> = bytes[12..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    Some(Tensor::from_slice(&values).view([f, h, w, 3]))
}

fn bits(v: f64) -> u64 {
    v.to_bits()
}

/// The keys of segments 0 ..= `upto`, in order: each names the one before it.
fn segment_keys(
    clip: &ClipJob<'_>,
    identity: &EngineIdentity,
    timeline: &Timeline,
    condition: Option<[u8; 32]>,
    upto: usize,
) -> Vec<SegmentKey> {
    let mut keys: Vec<SegmentKey> = Vec::with_capacity(upto + 1);
    for k in 0..=upto {
        let parts = SegmentKeyParts {
            model: identity,
            effect: clip.effect,
            segment_version: SEGMENT_VERSION,
            prompt: clip.prompt,
            negative_prompt: clip.negative_prompt,
            prompt_end: clip.prompt_end,
            seed: clip.seed,
            steps: clip.steps,
            draft: clip.draft,
            shift: clip.shift.map(bits),
            guidance: bits(timeline.segment_mean(clip.guidance, k)),
            prompt_mix: bits(timeline.segment_mean(clip.prompt_mix, k)),
            segment: k,
            starts_from: if k == 0 { condition } else { Some(keys[k - 1]) },
        };
        let bytes = postcard::to_stdvec(&parts).expect("key parts serialise");
        keys.push(*blake3::hash(&bytes).as_bytes());
    }
    keys
}

impl Runner for GenerateRunner {
    fn identity(&self, job: &Job, device: &str) -> Result<EngineIdentity, String> {
        let dir = model_dir(text(job, "model"), &self.builtin)?;
        let id = model_identity(&dir).map_err(|e| {
            format!(
                "the model {} cannot be read: {e}. Leave Model empty for the built-in \
                 dreamfx-tiny",
                dir.display()
            )
        })?;
        Ok(EngineIdentity {
            model: format!("weights:{id}"),
            device: device.into(),
            precision: "f32".into(),
        })
    }

    fn run(
        &self,
        job: &Job,
        inputs: &[Frame],
        progress: &mut Progress<'_>,
    ) -> Result<Vec<f32>, RunError> {
        let mut clip = ClipJob::read(job, &self.builtin)?;
        let label = clip.label();
        let identity = self
            .identity(job, super::device_name(self.device))
            .map_err(|e| RunError::Failed(format!("{label}: {e}")))?;
        let pipe = self.pipeline(&clip.model, label)?;
        let pipe = pipe.lock();
        let native = pipe.native(&clip.model);
        let timeline = Timeline::new(clip.duration, clip.position.rate, &native);
        let sample = timeline.locate(clip.position.frame);
        if timeline.segments > 1 && !pipe.continues_from_image() {
            return Err(RunError::Failed(format!(
                "{label}: {} s is {} segments of this model's {} frames, and segments continue \
                 from the frame before, which needs an image-to-video (TI2V) model. Shorten \
                 Duration to {:.1} s or use a TI2V model",
                clip.duration,
                timeline.segments,
                native.frames,
                timeline.stride as f64 / native.fps
            )));
        }
        if job.effect == IMAGE_TO_VIDEO.id && !pipe.continues_from_image() {
            return Err(RunError::Failed(format!(
                "{label}: the {} model {} generates from text only; starting from the Source \
                 frame needs an image-to-video (TI2V) model such as Wan2.2 TI2V or the built-in \
                 dreamfx-tiny",
                pipe.family(),
                clip.model.display()
            )));
        }
        let condition = if job.effect == IMAGE_TO_VIDEO.id {
            let source = inputs.first().ok_or_else(|| {
                RunError::BadJob(format!("{label} needs the Source frame it starts from"))
            })?;
            let rgb = super::from_rgba_pixels(source, self.device).narrow(0, 0, 3);
            Some((
                job.inputs[0],
                fit::from_host(
                    &rgb,
                    native.width,
                    native.height,
                    clip.position.pixel_aspect,
                    clip.fit,
                ),
            ))
        } else {
            None
        };

        let condition_hash = condition.as_ref().map(|(hash, _)| *hash);
        let mut keys = segment_keys(&clip, &identity, &timeline, condition_hash, sample.segment);
        // A preview shows the final clip when it is made, else a draft: never a final
        // generation for a thumbnail.
        if clip.position.preview && !clip.draft && !keys.iter().all(|k| self.is_cached(k)) {
            clip.draft = true;
            keys = segment_keys(&clip, &identity, &timeline, condition_hash, sample.segment);
        }
        // The newest segment already made; the rest are generated from there in order.
        let mut have: Option<(usize, Tensor)> = None;
        for k in (0..=sample.segment).rev() {
            if let Some(t) = self.cached(&keys[k]) {
                have = Some((k, t));
                break;
            }
        }
        let first_missing = have.as_ref().map_or(0, |(k, _)| k + 1);
        let to_make = sample.segment + 1 - first_missing;
        let mut segment = have.map(|(_, t)| t);
        for (done, k) in (first_missing..=sample.segment).enumerate() {
            let start_frame = match (&segment, &condition) {
                (Some(prev), _) => Some(prev.get(-1).permute([2, 0, 1]).contiguous()),
                (None, Some((_, image))) => Some(image.shallow_clone()),
                (None, None) => None,
            };
            let description = format!(
                "{label} segment {} of {:?} (seed {})",
                k + 1,
                clip.prompt,
                clip.seed
            );
            let made = self.segment(
                &pipe,
                &clip,
                &timeline,
                k,
                keys[k],
                start_frame,
                &description,
                &mut |f| progress((done as f32 + f) / to_make as f32),
            )?;
            segment = Some(made);
        }
        let segment = segment.expect("the asked-for segment exists by now");
        // Model frames a and b ([h, w, 3]) as [3, h, w], and the host frame between them.
        let chw = |i: usize| segment.get(i as i64).permute([2, 0, 1]).contiguous();
        let frame = interpolate::between(&chw(sample.a), &chw(sample.b), sample.weight);
        let out = fit::to_host(
            &frame,
            job.width as i64,
            job.height as i64,
            clip.position.pixel_aspect,
            clip.fit,
        );
        Ok(to_rgba_pixels(&out))
    }
}

impl GenerateRunner {
    /// Segment `k`: from the disk cache if another process made it meanwhile, else generated
    /// here under a claim (others wait for it rather than make it twice).
    #[allow(clippy::too_many_arguments)]
    fn segment(
        &self,
        pipe: &Pipeline,
        clip: &ClipJob<'_>,
        timeline: &Timeline,
        k: usize,
        key: SegmentKey,
        start_frame: Option<Tensor>,
        description: &str,
        progress: &mut dyn FnMut(f32) -> bool,
    ) -> Result<Tensor, RunError> {
        let mut claim = None;
        if let Some(disk) = &self.disk {
            let waited =
                disk.wait_or_claim(&key, CLAIM_LEASE, Duration::from_millis(100), &mut || {
                    progress(0.0)
                });
            match waited {
                Ok(Waited::Ready(bytes)) => {
                    if let Some(t) = decode_segment(&bytes) {
                        self.segments.lock().insert(key, t.shallow_clone());
                        return Ok(t);
                    }
                }
                Ok(Waited::Mine(guard)) => claim = Some(guard),
                Ok(Waited::Cancelled) => return Err(RunError::Cancelled),
                Err(e) => warn!("disk cache: {e}; generating without a claim"),
            }
        }
        let native = pipe.native(&clip.model);
        let mix = timeline.segment_mean(clip.prompt_mix, k);
        let guidance = timeline.segment_mean(clip.guidance, k);
        let req = Request {
            prompt: clip.prompt.to_string(),
            negative_prompt: clip.negative_prompt.to_string(),
            // Each segment its own noise.
            seed: clip.seed.wrapping_add(1_000_003 * k as u64),
            steps: if clip.draft {
                clip.steps.min(DRAFT_STEPS)
            } else {
                clip.steps
            },
            guidance,
            shift: clip.shift,
            scheduler: None,
            restart: clip.draft.then_some(RestartSampling::OFF),
            width: native.width,
            height: native.height,
            frames: native.frames,
            first_frame: start_frame,
        };
        let started = Instant::now();
        let mut last_renewal = Instant::now();
        let prompt_end = Some((clip.prompt_end.trim(), mix));
        let generated = pipe
            .generate(&req, prompt_end, &mut |done, total| {
                if let Some(guard) = claim.as_mut() {
                    if last_renewal.elapsed() > CLAIM_LEASE / 4 {
                        last_renewal = Instant::now();
                        if let Err(e) = guard.renew() {
                            warn!("disk cache: renewing a claim: {e}");
                        }
                    }
                }
                progress(done as f32 / total.max(1) as f32)
            })
            .map_err(|e| match e {
                PipelineError::Cancelled => RunError::Cancelled,
                e => failed(clip, e),
            })?;
        self.generated.fetch_add(1, Ordering::Relaxed);
        let video = generated.video.to_kind(Kind::Float).contiguous();
        if video.isfinite().all().int64_value(&[]) == 0 {
            return Err(RunError::Failed(format!(
                "{}: the model produced NaN or infinite values (seed {}); nothing was cached. \
                 Try other Guidance or Shift values, or check the model's weights",
                clip.label(),
                clip.seed
            )));
        }
        info!(
            "{description}: {} frames of {}x{} in {:.2?}",
            native.frames,
            native.width,
            native.height,
            started.elapsed()
        );
        self.remember(key, &video, description);
        drop(claim);
        Ok(video)
    }
}

fn failed(clip: &ClipJob<'_>, e: PipelineError) -> RunError {
    RunError::Failed(format!("{}: {e}", clip.label()))
}
