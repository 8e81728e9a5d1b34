//! Fixtures shared by the integration tests; each test binary uses a part of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A valid 2x3 PNG: enough for the header check that ingestion performs.
pub const PNG_2X3: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 2, 0, 0, 0, 3, 8, 2,
    0, 0, 0, 0x9D, 0x1B, 0x5E, 0x6A,
];

pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// The shared Myntra catalogue, from `TAILOR_MYNTRA_DIR` or `../shared/data/myntra` beside the
/// repository. It is part of every development and CI machine, so its absence is a failure.
pub fn myntra_dir() -> PathBuf {
    let dir = std::env::var_os("TAILOR_MYNTRA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/myntra"));
    assert!(dir.join("styles.csv").is_file(), "Myntra data not found at {}: set TAILOR_MYNTRA_DIR", dir.display());
    dir
}
