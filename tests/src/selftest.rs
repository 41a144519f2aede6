//! The host driven end to end by a small in-process plugin ("test.Gain": out = Source(t) ×
//! gain(t), fetching Source at t−radius … t+radius), calling the suites exactly as a C plugin
//! would, variadic functions included.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

use dreamfx_host_adapter::sys::*;

use crate::*;

static HOST: AtomicPtr<OfxHost> = AtomicPtr::new(null_mut());

struct SyncPlugin(OfxPlugin);
// SAFETY: read-only static data.
unsafe impl Sync for SyncPlugin {}

static PLUGIN: SyncPlugin = SyncPlugin(OfxPlugin {
    pluginApi: c"OfxImageEffectPluginAPI".as_ptr(),
    apiVersion: 1,
    pluginIdentifier: c"test.Gain".as_ptr(),
    pluginVersionMajor: 1,
    pluginVersionMinor: 2,
    setHost: Some(set_host),
    mainEntry: Some(main_entry),
});

unsafe extern "C" fn count() -> c_int {
    1
}
unsafe extern "C" fn get(i: c_int) -> *mut OfxPlugin {
    if i == 0 {
        &PLUGIN.0 as *const OfxPlugin as *mut OfxPlugin
    } else {
        null_mut()
    }
}
unsafe extern "C" fn set_host(h: *mut OfxHost) {
    HOST.store(h, Ordering::SeqCst);
}

unsafe fn suite<T>(name: &CStr, v: c_int) -> Option<&'static T> {
    unsafe {
        let h = &*HOST.load(Ordering::SeqCst);
        let p = (h.fetchSuite.unwrap())(h.host, name.as_ptr(), v) as *const T;
        p.as_ref()
    }
}

type P = OfxPropertySetHandle;

struct S {
    prop: &'static OfxPropertySuiteV1,
    fx: &'static OfxImageEffectSuiteV1,
    par: &'static OfxParameterSuiteV1,
}
impl S {
    unsafe fn gi(&self, p: P, n: &CStr, i: c_int) -> c_int {
        let mut v = 0;
        assert_eq!(
            unsafe { (self.prop.propGetInt)(p, n.as_ptr(), i, &mut v) },
            kOfxStatOK,
            "{n:?}"
        );
        v
    }
    unsafe fn gd(&self, p: P, n: &CStr, i: c_int) -> f64 {
        let mut v = 0.0;
        assert_eq!(
            unsafe { (self.prop.propGetDouble)(p, n.as_ptr(), i, &mut v) },
            kOfxStatOK,
            "{n:?}"
        );
        v
    }
    unsafe fn gs(&self, p: P, n: &CStr) -> String {
        let mut v = null_mut();
        assert_eq!(
            unsafe { (self.prop.propGetString)(p, n.as_ptr(), 0, &mut v) },
            kOfxStatOK,
            "{n:?}"
        );
        unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned()
    }
    unsafe fn gp(&self, p: P, n: &CStr) -> *mut c_void {
        let mut v = null_mut();
        assert_eq!(
            unsafe { (self.prop.propGetPointer)(p, n.as_ptr(), 0, &mut v) },
            kOfxStatOK,
            "{n:?}"
        );
        v
    }
    unsafe fn param(&self, h: OfxImageEffectHandle, name: &CStr) -> OfxParamHandle {
        unsafe {
            let mut set = null_mut();
            (self.fx.getParamSet)(h, &mut set);
            let mut p = null_mut();
            assert_eq!(
                (self.par.paramGetHandle)(set, name.as_ptr(), &mut p, null_mut()),
                kOfxStatOK
            );
            p
        }
    }
}

struct Img {
    props: P,
    data: *mut u8,
    bounds: [c_int; 4],
    row_bytes: isize,
}

unsafe fn image(s: &S, h: OfxImageEffectHandle, clip: &CStr, t: f64) -> Option<Img> {
    unsafe {
        let mut c = null_mut();
        assert_eq!(
            (s.fx.clipGetHandle)(h, clip.as_ptr(), &mut c, null_mut()),
            kOfxStatOK
        );
        let mut props = null_mut();
        if (s.fx.clipGetImage)(c, t, std::ptr::null(), &mut props) != kOfxStatOK {
            return None;
        }
        assert_eq!(
            s.gs(props, kOfxImageEffectPropPixelDepth),
            "OfxBitDepthFloat"
        );
        assert_eq!(
            s.gs(props, kOfxImageEffectPropComponents),
            "OfxImageComponentRGBA"
        );
        let mut b = [0; 4];
        (s.prop.propGetIntN)(props, kOfxImagePropBounds.as_ptr(), 4, b.as_mut_ptr());
        Some(Img {
            props,
            data: s.gp(props, kOfxImagePropData) as *mut u8,
            bounds: b,
            row_bytes: s.gi(props, kOfxImagePropRowBytes, 0) as isize,
        })
    }
}

impl Img {
    unsafe fn px(&self, x: c_int, y: c_int) -> *mut f32 {
        let off =
            (y - self.bounds[1]) as isize * self.row_bytes + (x - self.bounds[0]) as isize * 16;
        unsafe { self.data.offset(off) as *mut f32 }
    }
}

unsafe extern "C" fn main_entry(
    action: *const c_char,
    handle: *const c_void,
    in_args: P,
    out_args: P,
) -> OfxStatus {
    unsafe {
        let a = CStr::from_ptr(action);
        let s = S {
            prop: suite(kOfxPropertySuite, 1).unwrap(),
            fx: suite(kOfxImageEffectSuite, 1).unwrap(),
            par: suite(kOfxParameterSuite, 1).unwrap(),
        };
        let h = handle as OfxImageEffectHandle;
        let mut props = null_mut();
        if a == kOfxActionDescribe {
            (s.fx.getPropertySet)(h, &mut props);
            (s.prop.propSetString)(props, kOfxPropLabel.as_ptr(), 0, c"Gain".as_ptr());
            (s.prop.propSetString)(
                props,
                kOfxImageEffectPropSupportedContexts.as_ptr(),
                0,
                kOfxImageEffectContextFilter.as_ptr(),
            );
            (s.prop.propSetString)(
                props,
                kOfxImageEffectPropSupportedPixelDepths.as_ptr(),
                0,
                kOfxBitDepthFloat.as_ptr(),
            );
            (s.prop.propSetInt)(props, kOfxImageEffectPropTemporalClipAccess.as_ptr(), 0, 1);
            return kOfxStatOK;
        }
        if a == kOfxImageEffectActionDescribeInContext {
            assert_eq!(
                s.gs(in_args, kOfxImageEffectPropContext),
                "OfxImageEffectContextFilter"
            );
            for clip in [
                kOfxImageEffectSimpleSourceClipName,
                kOfxImageEffectOutputClipName,
            ] {
                assert_eq!((s.fx.clipDefine)(h, clip.as_ptr(), &mut props), kOfxStatOK);
                (s.prop.propSetString)(
                    props,
                    kOfxImageEffectPropSupportedComponents.as_ptr(),
                    0,
                    kOfxImageComponentRGBA.as_ptr(),
                );
            }
            let mut set = null_mut();
            (s.fx.getParamSet)(h, &mut set);
            (s.par.paramDefine)(
                set,
                kOfxParamTypeDouble.as_ptr(),
                c"gain".as_ptr(),
                &mut props,
            );
            (s.prop.propSetDouble)(props, kOfxParamPropDefault.as_ptr(), 0, 2.0);
            (s.prop.propSetDouble)(props, kOfxParamPropMax.as_ptr(), 0, 10.0);
            (s.prop.propSetString)(props, kOfxParamPropHint.as_ptr(), 0, c"how much".as_ptr());
            // A type mismatch is refused.
            assert_eq!(
                (s.prop.propSetInt)(props, kOfxParamPropDefault.as_ptr(), 0, 1),
                kOfxStatErrValue
            );
            (s.par.paramDefine)(
                set,
                kOfxParamTypeInteger.as_ptr(),
                c"radius".as_ptr(),
                &mut props,
            );
            (s.prop.propSetInt)(props, kOfxParamPropDefault.as_ptr(), 0, 1);
            (s.par.paramDefine)(
                set,
                kOfxParamTypeString.as_ptr(),
                c"prompt".as_ptr(),
                &mut props,
            );
            (s.par.paramDefine)(
                set,
                kOfxParamTypeChoice.as_ptr(),
                c"mode".as_ptr(),
                &mut props,
            );
            (s.prop.propSetString)(props, kOfxParamPropChoiceOption.as_ptr(), 0, c"a".as_ptr());
            (s.prop.propSetString)(props, kOfxParamPropChoiceOption.as_ptr(), 1, c"b".as_ptr());
            return kOfxStatOK;
        }
        if a == kOfxActionInstanceChanged {
            if s.gs(in_args, kOfxPropName) == "prompt" {
                let mut text: *const c_char = std::ptr::null();
                (s.par.paramGetValue)(s.param(h, c"prompt"), &mut text as *mut *const c_char);
                let v2: Option<&OfxMessageSuiteV2> = suite(kOfxMessageSuite, 2);
                match v2.and_then(|m| m.setPersistentMessage) {
                    Some(f) => f(
                        h,
                        kOfxMessageError.as_ptr(),
                        c"".as_ptr(),
                        c"%s".as_ptr(),
                        text,
                    ),
                    None => {
                        let m: &OfxMessageSuiteV1 = suite(kOfxMessageSuite, 1).unwrap();
                        (m.message.unwrap())(
                            h,
                            kOfxMessageError.as_ptr(),
                            c"".as_ptr(),
                            c"%s".as_ptr(),
                            text,
                        )
                    }
                };
            }
            return kOfxStatOK;
        }
        if a == kOfxImageEffectActionGetFramesNeeded {
            let t = s.gd(in_args, kOfxPropTime, 0);
            let mut r: c_int = 0;
            (s.par.paramGetValueAtTime)(s.param(h, c"radius"), t, &mut r as *mut c_int);
            let range = [t - r as f64, t + r as f64];
            let name = clip_prop(kOfxImageClipPropFrameRange_, "Source");
            return (s.prop.propSetDoubleN)(out_args, name.as_ptr(), 2, range.as_ptr());
        }
        if a == kOfxImageEffectActionRender {
            let t = s.gd(in_args, kOfxPropTime, 0);
            let mut w = [0; 4];
            (s.prop.propGetIntN)(
                in_args,
                kOfxImageEffectPropRenderWindow.as_ptr(),
                4,
                w.as_mut_ptr(),
            );
            let mut gain = 0.0f64;
            (s.par.paramGetValueAtTime)(s.param(h, c"gain"), t, &mut gain as *mut f64);
            let mut r: c_int = 0;
            (s.par.paramGetValueAtTime)(s.param(h, c"radius"), t, &mut r as *mut c_int);
            let prog: Option<&OfxProgressSuiteV2> = suite(kOfxProgressSuite, 2);
            if let Some(p) = prog {
                (p.progressStart.unwrap())(h, c"gain".as_ptr(), c"id".as_ptr());
            }
            let mut centre = None;
            for k in -r..=r {
                let Some(img) = image(&s, h, kOfxImageEffectSimpleSourceClipName, t + k as f64)
                else {
                    continue;
                };
                if k == 0 {
                    centre = Some(img);
                } else {
                    assert_eq!((s.fx.clipReleaseImage)(img.props), kOfxStatOK);
                }
            }
            let src = centre.expect("source at t");
            if (s.fx.abort)(h) != 0 {
                (s.fx.clipReleaseImage)(src.props);
                return kOfxStatFailed;
            }
            let out = image(&s, h, kOfxImageEffectOutputClipName, t).expect("output");
            for y in w[1]..w[3] {
                for x in w[0]..w[2] {
                    let (i, o) = (src.px(x, y), out.px(x, y));
                    for c in 0..4 {
                        *o.add(c) = *i.add(c) * gain as f32;
                    }
                }
            }
            (s.fx.clipReleaseImage)(src.props);
            (s.fx.clipReleaseImage)(out.props);
            if let Some(p) = prog {
                (p.progressUpdate.unwrap())(h, 1.0);
                (p.progressEnd.unwrap())(h);
            }
            return kOfxStatOK;
        }
        if a == kOfxActionLoad || a == kOfxActionCreateInstance || a == kOfxActionDestroyInstance {
            return kOfxStatOK;
        }
        kOfxStatReplyDefault
    }
}

fn load(profile: HostProfile) -> (TestHost, Bundle) {
    let host = TestHost::new(profile);
    let bundle = unsafe {
        host.bundle_from_entry_points(
            "gain.ofx.bundle".into(),
            "gain.ofx".into(),
            None,
            count,
            get,
        )
    }
    .unwrap();
    (host, bundle)
}

/// Source frame t: a gradient whose red is t / 10.
fn source() -> ClipSetup {
    let frames = (0..10)
        .map(|t| {
            Frame::from_fn(6, 4, |x, y| {
                [t as f32 / 10.0, x as f32 / 8.0, y as f32 / 8.0, 1.0]
            })
        })
        .collect();
    ClipSetup::from_frames(0.0, frames)
        .row_padding(12)
        .negative_row_bytes(true)
}

fn check(out: &OutputImage, t: f64, gain: f32) {
    for y in 0..4usize {
        for x in 0..6usize {
            let p = out.frame.pixel(x, y);
            let e = [
                t as f32 / 10.0 * gain,
                x as f32 / 8.0 * gain,
                y as f32 / 8.0 * gain,
                gain,
            ];
            for c in 0..4 {
                assert!((p[c] - e[c]).abs() < 1e-5, "t={t} ({x},{y}) {p:?} vs {e:?}");
            }
        }
    }
}

// One test: the fake plugin keeps its host in a global, so scenarios run one after another.
#[test]
fn drives_an_in_process_plugin() {
    // Default profile.
    let (host, bundle) = load(HostProfile::default());
    assert_eq!(bundle.plugins(), vec!["test.Gain".to_owned()]);
    let plugin = bundle.plugin("test.Gain").unwrap();
    assert_eq!(plugin.info().version, (1, 2));
    assert_eq!(
        plugin.describe().unwrap().supported_contexts(),
        vec![Context::Filter]
    );
    assert!(plugin.describe_in_context(Context::General).is_err());
    let d = plugin.describe_in_context(Context::Filter).unwrap();
    assert_eq!(
        d.clips.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Source", "Output"]
    );
    let gain = d.param("gain").unwrap();
    assert_eq!(gain.param_type, ParamType::Double);
    assert_eq!(gain.props.double("OfxParamPropDefault"), Some(2.0));
    assert_eq!(gain.props.double("OfxParamPropMax"), Some(10.0));
    assert_eq!(
        gain.props.string("OfxParamPropHint").as_deref(),
        Some("how much")
    );
    assert_eq!(
        d.param("mode")
            .unwrap()
            .props
            .strings("OfxParamPropChoiceOption"),
        Some(vec!["a".into(), "b".into()])
    );

    let inst = plugin
        .create_instance(Context::Filter, InstanceSetup::new(6, 4).source(source()))
        .unwrap();
    assert_eq!(inst.param("gain"), Some(ParamValue::Double(2.0)));
    assert_eq!(
        inst.frames_needed(5.0).unwrap(),
        vec![("Source".to_owned(), vec![OfxRangeD { min: 4.0, max: 6.0 }])]
    );
    let spec = OutputSpec {
        row_bytes_padding: 8,
        negative_row_bytes: true,
        ..Default::default()
    };
    check(
        &inst.render(5.0, inst.project_rect(), &spec).unwrap(),
        5.0,
        2.0,
    );
    assert_eq!(inst.fetched_times("Source"), vec![4.0, 5.0, 6.0]);
    assert_eq!(inst.fetched_times("Output"), vec![5.0]);
    assert_eq!(inst.outstanding_images(), 0);
    assert!(inst.progress_events().contains(&ProgressEvent::Update(1.0)));

    // Keys: gain 1 at t=0, 3 at t=10 → 2.5 at t=7.5 is linear; radius holds.
    inst.set_key("gain", 0.0, 1.0).unwrap();
    inst.set_key("gain", 10.0, 3.0).unwrap();
    inst.set_param("radius", 2).unwrap();
    inst.clear_logs();
    check(
        &inst
            .render(7.0, inst.project_rect(), &OutputSpec::default())
            .unwrap(),
        7.0,
        2.4,
    );
    assert_eq!(inst.fetched_times("Source"), vec![5.0, 6.0, 7.0, 8.0, 9.0]);
    // A window: only it is written.
    let win = OfxRectI {
        x1: 1,
        y1: 1,
        x2: 3,
        y2: 2,
    };
    let out = inst
        .render(
            3.0,
            win,
            &OutputSpec {
                bounds: Some(inst.project_rect()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(out.pixel(0, 0), [0.0; 4]);
    assert!((out.pixel(1, 1)[1] - 1.0 / 8.0 * 1.6).abs() < 1e-5);

    // Instance changed and persistent message.
    inst.set_param("prompt", "hello").unwrap();
    assert_eq!(
        inst.persistent_message(),
        Some(("OfxMessageError".into(), "hello".into()))
    );
    let acts: Vec<String> = inst.actions().into_iter().map(|a| a.0).collect();
    let n = acts.len();
    assert_eq!(
        acts[n - 3..],
        [
            "OfxActionBeginInstanceChanged",
            "OfxActionInstanceChanged",
            "OfxActionEndInstanceChanged"
        ]
    );

    // Several threads at once.
    std::thread::scope(|sc| {
        for t in 0..6 {
            let inst = &inst;
            sc.spawn(move || {
                let g = 1.0 + 0.2 * t as f32;
                check(
                    &inst
                        .render(t as f64, inst.project_rect(), &OutputSpec::default())
                        .unwrap(),
                    t as f64,
                    g,
                );
            });
        }
    });
    assert_eq!(inst.outstanding_images(), 0);

    // Abort.
    inst.set_abort(true);
    let err = inst
        .render(5.0, inst.project_rect(), &OutputSpec::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(Status(kOfxStatFailed)));
    assert!(inst.abort_calls() > 0);
    inst.set_abort(false);
    inst.abort_after_calls(Some(1));
    assert!(inst
        .render(5.0, inst.project_rect(), &OutputSpec::default())
        .is_err());
    assert_eq!(inst.outstanding_images(), 0);
    inst.destroy().unwrap();
    drop((plugin, bundle));
    assert!(host
        .fetched_suites()
        .iter()
        .any(|(n, v, ok)| n == "OfxProgressSuite" && *v == 2 && *ok));

    // Quirky host: no progress suite, NULL persistent-message entries, no begin/end, an
    // instance per frame.
    let profile = HostProfile {
        progress_suite: ProgressSuite::None,
        persistent_message_fn_null: true,
        send_begin_end_instance_changed: false,
        new_instance_per_frame: true,
        ..Default::default()
    };
    let (_host, bundle) = load(profile);
    let plugin = bundle.plugin("test.Gain").unwrap();
    let inst = plugin
        .create_instance(
            Context::Filter,
            InstanceSetup::new(6, 4).source(source().negative_row_bytes(false)),
        )
        .unwrap();
    inst.set_param("gain", 3.0).unwrap();
    check(
        &inst
            .render(2.0, inst.project_rect(), &OutputSpec::default())
            .unwrap(),
        2.0,
        3.0,
    );
    assert!(inst.progress_events().is_empty());
    let creates = inst
        .actions()
        .iter()
        .filter(|a| a.0 == "OfxActionCreateInstance")
        .count();
    assert_eq!(creates, 2);
    inst.set_param("prompt", "quirk").unwrap();
    assert_eq!(inst.persistent_message(), None);
    assert_eq!(
        inst.messages().last().map(|m| m.text.as_str()),
        Some("quirk")
    );
    assert!(!inst
        .actions()
        .iter()
        .any(|a| a.0 == "OfxActionBeginInstanceChanged"));
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<TestHost>();
    check::<Bundle>();
    check::<Plugin>();
    check::<Instance>();
    check::<OutputImage>();
}
