//! [`EventLog`](crate::EventLog) over Kafka with `rdkafka`. Producing is idempotent with
//! `acks=all` and Kafka's murmur2 key partitioner, so a visitor's events keep their order and
//! land on the partition the embedded log would choose. Readers are assigned every partition
//! explicitly (each ranking-service replica keeps every visitor), start at the offsets their
//! snapshot gives, and commit to their group only what has been applied.

mod config;
mod log;

pub use config::KafkaConfig;
pub use log::KafkaLog;
