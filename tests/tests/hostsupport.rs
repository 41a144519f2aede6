//! The official ASWF HostSupport library (the host code Natron is built on) as a second,
//! independent host. The project's own test host (`dreamfx_test_host`) was written by the same
//! hands as the plug-in and could share their misreadings of the standard; HostSupport's were
//! not: it refuses property names the standard does not define, fills in its own defaults and
//! runs the actions its own way. `tests/hostsupport/host.cpp` is a small
//! headless host on it; `scripts/build-hostsupport-host.sh` builds it (scripts/test.sh does).
//!
//! Checked here: it describes every plug-in of the built bundle in every context it declares
//! and sees the clips and parameters (with their defaults and ranges) the project's own host
//! sees; and an instance it creates, with parameters set as a user would (a keyframed
//! strength too), renders in byte and float exactly the pixels the project's own host renders
//! for the same frames and parameters.
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use dreamfx_host_adapter::sys::*;
use dreamfx_test_host::{
    BitDepth, ClipSetup, Context, Frame, HostProfile, InstanceSetup, OutputSpec, PropSnapshot,
    PropValue,
};
use serde_json::Value;

const PLUGIN: &str = "dreamfx.TemporalRefine";
const W: usize = 64;
const H: usize = 48;
/// The Source clip: frames 0..=9.
const FRAMES: usize = 10;
/// Radius 2, strength keyed 0 at frame 2 and 1 at frame 8.
const RADIUS: i32 = 2;
const KEYS: [(f64, f64); 2] = [(2.0, 0.0), (8.0, 1.0)];
/// Before the first key (strength 0: identity), halfway between the keys (0.5) and after the
/// last key at the end of the clip (1, with the frames needed clamped to the clip).
const TIMES: [f64; 3] = [1.0, 5.0, 9.0];

fn s(c: &std::ffi::CStr) -> &str {
    c.to_str().unwrap()
}

/// Runs the HostSupport host; its stdout as JSON lines. Panics (with everything it printed)
/// when it fails.
fn run_host(args: &[&str], env: &[(&str, &Path)]) -> Vec<Value> {
    let mut c = Command::new(hostsupport_host());
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "dreamfx-hostsupport-host {args:?} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn of_kind<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["kind"] == kind).collect()
}

/// Where the two hosts fill in a property the plug-in left unset differently, which is not the
/// plug-in's doing: a label is "" in HostSupport, the object's name in the project's host (as
/// ofxCore.h says); the effect's kOfxPropVersion is empty in HostSupport, the version of the
/// OfxPlugin struct in the project's host. (The plug-in could set both itself; then the hosts
/// agree and this allows nothing.)
fn hosts_default_differently(
    name: &str,
    listed: &Value,
    expected: &PropValue,
    object: &str,
) -> bool {
    let label = [kOfxPropLabel, kOfxPropShortLabel, kOfxPropLongLabel]
        .iter()
        .any(|l| s(l) == name);
    (label
        && *listed == serde_json::json!([""])
        && *expected == PropValue::Str(vec![object.to_string()]))
        || (name == s(kOfxPropVersion) && *listed == serde_json::json!([]))
}

/// A property of a listing line's "props" as the project's test host represents it. The
/// listing does not say whether [7] is an int or a double, so the expected value decides.
fn prop_matches(listed: &Value, expected: &PropValue) -> bool {
    let Some(a) = listed.as_array() else {
        return false;
    };
    match expected {
        PropValue::Str(v) => a.len() == v.len() && a.iter().zip(v).all(|(x, y)| x == y),
        PropValue::Int(v) => {
            a.len() == v.len() && a.iter().zip(v).all(|(x, y)| x.as_i64() == Some(*y as i64))
        }
        PropValue::Double(v) => {
            a.len() == v.len() && a.iter().zip(v).all(|(x, y)| x.as_f64() == Some(*y))
        }
        PropValue::Pointer(_) => true,
    }
}

#[test]
fn the_official_host_library_describes_every_plugin_in_every_context() {
    private_runtime_dir("hostsupport");
    let dir = bundle_path().parent().unwrap().to_path_buf();
    let lines = run_host(&["describe", dir.to_str().unwrap()], &[]);
    let dump = || {
        lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(of_kind(&lines, "error").is_empty(), "errors:\n{}", dump());
    // The lines of one plug-in (and context), by kind.
    let of = |kind: &str, id: &str, context: Option<&str>| -> Vec<&Value> {
        of_kind(&lines, kind)
            .into_iter()
            .filter(|l| {
                (l["plugin"] == id || l["id"] == id) && context.is_none_or(|c| l["context"] == c)
            })
            .collect()
    };

    // Every plug-in the project's own host finds in the bundle, HostSupport found too.
    let (_host, bundle) = load(HostProfile::default(), "hostsupport");
    let listed: Vec<&str> = of_kind(&lines, "plugin")
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, bundle.plugins(), "{}", dump());
    assert!(listed.contains(&PLUGIN));

    let mut differences = Vec::new();
    for id in &listed {
        let plugin = of("plugin", id, None)[0];
        let ours = bundle.plugin(id).unwrap();
        let base = ours.describe().unwrap();
        // Every context it declares was described, and nothing else.
        let declared: Vec<&str> = plugin["props"][s(kOfxImageEffectPropSupportedContexts)]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let described: Vec<&str> = of("context", id, None)
            .iter()
            .map(|c| c["context"].as_str().unwrap())
            .collect();
        assert!(!declared.is_empty(), "{id} declares no context");
        // HostSupport describes the contexts in its own order (filter, general, generator).
        fn sorted<'a>(v: &[&'a str]) -> Vec<&'a str> {
            let mut v = v.to_vec();
            v.sort();
            v
        }
        assert_eq!(sorted(&described), sorted(&declared), "{id}");
        assert_eq!(
            declared,
            base.supported_contexts()
                .iter()
                .map(|c| s(c.ofx_name()))
                .collect::<Vec<_>>(),
            "{id}"
        );

        // What the project's own host sees in each context, HostSupport sees too: the same
        // clips and parameters in the same order, and every property on them with the same
        // value.
        for context in &described {
            let d = ours
                .describe_in_context(Context::from_ofx(context).unwrap())
                .unwrap();
            let names = |kind: &str| -> Vec<&str> {
                of(kind, id, Some(context))
                    .iter()
                    .map(|l| l["name"].as_str().unwrap())
                    .collect()
            };
            let by_name = |kind: &str| -> BTreeMap<&str, &Value> {
                of(kind, id, Some(context))
                    .into_iter()
                    .map(|l| (l["name"].as_str().unwrap(), l))
                    .collect()
            };
            assert_eq!(
                names("clip"),
                d.clips.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                "{id} {context}"
            );
            assert_eq!(
                names("param"),
                d.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                "{id} {context}"
            );
            let (clips, params) = (by_name("clip"), by_name("param"));
            let mut compare = |what: String, object: &str, listed: &Value, props: &PropSnapshot| {
                for name in props.names() {
                    let expected = props.get(name).unwrap();
                    match listed.get(name) {
                        // A property HostSupport does not hold is one the standard does not
                        // define for this object; the plug-in may set such optional ones.
                        None => {}
                        Some(v) if prop_matches(v, expected) => {}
                        Some(v) if hosts_default_differently(name, v, expected, object) => {}
                        Some(v) => differences.push(format!(
                            "{id} {context} {what} {name}: {v} in HostSupport, {expected:?}"
                        )),
                    }
                }
            };
            let effect = of("context", id, Some(context))[0];
            compare("effect".into(), id, &effect["props"], &d.props);
            for c in &d.clips {
                compare(
                    format!("clip {}", c.name),
                    &c.name,
                    &clips[c.name.as_str()]["props"],
                    &c.props,
                );
            }
            for p in &d.params {
                let listed = params[p.name.as_str()];
                assert_eq!(
                    listed["type"],
                    s(p.param_type.ofx_name()),
                    "{id} {}",
                    p.name
                );
                compare(
                    format!("param {}", p.name),
                    &p.name,
                    &listed["props"],
                    &p.props,
                );
            }
        }
    }
    assert!(
        differences.is_empty(),
        "HostSupport and the project's test host disagree:\n{}",
        differences.join("\n")
    );

    // And Temporal Refine's values that matter, by name.
    let plugin = of("plugin", PLUGIN, None)[0];
    assert_eq!(plugin["props"][s(kOfxPropLabel)][0], "Temporal Refine");
    assert_eq!(
        plugin["props"][s(kOfxImageEffectPropTemporalClipAccess)][0],
        1
    );
    let filter = Some(s(kOfxImageEffectContextFilter));
    let contexts: Vec<&Value> = of("context", PLUGIN, None)
        .iter()
        .map(|c| &c["context"])
        .collect();
    assert_eq!(contexts, vec![s(kOfxImageEffectContextFilter)]);
    let clips: Vec<&Value> = of("clip", PLUGIN, filter)
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(
        clips,
        vec![
            kOfxImageEffectSimpleSourceClipName,
            kOfxImageEffectOutputClipName
        ]
        .into_iter()
        .map(s)
        .collect::<Vec<_>>()
    );
    let param = |name: &str| -> &Value {
        of("param", PLUGIN, filter)
            .into_iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no param {name}:\n{}", dump()))
    };
    let prop = |name: &str, prop: &std::ffi::CStr| param(name)["props"][s(prop)].clone();
    assert_eq!(param("radius")["type"], s(kOfxParamTypeInteger));
    assert_eq!(prop("radius", kOfxParamPropDefault), serde_json::json!([7]));
    assert_eq!(prop("radius", kOfxParamPropMin), serde_json::json!([1]));
    assert_eq!(prop("radius", kOfxParamPropMax), serde_json::json!([15]));
    assert_eq!(
        prop("radius", kOfxParamPropAnimates),
        serde_json::json!([0])
    );
    assert_eq!(param("strength")["type"], s(kOfxParamTypeDouble));
    assert_eq!(
        prop("strength", kOfxParamPropDefault)[0].as_f64(),
        Some(1.0)
    );
    assert_eq!(prop("strength", kOfxParamPropMin)[0].as_f64(), Some(0.0));
    assert_eq!(prop("strength", kOfxParamPropMax)[0].as_f64(), Some(1.0));
    assert_eq!(
        prop("strength", kOfxParamPropAnimates),
        serde_json::json!([1])
    );
    assert_eq!(param("output")["type"], s(kOfxParamTypeChoice));
    assert_eq!(
        prop("output", kOfxParamPropChoiceOption)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(param("clearCache")["type"], s(kOfxParamTypePushButton));
}

/// Writes the degraded clip as the HostSupport host reads it: `<t>.rgba`, RGBA f32, rows
/// top-down.
fn write_frames(dir: &Path) -> Vec<Frame> {
    std::fs::create_dir_all(dir).unwrap();
    (0..FRAMES)
        .map(|t| {
            let f = degraded_frame(W, H, t as f64);
            let bytes: Vec<u8> = f.rgba.iter().flat_map(|v| v.to_ne_bytes()).collect();
            std::fs::write(dir.join(format!("{t}.rgba")), bytes).unwrap();
            f
        })
        .collect()
}

/// A raw output of the HostSupport host (rows top-down, RGBA in `depth`) as the project's
/// test host decodes its own images: u8 / 255, or the f32 itself.
fn read_output(path: &Path, depth: BitDepth) -> Frame {
    let bytes = std::fs::read(path).unwrap();
    let rgba: Vec<f32> = match depth {
        BitDepth::Byte => bytes.iter().map(|b| *b as f32 / 255.0).collect(),
        BitDepth::Float => bytes
            .chunks_exact(4)
            .map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        other => panic!("{other:?} is not compared here"),
    };
    assert_eq!(rgba.len(), W * H * 4, "{}", path.display());
    Frame {
        width: W,
        height: H,
        rgba,
    }
}

#[test]
fn renders_the_pixels_of_the_projects_own_host_in_byte_and_float() {
    let dir = private_runtime_dir("hostsupport");
    let work = dir.join("hostsupport-render");
    let frames = write_frames(&work.join("source"));
    // The HostSupport host's plug-in talks to a runtime of its own (a separate process in its
    // own directory), so its pixels are computed afresh, not answered from the frame cache of
    // the runtime the project's host used.
    let child_runtime = dir.join("hostsupport-host-runtime");

    let (_host, bundle) = load(HostProfile::default(), "hostsupport");
    let plugin = bundle.plugin(PLUGIN).unwrap();
    for (depth, word) in [(BitDepth::Byte, "byte"), (BitDepth::Float, "float")] {
        let out_dir = work.join(word);
        std::fs::create_dir_all(&out_dir).unwrap();
        let times = TIMES.map(|t| t.to_string()).join(",");
        let radius = format!("radius={RADIUS}");
        let keys: Vec<String> = KEYS
            .iter()
            .map(|(t, v)| format!("strength@{t}={v}"))
            .collect();
        let size = format!("{W}x{H}");
        let frame_range = format!("0:{}", FRAMES - 1);
        let plugin_dir = bundle_path().parent().unwrap().to_path_buf();
        let source_dir = work.join("source");
        let mut args = vec![
            "render",
            plugin_dir.to_str().unwrap(),
            "--plugin",
            PLUGIN,
            "--size",
            &size,
            "--source",
            source_dir.to_str().unwrap(),
            "--frames",
            &frame_range,
            "--fps",
            "24",
            "--depth",
            word,
            "--render",
            &times,
            "--out",
            out_dir.to_str().unwrap(),
            "--set",
            &radius,
        ];
        for k in &keys {
            args.push("--key");
            args.push(k.as_str());
        }
        let lines = run_host(
            &args,
            &[
                ("DREAMFX_RUNTIME_DIR", &child_runtime),
                ("DREAMFX_LOG_DIR", &child_runtime),
            ],
        );
        let dump = || {
            lines
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        };

        // The host's view of the sequence: the plug-in asked for radius frames each side
        // (clamped to the clip), fetched exactly those, said identity where strength is 0,
        // and released every image.
        let fetched = |t: f64| -> Vec<f64> {
            // Fetches are printed in order; those of a render lie between its "roi" and
            // "render" lines.
            let mut in_render = false;
            let mut out = Vec::new();
            for l in &lines {
                if l["kind"] == "roi" {
                    in_render = l["time"] == t;
                } else if l["kind"] == "render" {
                    in_render = false;
                } else if in_render && l["kind"] == "fetch" && l["clip"] == "Source" {
                    out.push(l["time"].as_f64().unwrap());
                }
            }
            out.sort_by(f64::total_cmp);
            out
        };
        let needed = |t: f64| -> Value {
            of_kind(&lines, "frames_needed")
                .into_iter()
                .find(|l| l["time"] == t && l["clip"] == "Source")
                .unwrap_or_else(|| panic!("no frames needed at {t}:\n{}", dump()))["ranges"]
                .clone()
        };
        let range = |t: f64| -> Vec<Vec<f64>> {
            needed(t)
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect()
                })
                .collect()
        };
        assert_eq!(range(5.0), vec![vec![3.0, 7.0]]);
        assert_eq!(range(9.0), vec![vec![7.0, 9.0]]);
        assert_eq!(fetched(5.0), vec![3.0, 4.0, 5.0, 6.0, 7.0], "{}", dump());
        assert_eq!(fetched(9.0), vec![7.0, 8.0, 9.0], "{}", dump());
        let identity: Vec<f64> = of_kind(&lines, "identity")
            .iter()
            .map(|l| l["time"].as_f64().unwrap())
            .collect();
        assert_eq!(identity, vec![1.0], "strength 0 only at t=1:\n{}", dump());
        let rendered: Vec<f64> = of_kind(&lines, "render")
            .iter()
            .map(|l| l["time"].as_f64().unwrap())
            .collect();
        assert_eq!(rendered, vec![5.0, 9.0]);
        for l in of_kind(&lines, "clip_preferences") {
            assert_eq!(l["depth"], s(depth.ofx_name()), "{l}");
        }
        assert_eq!(of_kind(&lines, "images_outstanding")[0]["count"], 0);

        // The project's own host: the same clip, depth and parameters.
        let source = ClipSetup::from_frames(0.0, frames.clone()).depth(depth);
        let inst = plugin
            .create_instance(Context::Filter, InstanceSetup::new(W, H).source(source))
            .unwrap();
        inst.set_param("radius", RADIUS).unwrap();
        for (t, v) in KEYS {
            inst.set_key("strength", t, v).unwrap();
        }
        let spec = OutputSpec {
            depth,
            ..Default::default()
        };
        for t in TIMES {
            let ours = inst.render(t, inst.project_rect(), &spec).unwrap().frame;
            let theirs = read_output(&out_dir.join(format!("{word}-{t}.rgba")), depth);
            // Tolerance: none. Both hosts hand the plug-in the same bytes (the byte input is
            // rounded the same way in both) and the same parameter values (the same linear
            // interpolation between keys), so the plug-in sends the runtime the same job (the
            // two runtimes' logs show the same job hashes) and the runtime is deterministic on
            // the same input: measured max difference 0 in byte and in float, on every run.
            // At t=1 HostSupport copies the Source as the plug-in's is-identity answer says,
            // while the project's host renders, and the plug-in gives the input back exactly.
            // Any difference at all is a disagreement between a host and the plug-in.
            let max = ours
                .rgba
                .iter()
                .zip(&theirs.rgba)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                ours.rgba == theirs.rgba,
                "{word} at t={t}: HostSupport's pixels differ from the project's host \
                 (max difference {max})"
            );
        }
        // Not a vacuous comparison: the refined frames are not their input.
        for t in [5, 9] {
            let out = read_output(&out_dir.join(format!("{word}-{t}.rgba")), depth);
            assert!(
                mse(&out, &frames[t]) > 1e-6,
                "{word} at t={t} was not refined"
            );
        }
    }
}
