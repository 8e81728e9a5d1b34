//! The configured event log with Tailor's topics, and the configured wire format.

use std::sync::Arc;

use tailor_events::{Confluent, SingleObject, WireFormat};
use tailor_log::{EventLog, LogError, OpenOptions};
use tailor_stream::Source;

use crate::{Config, ConfigError, HttpSchemaRegistry};

/// The interactions topic, as the streaming consumer reads it.
pub fn interactions_source(config: &Config) -> Result<Source, ConfigError> {
    Ok(Source {
        log: open_log(config)?,
        wire: wire_format(config),
        topic: config.events.interactions.name.clone(),
        dead_letter_topic: config.events.dead_letters.name.clone(),
    })
}

/// The Confluent framing when a schema registry is configured, single-object encoding otherwise.
pub fn wire_format(config: &Config) -> Arc<dyn WireFormat> {
    match &config.events.schema_registry_url {
        Some(url) => Arc::new(Confluent::new(Box::new(HttpSchemaRegistry::new(url)))),
        None => Arc::new(SingleObject),
    }
}

/// The log `events.log` names, with Tailor's topics (created where they are missing).
pub fn open_log(config: &Config) -> Result<Arc<dyn EventLog>, ConfigError> {
    let events = &config.events;
    let topics = [
        events.interactions.clone(),
        events.dead_letters.clone(),
        events.models.clone(),
        events.items.clone(),
        events.item_vectors.clone(),
    ];
    let options = OpenOptions {
        default_dir: config.paths().log(),
        segment_bytes: events.segment_bytes,
        kafka: events.kafka.clone(),
    };
    tailor_log::open(&events.log, &topics, &options)
        .map_err(|source| ConfigError::Log { context: format!("opening the event log {}", events.log), source })
}

/// The embedded log's lock is held: a running `tailor serve` owns it.
pub fn is_held_by_another_process(error: &ConfigError) -> bool {
    matches!(error, ConfigError::Log { source: LogError::Locked { .. }, .. })
}
