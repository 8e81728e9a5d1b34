use serde::{Deserialize, Serialize};

use crate::LogError;

/// A topic as the configuration declares it. Both logs create missing topics from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    pub name: String,
    pub partitions: u32,
    /// Messages older than this may be deleted; `None` keeps them until `retention_bytes` says.
    pub retention_ms: Option<u64>,
    /// Per partition; `None` keeps every byte the age limit allows.
    pub retention_bytes: Option<u64>,
    /// Keep the latest message of each key for good (Kafka's `cleanup.policy=compact`), for
    /// topics whose last message of a key is its state, such as the items. The embedded log
    /// keeps every message.
    #[serde(default)]
    pub compacted: bool,
}

impl TopicConfig {
    pub fn new(name: impl Into<String>, partitions: u32) -> TopicConfig {
        TopicConfig { name: name.into(), partitions, retention_ms: None, retention_bytes: None, compacted: false }
    }

    /// Kafka's rules for a topic name, which the embedded log also uses as a directory name.
    pub fn validate(&self) -> Result<(), LogError> {
        let invalid = |reason: &str| LogError::InvalidTopic { topic: self.name.clone(), reason: reason.to_owned() };
        if self.name.is_empty() || self.name.len() > 249 {
            return Err(invalid("a name has 1 to 249 characters"));
        }
        if self.name == "." || self.name == ".." {
            return Err(invalid("\".\" and \"..\" are not topic names"));
        }
        if !self.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err(invalid("a name uses only ASCII letters, digits, '.', '_' and '-'"));
        }
        if self.partitions == 0 {
            return Err(invalid("a topic has at least one partition"));
        }
        Ok(())
    }
}
