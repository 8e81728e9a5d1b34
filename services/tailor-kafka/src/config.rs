use serde::{Deserialize, Serialize};

/// How to reach the cluster. `properties` go to librdkafka as they are (security settings,
/// timeouts) and override Tailor's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `host:port,host:port`.
    pub brokers: String,
    /// Consumer group that readers commit their applied offsets to; one per replica, since every
    /// replica reads every partition.
    pub group_id: String,
    /// Replication factor for topics Tailor creates.
    pub replication_factor: i32,
    #[serde(default)]
    pub properties: Vec<(String, String)>,
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>, group_id: impl Into<String>) -> KafkaConfig {
        KafkaConfig {
            brokers: brokers.into(),
            group_id: group_id.into(),
            replication_factor: 1,
            properties: Vec::new(),
        }
    }
}
