//! Turns an effect's declarative description into OFX descriptors.
use dreamfx_effects::{Context, EffectSpec, ParamKind, GROUPING};
use dreamfx_host_adapter::effect::Effect;
use dreamfx_host_adapter::sys::*;
use dreamfx_host_adapter::Error;

pub fn context_name(c: Context) -> &'static std::ffi::CStr {
    match c {
        Context::Filter => kOfxImageEffectContextFilter,
        Context::General => kOfxImageEffectContextGeneral,
        Context::Generator => kOfxImageEffectContextGenerator,
    }
}

/// kOfxActionDescribe: the plugin-wide properties.
///
/// Only what the standard makes mandatory, and what dreamfx cannot work without, fails describe
/// (the error names the property); everything else goes through `optional()`, because hosts
/// differ in which properties they define (DESIGN.md §7: the official HostSupport answers
/// kOfxStatErrUnknown for a name it does not know).
pub fn describe(effect: &Effect, spec: &EffectSpec) -> Result<(), Error> {
    plugin_props(effect, spec).map_err(|e| reported(effect, spec, e))
}

/// The context named by its OFX string, if dreamfx knows it.
pub fn context_from_name(name: &str) -> Option<Context> {
    [Context::Filter, Context::General, Context::Generator]
        .into_iter()
        .find(|c| context_name(*c).to_bytes() == name.as_bytes())
}

/// kOfxImageEffectActionDescribeInContext: the clips of `context` and the parameters.
pub fn describe_in_context(
    effect: &Effect,
    spec: &EffectSpec,
    context: Context,
) -> Result<(), Error> {
    clips_and_params(effect, spec, context).map_err(|e| reported(effect, spec, e))
}

/// A host that refuses a mandatory property would otherwise just not list the effect: tell
/// the user which property, in the host's own message window.
fn reported(effect: &Effect, spec: &EffectSpec, e: Error) -> Error {
    let text = format!(
        "dreamfx: {} cannot be described to this host: {e}. Please report this host and \
         version to the dreamfx developers.",
        spec.label
    );
    effect.message(kOfxMessageError, &text);
    Error::status(e.status, text)
}

fn plugin_props(effect: &Effect, spec: &EffectSpec) -> Result<(), Error> {
    let p = effect.props()?;
    p.set_string(kOfxPropLabel, 0, spec.label)?;
    for (i, c) in spec.contexts.iter().enumerate() {
        p.set_cstr(
            kOfxImageEffectPropSupportedContexts,
            i as i32,
            context_name(*c),
        )?;
    }
    for (i, d) in [
        kOfxBitDepthByte,
        kOfxBitDepthShort,
        kOfxBitDepthHalf,
        kOfxBitDepthFloat,
    ]
    .iter()
    .enumerate()
    {
        p.set_cstr(kOfxImageEffectPropSupportedPixelDepths, i as i32, d)?;
    }
    let o = p.optional();
    // OFX 1.2: hosts that know it show the version; HostSupport leaves it empty otherwise.
    o.set_int(kOfxPropVersion, 0, spec.version_major as i32);
    o.set_int(kOfxPropVersion, 1, spec.version_minor as i32);
    o.set_string(
        kOfxPropVersionLabel,
        0,
        &format!("{}.{}", spec.version_major, spec.version_minor),
    );
    // Fields are not rendered separately: a whole frame per render.
    o.set_int(kOfxImageEffectPluginPropFieldRenderTwiceAlways, 0, 0);
    o.set_string(kOfxImageEffectPluginPropGrouping, 0, GROUPING);
    o.set_string(kOfxPropPluginDescription, 0, spec.description);
    // A host without temporal access still renders the effect (Temporal Refine then works
    // from what it is given; see temporal_refine.rs).
    o.set_int(
        kOfxImageEffectPropTemporalClipAccess,
        0,
        spec.temporal_clip_access as i32,
    );
    // Flow needs whole frames: no tiles. Render calls may come from any thread at once.
    o.set_int(kOfxImageEffectPropSupportsTiles, 0, 0);
    o.set_int(kOfxImageEffectPropSupportsMultiResolution, 0, 1);
    o.set_int(kOfxImageEffectPropSupportsMultipleClipDepths, 0, 0);
    o.set_cstr(
        kOfxImageEffectPluginRenderThreadSafety,
        0,
        kOfxImageEffectRenderFullySafe,
    );
    o.set_int(kOfxImageEffectPluginPropHostFrameThreading, 0, 0);
    o.set_int(kOfxImageEffectPluginPropSingleInstance, 0, 0);
    Ok(())
}

fn clips_and_params(effect: &Effect, spec: &EffectSpec, context: Context) -> Result<(), Error> {
    // A generator context has no Source: define only the clips the context has.
    for clip in spec
        .clips
        .iter()
        .filter(|c| c.in_contexts.contains(&context))
    {
        let c = effect.define_clip(clip.name)?;
        c.set_cstr(
            kOfxImageEffectPropSupportedComponents,
            0,
            kOfxImageComponentRGBA,
        )?;
        let o = c.optional();
        // ofxCore.h says a label defaults to the name; HostSupport leaves it empty.
        o.set_string(kOfxPropLabel, 0, clip.name);
        o.set_cstr(
            kOfxImageEffectPropSupportedComponents,
            1,
            kOfxImageComponentRGB,
        );
        o.set_int(
            kOfxImageEffectPropTemporalClipAccess,
            0,
            spec.temporal_clip_access as i32,
        );
        o.set_int(kOfxImageClipPropOptional, 0, clip.optional as i32);
        o.set_int(kOfxImageClipPropIsMask, 0, clip.is_mask as i32);
        o.set_int(kOfxImageEffectPropSupportsTiles, 0, 0);
    }
    let out = effect.define_clip(
        kOfxImageEffectOutputClipName
            .to_str()
            .expect("the header's clip name is ASCII"),
    )?;
    out.set_cstr(
        kOfxImageEffectPropSupportedComponents,
        0,
        kOfxImageComponentRGBA,
    )?;
    let o = out.optional();
    o.set_cstr(kOfxPropLabel, 0, kOfxImageEffectOutputClipName);
    o.set_cstr(
        kOfxImageEffectPropSupportedComponents,
        1,
        kOfxImageComponentRGB,
    );
    o.set_int(kOfxImageEffectPropSupportsTiles, 0, 0);

    let params = effect.params()?;
    let mut groups: Vec<&str> = Vec::new();
    for spec in spec.params {
        if let Some(g) = spec.group {
            if !groups.contains(&g) {
                let gp = params.define(kOfxParamTypeGroup, g)?;
                gp.optional().set_string(kOfxPropLabel, 0, &capitalise(g));
                groups.push(g);
            }
        }
        let kind = match spec.kind {
            ParamKind::Double { .. } => kOfxParamTypeDouble,
            ParamKind::Int { .. } => kOfxParamTypeInteger,
            ParamKind::Bool { .. } => kOfxParamTypeBoolean,
            ParamKind::Choice { .. } => kOfxParamTypeChoice,
            ParamKind::PushButton => kOfxParamTypePushButton,
            ParamKind::Text { .. } | ParamKind::Status => kOfxParamTypeString,
        };
        let p = params.define(kind, spec.name)?;
        p.set_string(kOfxPropLabel, 0, spec.label)?;
        let o = p.optional();
        o.set_string(kOfxParamPropHint, 0, spec.hint);
        o.set_string(kOfxParamPropScriptName, 0, spec.name);
        if let Some(g) = spec.group {
            o.set_string(kOfxParamPropParent, 0, g);
        }
        match spec.kind {
            ParamKind::Double {
                default,
                min,
                max,
                display_min,
                display_max,
            } => {
                p.set_double(kOfxParamPropDefault, 0, default)?;
                p.set_double(kOfxParamPropMin, 0, min)?;
                p.set_double(kOfxParamPropMax, 0, max)?;
                p.set_double(kOfxParamPropDisplayMin, 0, display_min)?;
                p.set_double(kOfxParamPropDisplayMax, 0, display_max)?;
                o.set_cstr(kOfxParamPropDoubleType, 0, kOfxParamDoubleTypePlain);
            }
            ParamKind::Int {
                default,
                min,
                max,
                display_min,
                display_max,
            } => {
                p.set_int(kOfxParamPropDefault, 0, default as i32)?;
                p.set_int(kOfxParamPropMin, 0, min as i32)?;
                p.set_int(kOfxParamPropMax, 0, max as i32)?;
                p.set_int(kOfxParamPropDisplayMin, 0, display_min as i32)?;
                p.set_int(kOfxParamPropDisplayMax, 0, display_max as i32)?;
            }
            ParamKind::Bool { default } => p.set_int(kOfxParamPropDefault, 0, default as i32)?,
            ParamKind::Choice { options, default } => {
                for (i, o) in options.iter().enumerate() {
                    p.set_string(kOfxParamPropChoiceOption, i as i32, o)?;
                }
                p.set_int(kOfxParamPropDefault, 0, default as i32)?;
            }
            ParamKind::Text { default, multiline } => {
                p.set_string(kOfxParamPropDefault, 0, default)?;
                let mode = if multiline {
                    kOfxParamStringIsMultiLine
                } else {
                    kOfxParamStringIsSingleLine
                };
                o.set_cstr(kOfxParamPropStringMode, 0, mode);
            }
            ParamKind::Status => {
                // What the runtime says: shown, never typed into, never saved with the
                // project, and writing it must not trigger a render.
                o.set_cstr(kOfxParamPropStringMode, 0, kOfxParamStringIsSingleLine);
                o.set_int(kOfxParamPropEnabled, 0, 0);
                o.set_int(kOfxParamPropPersistant, 0, 0);
                o.set_int(kOfxParamPropEvaluateOnChange, 0, 0);
                o.set_int(kOfxParamPropCanUndo, 0, 0);
                o.set_int(kOfxParamPropAnimates, 0, 0);
            }
            ParamKind::PushButton => {}
        }
        if spec.in_job() {
            o.set_int(kOfxParamPropAnimates, 0, spec.animates as i32);
        }
    }
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
