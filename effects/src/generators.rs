//! Text to Video and Image to Video: a clip generated once from the parameters (and, for Image
//! to Video, one Source frame), served frame by frame. The parameter names are the interface
//! for scripts and farm jobs: keep them.
use crate::{ClipSpec, Context, EffectSpec, InputWindow, ParamKind, ParamSpec};

/// Longest clip a generator makes: ten minutes (a farm job, not a scrub).
pub const MAX_CLIP_SECONDS: f64 = 600.0;

/// Host frames in a clip of `duration` seconds at `rate` frames/s: at least one. The plugin
/// samples animated parameters at exactly these frames and the runtime checks the count.
pub fn clip_host_frames(duration: f64, rate: f64) -> usize {
    (duration * rate).round().max(1.0) as usize
}

const PROMPT: ParamSpec = ParamSpec {
    name: "prompt",
    label: "Prompt",
    hint: "What the clip shows. The status line below names words the model cannot read.",
    kind: ParamKind::Text {
        default: "a red circle moves left on a dark blue background",
        multiline: true,
    },
    animates: false,
    group: None,
};

const NEGATIVE_PROMPT: ParamSpec = ParamSpec {
    name: "negativePrompt",
    label: "Negative Prompt",
    hint: "What to steer away from (used when Guidance is above 1).",
    kind: ParamKind::Text {
        default: "",
        multiline: true,
    },
    animates: false,
    group: None,
};

const PROMPT_END: ParamSpec = ParamSpec {
    name: "promptEnd",
    label: "Second Prompt",
    hint: "A second prompt to blend towards with Prompt Mix (empty: the first prompt).",
    kind: ParamKind::Text {
        default: "",
        multiline: true,
    },
    animates: false,
    group: Some("prompt blend"),
};

const PROMPT_MIX: ParamSpec = ParamSpec {
    name: "promptMix",
    label: "Prompt Mix",
    hint: "0 = Prompt, 1 = Second Prompt. Keyframe it to move from one to the other: each \
           segment of the clip reads the mix over its own frames.",
    kind: ParamKind::Double {
        default: 0.0,
        min: 0.0,
        max: 1.0,
        display_min: 0.0,
        display_max: 1.0,
    },
    animates: true,
    group: Some("prompt blend"),
};

const SEED: ParamSpec = ParamSpec {
    name: "seed",
    label: "Seed",
    hint: "Same seed and parameters, same clip: on every machine of the same device kind.",
    kind: ParamKind::Int {
        default: 0,
        min: 0,
        max: i32::MAX as i64,
        display_min: 0,
        display_max: 1000,
    },
    animates: false,
    group: None,
};

const STEPS: ParamSpec = ParamSpec {
    name: "steps",
    label: "Steps",
    hint: "Denoising steps at Final quality: more are slower and usually cleaner.",
    kind: ParamKind::Int {
        default: 20,
        min: 1,
        max: 200,
        display_min: 1,
        display_max: 60,
    },
    animates: false,
    group: None,
};

const GUIDANCE: ParamSpec = ParamSpec {
    name: "guidance",
    label: "Guidance",
    hint: "How strongly the clip follows the prompt (1 = no guidance). Animatable: each \
           segment reads its mean over its own frames.",
    kind: ParamKind::Double {
        default: 4.0,
        min: 1.0,
        max: 20.0,
        display_min: 1.0,
        display_max: 10.0,
    },
    animates: true,
    group: None,
};

const SHIFT: ParamSpec = ParamSpec {
    name: "shift",
    label: "Shift",
    hint: "Flow-matching shift of the sampler (0 = the model's own).",
    kind: ParamKind::Double {
        default: 0.0,
        min: 0.0,
        max: 20.0,
        display_min: 0.0,
        display_max: 10.0,
    },
    animates: false,
    group: Some("advanced"),
};

const MODEL: ParamSpec = ParamSpec {
    name: "model",
    label: "Model",
    hint: "A model directory in the diffusers layout (model_index.json, transformer/, vae/, \
           text_encoder/, tokenizer/, scheduler/). Empty: the built-in dreamfx-tiny.",
    kind: ParamKind::Text {
        default: "",
        multiline: false,
    },
    animates: false,
    group: Some("advanced"),
};

const START_FRAME: ParamSpec = ParamSpec {
    name: "startFrame",
    label: "Start Frame",
    hint: "The host frame where the generated clip starts; before it the first frame holds, \
           after the clip's end the last.",
    kind: ParamKind::Int {
        default: 0,
        min: -1_000_000,
        max: 1_000_000,
        display_min: 0,
        display_max: 1000,
    },
    animates: false,
    group: None,
};

const DURATION: ParamSpec = ParamSpec {
    name: "duration",
    label: "Duration",
    hint: "Seconds of generated clip. Longer than one model window, it is made in segments, \
           each continuing from the last frame of the one before.",
    kind: ParamKind::Double {
        default: 2.0,
        min: 0.1,
        max: MAX_CLIP_SECONDS,
        display_min: 0.5,
        display_max: 20.0,
    },
    animates: false,
    group: None,
};

const QUALITY: ParamSpec = ParamSpec {
    name: "quality",
    label: "Quality",
    hint: "Draft: few steps, for blocking out a shot; Final: the Steps above.",
    kind: ParamKind::Choice {
        options: &["Draft", "Final"],
        default: 1,
    },
    animates: false,
    group: None,
};

const FIT: ParamSpec = ParamSpec {
    name: "fit",
    label: "Fit",
    hint: "How the model's frame meets the host's: fill it (crop), fit inside it (bars), or \
           stretch.",
    kind: ParamKind::Choice {
        options: &["Fill (crop)", "Fit (letterbox)", "Stretch"],
        default: 0,
    },
    animates: false,
    group: None,
};

const GENERATE_NOW: ParamSpec = ParamSpec {
    name: "generateNow",
    label: "Generate Now",
    hint: "Generate the whole clip in the runtime now, so playback finds it ready.",
    kind: ParamKind::PushButton,
    animates: false,
    group: None,
};

const CLEAR_CACHE: ParamSpec = ParamSpec {
    name: "clearCache",
    label: "Clear Cache",
    hint: "Forget every frame the dreamfx runtime holds in memory.",
    kind: ParamKind::PushButton,
    animates: false,
    group: None,
};

const STATUS: ParamSpec = ParamSpec {
    name: "status",
    label: "Status",
    hint: "What the runtime says about this clip: unknown prompt words, progress, cache.",
    kind: ParamKind::Status,
    animates: false,
    group: None,
};

const CONDITION_FRAME: ParamSpec = ParamSpec {
    name: "conditionFrame",
    label: "Condition Frame",
    hint: "The Source frame the clip starts from (-1: the Source clip's first frame).",
    kind: ParamKind::Int {
        default: -1,
        min: -1,
        max: 1_000_000,
        display_min: -1,
        display_max: 1000,
    },
    animates: false,
    group: None,
};

pub const TEXT_TO_VIDEO: EffectSpec = EffectSpec {
    id: "dreamfx.TextToVideo",
    version_major: 1,
    version_minor: 0,
    algorithm_version: 2,
    label: "Text to Video",
    description: "Generates a clip from a prompt with a video diffusion model (the built-in \
                  dreamfx-tiny, or Wan from a model directory). The clip is generated once and \
                  every frame is served from the dreamfx runtime's cache.",
    contexts: &[Context::Generator, Context::General, Context::Filter],
    // Hosts without a generator context (MLT, Nuke) put it on a clip: the Source is ignored.
    clips: &[ClipSpec {
        name: "Source",
        optional: true,
        is_mask: false,
        in_contexts: &[Context::General, Context::Filter],
    }],
    params: &[
        PROMPT,
        NEGATIVE_PROMPT,
        SEED,
        STEPS,
        GUIDANCE,
        DURATION,
        START_FRAME,
        QUALITY,
        FIT,
        PROMPT_END,
        PROMPT_MIX,
        SHIFT,
        MODEL,
        GENERATE_NOW,
        CLEAR_CACHE,
        STATUS,
    ],
    temporal_clip_access: false,
    inputs: InputWindow::Nothing,
    frame_varying: true,
};

pub const IMAGE_TO_VIDEO: EffectSpec = EffectSpec {
    id: "dreamfx.ImageToVideo",
    version_major: 1,
    version_minor: 0,
    algorithm_version: 2,
    label: "Image to Video",
    description: "Animates one Source frame under a prompt: the generated clip starts from that \
                  frame (first-frame conditioning) and moves as the prompt says.",
    contexts: &[Context::Filter, Context::General],
    clips: &[ClipSpec {
        name: "Source",
        optional: false,
        is_mask: false,
        in_contexts: &[Context::Filter, Context::General],
    }],
    params: &[
        PROMPT,
        NEGATIVE_PROMPT,
        CONDITION_FRAME,
        SEED,
        STEPS,
        GUIDANCE,
        DURATION,
        START_FRAME,
        QUALITY,
        FIT,
        PROMPT_END,
        PROMPT_MIX,
        SHIFT,
        MODEL,
        GENERATE_NOW,
        CLEAR_CACHE,
        STATUS,
    ],
    // The condition frame is read at another time than the one rendered.
    temporal_clip_access: true,
    inputs: InputWindow::Conditioning,
    frame_varying: true,
};
