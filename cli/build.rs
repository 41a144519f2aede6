//! Binaries of this crate must run without LD_LIBRARY_PATH: torch-sys sets no rpath, so we add
//! `$ORIGIN` (the bundle ships libtorch beside the runtime executable) and the build-time
//! libtorch directory (for `cargo run` / `cargo test` in the checkout).
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let mut rpath = String::from("$ORIGIN");
    if let Ok(dir) = std::env::var("LIBTORCH") {
        rpath.push(':');
        rpath.push_str(&format!("{dir}/lib"));
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{rpath}");
}
