//! Remembers where libtorch was at build time, so the bundle tool finds it without LIBTORCH set.
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(dir) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-env=DREAMFX_LIBTORCH={dir}");
    }
}
