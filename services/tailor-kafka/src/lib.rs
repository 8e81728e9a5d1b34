//! [`EventLog`](tailor_log::EventLog) over Kafka with `rdkafka`. Producing is idempotent with
//! `acks=all` and Kafka's murmur2 key partitioner, so a visitor's events keep their order and
//! land on the partition the embedded log would choose. Readers are assigned every partition
//! explicitly (each ranking-service replica keeps every visitor), start at the offsets their
//! snapshot gives, and commit to their group only what has been applied. [`HttpSchemaRegistry`]
//! serves the Confluent wire format.

mod config;
mod log;
mod registry;

pub use config::KafkaConfig;
pub use log::KafkaLog;
pub use registry::HttpSchemaRegistry;
