//! Image to Video: a clip that starts from one Source frame (the condition frame) and moves as
//! the prompt says.
use dreamfx_effects::{EffectSpec, IMAGE_TO_VIDEO};
use dreamfx_host_adapter::effect::Effect;
use dreamfx_host_adapter::sys::*;
use dreamfx_host_adapter::{ActionCall, Error, Reply};

use super::OfxEffect;
use crate::generate;

pub struct ImageToVideo;

impl OfxEffect for ImageToVideo {
    const SPEC: &'static EffectSpec = &IMAGE_TO_VIDEO;

    fn render(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        generate::render(Self::SPEC, effect, call)
    }

    /// The condition frame, and t (hosts expect the current frame to be asked for too).
    fn frames_needed(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        let t = call.in_args.get_double(kOfxPropTime, 0)?;
        let c = generate::condition_time(Self::SPEC, effect, t)?;
        call.out_args.set_doubles(
            &clip_prop(kOfxImageClipPropFrameRange_, "Source"),
            &[c, c, t, t],
        )?;
        Ok(Reply::Ok)
    }

    /// The model reads the whole condition frame, whatever the render window.
    fn regions_of_interest(effect: &Effect, call: &ActionCall<'_>) -> Result<Reply, Error> {
        let t = call.in_args.get_double(kOfxPropTime, 0)?;
        match effect
            .clip("Source")
            .and_then(|c| c.region_of_definition(t))
        {
            Ok(r) => {
                call.out_args.set_doubles(
                    &clip_prop(kOfxImageClipPropRoI_, "Source"),
                    &[r.x1, r.y1, r.x2, r.y2],
                )?;
                Ok(Reply::Ok)
            }
            Err(_) => Ok(Reply::Default),
        }
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
