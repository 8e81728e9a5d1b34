//! The configured event log with Tailor's topics, and the configured wire format.

use std::sync::Arc;

use tailor_events::{Confluent, SingleObject, WireFormat};
use tailor_kafka::{HttpSchemaRegistry, KafkaLog};
use tailor_log::{EmbeddedLog, EventLog, LogError};
use tailor_stream::Source;

use crate::{Config, ConfigError, LogBackend};

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

pub fn open_log(config: &Config) -> Result<Arc<dyn EventLog>, ConfigError> {
    let events = &config.events;
    let topics = [events.interactions.clone(), events.dead_letters.clone(), events.models.clone()];
    let failed = |context: String| move |source| ConfigError::Log { context, source };
    Ok(match events.log {
        LogBackend::Embedded => {
            let dir = config.paths().log();
            let log = EmbeddedLog::open(&dir, &topics, events.segment_bytes)
                .map_err(failed(format!("opening the embedded event log in {}", dir.display())))?;
            Arc::new(log)
        }
        LogBackend::Kafka => {
            let brokers = &events.kafka.brokers;
            let log =
                KafkaLog::connect(events.kafka.clone()).map_err(failed(format!("connecting to Kafka at {brokers}")))?;
            log.ensure_topics(&topics).map_err(failed(format!("creating topics on {brokers}")))?;
            Arc::new(log)
        }
    })
}

/// The embedded log's lock is held: a running `tailor serve` owns it.
pub fn is_held_by_another_process(error: &ConfigError) -> bool {
    matches!(error, ConfigError::Log { source: LogError::Locked { .. }, .. })
}
