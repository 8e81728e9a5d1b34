//! Any bytes as a visitor-state snapshot load or give an error naming the file. Inputs starting
//! with an even byte get a valid magic and version in front and a valid checksum behind, so the
//! fuzzer explores the header and entries rather than stopping at the checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_core::AggregateWeights;
use tailor_stream::{VisitorStates, load_snapshot};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("visitors.snapshot");
    let bytes = match data.split_first() {
        Some((selector, body)) if selector % 2 == 0 => {
            let mut framed = [b"TAILORSS".as_slice(), &2u32.to_le_bytes(), body].concat();
            framed.extend_from_slice(&crc32fast::hash(&framed).to_le_bytes());
            framed
        }
        _ => data.to_vec(),
    };
    std::fs::write(&path, bytes).unwrap();
    let states = VisitorStates::new(4, AggregateWeights::default());
    let _ = load_snapshot(&path, &states);
});
