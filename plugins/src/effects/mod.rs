//! The effect is the unit: each file here is one OFX plugin, an [`OfxEffect`] over its
//! declarative [`EffectSpec`]. What every effect does alike (describe, instances, caches, the
//! Clear Cache button, sequences, the persistent message after a render) is dispatched here, once.
//! Adding an effect: its spec in `effects/`, a file here, a line in [`REGISTRY`].
mod image_to_video;
mod temporal_refine;
mod text_to_video;

use std::ffi::{c_char, c_void};

use dreamfx_effects::{Context, EffectSpec};
use dreamfx_host_adapter::effect::Effect;
use dreamfx_host_adapter::sys::*;
use dreamfx_host_adapter::{dispatch, ActionCall, Error, Reply};

use crate::{describe, runtime_link};

pub use image_to_video::ImageToVideo;
pub use temporal_refine::TemporalRefine;
pub use text_to_video::TextToVideo;

/// One OFX effect. Every hook but `render` defaults to "do what the host does by default".
pub trait OfxEffect {
    const SPEC: &'static EffectSpec;

    /// kOfxImageEffectActionRender. An error of status kOfxStatFailed becomes the node's
    /// persistent message; success clears it.
    fn render(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error>;

    fn frames_needed(_effect: &Effect, _call: &ActionCall<'_>) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
    fn regions_of_interest(_effect: &Effect, _call: &ActionCall<'_>) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
    fn region_of_definition(_effect: &Effect, _call: &ActionCall<'_>) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
    fn is_identity(_effect: &Effect, _call: &ActionCall<'_>) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
    fn clip_preferences(_effect: &Effect, _call: &ActionCall<'_>) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
    fn time_domain(_effect: &Effect, _call: &ActionCall<'_>) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
    /// kOfxActionInstanceChanged for anything but the Clear Cache button (handled here).
    fn instance_changed(
        _effect: &Effect,
        _call: &ActionCall<'_>,
        _name: &str,
    ) -> Result<Reply, Error> {
        Ok(Reply::Default)
    }
}

/// An entry of the plugin table.
pub struct Registered {
    pub spec: &'static EffectSpec,
    pub main_entry: OfxPluginEntryPoint,
}

const fn register<E: OfxEffect>() -> Registered {
    Registered {
        spec: E::SPEC,
        main_entry: main_entry::<E>,
    }
}

/// Every effect of the bundle, in `OfxGetPlugin` order.
pub const REGISTRY: &[Registered] = &[
    register::<TemporalRefine>(),
    register::<TextToVideo>(),
    register::<ImageToVideo>(),
];

/// Each effect's own `mainEntry` (one monomorphised function per effect).
unsafe extern "C" fn main_entry<E: OfxEffect>(
    action: *const c_char,
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxStatus {
    dispatch(action, handle, in_args, out_args, on_action::<E>)
}

/// The instance's context (kOfxImageEffectPropContext); filter when the host does not say.
pub fn instance_context(effect: &Effect) -> Context {
    effect
        .props()
        .and_then(|p| p.get_string(kOfxImageEffectPropContext, 0))
        .ok()
        .and_then(|c| describe::context_from_name(&c))
        .unwrap_or(Context::Filter)
}

fn on_action<E: OfxEffect>(call: &ActionCall<'_>) -> Result<Reply, Error> {
    let a = call.action;
    if a == kOfxActionLoad || a == kOfxActionUnload {
        return Ok(Reply::Ok);
    }
    if a == kOfxActionDescribe {
        describe::describe(&Effect::from_raw(call.handle)?, E::SPEC)?;
        return Ok(Reply::Ok);
    }
    if a == kOfxImageEffectActionDescribeInContext {
        let effect = Effect::from_raw(call.handle)?;
        // The context is in the in-arguments; older hosts set it on the descriptor only.
        let name = call
            .in_args
            .get_string(kOfxImageEffectPropContext, 0)
            .or_else(|_| effect.props()?.get_string(kOfxImageEffectPropContext, 0))?;
        let context = describe::context_from_name(&name)
            .filter(|c| E::SPEC.contexts.contains(c))
            .ok_or_else(|| {
                Error::status(
                    kOfxStatErrMissingHostFeature,
                    format!("{} is not made for the context {name}", E::SPEC.label),
                )
            })?;
        describe::describe_in_context(&effect, E::SPEC, context)?;
        return Ok(Reply::Ok);
    }
    if a == kOfxActionPurgeCaches {
        runtime_link::reset();
        return Ok(Reply::Ok);
    }
    let effect = Effect::from_raw(call.handle)?;
    // Instances hold no state a render needs (hosts recreate them often): nothing to set up.
    if a == kOfxActionCreateInstance
        || a == kOfxActionDestroyInstance
        || a == kOfxImageEffectActionBeginSequenceRender
        || a == kOfxImageEffectActionEndSequenceRender
        || a == kOfxActionBeginInstanceChanged
        || a == kOfxActionEndInstanceChanged
    {
        return Ok(Reply::Ok);
    }
    if a == kOfxImageEffectActionRender {
        let result = E::render(&effect, call);
        match &result {
            Ok(_) => effect.set_persistent_message(None),
            Err(e) if e.status == kOfxStatFailed => {
                effect.set_persistent_message(Some((kOfxMessageError, &e.message)))
            }
            Err(_) => {}
        }
        return result;
    }
    if a == kOfxImageEffectActionGetFramesNeeded {
        return E::frames_needed(&effect, call);
    }
    if a == kOfxImageEffectActionGetRegionsOfInterest {
        return E::regions_of_interest(&effect, call);
    }
    if a == kOfxImageEffectActionGetRegionOfDefinition {
        return E::region_of_definition(&effect, call);
    }
    if a == kOfxImageEffectActionIsIdentity {
        return E::is_identity(&effect, call);
    }
    if a == kOfxImageEffectActionGetClipPreferences {
        return E::clip_preferences(&effect, call);
    }
    if a == kOfxImageEffectActionGetTimeDomain {
        return E::time_domain(&effect, call);
    }
    if a == kOfxActionInstanceChanged {
        let name = call.in_args.get_string(kOfxPropName, 0).unwrap_or_default();
        if name == "clearCache" {
            clear_cache(&effect);
            return Ok(Reply::Ok);
        }
        return E::instance_changed(&effect, call, &name);
    }
    Ok(Reply::Default)
}

/// The Clear Cache button: a press never fetches images, it only tells the runtime.
fn clear_cache(effect: &Effect) {
    match runtime_link::with_connection(|c| c.purge_cache()) {
        Ok(()) => effect.set_persistent_message(None),
        Err(e) => effect.set_persistent_message(Some((kOfxMessageError, &e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_effect_is_registered_once() {
        let registered: Vec<&str> = REGISTRY.iter().map(|r| r.spec.id).collect();
        let declared: Vec<&str> = dreamfx_effects::ALL.iter().map(|e| e.id).collect();
        assert_eq!(registered, declared);
    }
}
