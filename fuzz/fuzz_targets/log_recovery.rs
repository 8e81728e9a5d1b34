//! Any bytes as the newest segment of a partition: opening the embedded log cuts off a torn tail
//! or refuses the damage; a repair then keeps what reads, and the log opens after it. Whatever
//! the log keeps reads back in offset order. Never a panic.
#![no_main]

use std::path::Path;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, LogError, TopicConfig};

fn open(dir: &Path) -> Result<EmbeddedLog, LogError> {
    EmbeddedLog::open(dir, &[TopicConfig::new("t", 1)], DEFAULT_SEGMENT_BYTES)
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let partition = dir.path().join("t/partition-0");
    std::fs::create_dir_all(&partition).unwrap();
    std::fs::write(partition.join(format!("{:020}.log", 0)), data).unwrap();
    let checked = tailor_log::check(dir.path()).unwrap().remove(0);
    let log = match open(dir.path()) {
        Ok(log) => log,
        Err(LogError::Damaged(_)) => {
            tailor_log::repair(dir.path()).unwrap();
            open(dir.path()).expect("a repaired log opens")
        }
        Err(other) => panic!("{other}"),
    };
    let end = log.end_offsets("t").unwrap()[0];
    let records = log.reader("t", &[0]).unwrap().poll(usize::MAX, Duration::ZERO).unwrap();
    assert!(records.len() as u64 >= checked.records);
    assert!(records.windows(2).all(|pair| pair[0].offset < pair[1].offset));
    assert_eq!(records.last().map_or(0, |r| r.offset + 1), end);
});
