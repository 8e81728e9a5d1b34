//! The event log Tailor's pipeline runs on: producers append keyed messages to partitioned topics
//! and consumers read them back in order per partition. [`EventLog`] is the seam; the embedded,
//! durable [`EmbeddedLog`] is the single-machine default, and with the `kafka` feature
//! [`kafka::KafkaLog`] provides the same trait over a Kafka cluster. [`open`] chooses between them
//! by URL.

mod embedded;
mod error;
#[cfg(feature = "kafka")]
pub mod kafka;
mod open;
mod partitioner;
mod read;
mod topic;

use std::time::Duration;

pub use embedded::{DEFAULT_SEGMENT_BYTES, Damage, EmbeddedLog, PartitionReport, Repaired, check, repair};
pub use error::LogError;
pub use open::{LogUrl, OpenOptions, open};
pub use partitioner::{murmur2, partition_for_key};
pub use read::{ReadToEnd, read_to_end};
pub use topic::TopicConfig;

/// What a producer hands the log. The key chooses the partition, so one visitor's events stay in
/// order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub key: Vec<u8>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Message {
    pub fn new(key: impl Into<Vec<u8>>, payload: impl Into<Vec<u8>>) -> Message {
        Message { key: key.into(), payload: payload.into(), headers: Vec::new() }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Message {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }
}

/// Where an appended message landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub partition: u32,
    pub offset: u64,
}

/// A message read back, with its position and the time the log accepted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub partition: u32,
    pub offset: u64,
    /// Milliseconds since the epoch at which the log appended the message.
    pub appended_at_ms: i64,
    pub message: Message,
}

/// A partitioned, ordered, durable log of topics.
pub trait EventLog: Send + Sync {
    /// How many partitions `topic` has.
    fn partitions(&self, topic: &str) -> Result<u32, LogError>;

    /// Appends messages and returns once they are durable (fsynced, or acknowledged by all in-sync
    /// replicas), with the position of each in order.
    fn append(&self, topic: &str, messages: Vec<Message>) -> Result<Vec<Position>, LogError>;

    /// The offset the next message of each partition will get.
    fn end_offsets(&self, topic: &str) -> Result<Vec<u64>, LogError>;

    /// Reads every partition of `topic`, starting at `from[p]` in partition `p` (an offset before
    /// the oldest retained message starts at the oldest).
    fn reader(&self, topic: &str, from: &[u64]) -> Result<Box<dyn LogReader>, LogError>;
}

pub trait LogReader: Send {
    /// Up to `max` records, waiting at most `timeout` for the first. Records of one partition come
    /// in offset order; an empty result means nothing new arrived in time.
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Record>, LogError>;

    /// Records that everything before `next_offsets[p]` has been applied, for tools that watch a
    /// consumer group. Consumers resume from their own snapshot, not from this.
    fn commit(&mut self, next_offsets: &[u64]) -> Result<(), LogError>;
}

/// Milliseconds since the epoch: the clock appends are stamped with (`Record::appended_at_ms`),
/// which consumers measure their delay against.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    since_epoch.as_millis() as i64
}
