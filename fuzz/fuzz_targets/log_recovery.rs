//! Any bytes as the newest segment of a partition: opening the embedded log recovers (cutting off
//! what does not decode) or reports corruption, and whatever it kept reads back. Never a panic.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, TopicConfig};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let partition = dir.path().join("t/partition-0");
    std::fs::create_dir_all(&partition).unwrap();
    std::fs::write(partition.join(format!("{:020}.log", 0)), data).unwrap();
    if let Ok(log) = EmbeddedLog::open(dir.path(), &[TopicConfig::new("t", 1)], DEFAULT_SEGMENT_BYTES) {
        let end = log.end_offsets("t").unwrap()[0];
        let records = log.reader("t", &[0]).unwrap().poll(usize::MAX, Duration::ZERO).unwrap();
        assert_eq!(records.len() as u64, end);
    }
});
