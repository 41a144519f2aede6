//! Job keys decide which pixels a render gets from the cache: the same job must give the same
//! key whatever order its parameters were gathered in, and any change to what shapes the
//! pixels (a parameter, the size, an input frame, the centre, the effect's version, the
//! engine) must give another key.
use dreamfx_protocol::job::{EngineIdentity, Job, ParamValue};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(ParamValue::Double),
        any::<i64>().prop_map(ParamValue::Int),
        any::<bool>().prop_map(ParamValue::Bool),
        any::<u32>().prop_map(ParamValue::Choice),
        "[a-z ]{0,12}".prop_map(ParamValue::Text),
        prop::collection::vec(-1e6f64..1e6, 1..50).prop_map(ParamValue::Curve),
    ]
}

fn job() -> impl Strategy<Value = Job> {
    (
        prop::collection::btree_map("[a-z]{1,8}", value(), 1..8),
        (1u32..4096, 1u32..4096),
        prop::collection::vec(any::<[u8; 32]>(), 1..6),
        any::<u32>(),
    )
        .prop_map(|(params, (width, height), inputs, version)| Job {
            effect: "dreamfx.TemporalRefine".into(),
            effect_version: version,
            params: params.into_iter().collect(),
            width,
            height,
            centre: (inputs.len() / 2) as u32,
            inputs,
            position: None,
        })
}

fn engine() -> EngineIdentity {
    EngineIdentity {
        model: "refine-v1".into(),
        device: "cpu".into(),
        precision: "f32".into(),
    }
}

/// A different value of the same kind.
fn other(v: &ParamValue) -> ParamValue {
    match v {
        ParamValue::Double(x) if x.abs() < 1e15 => ParamValue::Double(x + 1.0),
        ParamValue::Double(x) => ParamValue::Double(x * 0.5),
        ParamValue::Int(x) => ParamValue::Int(x.wrapping_add(1)),
        ParamValue::Bool(x) => ParamValue::Bool(!x),
        ParamValue::Choice(x) => ParamValue::Choice(x.wrapping_add(1)),
        ParamValue::Text(s) => ParamValue::Text(format!("{s}!")),
        // One keyframe moved: a different curve, so a different clip.
        ParamValue::Curve(c) => {
            let mut c = c.clone();
            let last = c.len() - 1;
            c[last] += 1.0;
            ParamValue::Curve(c)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn the_order_params_were_gathered_in_does_not_change_the_key(job in job(), rotate in 0usize..8) {
        let mut shuffled = job.clone();
        let n = shuffled.params.len();
        shuffled.params.rotate_left(rotate % n);
        shuffled.params.reverse();
        prop_assert_eq!(job.key(&engine()), shuffled.key(&engine()));
    }

    #[test]
    fn any_change_that_shapes_the_pixels_changes_the_key(job in job(), pick in any::<usize>()) {
        let base = job.key(&engine());
        let mut changed = Vec::new();
        let i = pick % job.params.len();
        let mut p = job.clone();
        p.params[i].1 = other(&p.params[i].1);
        changed.push(("a parameter", p.key(&engine())));
        let mut p = job.clone();
        p.width += 1;
        changed.push(("the width", p.key(&engine())));
        let mut p = job.clone();
        p.height += 1;
        changed.push(("the height", p.key(&engine())));
        let mut p = job.clone();
        let k = pick % p.inputs.len();
        p.inputs[k][0] ^= 1;
        changed.push(("an input frame", p.key(&engine())));
        let mut p = job.clone();
        p.centre += 1;
        changed.push(("the centre", p.key(&engine())));
        let mut p = job.clone();
        p.effect_version = p.effect_version.wrapping_add(1);
        changed.push(("the effect version", p.key(&engine())));
        let mut e = engine();
        e.device = "cuda".into();
        changed.push(("the device", job.key(&e)));
        for (what, key) in changed {
            prop_assert_ne!(base, key, "changing {} kept the key", what);
        }
    }
}
