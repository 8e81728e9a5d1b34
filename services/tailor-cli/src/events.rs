//! Opens the configured event log with Tailor's topics, and the configured wire format.

use std::sync::Arc;

use anyhow::Context;
use tailor_events::{Confluent, SingleObject, WireFormat};
use tailor_kafka::{HttpSchemaRegistry, KafkaLog};
use tailor_log::{EmbeddedLog, EventLog};
use tailor_stream::Source;

use crate::config::{Config, LogBackend};

/// The interactions topic, as the streaming consumer reads it.
pub fn interactions_source(config: &Config) -> anyhow::Result<Source> {
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

fn open_log(config: &Config) -> anyhow::Result<Arc<dyn EventLog>> {
    let events = &config.events;
    let topics = [events.interactions.clone(), events.dead_letters.clone()];
    Ok(match events.log {
        LogBackend::Embedded => {
            let dir = config.log_dir();
            let log = EmbeddedLog::open(&dir, &topics, events.segment_bytes)
                .with_context(|| format!("opening the embedded event log in {}", dir.display()))?;
            Arc::new(log)
        }
        LogBackend::Kafka => {
            let log = KafkaLog::connect(events.kafka.clone())
                .with_context(|| format!("connecting to Kafka at {}", events.kafka.brokers))?;
            log.ensure_topics(&topics).with_context(|| format!("creating topics on {}", events.kafka.brokers))?;
            Arc::new(log)
        }
    })
}
