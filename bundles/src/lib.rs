//! Building and installing `dreamfx.ofx.bundle` in the standard OFX layout:
//! `Contents/Info.plist`, `Contents/Resources/<plugin id>.png`, and in
//! `Contents/Linux-x86-64/`: `dreamfx.ofx`, the `dreamfx-runtime` executable and the libtorch
//! libraries it needs (found through its `$ORIGIN` rpath).
use std::path::{Path, PathBuf};

use dreamfx_effects as effects;

pub const BUNDLE_NAME: &str = "dreamfx.ofx.bundle";
pub const ARCH_DIR: &str = "Linux-x86-64";
/// The libtorch libraries the CPU runtime loads (see scripts/fetch-libtorch.sh).
pub const TORCH_LIBS: &[&str] = &[
    "libtorch_cpu.so",
    "libtorch.so",
    "libc10.so",
    "libgomp.so.1",
    "libcudart.so.13",
    "libcupti.so.13",
];

pub struct BundleInputs {
    /// The cargo target profile dir holding libdreamfx.so and dreamfx-runtime.
    pub build_dir: PathBuf,
    pub libtorch_lib: PathBuf,
}

impl BundleInputs {
    pub fn beside_this_tool() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let build_dir = exe.parent().ok_or("no parent dir")?.to_path_buf();
        let libtorch = std::env::var_os("LIBTORCH")
            .map(PathBuf::from)
            .or_else(|| option_env!("DREAMFX_LIBTORCH").map(PathBuf::from))
            .ok_or("LIBTORCH is not set; run scripts/fetch-libtorch.sh")?;
        Ok(BundleInputs {
            build_dir,
            libtorch_lib: libtorch.join("lib"),
        })
    }
}

/// Assembles the bundle into `out_dir/dreamfx.ofx.bundle` (replacing an older one).
pub fn assemble(inputs: &BundleInputs, out_dir: &Path) -> Result<PathBuf, String> {
    let plugin = inputs.build_dir.join("libdreamfx.so");
    let runtime = inputs.build_dir.join("dreamfx-runtime");
    for (what, path) in [("plugin", &plugin), ("runtime", &runtime)] {
        if !path.is_file() {
            return Err(format!(
                "the {what} {} is not built; run `cargo build --release -p dreamfx-plugins -p dreamfx-runtime` first",
                path.display()
            ));
        }
    }
    let bundle = out_dir.join(BUNDLE_NAME);
    let staging = out_dir.join(format!(".{BUNDLE_NAME}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    let contents = staging.join("Contents");
    let bin = contents.join(ARCH_DIR);
    let resources = contents.join("Resources");
    for d in [&bin, &resources] {
        std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    copy(&plugin, &bin.join("dreamfx.ofx"))?;
    copy(&runtime, &bin.join("dreamfx-runtime"))?;
    for lib in TORCH_LIBS {
        copy(&inputs.libtorch_lib.join(lib), &bin.join(lib))?;
    }
    // The built-in model beside the runtime, where it looks first: generators work with no
    // download and no path to set.
    copy_model(&dreamfx_tiny_dir(), &bin.join("models/dreamfx-tiny"))?;
    std::fs::write(contents.join("Info.plist"), info_plist())
        .map_err(|e| format!("writing Info.plist: {e}"))?;
    for e in effects::ALL {
        icon(e.id)
            .save(resources.join(format!("{}.png", e.id)))
            .map_err(|err| format!("writing icon: {err}"))?;
    }
    let _ = std::fs::remove_dir_all(&bundle);
    std::fs::rename(&staging, &bundle).map_err(|e| format!("placing the bundle: {e}"))?;
    Ok(bundle)
}

/// The checkout's built-in model (the bundle is built from a checkout).
fn dreamfx_tiny_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/dreamfx-tiny")
}

/// The parts of a model directory that generation reads (not its training notes).
fn copy_model(from: &Path, to: &Path) -> Result<(), String> {
    for part in [
        "model_index.json",
        "transformer",
        "vae",
        "text_encoder",
        "tokenizer",
        "scheduler",
    ] {
        let src = from.join(part);
        if src.is_dir() {
            std::fs::create_dir_all(to.join(part))
                .map_err(|e| format!("creating {}: {e}", to.join(part).display()))?;
            let entries = std::fs::read_dir(&src)
                .map_err(|e| format!("reading the built-in model {}: {e}", src.display()))?;
            for entry in entries.flatten() {
                if entry.path().is_file() {
                    copy(&entry.path(), &to.join(part).join(entry.file_name()))?;
                }
            }
        } else {
            std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
            copy(&src, &to.join(part))?;
        }
    }
    Ok(())
}

/// Copies an assembled bundle into `plugin_dir` (replacing an installed one).
pub fn install(bundle: &Path, plugin_dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(plugin_dir).map_err(|e| {
        format!(
            "cannot create {} ({e}); pass --to DIR or set OFX_PLUGIN_PATH to a directory you can write",
            plugin_dir.display()
        )
    })?;
    let target = plugin_dir.join(BUNDLE_NAME);
    let staging = plugin_dir.join(format!(".{BUNDLE_NAME}.partial"));
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(bundle, &staging)?;
    let _ = std::fs::remove_dir_all(&target);
    std::fs::rename(&staging, &target).map_err(|e| format!("placing the bundle: {e}"))?;
    Ok(target)
}

/// The first entry of `OFX_PLUGIN_PATH`, else the standard `/usr/OFX/Plugins`.
pub fn default_install_dir() -> PathBuf {
    std::env::var("OFX_PLUGIN_PATH")
        .ok()
        .and_then(|p| p.split(':').find(|s| !s.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/usr/OFX/Plugins"))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            copy(&path, &dest)?;
        }
    }
    Ok(())
}

fn info_plist() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleDevelopmentRegion</key>
	<string>English</string>
	<key>CFBundleExecutable</key>
	<string>dreamfx.ofx</string>
	<key>CFBundleIdentifier</key>
	<string>org.dreamfx.ofx</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>CFBundleName</key>
	<string>dreamfx</string>
	<key>CFBundlePackageType</key>
	<string>BNDL</string>
	<key>CFBundleShortVersionString</key>
	<string>{v}</string>
	<key>CFBundleVersion</key>
	<string>{v}</string>
	<key>CSResourcesFileMapped</key>
	<true/>
</dict>
</plist>
"#,
        v = env!("CARGO_PKG_VERSION")
    )
}

/// A 128×128 icon: a colour derived from the plugin id over a soft gradient, with three
/// offset frames (the "temporal" look).
fn icon(id: &str) -> image::RgbaImage {
    let h = id
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    let base = [
        (h & 0xff) as f32,
        ((h >> 8) & 0xff) as f32,
        ((h >> 16) & 0xff) as f32,
    ];
    image::RgbaImage::from_fn(128, 128, |x, y| {
        let mut c = [
            30.0 + y as f32 * 0.3,
            30.0 + x as f32 * 0.2,
            60.0 + y as f32 * 0.4,
        ];
        for k in 0..3u32 {
            let (x0, y0) = (24 + k * 16, 24 + k * 16);
            if (x0..x0 + 56).contains(&x) && (y0..y0 + 56).contains(&y) {
                let a = 0.45 + 0.25 * k as f32;
                for (ci, b) in c.iter_mut().zip(base) {
                    *ci = *ci * (1.0 - a) + (b * 0.6 + 100.0) * a;
                }
            }
        }
        image::Rgba([c[0] as u8, c[1] as u8, c[2] as u8, 255])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_replaces_an_older_bundle_and_names_the_way_out_when_it_cannot() {
        let tmp = std::env::temp_dir().join(format!("dfx-install-{}", std::process::id()));
        let src = tmp.join("src").join(BUNDLE_NAME);
        std::fs::create_dir_all(src.join("Contents/Linux-x86-64")).unwrap();
        std::fs::write(src.join("Contents/Linux-x86-64/dreamfx.ofx"), b"new").unwrap();
        let dest = tmp.join("plugins");
        std::fs::create_dir_all(dest.join(BUNDLE_NAME).join("stale")).unwrap();
        let installed = install(&src, &dest).unwrap();
        assert_eq!(
            std::fs::read(installed.join("Contents/Linux-x86-64/dreamfx.ofx")).unwrap(),
            b"new"
        );
        assert!(!installed.join("stale").exists());
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(install(&src, Path::new("/proc/no-such-dir"))
            .unwrap_err()
            .contains("--to"));
    }
}
