//! Text to Video: a clip from the prompt alone. On hosts without a generator context it sits on
//! a clip (filter, general) and ignores its Source.
use dreamfx_effects::{Context, EffectSpec, TEXT_TO_VIDEO};
use dreamfx_host_adapter::effect::Effect;
use dreamfx_host_adapter::sys::*;
use dreamfx_host_adapter::{ActionCall, Error, Reply};

use super::{instance_context, OfxEffect};
use crate::generate;

pub struct TextToVideo;

impl OfxEffect for TextToVideo {
    const SPEC: &'static EffectSpec = &TEXT_TO_VIDEO;

    fn render(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        generate::render(Self::SPEC, effect, call)
    }

    /// No Source pixels are read: an empty region, so the host renders nothing upstream.
    fn regions_of_interest(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        if instance_context(effect) == Context::Generator {
            return Ok(Reply::Default);
        }
        call.out_args
            .set_doubles(&clip_prop(kOfxImageClipPropRoI_, "Source"), &[0.0; 4])?;
        Ok(Reply::Ok)
    }

    fn region_of_definition(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        generate::region_of_definition(effect, call)
    }

    fn clip_preferences(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        generate::clip_preferences(effect, call)
    }

    fn time_domain(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        generate::time_domain(Self::SPEC, effect, call)
    }

    fn instance_changed(
        effect: &Effect,
        call: &ActionCall<'_>,
        name: &str,
    ) -> Result<Reply, Error> {
        generate::instance_changed(Self::SPEC, effect, call, name)
    }
}
