use std::path::PathBuf;

use thiserror::Error;

use crate::Damage;

#[derive(Debug, Error)]
pub enum LogError {
    #[error("unknown topic {0:?}; topics are created from the configuration")]
    UnknownTopic(String),
    #[error("topic {topic:?} has {partitions} partitions, but {given} start offsets were given")]
    PartitionCountMismatch { topic: String, partitions: u32, given: usize },
    #[error("invalid topic configuration for {topic:?}: {reason}")]
    InvalidTopic { topic: String, reason: String },
    #[error("{path}: corrupt record at byte {position}: {reason}")]
    Corrupt { path: PathBuf, position: u64, reason: String },
    #[error(
        "{0}; acknowledged records may follow it, so the log does not cut it off: `tailor log check` shows the damage, `tailor log repair` keeps every readable record"
    )]
    Damaged(Box<Damage>),
    #[error("{path}: appends are refused after an earlier failure ({reason}); restart to recover from what is on disk")]
    Failed { path: PathBuf, reason: String },
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    MessageTooLarge { size: usize, limit: usize },
    #[error("{path} is in use by another process (the embedded log has one writer)")]
    Locked { path: PathBuf },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("broker: {0}")]
    Broker(String),
    #[error("log URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
}

impl LogError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LogError {
        let context = context.into();
        move |source| LogError::Io { context, source }
    }
}
