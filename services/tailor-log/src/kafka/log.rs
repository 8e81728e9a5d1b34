use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::kafka::KafkaConfig;
use crate::{EventLog, LogError, LogReader, Message, Position, Record, TopicConfig};
use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message as _, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

/// How long a metadata or watermark request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub struct KafkaLog {
    brokers: String,
    config: KafkaConfig,
    producer: FutureProducer,
    /// Serves metadata and watermark requests; it never subscribes.
    metadata: BaseConsumer,
    partitions: Mutex<HashMap<String, u32>>,
}

fn broker_error(context: &str) -> impl FnOnce(KafkaError) -> LogError + '_ {
    move |e| LogError::Broker(format!("{context}: {e}"))
}

impl KafkaLog {
    /// `brokers`: `host:port,host:port`.
    pub fn connect(brokers: &str, config: KafkaConfig) -> Result<KafkaLog, LogError> {
        let producer = client_config(brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "2")
            .set("compression.type", "lz4")
            .set_properties(&config)
            .create()
            .map_err(broker_error("creating the producer"))?;
        let metadata =
            client_config(brokers).set_properties(&config).create().map_err(broker_error("creating a client"))?;
        Ok(KafkaLog { brokers: brokers.to_owned(), config, producer, metadata, partitions: Mutex::new(HashMap::new()) })
    }

    /// Creates the topics that do not exist yet, with their partition count and retention.
    pub fn ensure_topics(&self, topics: &[TopicConfig]) -> Result<(), LogError> {
        for topic in topics {
            topic.validate()?;
        }
        let admin: AdminClient<DefaultClientContext> = client_config(&self.brokers)
            .set_properties(&self.config)
            .create()
            .map_err(broker_error("creating an admin client"))?;
        let brokers =
            self.metadata.fetch_metadata(None, REQUEST_TIMEOUT).map_err(broker_error("listing the brokers"))?;
        let (factor, min_insync) = super::config::replication(&self.config, brokers.brokers().len())
            .map_err(|reason| LogError::Broker(format!("creating topics: {reason}")))?;
        let min_insync = min_insync.to_string();
        let retention: Vec<(String, String)> = topics
            .iter()
            .map(|t| {
                let ms = t.retention_ms.map_or("-1".to_owned(), |ms| ms.to_string());
                let bytes = t.retention_bytes.map_or("-1".to_owned(), |b| b.to_string());
                (ms, bytes)
            })
            .collect();
        let new_topics: Vec<NewTopic> = topics
            .iter()
            .zip(&retention)
            .map(|(t, (ms, bytes))| {
                let topic = NewTopic::new(&t.name, t.partitions as i32, TopicReplication::Fixed(factor))
                    .set("retention.ms", ms)
                    .set("retention.bytes", bytes)
                    .set("min.insync.replicas", &min_insync);
                // Only where asked: the broker's default (delete) otherwise.
                if t.compacted { topic.set("cleanup.policy", "compact") } else { topic }
            })
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
        let results = block_on(admin.create_topics(&new_topics, &options)).map_err(broker_error("creating topics"))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => return Err(LogError::Broker(format!("creating topic {topic:?}: {code}"))),
            }
        }
        for topic in topics {
            let existing = self.partitions(&topic.name)?;
            if existing < topic.partitions {
                return Err(LogError::InvalidTopic {
                    topic: topic.name.clone(),
                    reason: format!(
                        "exists with {existing} partitions, the configuration asks for {}",
                        topic.partitions
                    ),
                });
            }
        }
        Ok(())
    }
}

fn client_config(brokers: &str) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", brokers);
    client
}

trait SetProperties {
    fn set_properties(&mut self, config: &KafkaConfig) -> &mut Self;
}

impl SetProperties for ClientConfig {
    fn set_properties(&mut self, config: &KafkaConfig) -> &mut Self {
        for (key, value) in &config.properties {
            self.set(key, value);
        }
        self
    }
}

impl EventLog for KafkaLog {
    fn partitions(&self, topic: &str) -> Result<u32, LogError> {
        if let Some(&count) = self.partitions.lock().expect("partition cache").get(topic) {
            return Ok(count);
        }
        let metadata = self
            .metadata
            .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
            .map_err(broker_error(&format!("reading metadata of {topic:?}")))?;
        let found = metadata.topics().iter().find(|t| t.name() == topic);
        let count = match found {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => t.partitions().len() as u32,
            _ => return Err(LogError::UnknownTopic(topic.to_owned())),
        };
        self.partitions.lock().expect("partition cache").insert(topic.to_owned(), count);
        Ok(count)
    }

    fn append(&self, topic: &str, messages: Vec<Message>) -> Result<Vec<Position>, LogError> {
        let mut deliveries = Vec::with_capacity(messages.len());
        for message in &messages {
            let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
            for (name, value) in &message.headers {
                headers = headers.insert(Header { key: name, value: Some(value) });
            }
            let mut record = FutureRecord::to(topic).key(&message.key).payload(&message.payload).headers(headers);
            // A full local queue means the broker is slow or away: wait for room, as Kafka's
            // producers do, rather than fail the batch.
            let delivery = loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => break delivery,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        record = returned;
                        self.producer.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => return Err(LogError::Broker(format!("producing to {topic:?}: {e}"))),
                }
            };
            deliveries.push(delivery);
        }
        deliveries
            .into_iter()
            .map(|delivery| match block_on(delivery) {
                Ok(Ok(done)) => Ok(Position { partition: done.partition as u32, offset: done.offset as u64 }),
                Ok(Err((e, _))) => Err(LogError::Broker(format!("producing to {topic:?}: {e}"))),
                Err(_) => Err(LogError::Broker(format!("producing to {topic:?}: the producer shut down"))),
            })
            .collect()
    }

    fn end_offsets(&self, topic: &str) -> Result<Vec<u64>, LogError> {
        (0..self.partitions(topic)?)
            .map(|p| {
                let (_, high) = self
                    .metadata
                    .fetch_watermarks(topic, p as i32, REQUEST_TIMEOUT)
                    .map_err(broker_error(&format!("reading the end of {topic:?} partition {p}")))?;
                Ok(high.max(0) as u64)
            })
            .collect()
    }

    fn reader(&self, topic: &str, from: &[u64]) -> Result<Box<dyn LogReader>, LogError> {
        let partitions = self.partitions(topic)?;
        if from.len() != partitions as usize {
            return Err(LogError::PartitionCountMismatch { topic: topic.to_owned(), partitions, given: from.len() });
        }
        let consumer: BaseConsumer = client_config(&self.brokers)
            .set("group.id", &self.config.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // An offset before the oldest retained message starts at the oldest.
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", "10")
            .set_properties(&self.config)
            .create()
            .map_err(broker_error("creating a consumer"))?;
        let mut assignment = TopicPartitionList::new();
        for (p, &offset) in from.iter().enumerate() {
            assignment
                .add_partition_offset(topic, p as i32, Offset::Offset(offset as i64))
                .map_err(broker_error("assigning partitions"))?;
        }
        consumer.assign(&assignment).map_err(broker_error("assigning partitions"))?;
        Ok(Box::new(KafkaReader { consumer, topic: topic.to_owned() }))
    }
}

struct KafkaReader {
    consumer: BaseConsumer,
    topic: String,
}

impl LogReader for KafkaReader {
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Record>, LogError> {
        let mut records = Vec::new();
        let mut wait = timeout;
        while records.len() < max {
            let Some(result) = self.consumer.poll(wait) else { break };
            wait = Duration::ZERO;
            match result {
                Ok(message) => records.push(Record {
                    partition: message.partition() as u32,
                    offset: message.offset() as u64,
                    appended_at_ms: message.timestamp().to_millis().unwrap_or_default(),
                    message: Message {
                        key: message.key().unwrap_or_default().to_vec(),
                        payload: message.payload().unwrap_or_default().to_vec(),
                        headers: message.headers().map_or_else(Vec::new, |headers| {
                            headers.iter().map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())).collect()
                        }),
                    },
                }),
                // librdkafka reconnects and refetches by itself; only a fatal error ends reading.
                Err(e) if is_fatal(&e) => return Err(LogError::Broker(format!("reading {:?}: {e}", self.topic))),
                Err(_) => {}
            }
        }
        Ok(records)
    }

    fn commit(&mut self, next_offsets: &[u64]) -> Result<(), LogError> {
        let mut offsets = TopicPartitionList::new();
        for (p, &offset) in next_offsets.iter().enumerate() {
            offsets
                .add_partition_offset(&self.topic, p as i32, Offset::Offset(offset as i64))
                .map_err(broker_error("committing offsets"))?;
        }
        // Asynchronous: the snapshot, not the group, is what a restart resumes from.
        self.consumer.commit(&offsets, CommitMode::Async).map_err(broker_error("committing offsets"))
    }
}

fn is_fatal(error: &KafkaError) -> bool {
    error.rdkafka_error_code().is_some_and(|code| code == RDKafkaErrorCode::Fatal)
}
