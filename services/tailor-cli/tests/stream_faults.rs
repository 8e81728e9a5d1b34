//! Fault tests of the streaming consumer as a process: killed with SIGKILL in the middle of
//! 100,000 events, and with the broker restarted during production. In every case each event
//! must end up applied exactly once, which is checked against a one-pass replay.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tailor_core::AggregateWeights;
use tailor_events::Interaction;
use tailor_log::kafka::{KafkaConfig, KafkaLog};
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, Message, TopicConfig};
use tailor_stream::{DEAD_LETTER_SOURCE, ItemVectors, VisitorStates, load_snapshot};
use tailor_testkit::broker::{Broker, Storage};
use tailor_testkit::synthetic;

mod common;

const EVENTS: usize = 100_000;
const DIM: usize = 32;
const INTERACTIONS: &str = "interactions";
const DEAD_LETTERS: &str = "dead-letters";

struct Setup {
    dir: tempfile::TempDir,
    items: ItemVectors,
    events: Vec<Interaction>,
    /// The consumer's snapshot: one per consumer group on Kafka.
    snapshot: PathBuf,
}

impl Setup {
    /// Items, events and a configuration for `log` ("embedded" or "kafka").
    fn new(log: &str, brokers: &str, seed: u64) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let items = synthetic::item_vectors(500, DIM, seed);
        items.save(&dir.path().join("items.safetensors")).unwrap();
        let url = if log == "kafka" { format!("kafka://{brokers}") } else { "file:".to_owned() };
        let config = format!(
            r#"data_dir = "{data}"
[events]
log = "{url}"
[events.kafka]
group_id = "fault-test"
replication_factor = 1
properties = [["message.timeout.ms", "60000"]]
[events.interactions]
name = "{INTERACTIONS}"
partitions = 3
[events.dead_letters]
name = "{DEAD_LETTERS}"
partitions = 1
[stream]
snapshot_interval_ms = 100
item_vectors = "{items}"
"#,
            data = dir.path().join("data").display(),
            items = dir.path().join("items.safetensors").display(),
        );
        fs::write(dir.path().join("tailor.toml"), config).unwrap();
        let events = synthetic::interactions(EVENTS, 5_000, 500, seed + 1);
        let snapshot_name = if log == "kafka" { "fault-test.snapshot" } else { "visitors.snapshot" };
        let snapshot = dir.path().join("data/stream").join(snapshot_name);
        Setup { dir, items, events, snapshot }
    }

    fn consumer(&self, until_caught_up: bool) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tailor"));
        command.arg("--config").arg(self.dir.path().join("tailor.toml")).args(["stream", "run"]);
        if until_caught_up {
            command.arg("--until-caught-up");
        }
        command.env_remove("TAILOR_CONFIG").env_remove("TAILOR_DATA_DIR");
        command
    }

    fn spawn_consumer(&self) -> Consumer {
        Consumer(self.consumer(false).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().unwrap())
    }

    /// Runs the consumer to the end of the log and returns how many events it applied.
    fn finish(&self) -> u64 {
        let output = self.consumer(true).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        let applied = stdout.split("applied ").nth(1).and_then(|rest| rest.split(',').next()).unwrap();
        applied.parse().unwrap()
    }

    /// Events applied according to the latest snapshot, if there is one.
    fn snapshot_progress(&self) -> Option<u64> {
        let states = VisitorStates::new(DIM, AggregateWeights::default());
        // A snapshot may be renamed into place while it is read; try again next time.
        load_snapshot(&self.snapshot, &states).ok().flatten().map(|s| s.positions.iter().sum())
    }

    /// SIGKILLs the consumer once a snapshot shows it part of the way through.
    fn kill_mid_stream(&self, consumer: &mut Child) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(consumer.try_wait().unwrap().is_none(), "the consumer exited before it could be killed");
            if let Some(progress) = self.snapshot_progress().filter(|&p| p >= 10_000) {
                consumer.kill().unwrap();
                consumer.wait().unwrap();
                return progress;
            }
            assert!(Instant::now() < deadline, "no snapshot with progress within 120 s");
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn assert_exactly_once(&self) {
        common::assert_snapshot_is_the_replay(&self.snapshot, &self.items, &self.events);
    }
}

/// A consumer process, killed if the test fails while it runs.
struct Consumer(Child);

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kafka(broker: &Broker) -> Arc<KafkaLog> {
    let mut config = KafkaConfig::new("fault-test-producer");
    config.properties.push(("message.timeout.ms".to_owned(), "60000".to_owned()));
    let log = KafkaLog::connect(&broker.address(), config).unwrap();
    log.ensure_topics(&[TopicConfig::new(INTERACTIONS, 3), TopicConfig::new(DEAD_LETTERS, 1)]).unwrap();
    Arc::new(log)
}

/// The events in batches, with a malformed message after every 20,000th event.
fn batches(events: &[Interaction]) -> Vec<Vec<Message>> {
    synthetic::messages(events)
        .chunks(2_000)
        .enumerate()
        .map(|(i, chunk)| {
            let mut batch = chunk.to_vec();
            if i % 10 == 9 {
                batch.push(Message::new("visitor-0", format!("malformed message {i}")));
            }
            batch
        })
        .collect()
}

/// Appends each batch, retrying a batch that failed (with the same event ids) until it lands.
fn produce(log: &dyn EventLog, batches: Vec<Vec<Message>>) {
    for batch in batches {
        let deadline = Instant::now() + Duration::from_secs(120);
        while let Err(e) = log.append(INTERACTIONS, batch.clone()) {
            assert!(Instant::now() < deadline, "producing failed for 120 s: {e}");
            thread::sleep(Duration::from_millis(200));
        }
    }
}

fn dead_letter_sources(log: &dyn EventLog) -> std::collections::BTreeSet<String> {
    let mut reader = log.reader(DEAD_LETTERS, &[0]).unwrap();
    let mut sources = std::collections::BTreeSet::new();
    loop {
        let records = reader.poll(100, Duration::from_secs(2)).unwrap();
        if records.is_empty() {
            return sources;
        }
        for record in records {
            sources.insert(String::from_utf8(record.message.header(DEAD_LETTER_SOURCE).unwrap().to_vec()).unwrap());
        }
    }
}

#[test]
fn embedded_log_consumer_killed_mid_stream_applies_each_event_exactly_once() {
    let setup = Setup::new("embedded", "unused:9092", 11);
    {
        let topics = [TopicConfig::new(INTERACTIONS, 3), TopicConfig::new(DEAD_LETTERS, 1)];
        let log = EmbeddedLog::open(&setup.dir.path().join("data/log"), &topics, DEFAULT_SEGMENT_BYTES).unwrap();
        produce(&log, batches(&setup.events));
    }
    let mut consumer = setup.spawn_consumer();
    let progress = setup.kill_mid_stream(&mut consumer.0);
    assert!(progress < EVENTS as u64, "killed at {progress}: not mid-stream");
    let replayed = setup.finish();
    assert!(replayed > 0 && replayed < EVENTS as u64, "the restart replayed {replayed} events");
    setup.assert_exactly_once();

    let topics = [TopicConfig::new(DEAD_LETTERS, 1)];
    let log = EmbeddedLog::open(&setup.dir.path().join("data/log"), &topics, DEFAULT_SEGMENT_BYTES).unwrap();
    assert_eq!(dead_letter_sources(&log).len(), 5);
}

#[test]
fn kafka_consumer_killed_mid_stream_applies_each_event_exactly_once() {
    let broker = Broker::start(Storage::Sqlite);
    let setup = Setup::new("kafka", &broker.address(), 21);
    let log = kafka(&broker);
    let mut consumer = setup.spawn_consumer();
    let producer = {
        let (log, batches) = (log.clone(), batches(&setup.events));
        thread::spawn(move || produce(log.as_ref(), batches))
    };
    let progress = setup.kill_mid_stream(&mut consumer.0);
    producer.join().unwrap();
    assert!(progress < EVENTS as u64, "killed at {progress}: not mid-stream");
    let replayed = setup.finish();
    assert!(replayed < EVENTS as u64, "the restart replayed {replayed} events, not just the tail");
    setup.assert_exactly_once();
    assert_eq!(dead_letter_sources(log.as_ref()).len(), 5);
}

#[test]
fn kafka_broker_restarted_during_production_loses_and_repeats_nothing() {
    let mut broker = Broker::start(Storage::Sqlite);
    let setup = Setup::new("kafka", &broker.address(), 31);
    let log = kafka(&broker);
    let mut consumer = setup.spawn_consumer();
    let all = batches(&setup.events);
    let (first, second) = all.split_at(all.len() / 2);
    produce(log.as_ref(), first.to_vec());
    let producer = {
        let (log, rest) = (log.clone(), second.to_vec());
        thread::spawn(move || produce(log.as_ref(), rest))
    };
    broker.restart();
    producer.join().unwrap();
    // Stop the running consumer cleanly, then let a fresh one read to the end.
    Command::new("kill").arg("-TERM").arg(consumer.0.id().to_string()).status().unwrap();
    assert!(consumer.0.wait().unwrap().success());
    setup.finish();
    setup.assert_exactly_once();
    assert_eq!(dead_letter_sources(log.as_ref()).len(), 5);
}
