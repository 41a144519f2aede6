fn main() {
    println!("dreamfx-runtime");
}
