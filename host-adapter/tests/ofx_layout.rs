//! The suite structs in `src/sys/mod.rs` have the official headers' layout: the C compiler
//! reports size and field offsets of each struct from the headers (`third_party/openfx/include`,
//! `scripts/fetch-openfx.sh`), and they must equal Rust's. A wrong or missing member would
//! make the plugin call the wrong host function.
use std::mem::{offset_of, size_of};
use std::path::Path;
use std::process::Command;

use dreamfx_host_adapter::sys;

macro_rules! layouts {
    ($($s:ident { $($f:ident),* $(,)? })*) => {
        vec![$((
            stringify!($s),
            size_of::<sys::$s>(),
            vec![$((stringify!($f), offset_of!(sys::$s, $f))),*],
        )),*]
    };
}

#[test]
fn suite_structs_match_the_c_compilers_layout_of_the_official_headers() {
    let rust = layouts! {
        OfxRectD { x1, y1, x2, y2 }
        OfxRectI { x1, y1, x2, y2 }
        OfxRangeD { min, max }
        OfxHost { host, fetchSuite }
        OfxPlugin { pluginApi, apiVersion, pluginIdentifier, pluginVersionMajor,
            pluginVersionMinor, setHost, mainEntry }
        OfxPropertySuiteV1 { propSetPointer, propSetString, propSetDouble, propSetInt,
            propSetPointerN, propSetStringN, propSetDoubleN, propSetIntN, propGetPointer,
            propGetString, propGetDouble, propGetInt, propGetPointerN, propGetStringN,
            propGetDoubleN, propGetIntN, propReset, propGetDimension }
        OfxImageEffectSuiteV1 { getPropertySet, getParamSet, clipDefine, clipGetHandle,
            clipGetPropertySet, clipGetImage, clipReleaseImage, clipGetRegionOfDefinition, abort,
            imageMemoryAlloc, imageMemoryFree, imageMemoryLock, imageMemoryUnlock }
        OfxParameterSuiteV1 { paramDefine, paramGetHandle, paramSetGetPropertySet,
            paramGetPropertySet, paramGetValue, paramGetValueAtTime, paramGetDerivative,
            paramGetIntegral, paramSetValue, paramSetValueAtTime, paramGetNumKeys,
            paramGetKeyTime, paramGetKeyIndex, paramDeleteKey, paramDeleteAllKeys, paramCopy,
            paramEditBegin, paramEditEnd }
        OfxMessageSuiteV1 { message }
        OfxMessageSuiteV2 { message, setPersistentMessage, clearPersistentMessage }
        OfxProgressSuiteV1 { progressStart, progressUpdate, progressEnd }
        OfxProgressSuiteV2 { progressStart, progressUpdate, progressEnd }
    };

    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../third_party/openfx/include");
    assert!(
        include.join("ofxCore.h").is_file(),
        "the official OpenFX headers are not in {}: run scripts/fetch-openfx.sh",
        include.display()
    );
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"ofxCore.h\"\n#include \"ofxProperty.h\"\n\
         #include \"ofxImageEffect.h\"\n#include \"ofxParam.h\"\n#include \"ofxMessage.h\"\n\
         #include \"ofxProgress.h\"\nint main(void) {\n",
    );
    let mut want = String::new();
    for (s, size, fields) in &rust {
        c.push_str(&format!("  printf(\"{s} %zu\\n\", sizeof({s}));\n"));
        want.push_str(&format!("{s} {size}\n"));
        for (f, off) in fields {
            c.push_str(&format!(
                "  printf(\"{s}.{f} %zu\\n\", offsetof({s}, {f}));\n"
            ));
            want.push_str(&format!("{s}.{f} {off}\n"));
        }
    }
    c.push_str("  return 0;\n}\n");

    let dir = std::env::temp_dir().join(format!("dfx-ofx-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (src, exe) = (dir.join("layout.c"), dir.join("layout"));
    std::fs::write(&src, c).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&cc)
        .arg("-I")
        .arg(&include)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("{cc} (a C compiler) is needed for this test: {e}"));
    assert!(
        built.status.success(),
        "{cc} could not compile the layout probe:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let got = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(String::from_utf8_lossy(&got.stdout), want);
}
