//! Lets the binary find libtorch at run time without LD_LIBRARY_PATH: torch-sys reports where it
//! linked libtorch from, and that directory goes into the rpath.

fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
