//! Tailor's configuration, layered: defaults in code, then a TOML file (`--config`,
//! `TAILOR_CONFIG`, or `./tailor.toml` when present), then `TAILOR_*` environment variables, then
//! command-line flags. Every binary loads it here, and opens the event log it names with
//! [`open_log`].

mod data_dir;
mod log;
mod metrics;
mod registry;
mod serve;

pub use data_dir::DataDir;
pub use log::{interactions_source, is_held_by_another_process, open_log, wire_format};
pub use metrics::{metrics_recorder, serve_metrics};
pub use registry::HttpSchemaRegistry;
pub use serve::{DEFAULT_SESSION_TTL_MS, RequestLimits, ServeConfig, TimestampWindow};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tailor_log::kafka::KafkaConfig;
use tailor_log::{DEFAULT_SEGMENT_BYTES, LogUrl, TopicConfig};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration ({layers}): {source}")]
    Invalid { layers: String, source: Box<figment::Error> },
    #[error("{context}: {source}")]
    Log { context: String, source: tailor_log::LogError },
    #[error("{0}")]
    Metrics(String),
}

const DEFAULT_FILE: &str = "tailor.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the catalogue store, the embedded log and everything derived from them live.
    pub data_dir: PathBuf,
    pub events: EventsConfig,
    pub stream: StreamConfig,
    pub embed: EmbedConfig,
    pub train: TrainSettings,
    pub serve: ServeConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("var"),
            events: EventsConfig::default(),
            stream: StreamConfig::default(),
            embed: EmbedConfig::default(),
            train: TrainSettings::default(),
            serve: ServeConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// Where events live: `file:` for the embedded durable log in `DATA_DIR/log` (one machine,
    /// no broker), `file:PATH` for one elsewhere, or `kafka://HOST:PORT[,HOST:PORT...]`.
    pub log: LogUrl,
    /// The group, replication and client properties used on Kafka.
    pub kafka: KafkaConfig,
    /// When set (e.g. `http://registry:8081`), events use the Confluent wire format with this
    /// schema registry instead of Avro single-object encoding.
    pub schema_registry_url: Option<String>,
    /// Size at which the embedded log starts a new segment file.
    pub segment_bytes: u64,
    pub interactions: TopicConfig,
    pub dead_letters: TopicConfig,
    /// Where model-published events announce new versions.
    pub models: TopicConfig,
    /// Item upserts and removals, keyed by item id; compacted on Kafka.
    pub items: TopicConfig,
    /// The item vectors the embedder computes from the items topic, keyed by item id.
    pub item_vectors: TopicConfig,
}

const THIRTY_DAYS_MS: u64 = 30 * 24 * 3600 * 1000;

impl Default for EventsConfig {
    fn default() -> Self {
        let retained = |name: &str, partitions| TopicConfig {
            retention_ms: Some(THIRTY_DAYS_MS),
            ..TopicConfig::new(name, partitions)
        };
        EventsConfig {
            log: LogUrl::File(None),
            kafka: KafkaConfig::new("tailor-1"),
            schema_registry_url: None,
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            interactions: retained("tailor.interactions", 6),
            dead_letters: retained("tailor.dead-letters", 1),
            models: retained("tailor.models", 1),
            items: TopicConfig { compacted: true, ..TopicConfig::new("tailor.items", 3) },
            item_vectors: TopicConfig { compacted: true, ..TopicConfig::new("tailor.item-vectors", 3) },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// How often the visitor states are snapshotted; a restart replays at most this much.
    pub snapshot_interval_ms: u64,
    /// Fused item vectors (safetensors) [default: DATA_DIR/embeddings/items.safetensors].
    pub item_vectors: Option<PathBuf>,
    /// Serve Prometheus metrics on this address, e.g. "127.0.0.1:9464".
    pub metrics_addr: Option<SocketAddr>,
    /// The resend window, idle eviction, maximum number of visitors held and parked events.
    pub limits: tailor_stream::StateLimits,
    /// How interactions count towards what is trending, and how fast counts fade.
    pub trending: tailor_stream::TrendingWeights,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            snapshot_interval_ms: 10_000,
            item_vectors: None,
            metrics_addr: None,
            limits: tailor_stream::StateLimits::default(),
            trending: tailor_stream::TrendingWeights::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedConfig {
    /// The encoders' weights [default: what scripts/setup installed].
    pub models_dir: Option<PathBuf>,
    /// The photo's share of an item's fused vector; the text gets the rest.
    pub image_weight: f64,
    /// Dimension of the joint space the item vectors live in.
    pub dim: i64,
    /// Where `tailor text-encoder` answers free-text queries for serving replicas.
    pub text_encoder_addr: SocketAddr,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            models_dir: None,
            image_weight: 0.5,
            dim: 256,
            text_encoder_addr: SocketAddr::from(([127, 0, 0, 1], 8090)),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// The model store [default: DATA_DIR/models].
    pub models_dir: Option<PathBuf>,
    /// Seed, epochs, learning rate, item attributes, ...
    pub model: tailor_models::TrainConfig,
    /// `tailor train --watch` and `tailor serve` retrain this often ...
    pub every_ms: Option<u64>,
    /// ... or once this many new events have arrived after the active model's data window.
    pub after_events: Option<u64>,
}

impl TrainSettings {
    pub fn schedule(&self) -> tailor_models::RetrainSchedule {
        tailor_models::RetrainSchedule { every_ms: self.every_ms, after_events: self.after_events }
    }
}

impl Config {
    /// Every path under the data directory, with the configured overrides.
    pub fn paths(&self) -> DataDir {
        DataDir::new(&self.data_dir, self.stream.item_vectors.clone(), self.train.models_dir.clone())
    }

    /// Where this process's consumer keeps its snapshot. The embedded log has one owner at a
    /// time; on Kafka several processes (replicas, a standalone consumer) may share the data
    /// directory, each with its own consumer group, so each gets its own file.
    pub fn snapshot_path(&self) -> PathBuf {
        match self.events.log {
            LogUrl::File(_) => self.paths().snapshot("visitors"),
            LogUrl::Kafka(_) => self.paths().snapshot(&self.events.kafka.group_id),
        }
    }

    /// This configuration with its secrets replaced by a marker, for showing.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        for secret in [&mut shown.serve.session_secret, &mut shown.serve.admin_token] {
            if secret.is_some() {
                *secret = Some("(set, not shown)".to_owned());
            }
        }
        shown
    }
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
        let file = match file {
            Some(file) if !file.is_file() => return Err(ConfigError::MissingFile(file.to_path_buf())),
            Some(file) => Some(file.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|f| f.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = &file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::prefixed("TAILOR_").split("__").filter(is_config_key))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|source| ConfigError::Invalid {
                layers: match &file {
                    Some(file) => format!("file {}, TAILOR_* variables, flags", file.display()),
                    None => "TAILOR_* variables, flags".to_owned(),
                },
                source: Box::new(source),
            })
    }
}

/// Other `TAILOR_*` variables (`TAILOR_CONFIG`, ones scripts use) are not configuration keys.
fn is_config_key(key: &figment::value::UncasedStr) -> bool {
    let top_level = key.as_str().split('.').next().unwrap_or_default();
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(keys)) => keys.keys().any(|k| k.eq_ignore_ascii_case(top_level)),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err, reason = "figment::Jail closures must return figment::Error")]
mod tests {
    use figment::Jail;

    use super::*;

    #[test]
    fn processes_on_kafka_keep_snapshots_of_their_own() {
        let mut config = Config::default();
        assert_eq!(config.snapshot_path(), Path::new("var/stream/visitors.snapshot"));
        config.events.log = "kafka://k1:9092".parse().unwrap();
        config.events.kafka.group_id = "tailor-ranker-2".to_owned();
        assert_eq!(config.snapshot_path(), Path::new("var/stream/tailor-ranker-2.snapshot"));
        config.events.kafka.group_id = "../pod/7".to_owned();
        assert_eq!(config.snapshot_path(), Path::new("var/stream/.._pod_7.snapshot"));
    }

    #[test]
    fn layers_apply_in_order() {
        Jail::expect_with(|jail| {
            assert_eq!(Config::load(None, Overrides::default()).unwrap(), Config::default());

            jail.create_file(DEFAULT_FILE, "data_dir = \"from-file\"")?;
            assert_eq!(Config::load(None, Overrides::default()).unwrap().data_dir, PathBuf::from("from-file"));

            jail.set_env("TAILOR_DATA_DIR", "from-env");
            jail.set_env("TAILOR_SOMETHING_ELSE", "ignored");
            assert_eq!(Config::load(None, Overrides::default()).unwrap().data_dir, PathBuf::from("from-env"));

            jail.set_env("TAILOR_EVENTS__LOG", "kafka://k1:9092,k2:9092");
            jail.set_env("TAILOR_EVENTS__INTERACTIONS__PARTITIONS", "12");
            let config = Config::load(None, Overrides::default()).unwrap();
            let kafka = LogUrl::Kafka("k1:9092,k2:9092".to_owned());
            assert_eq!((config.events.log, config.events.interactions.partitions), (kafka, 12));

            jail.set_env("TAILOR_EVENTS__LOG", "kafka");
            let err = Config::load(None, Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("file:PATH or kafka://HOST:PORT"), "{err}");
            jail.set_env("TAILOR_EVENTS__LOG", "file:");

            let flags = Overrides { data_dir: Some("from-flag".into()) };
            assert_eq!(Config::load(None, flags).unwrap().data_dir, PathBuf::from("from-flag"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "data_dri = \"typo\"")?;
            let err = Config::load(Some(Path::new("bad.toml")), Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("data_dri"), "{err}");
            let err = Config::load(Some(Path::new("absent.toml")), Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("absent.toml does not exist"));
            Ok(())
        });
    }
}
