//! Chaos, bounded in time: visitors post events at a steady rate to `tailor serve` on a Kafka
//! broker (tansu, SQLite storage) while the service is SIGKILLed and restarted twice and the
//! broker once; the test restarts the service whenever it exits, as a supervisor would. Every
//! event answered 202 must then be in the log and applied exactly once (the service's snapshot
//! against a one-pass replay of the log), nothing may be answered 5xx outside the kills, and the
//! service's memory stays within its bound. A second run corrupts the middle of a closed
//! embedded-log segment: the service refuses to start naming the damage, `tailor log repair`
//! keeps every readable record, and the service then agrees with a replay of what is left.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use tailor_events::{Event, Interaction};
use tailor_log::kafka::{KafkaConfig, KafkaLog};
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, TopicConfig};
use tailor_stream::ItemVectors;
use tailor_testkit::broker::{Broker, Storage};

mod common;

const INTERACTIONS: &str = "chaos.interactions";
const VISITORS: usize = 60;
/// The service's resident memory may not pass this (a small shop, the text encoder loaded).
const MEMORY_BOUND_MIB: f64 = 512.0;

/// A data directory with the small shop ingested and embedded, and a configuration for `log`.
fn shop(dir: &Path, log: &str, brokers: &str) -> PathBuf {
    let data = dir.join("data");
    let csv = common::write_shirts_and_watches(dir);
    common::run(common::tailor(&data).args(["ingest", "--format", "generic"]).arg(&csv));
    common::run(common::tailor(&data).arg("embed"));
    let url = if log == "kafka" { format!("kafka://{brokers}") } else { "file:".to_owned() };
    let config = format!(
        r#"data_dir = "{data}"
[events]
log = "{url}"
segment_bytes = 16384
[events.kafka]
group_id = "chaos"
properties = [["message.timeout.ms", "30000"]]
[events.interactions]
name = "{INTERACTIONS}"
partitions = 3
[events.dead_letters]
name = "chaos.dead-letters"
partitions = 1
[events.models]
name = "chaos.models"
partitions = 1
[stream]
snapshot_interval_ms = 200
[serve.limits]
timeout_ms = 10000
max_in_flight = 512
sessions_per_second = 0
sessions_burst = 0
event_posts_per_second = 0
event_posts_burst = 0
"#,
        data = data.display(),
    );
    let path = dir.join("tailor.toml");
    fs::write(&path, config).unwrap();
    path
}

fn serve_command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tailor"));
    command.arg("--config").arg(config).env_remove("TAILOR_CONFIG").env_remove("TAILOR_DATA_DIR");
    command
}

fn resident_mib(pid: u32) -> f64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// What the visitors saw.
#[derive(Default)]
struct Answers {
    /// Event ids the service answered 202 for.
    acknowledged: HashSet<String>,
    posts: u64,
    accepted: u64,
    refused: u64,
    /// When each request that got a 5xx or no answer was sent.
    failures: Vec<Instant>,
}

/// Visitors with a session each, posting one to three events every few milliseconds between
/// them; a batch that gets no answer or a 5xx is sent again, same ids, as the app does.
struct Visitors {
    url: Arc<Mutex<String>>,
    answers: Arc<Mutex<Answers>>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
}

impl Visitors {
    fn start(url: Arc<Mutex<String>>) -> (Visitors, thread::JoinHandle<()>) {
        let visitors = Visitors { url, answers: Arc::default(), stop: Arc::default(), sent: Arc::default() };
        let (url, answers, stop, sent) =
            (visitors.url.clone(), visitors.answers.clone(), visitors.stop.clone(), visitors.sent.clone());
        let sender = thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .into();
            let base = || url.lock().unwrap().clone();
            let sessions: Vec<(String, String)> = (0..VISITORS)
                .map(|_| {
                    loop {
                        if let Ok(mut r) = agent.post(&format!("{}/v1/sessions", base())).send_empty()
                            && r.status() == 201
                        {
                            let s: serde_json::Value = r.body_mut().read_json().unwrap();
                            break (
                                s["session_id"].as_str().unwrap().to_owned(),
                                s["token"].as_str().unwrap().to_owned(),
                            );
                        }
                        thread::sleep(Duration::from_millis(100));
                    }
                })
                .collect();
            let kinds = ["view", "view", "click", "like", "dislike"];
            let mut pending: Vec<(usize, serde_json::Value, Vec<String>)> = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) || !pending.is_empty() {
                if pending.is_empty() && !stop.load(Ordering::Relaxed) {
                    let visitor = n as usize % VISITORS;
                    let ids: Vec<String> = (0..1 + n % 3).map(|k| format!("{}-{n}-{k}", sessions[visitor].0)).collect();
                    let events: Vec<serde_json::Value> = ids
                        .iter()
                        .enumerate()
                        .map(|(k, id)| {
                            let item = format!("i{}", (n as usize * 7 + k * 13) % 40);
                            json!({"event_id": id, "subject": sessions[visitor].0, "item_id": item, "kind": kinds[(n as usize + k) % 5]})
                        })
                        .collect();
                    sent.fetch_add(ids.len() as u64, Ordering::Relaxed);
                    pending.push((visitor, json!({ "events": events }), ids));
                    n += 1;
                }
                let (visitor, body, ids) = pending.pop().unwrap();
                let asked = Instant::now();
                let answer = agent
                    .post(&format!("{}/v1/events", base()))
                    .header("authorization", &format!("Bearer {}", sessions[visitor].1))
                    .send_json(&body)
                    .map(|r| r.status().as_u16());
                let mut answers = answers.lock().unwrap();
                answers.posts += 1;
                match answer {
                    Ok(202) => {
                        answers.accepted += 1;
                        answers.acknowledged.extend(ids);
                    }
                    Ok(status) if (400..500).contains(&status) => answers.refused += 1,
                    _ => {
                        answers.failures.push(asked);
                        drop(answers);
                        pending.push((visitor, body, ids));
                        thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                }
                drop(answers);
                thread::sleep(Duration::from_millis(8));
            }
        });
        (visitors, sender)
    }
}

/// The service, restarted whenever it exits or is killed, with its memory watched.
struct Supervised {
    config: PathBuf,
    server: common::Server,
    url: Arc<Mutex<String>>,
    peak_mib: f64,
    /// (killed or found dead, answering again)
    outages: Vec<(Instant, Instant)>,
}

impl Supervised {
    fn start(config: &Path) -> Supervised {
        let (server, url) = common::Server::start(serve_command(config));
        Supervised {
            config: config.to_owned(),
            server,
            url: Arc::new(Mutex::new(url)),
            peak_mib: 0.0,
            outages: Vec::new(),
        }
    }

    fn restart(&mut self, down_since: Instant) {
        let (server, url) = common::Server::start(serve_command(&self.config));
        self.server = server;
        *self.url.lock().unwrap() = url;
        self.outages.push((down_since, Instant::now()));
    }

    fn kill(&mut self) {
        let killed = Instant::now();
        self.server.0.kill().unwrap();
        self.server.0.wait().unwrap();
        self.restart(killed);
    }

    /// Watches for `duration`: memory, and a restart if the service exited on its own (its
    /// consumer stopped while the broker was away).
    fn watch(&mut self, duration: Duration) {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            if self.server.0.try_wait().unwrap().is_some() {
                // It exited at most one poll ago.
                self.restart(Instant::now() - Duration::from_millis(200));
            }
            self.peak_mib = self.peak_mib.max(resident_mib(self.server.0.id()));
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Every interaction in the topic, in the order of each partition (offsets a repair removed are
/// stepped over).
fn logged(log: &dyn EventLog, topic: &str) -> Vec<Interaction> {
    let mut events = Vec::new();
    let read = tailor_log::read_to_end(log, topic, Duration::from_secs(5), &mut |record| {
        if let Ok(Event::Interaction(event)) = tailor_events::decode(&record.message.payload) {
            events.push(event);
        }
    })
    .unwrap();
    assert!(read.complete(), "the log ended early: at {:?} of {:?}", read.reached, read.ends);
    events
}

#[test]
fn acknowledged_events_survive_kills_of_the_service_and_the_broker_exactly_once() {
    let mut broker = Broker::start(Storage::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let config = shop(dir.path(), "kafka", &broker.address());
    let mut service = Supervised::start(&config);
    let (visitors, sender) = Visitors::start(service.url.clone());
    let started = Instant::now();

    service.watch(Duration::from_secs(15));
    service.kill();
    service.watch(Duration::from_secs(20));
    service.kill();
    service.watch(Duration::from_secs(15));
    let broker_down = Instant::now();
    broker.restart();
    service.outages.push((broker_down, Instant::now()));
    service.watch(Duration::from_secs(30));
    visitors.stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    service.watch(Duration::from_secs(3));
    service.server.stop();

    let answers = visitors.answers.lock().unwrap();
    let mut kafka = KafkaConfig::new("chaos-check");
    kafka.properties.push(("message.timeout.ms".to_owned(), "30000".to_owned()));
    let log = KafkaLog::connect(&broker.address(), kafka).unwrap();
    log.ensure_topics(&[TopicConfig::new(INTERACTIONS, 3)]).unwrap();
    let events = logged(&log, INTERACTIONS);
    let in_log: HashSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let lost: Vec<&String> = answers.acknowledged.iter().filter(|id| !in_log.contains(id.as_str())).collect();
    assert!(lost.is_empty(), "{} acknowledged events are not in the log: {:?}", lost.len(), &lost[..lost.len().min(5)]);
    let items = ItemVectors::load(&dir.path().join("data/embeddings/items.safetensors")).unwrap();
    let (applied, visitors_held) =
        common::assert_snapshot_is_the_replay(&dir.path().join("data/stream/chaos.snapshot"), &items, &events);
    // Outside the outages, no failures: a request counts as during one when it was in flight at
    // its start (clients wait 5 s for an answer) or sent before clients found the service again.
    let grace = Duration::from_secs(5);
    let outside: Vec<f64> = answers
        .failures
        .iter()
        .filter(|at| !service.outages.iter().any(|(down, up)| **at + grace >= *down && **at <= *up + grace))
        .map(|at| at.duration_since(started).as_secs_f64())
        .collect();
    assert!(outside.is_empty(), "5xx or no answer outside the kills, at {outside:?} s");
    assert!(service.peak_mib < MEMORY_BOUND_MIB, "resident memory peaked at {:.0} MiB", service.peak_mib);
    assert!(answers.accepted > 1000, "only {} batches accepted", answers.accepted);
    println!(
        "chaos on Kafka: {} events sent in {} posts; {} answered 202 ({} events), {} refused, {} failed during {} outages; \
         {} in the log, {} applied once each to {visitors_held} visitors, {} duplicates dropped; peak memory {:.0} MiB",
        visitors.sent.load(Ordering::Relaxed),
        answers.posts,
        answers.accepted,
        answers.acknowledged.len(),
        answers.refused,
        answers.failures.len(),
        service.outages.len(),
        events.len(),
        applied,
        events.len() - in_log.len(),
        service.peak_mib,
    );
    assert_eq!(applied, in_log.len(), "each distinct event applied once");
    assert_eq!(answers.refused, 0);
}

#[test]
fn a_corrupt_closed_segment_stops_the_service_until_repaired_and_nothing_readable_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let config = shop(dir.path(), "embedded", "unused:9092");
    let service = Supervised::start(&config);
    let (visitors, sender) = Visitors::start(service.url.clone());
    thread::sleep(Duration::from_secs(10));
    visitors.stop.store(true, Ordering::Relaxed);
    sender.join().unwrap();
    service.server.stop();
    let acknowledged = visitors.answers.lock().unwrap().acknowledged.len();

    // Bit rot in the middle of the first (closed) segment of the busiest partition.
    let partition = (0..3)
        .map(|p| dir.path().join(format!("data/log/{INTERACTIONS}/partition-{p}")))
        .max_by_key(|p| fs::read_dir(p).unwrap().count())
        .unwrap();
    let mut segments: Vec<PathBuf> = fs::read_dir(&partition).unwrap().map(|e| e.unwrap().path()).collect();
    segments.sort();
    assert!(segments.len() >= 2, "no closed segment: {segments:?}");
    let mut bytes = fs::read(&segments[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 16].fill(0xa5);
    fs::write(&segments[0], bytes).unwrap();

    let refused = serve_command(&config).arg("serve").env("TAILOR_SERVE__ADDR", "127.0.0.1:0").output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "the service started on a damaged log");
    assert!(stderr.contains(segments[0].to_str().unwrap()) && stderr.contains("tailor log repair"), "{stderr}");
    let repair = serve_command(&config).args(["log", "repair"]).output().unwrap();
    let report = String::from_utf8_lossy(&repair.stdout);
    assert!(repair.status.success(), "{report}{}", String::from_utf8_lossy(&repair.stderr));
    let lost: u64 =
        report.lines().filter_map(|l| l.split(" records)").next()?.rsplit('(').next()?.parse::<u64>().ok()).sum();

    // The visitors are rebuilt from what the log still holds (the snapshot also holds what was
    // applied before the damage, which a replay of the repaired log cannot show).
    fs::remove_file(dir.path().join("data/stream/visitors.snapshot")).unwrap();
    let service = Supervised::start(&config);
    thread::sleep(Duration::from_secs(3));
    service.server.stop();
    let topics = [TopicConfig::new(INTERACTIONS, 3)];
    let log = EmbeddedLog::open(&dir.path().join("data/log"), &topics, DEFAULT_SEGMENT_BYTES).unwrap();
    let events = logged(&log, INTERACTIONS);
    let items = ItemVectors::load(&dir.path().join("data/embeddings/items.safetensors")).unwrap();
    let (applied, _) =
        common::assert_snapshot_is_the_replay(&dir.path().join("data/stream/visitors.snapshot"), &items, &events);
    let by_kind: BTreeMap<String, usize> = events.iter().fold(BTreeMap::new(), |mut counts, e| {
        *counts.entry(format!("{:?}", e.kind)).or_default() += 1;
        counts
    });
    println!(
        "corrupt segment: {acknowledged} events acknowledged; the repair removed {lost} records naming their offsets; \
         {} left in the log ({by_kind:?}), {applied} applied once each after the restart",
        events.len()
    );
    assert!(lost > 0 && (events.len() as u64) + lost >= acknowledged as u64);
}
