//! Opens the configured event log with Tailor's topics.

use std::sync::Arc;

use anyhow::Context;
use tailor_kafka::KafkaLog;
use tailor_log::{EmbeddedLog, EventLog};

use crate::config::{Config, LogBackend};

pub fn open_log(config: &Config) -> anyhow::Result<Arc<dyn EventLog>> {
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
