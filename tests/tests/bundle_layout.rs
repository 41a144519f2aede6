//! The bundle a host scans: standard layout, icons, the runtime and its libtorch beside the
//! plugin — and the plugin itself free of libtorch and C++ runtimes.
mod common;

use std::path::Path;
use std::process::Command;

fn needed_libraries(binary: &Path) -> Vec<String> {
    let out = Command::new("ldd").arg(binary).output().expect("ldd runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn bundle_has_the_standard_layout() {
    let b = common::bundle_path();
    let contents = b.join("Contents");
    let plist = std::fs::read_to_string(contents.join("Info.plist")).unwrap();
    assert!(plist.contains("<key>CFBundleExecutable</key>") && plist.contains("dreamfx.ofx"));
    let icon = contents.join("Resources/dreamfx.TemporalRefine.png");
    let bytes = std::fs::read(&icon).unwrap();
    assert_eq!(&bytes[1..4], b"PNG", "{} is a PNG", icon.display());
    let arch = contents.join("Linux-x86-64");
    for f in [
        "dreamfx.ofx",
        "dreamfx-runtime",
        "libtorch_cpu.so",
        "libc10.so",
        "libgomp.so.1",
    ] {
        assert!(arch.join(f).is_file(), "{f} in the bundle");
    }
}

#[test]
fn plugin_never_links_libtorch_or_a_cxx_runtime() {
    let plugin = common::bundle_path().join("Contents/Linux-x86-64/dreamfx.ofx");
    let libs = needed_libraries(&plugin);
    assert!(!libs.is_empty(), "ldd listed the plugin's libraries");
    for lib in &libs {
        assert!(
            !(lib.contains("torch")
                || lib.contains("c10")
                || lib.contains("stdc++")
                || lib.contains("cuda")),
            "dreamfx.ofx must stay thin, but needs {lib}: {libs:?}"
        );
    }
}

#[test]
fn runtime_in_the_bundle_finds_its_libtorch_without_ld_library_path() {
    let runtime = common::bundle_path().join("Contents/Linux-x86-64/dreamfx-runtime");
    let out = Command::new("ldd")
        .arg(&runtime)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("not found"), "{text}");
    assert!(text.contains("libtorch_cpu.so"), "{text}");
    let help = Command::new(&runtime)
        .arg("--help")
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );
}
