//! Against a real Kafka-protocol broker (tansu) started here.

use std::time::Duration;

use tailor_log::kafka::{KafkaConfig, KafkaLog};
use tailor_log::{EventLog, LogError, Message, Record, TopicConfig, partition_for_key};
use tailor_testkit::broker::{Broker, Storage};

fn connect(broker: &Broker, group: &str) -> KafkaLog {
    let mut config = KafkaConfig::new(group);
    config.properties.push(("message.timeout.ms".to_owned(), "30000".to_owned()));
    KafkaLog::connect(&broker.address(), config).unwrap()
}

fn read(log: &KafkaLog, topic: &str, from: &[u64], count: usize) -> Vec<Record> {
    let mut reader = log.reader(topic, from).unwrap();
    let mut records = Vec::new();
    let started = std::time::Instant::now();
    while records.len() < count && started.elapsed() < Duration::from_secs(30) {
        records.extend(reader.poll(1000, Duration::from_millis(200)).unwrap());
    }
    records
}

#[test]
fn keyed_messages_round_trip_on_the_partition_the_embedded_log_would_pick() {
    let broker = Broker::start(Storage::Sqlite);
    let log = connect(&broker, "round-trip");
    log.ensure_topics(&[TopicConfig::new("events", 3)]).unwrap();
    // Creating again is fine; asking for more partitions than exist is not.
    log.ensure_topics(&[TopicConfig::new("events", 3)]).unwrap();
    assert!(matches!(log.ensure_topics(&[TopicConfig::new("events", 5)]), Err(LogError::InvalidTopic { .. })));
    assert_eq!(log.partitions("events").unwrap(), 3);

    let messages: Vec<Message> = (0..300)
        .map(|i| Message::new(format!("visitor-{}", i % 23), format!("payload-{i}")).with_header("n", i.to_string()))
        .collect();
    let positions = log.append("events", messages.clone()).unwrap();
    for (message, position) in messages.iter().zip(&positions) {
        assert_eq!(position.partition, partition_for_key(&message.key, 3), "{message:?}");
    }
    let records = read(&log, "events", &[0, 0, 0], 300);
    assert_eq!(records.len(), 300);
    for record in &records {
        let sent = &messages
            [positions.iter().position(|p| p.partition == record.partition && p.offset == record.offset).unwrap()];
        assert_eq!(&record.message, sent);
        assert!(record.appended_at_ms > 0);
    }
    // A reader can start anywhere: here five records into partition 0 and at the end of the others.
    let mut ends = [0u64; 3];
    positions.iter().for_each(|p| ends[p.partition as usize] = ends[p.partition as usize].max(p.offset + 1));
    let tail = read(&log, "events", &[5, ends[1], ends[2]], ends[0] as usize - 5);
    let offsets: Vec<(u32, u64)> = tail.iter().map(|r| (r.partition, r.offset)).collect();
    assert_eq!(offsets, (5..ends[0]).map(|o| (0, o)).collect::<Vec<_>>());
}

#[test]
fn unknown_topics_and_wrong_offsets_are_named() {
    let broker = Broker::start(Storage::Memory);
    let log = connect(&broker, "errors");
    log.ensure_topics(&[TopicConfig::new("known", 2)]).unwrap();
    assert!(matches!(log.partitions("unknown"), Err(LogError::UnknownTopic(t)) if t == "unknown"));
    assert!(matches!(log.reader("known", &[0]), Err(LogError::PartitionCountMismatch { partitions: 2, given: 1, .. })));
}

#[test]
fn data_and_end_offsets_survive_a_broker_restart() {
    let mut broker = Broker::start(Storage::Sqlite);
    let log = connect(&broker, "restart");
    log.ensure_topics(&[TopicConfig::new("durable", 2)]).unwrap();
    log.append("durable", (0..100).map(|i| Message::new(format!("k{i}"), vec![i as u8])).collect()).unwrap();
    assert_eq!(log.end_offsets("durable").unwrap().iter().sum::<u64>(), 100);
    broker.restart();
    log.append("durable", (100..150).map(|i| Message::new(format!("k{i}"), vec![i as u8])).collect()).unwrap();
    assert_eq!(log.end_offsets("durable").unwrap().iter().sum::<u64>(), 150);
    assert_eq!(read(&log, "durable", &[0, 0], 150).len(), 150);
}
