// Included by the build.rs of every crate whose binaries (tests, benches, executables) link
// libtorch. torch-sys sets no rpath, so binaries must carry one to run without LD_LIBRARY_PATH:
// `$ORIGIN` (the bundle ships libtorch beside the runtime executable) and the build-time
// libtorch directory (for `cargo run` / `cargo test` in the checkout).
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let mut rpath = String::from("$ORIGIN");
    if let Ok(dir) = std::env::var("LIBTORCH") {
        rpath.push(':');
        rpath.push_str(&format!("{dir}/lib"));
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{rpath}");
}
