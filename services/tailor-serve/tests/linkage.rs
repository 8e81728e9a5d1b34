//! The ranking replica links no libtorch: its dynamic dependencies, as the loader resolves them.

use std::process::Command;

#[test]
fn the_replica_links_no_libtorch() {
    let output = Command::new("ldd").arg(env!("CARGO_BIN_EXE_tailor-serve")).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let libraries = String::from_utf8(output.stdout).unwrap();
    // The listing is a real one: the C library is always there.
    assert!(libraries.contains("libc.so"), "{libraries}");
    for library in ["libtorch", "libc10", "libgomp"] {
        assert!(!libraries.contains(library), "tailor-serve loads {library}:\n{libraries}");
    }
}
