use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tailor_log::{
    DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, LogError, Message, Record, TopicConfig, partition_for_key,
};

const TOPIC: &str = "interactions";

fn topics(partitions: u32) -> Vec<TopicConfig> {
    vec![TopicConfig::new(TOPIC, partitions)]
}

fn open(dir: &Path, partitions: u32) -> EmbeddedLog {
    EmbeddedLog::open(dir, &topics(partitions), DEFAULT_SEGMENT_BYTES).unwrap()
}

fn message(i: usize) -> Message {
    Message::new(format!("visitor-{}", i % 17), format!("event-{i}")).with_header("n", i.to_string())
}

/// Reads until `count` records have arrived or a poll comes back empty.
fn read_all(log: &dyn EventLog, from: &[u64], count: usize) -> Vec<Record> {
    let mut reader = log.reader(TOPIC, from).unwrap();
    let mut out = Vec::new();
    while out.len() < count {
        let batch = reader.poll(1000, Duration::from_millis(200)).unwrap();
        if batch.is_empty() {
            break;
        }
        out.extend(batch);
    }
    out
}

fn segments(dir: &Path, partition: u32) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join(TOPIC).join(format!("partition-{partition}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
}

#[test]
fn keyed_messages_keep_their_order_per_partition() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), 3);
    let positions = log.append(TOPIC, (0..300).map(message).collect()).unwrap();
    for (i, position) in positions.iter().enumerate() {
        assert_eq!(position.partition, partition_for_key(message(i).key.as_slice(), 3));
    }
    assert_eq!(log.end_offsets(TOPIC).unwrap().iter().sum::<u64>(), 300);

    let records = read_all(&log, &[0, 0, 0], 300);
    assert_eq!(records.len(), 300);
    for partition in 0..3 {
        let offsets: Vec<u64> = records.iter().filter(|r| r.partition == partition).map(|r| r.offset).collect();
        assert_eq!(offsets, (0..offsets.len() as u64).collect::<Vec<_>>());
    }
    // Per visitor, the events come back in the order they were sent.
    for visitor in 0..17 {
        let key = format!("visitor-{visitor}");
        let sent: Vec<Vec<u8>> = (0..300).map(message).filter(|m| m.key == key.as_bytes()).map(|m| m.payload).collect();
        let read: Vec<Vec<u8>> =
            records.iter().filter(|r| r.message.key == key.as_bytes()).map(|r| r.message.payload.clone()).collect();
        assert_eq!(sent, read);
    }
    let first = records.iter().find(|r| r.message.payload == b"event-5").unwrap();
    assert_eq!(first.message.header("n"), Some(b"5".as_slice()));
}

#[test]
fn a_restart_keeps_every_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), 2);
        log.append(TOPIC, (0..100).map(message).collect()).unwrap();
    }
    let log = open(dir.path(), 2);
    assert_eq!(read_all(&log, &[0, 0], 100).len(), 100);
    let positions = log.append(TOPIC, vec![message(100)]).unwrap();
    let before = read_all(&log, &[0, 0], 101);
    assert_eq!(before.len(), 101);
    let last = before.iter().find(|r| r.partition == positions[0].partition && r.offset == positions[0].offset);
    assert_eq!(last.unwrap().message.payload, b"event-100");
}

#[test]
fn a_torn_write_is_cut_off_and_nothing_before_it_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), 1);
        log.append(TOPIC, (0..50).map(message).collect()).unwrap();
    }
    let segment = segments(dir.path(), 0).pop().unwrap();
    let intact = fs::metadata(&segment).unwrap().len();
    // Half a record, as a crash in the middle of a write leaves it.
    OpenOptions::new().append(true).open(&segment).unwrap().write_all(&[40, 0, 0, 0, 1, 2, 3]).unwrap();

    let log = open(dir.path(), 1);
    assert_eq!(fs::metadata(&segment).unwrap().len(), intact);
    assert_eq!(log.end_offsets(TOPIC).unwrap(), vec![50]);
    log.append(TOPIC, vec![message(50)]).unwrap();
    let records = read_all(&log, &[0], 51);
    assert_eq!(records.len(), 51);
    assert_eq!(records[50].message.payload, b"event-50");
}

#[test]
fn corruption_in_a_closed_segment_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), &topics(1), 1024).unwrap();
        log.append(TOPIC, (0..100).map(message).collect()).unwrap();
        log.append(TOPIC, (100..200).map(message).collect()).unwrap();
    }
    let files = segments(dir.path(), 0);
    assert!(files.len() >= 2, "{files:?}");
    let mut bytes = fs::read(&files[0]).unwrap();
    bytes[30] ^= 0xff;
    fs::write(&files[0], bytes).unwrap();
    match EmbeddedLog::open(dir.path(), &topics(1), 1024) {
        Err(LogError::Damaged(damage)) => assert_eq!(damage.path, files[0]),
        other => panic!("expected damage, got {:?}", other.err()),
    }
}

/// Flips a byte inside record `index` of a segment of equal-sized records, as bit rot would.
fn damage_record(segment: &Path, index: usize, records: usize) -> u64 {
    let mut bytes = fs::read(segment).unwrap();
    let record_len = bytes.len() / records;
    let position = index * record_len;
    bytes[position + 12] ^= 0xff;
    fs::write(segment, bytes).unwrap();
    position as u64
}

fn equal_sized(i: usize) -> Message {
    Message::new("visitor", format!("event-{i:04}"))
}

#[test]
fn damage_in_the_middle_of_the_newest_segment_is_an_error_not_a_cut() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), 1);
        log.append(TOPIC, (0..50).map(equal_sized).collect()).unwrap();
    }
    let segment = segments(dir.path(), 0).pop().unwrap();
    let length = fs::metadata(&segment).unwrap().len();
    let position = damage_record(&segment, 10, 50);

    let error = EmbeddedLog::open(dir.path(), &topics(1), DEFAULT_SEGMENT_BYTES).err().expect("damage refused");
    let LogError::Damaged(damage) = &error else { panic!("expected damage, got {error}") };
    assert_eq!((damage.path.as_path(), damage.position), (segment.as_path(), position));
    assert_eq!(damage.resumes_at.map(|(_, offset)| offset), Some(11), "{error}");
    assert!(error.to_string().contains("tailor log repair"), "{error}");
    // Nothing was cut: the 39 acknowledged records after the damage are still on disk.
    assert_eq!(fs::metadata(&segment).unwrap().len(), length);

    let report = tailor_log::check(dir.path()).unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!((report[0].records, report[0].damage.len()), (10, 1));
}

#[test]
fn repair_keeps_every_readable_record_and_names_the_lost_offsets() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), 1);
        log.append(TOPIC, (0..50).map(equal_sized).collect()).unwrap();
    }
    let segment = segments(dir.path(), 0).pop().unwrap();
    damage_record(&segment, 10, 50);

    let repaired = tailor_log::repair(dir.path()).unwrap();
    assert_eq!(repaired.len(), 1);
    assert_eq!(repaired[0].kept_records, 49);
    assert_eq!(repaired[0].cuts.len(), 1);
    assert_eq!(repaired[0].cuts[0].lost_offsets, Some(10..11));
    assert!(repaired[0].backup.as_ref().unwrap().exists());
    assert!(tailor_log::check(dir.path()).unwrap()[0].damage.is_empty());

    let log = open(dir.path(), 1);
    assert_eq!(log.end_offsets(TOPIC).unwrap(), vec![50]);
    log.append(TOPIC, vec![equal_sized(50)]).unwrap();
    let offsets: Vec<u64> = read_all(&log, &[0], 50).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..51).filter(|&o| o != 10).collect::<Vec<_>>());
    // The lock keeps a repair away from a running log.
    assert!(matches!(tailor_log::repair(dir.path()), Err(LogError::Locked { .. })));
}

#[test]
fn a_repaired_closed_segment_leaves_a_gap_readers_step_over() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = EmbeddedLog::open(dir.path(), &topics(1), 1024).unwrap();
        for i in 0..60 {
            log.append(TOPIC, vec![equal_sized(i)]).unwrap();
        }
    }
    let files = segments(dir.path(), 0);
    assert!(files.len() >= 3, "{files:?}");
    let second_base: u64 = files[1].file_stem().unwrap().to_str().unwrap().parse().unwrap();
    // Damage over the first segment's last three records: nothing after it in that file reads.
    let mut bytes = fs::read(&files[0]).unwrap();
    let record_len = bytes.len() / second_base as usize;
    let cut_at = bytes.len() - 3 * record_len;
    bytes[cut_at..].fill(0);
    fs::write(&files[0], bytes).unwrap();
    assert!(matches!(EmbeddedLog::open(dir.path(), &topics(1), 1024), Err(LogError::Damaged(_))));

    let repaired = tailor_log::repair(dir.path()).unwrap();
    let lost = repaired[0].cuts[0].lost_offsets.clone().expect("a closed segment knows its end");
    assert_eq!(lost, second_base - 3..second_base);

    let log = EmbeddedLog::open(dir.path(), &topics(1), 1024).unwrap();
    let offsets: Vec<u64> = read_all(&log, &[0], 60).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..60).filter(|o| !lost.contains(o)).collect::<Vec<_>>());
    // A reader that starts inside the gap starts after it.
    assert_eq!(read_all(&log, &[lost.start], 1)[0].offset, second_base);
}

#[test]
fn a_preallocated_tail_of_zeros_is_a_torn_write() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), 1);
        log.append(TOPIC, (0..20).map(message).collect()).unwrap();
    }
    let segment = segments(dir.path(), 0).pop().unwrap();
    let intact = fs::metadata(&segment).unwrap().len();
    OpenOptions::new().append(true).open(&segment).unwrap().write_all(&[0; 4096]).unwrap();
    let log = open(dir.path(), 1);
    assert_eq!(fs::metadata(&segment).unwrap().len(), intact);
    assert_eq!(log.end_offsets(TOPIC).unwrap(), vec![20]);
}

#[test]
fn reads_cross_segments_and_start_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), &topics(1), 2048).unwrap();
    for chunk in 0..20 {
        log.append(TOPIC, (chunk * 25..(chunk + 1) * 25).map(message).collect()).unwrap();
    }
    assert!(segments(dir.path(), 0).len() > 5);
    let all = read_all(&log, &[0], 500);
    assert_eq!(all.iter().map(|r| r.offset).collect::<Vec<_>>(), (0..500).collect::<Vec<_>>());
    for start in [1, 24, 25, 26, 250, 499] {
        let tail = read_all(&log, &[start], 500);
        assert_eq!(tail.first().map(|r| r.offset), Some(start), "from {start}");
        assert_eq!(tail.len() as u64, 500 - start);
    }
    assert!(read_all(&log, &[500], 1).is_empty());
}

#[test]
fn retention_deletes_the_oldest_segments_and_readers_skip_to_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let topic = TopicConfig { retention_bytes: Some(4096), ..TopicConfig::new(TOPIC, 1) };
    let log = EmbeddedLog::open(dir.path(), std::slice::from_ref(&topic), 1024).unwrap();
    for i in 0..200 {
        log.append(TOPIC, vec![message(i)]).unwrap();
    }
    let retained: u64 = segments(dir.path(), 0).iter().map(|f| fs::metadata(f).unwrap().len()).sum();
    assert!(retained <= 4096 + 1024 + 100, "{retained} bytes retained");
    let records = read_all(&log, &[0], 200);
    assert!(records.len() < 200 && !records.is_empty());
    assert_eq!(records.last().unwrap().offset, 199);
    let first = records[0].offset;
    assert_eq!(records.iter().map(|r| r.offset).collect::<Vec<_>>(), (first..200).collect::<Vec<_>>());
}

#[test]
fn a_second_process_is_kept_out() {
    let dir = tempfile::tempdir().unwrap();
    let _log = open(dir.path(), 1);
    assert!(matches!(EmbeddedLog::open(dir.path(), &topics(1), DEFAULT_SEGMENT_BYTES), Err(LogError::Locked { .. })));
}

#[test]
fn configuration_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), 3));
    let err = EmbeddedLog::open(dir.path(), &topics(2), DEFAULT_SEGMENT_BYTES).err().unwrap();
    assert!(err.to_string().contains("partitions cannot be removed"), "{err}");
    let err = EmbeddedLog::open(dir.path(), &[TopicConfig::new("bad/name", 1)], DEFAULT_SEGMENT_BYTES).err().unwrap();
    assert!(err.to_string().contains("\"bad/name\""), "{err}");

    let log = open(dir.path(), 4);
    assert_eq!(log.partitions(TOPIC).unwrap(), 4);
    assert!(matches!(log.append("nope", vec![message(0)]), Err(LogError::UnknownTopic(t)) if t == "nope"));
    assert!(matches!(log.reader(TOPIC, &[0]), Err(LogError::PartitionCountMismatch { given: 1, .. })));
    let huge = Message::new("k", vec![0u8; 17 << 20]);
    assert!(matches!(log.append(TOPIC, vec![huge]), Err(LogError::MessageTooLarge { .. })));
}

#[test]
fn concurrent_appenders_get_distinct_offsets_and_a_waiting_reader_wakes() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path(), 2));
    let mut reader = log.reader(TOPIC, &[0, 0]).unwrap();
    let started = Instant::now();
    assert!(reader.poll(10, Duration::from_millis(50)).unwrap().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(50));

    let writers: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            thread::spawn(move || {
                for i in 0..250 {
                    log.append(TOPIC, vec![message(t * 1000 + i)]).unwrap();
                }
            })
        })
        .collect();
    let mut records = Vec::new();
    while records.len() < 1000 {
        let batch = reader.poll(1000, Duration::from_secs(10)).unwrap();
        assert!(!batch.is_empty(), "reader timed out after {} records", records.len());
        records.extend(batch);
    }
    writers.into_iter().for_each(|w| w.join().unwrap());
    let mut positions: Vec<(u32, u64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
    positions.sort_unstable();
    positions.dedup();
    assert_eq!(positions.len(), 1000);
    assert_eq!(log.end_offsets(TOPIC).unwrap().iter().sum::<u64>(), 1000);
}
