//! Opens the configured event log with Tailor's topics, and the configured wire format.

use std::sync::Arc;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use tailor_events::{Confluent, Event, Interaction, SingleObject, WireFormat};
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

pub fn open_log(config: &Config) -> anyhow::Result<Arc<dyn EventLog>> {
    let events = &config.events;
    let topics = [events.interactions.clone(), events.dead_letters.clone(), events.models.clone()];
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

/// The embedded log's lock is held: a running `tailor serve` owns it.
pub fn is_held_by_another_process(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| matches!(cause.downcast_ref(), Some(tailor_log::LogError::Locked { .. })))
}

/// Every interaction in the log up to its end when called, the end offsets (the data window),
/// and how many messages could not be decoded (left out, counted).
pub struct Interactions {
    pub events: Vec<Interaction>,
    pub end_offsets: BTreeMap<u32, u64>,
    pub undecodable: u64,
}

/// Reading stops when a partition makes no progress for this long before its recorded end.
const READ_STALL: Duration = Duration::from_secs(30);

pub fn read_interactions(config: &Config, log: &dyn EventLog, wire: &dyn WireFormat) -> anyhow::Result<Interactions> {
    let topic = &config.events.interactions.name;
    let ends = log.end_offsets(topic)?;
    let mut next = vec![0u64; ends.len()];
    let mut reader = log.reader(topic, &next)?;
    let mut read = Interactions { events: Vec::new(), end_offsets: BTreeMap::new(), undecodable: 0 };
    let mut progress = Instant::now();
    while next.iter().zip(&ends).any(|(n, e)| n < e) {
        let records = reader.poll(4096, Duration::from_millis(200))?;
        if records.is_empty() {
            anyhow::ensure!(
                progress.elapsed() < READ_STALL,
                "reading {topic}: stuck at offsets {next:?} before the ends {ends:?}"
            );
            continue;
        }
        progress = Instant::now();
        for record in records {
            let partition = record.partition as usize;
            if record.offset >= ends[partition] {
                continue;
            }
            next[partition] = record.offset + 1;
            match wire.decode(&record.message.payload) {
                Ok(Event::Interaction(interaction)) => read.events.push(interaction),
                Ok(_) | Err(_) => read.undecodable += 1,
            }
        }
    }
    read.end_offsets = ends.iter().enumerate().map(|(p, &end)| (p as u32, end)).collect();
    Ok(read)
}
