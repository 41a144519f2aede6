//! The official ASWF HostSupport library (the host code Natron is built on) loads the built
//! bundle and describes every plug-in in every context it declares. Unlike the project's own
//! test host, no one here wrote its rules: it refuses property names the standard does not
//! define. `scripts/build-hostsupport-host.sh` builds the host (tests/hostsupport/).
mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use dreamfx_host_adapter::sys::*;

fn host_binary() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/hostsupport/dreamfx-hostsupport-host");
    assert!(
        p.is_file(),
        "{} is not built: run scripts/build-hostsupport-host.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

#[test]
fn the_official_host_library_describes_every_plugin_in_every_context() {
    private_runtime_dir("hostsupport");
    // HostSupport may write its plug-in cache to the working directory.
    let work = std::env::temp_dir().join(format!("dfx-hostsupport-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let out = Command::new(host_binary())
        .env("OFX_PLUGIN_PATH", bundle_path().parent().unwrap())
        .current_dir(&work)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&work);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "HostSupport refused the bundle:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let filter = kOfxImageEffectContextFilter.to_str().unwrap();
    let want = [
        "plugin dreamfx.TemporalRefine".to_string(),
        format!("context dreamfx.TemporalRefine {filter}"),
        format!("clip dreamfx.TemporalRefine {filter} Source"),
        format!("clip dreamfx.TemporalRefine {filter} Output"),
        format!(
            "param dreamfx.TemporalRefine {filter} radius {}",
            kOfxParamTypeInteger.to_str().unwrap()
        ),
        format!(
            "param dreamfx.TemporalRefine {filter} strength {}",
            kOfxParamTypeDouble.to_str().unwrap()
        ),
    ];
    for w in &want {
        assert!(lines.contains(&w.as_str()), "missing {w:?} in:\n{text}");
    }
    assert!(
        !lines.iter().any(|l| l.starts_with("error ")),
        "errors:\n{text}"
    );
}
