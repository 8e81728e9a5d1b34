//! The embedded log: Tailor's single-machine default. Each topic is a directory of partitions,
//! each partition a directory of append-only segment files of checksummed records. An append
//! returns once its records are fsynced, so a crash or restart loses nothing acknowledged; one
//! process owns the directory at a time.

mod frame;
mod partition;
mod repair;
mod segment;

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use self::partition::{Cursor, Partition};
pub use self::repair::{PartitionReport, Repaired, check, repair};
pub use self::segment::Damage;
use crate::{EventLog, LogError, LogReader, Message, Position, Record, TopicConfig, partition_for_key};

/// Segments roll over at this size unless configured otherwise.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 << 20;

/// Wakes readers when any partition of a topic gains durable records.
pub(crate) struct Notifier {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Notifier {
    fn new() -> Notifier {
        Notifier { generation: Mutex::new(0), changed: Condvar::new() }
    }

    // A counter is whole whatever panicked while it was locked, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, u64> {
        self.generation.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn notify(&self) {
        *self.lock() += 1;
        self.changed.notify_all();
    }

    fn generation(&self) -> u64 {
        *self.lock()
    }

    fn wait_past(&self, seen: u64, timeout: Duration) {
        let generation = self.lock();
        let _ = self.changed.wait_timeout_while(generation, timeout, |g| *g == seen);
    }
}

struct Topic {
    partitions: Vec<Arc<Partition>>,
    notifier: Arc<Notifier>,
}

pub struct EmbeddedLog {
    topics: HashMap<String, Topic>,
    /// Held for the log's lifetime: the OS lock that keeps a second process out.
    _lock: File,
}

impl EmbeddedLog {
    /// Opens the log in `dir`, creating the topics that do not exist yet. A topic may gain
    /// partitions (which moves keys to other partitions, as in Kafka) but never lose them.
    pub fn open(dir: &Path, topics: &[TopicConfig], segment_bytes: u64) -> Result<EmbeddedLog, LogError> {
        create_dir_durably(dir)?;
        let lock_path = dir.join(".lock");
        let lock = File::create(&lock_path).map_err(LogError::io(format!("creating {}", lock_path.display())))?;
        lock.try_lock().map_err(|_| LogError::Locked { path: dir.to_path_buf() })?;
        let mut opened = HashMap::new();
        for topic in topics {
            topic.validate()?;
            let topic_dir = dir.join(&topic.name);
            let on_disk = partitions_on_disk(&topic_dir)?;
            if on_disk > topic.partitions {
                return Err(LogError::InvalidTopic {
                    topic: topic.name.clone(),
                    reason: format!(
                        "{} has {on_disk} partitions but the configuration asks for {}; partitions cannot be removed",
                        topic_dir.display(),
                        topic.partitions
                    ),
                });
            }
            let notifier = Arc::new(Notifier::new());
            let partitions = (0..topic.partitions)
                .map(|p| {
                    let partition_dir = topic_dir.join(format!("partition-{p}"));
                    Partition::open(partition_dir, p, topic, segment_bytes, notifier.clone()).map(Arc::new)
                })
                .collect::<Result<_, _>>()?;
            opened.insert(topic.name.clone(), Topic { partitions, notifier });
        }
        Ok(EmbeddedLog { topics: opened, _lock: lock })
    }

    fn topic(&self, name: &str) -> Result<&Topic, LogError> {
        self.topics.get(name).ok_or_else(|| LogError::UnknownTopic(name.to_owned()))
    }
}

/// Creates `dir` and any missing parents, syncing each parent whose entries changed, so that the
/// directory outlives a crash as the records later synced inside it do.
pub(crate) fn create_dir_durably(dir: &Path) -> Result<(), LogError> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        create_dir_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(LogError::Io { context: format!("creating {}", dir.display()), source: e }),
    }
    sync_dir(parent.unwrap_or(Path::new(".")))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    let context = || format!("syncing the directory {}", dir.display());
    File::open(dir).and_then(|d| d.sync_all()).map_err(LogError::io(context()))
}

fn partitions_on_disk(topic_dir: &Path) -> Result<u32, LogError> {
    match fs::read_dir(topic_dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.strip_prefix("partition-").is_some_and(|n| n.parse::<u32>().is_ok()))
            .count() as u32),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(LogError::Io { context: format!("listing {}", topic_dir.display()), source: e }),
    }
}

impl EventLog for EmbeddedLog {
    fn partitions(&self, topic: &str) -> Result<u32, LogError> {
        Ok(self.topic(topic)?.partitions.len() as u32)
    }

    fn append(&self, topic: &str, messages: Vec<Message>) -> Result<Vec<Position>, LogError> {
        let topic = self.topic(topic)?;
        if let Some(size) = messages.iter().map(frame::body_len).find(|&size| size > frame::MAX_BODY_LEN) {
            return Err(LogError::MessageTooLarge { size, limit: frame::MAX_BODY_LEN });
        }
        let count = topic.partitions.len() as u32;
        let mut by_partition: Vec<Vec<usize>> = vec![Vec::new(); count as usize];
        for (i, message) in messages.iter().enumerate() {
            by_partition[partition_for_key(&message.key, count) as usize].push(i);
        }
        let appended_at_ms = crate::now_ms();
        let mut positions = vec![Position { partition: 0, offset: 0 }; messages.len()];
        let mut to_sync = Vec::new();
        for (p, indices) in by_partition.iter().enumerate().filter(|(_, indices)| !indices.is_empty()) {
            let batch: Vec<&Message> = indices.iter().map(|&i| &messages[i]).collect();
            let (first, end) = topic.partitions[p].write(&batch, appended_at_ms)?;
            for (k, &i) in indices.iter().enumerate() {
                positions[i] = Position { partition: p as u32, offset: first + k as u64 };
            }
            to_sync.push((p, end));
        }
        for (p, end) in to_sync {
            topic.partitions[p].sync_to(end)?;
        }
        Ok(positions)
    }

    fn end_offsets(&self, topic: &str) -> Result<Vec<u64>, LogError> {
        Ok(self.topic(topic)?.partitions.iter().map(|p| p.end_offset()).collect())
    }

    fn reader(&self, topic: &str, from: &[u64]) -> Result<Box<dyn LogReader>, LogError> {
        let name = topic;
        let topic = self.topic(topic)?;
        if from.len() != topic.partitions.len() {
            return Err(LogError::PartitionCountMismatch {
                topic: name.to_owned(),
                partitions: topic.partitions.len() as u32,
                given: from.len(),
            });
        }
        let cursors = topic.partitions.iter().zip(from).map(|(p, &offset)| p.cursor(offset)).collect();
        Ok(Box::new(EmbeddedReader {
            partitions: topic.partitions.clone(),
            cursors,
            notifier: topic.notifier.clone(),
            first_partition: 0,
        }))
    }
}

struct EmbeddedReader {
    partitions: Vec<Arc<Partition>>,
    cursors: Vec<Cursor>,
    notifier: Arc<Notifier>,
    /// Rotates so that a busy partition cannot starve the others.
    first_partition: usize,
}

impl LogReader for EmbeddedReader {
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Record>, LogError> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            let seen = self.notifier.generation();
            let n = self.partitions.len();
            for k in 0..n {
                let p = (self.first_partition + k) % n;
                self.partitions[p].read(&mut self.cursors[p], max, &mut out)?;
            }
            self.first_partition = (self.first_partition + 1) % n;
            let now = Instant::now();
            if !out.is_empty() || now >= deadline {
                return Ok(out);
            }
            self.notifier.wait_past(seen, deadline - now);
        }
    }

    /// Nothing to do: consumers of the embedded log resume from their own snapshots, and no
    /// external tool watches its groups.
    fn commit(&mut self, _next_offsets: &[u64]) -> Result<(), LogError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::partition::faults;
    use super::*;

    fn open(dir: &Path) -> EmbeddedLog {
        EmbeddedLog::open(dir, &[TopicConfig::new("t", 1)], DEFAULT_SEGMENT_BYTES).unwrap()
    }

    fn append(log: &EmbeddedLog, i: usize) -> Result<Vec<Position>, LogError> {
        log.append("t", vec![Message::new("k", format!("event-{i}"))])
    }

    #[test]
    fn after_a_failed_fsync_every_append_is_refused_until_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        append(&log, 0).unwrap();
        faults::FAIL_SYNC.set(true);
        let failed = append(&log, 1);
        faults::FAIL_SYNC.set(false);
        assert!(matches!(failed, Err(LogError::Io { .. })), "{failed:?}");
        // The disk works again, but what the failed sync left there is unknown.
        let refused = append(&log, 2).unwrap_err();
        assert!(matches!(refused, LogError::Failed { .. }), "{refused}");
        assert!(refused.to_string().contains("fsync failed"), "{refused}");
        drop(log);
        let log = open(dir.path());
        assert!(append(&log, 3).is_ok());
    }

    #[test]
    fn a_failed_write_is_taken_back_and_the_next_append_follows_the_last_good_record() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        append(&log, 0).unwrap();
        faults::FAIL_WRITE.set(true);
        let failed = append(&log, 1);
        faults::FAIL_WRITE.set(false);
        assert!(matches!(failed, Err(LogError::Io { .. })), "{failed:?}");
        assert_eq!(append(&log, 2).unwrap()[0].offset, 1);
        drop(log);
        assert_eq!(open(dir.path()).end_offsets("t").unwrap(), vec![2]);
    }
}
