use serde::{Deserialize, Serialize};

/// How to use the cluster (its brokers are the log URL's). `properties` go to librdkafka as they are (security settings,
/// timeouts) and override Tailor's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Consumer group that readers commit their applied offsets to; one per replica, since every
    /// replica reads every partition.
    pub group_id: String,
    /// Replication factor for topics Tailor creates; by default three, or every broker when
    /// the cluster has fewer.
    #[serde(default)]
    pub replication_factor: Option<i32>,
    /// `min.insync.replicas` for topics Tailor creates: how many replicas must hold an event
    /// before an append (and so a `202`) succeeds; by default one less than the replication
    /// factor, at least one. With three brokers the defaults survive the loss of one.
    #[serde(default)]
    pub min_insync_replicas: Option<i32>,
    #[serde(default)]
    pub properties: Vec<(String, String)>,
}

impl KafkaConfig {
    pub fn new(group_id: impl Into<String>) -> KafkaConfig {
        KafkaConfig {
            group_id: group_id.into(),
            replication_factor: None,
            min_insync_replicas: None,
            properties: Vec::new(),
        }
    }
}

/// The replication factor and `min.insync.replicas` for new topics on a cluster of `brokers`.
pub(crate) fn replication(config: &KafkaConfig, brokers: usize) -> Result<(i32, i32), String> {
    let brokers = i32::try_from(brokers).unwrap_or(i32::MAX);
    let factor = config.replication_factor.unwrap_or(brokers.clamp(1, 3));
    if factor < 1 || factor > brokers {
        return Err(format!("replication_factor {factor}: the cluster has {brokers} brokers"));
    }
    let min_insync = config.min_insync_replicas.unwrap_or((factor - 1).max(1));
    if min_insync < 1 || min_insync > factor {
        return Err(format!("min_insync_replicas {min_insync}: give 1 to the replication factor, {factor}"));
    }
    Ok((factor, min_insync))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(factor: Option<i32>, min_insync: Option<i32>) -> KafkaConfig {
        KafkaConfig { replication_factor: factor, min_insync_replicas: min_insync, ..KafkaConfig::new("g") }
    }

    #[test]
    fn defaults_survive_one_broker_loss_on_three_brokers_and_still_work_on_one() {
        assert_eq!(replication(&config(None, None), 3), Ok((3, 2)));
        assert_eq!(replication(&config(None, None), 5), Ok((3, 2)));
        assert_eq!(replication(&config(None, None), 2), Ok((2, 1)));
        assert_eq!(replication(&config(None, None), 1), Ok((1, 1)));
        assert_eq!(replication(&config(Some(5), Some(3)), 5), Ok((5, 3)));
    }

    #[test]
    fn impossible_settings_are_named() {
        assert!(replication(&config(Some(3), None), 1).unwrap_err().contains("the cluster has 1 brokers"));
        assert!(replication(&config(None, Some(4)), 3).unwrap_err().contains("min_insync_replicas 4"));
        assert!(replication(&config(Some(0), None), 3).is_err());
        assert!(replication(&config(None, Some(0)), 3).is_err());
    }
}
