//! End to end through each event log: throughput (a producer appends as fast as acknowledgements
//! allow while a consumer applies) and the time from an event's append to its visitor's updated
//! vector being readable, measured with probe events under a steady background load. Also the
//! memory one visitor costs. `cargo bench --bench stream_pipeline` prints the figures; under
//! `cargo test` it runs a small smoke version.
//!
//! Targets: >= 20,000 events/s through the broker; append-to-readable p99 <= 50 ms on the embedded
//! log and <= 250 ms through Kafka.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tailor_core::AggregateWeights;
use tailor_events::{Event, EventSource, Interaction, InteractionKind, SingleObject, SubjectKind, encode};
use tailor_log::kafka::{KafkaConfig, KafkaLog};
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, Message, TopicConfig};
use tailor_stream::{ItemVectors, Source, StreamConsumer, SubjectKey, VisitorStates};
use tailor_testkit::broker::{Broker, Storage};
use tailor_testkit::synthetic;

const DIM: usize = 512;
const ITEMS: usize = 5_000;

struct Scale {
    throughput_events: usize,
    probes: usize,
    background_per_second: usize,
    memory_visitors: usize,
}

const FULL: Scale =
    Scale { throughput_events: 200_000, probes: 1_000, background_per_second: 10_000, memory_visitors: 200_000 };
const SMOKE: Scale =
    Scale { throughput_events: 2_000, probes: 20, background_per_second: 1_000, memory_visitors: 1_000 };

/// Fresh topics for each run, so no run reads another's events.
fn topics(run: usize) -> [TopicConfig; 2] {
    [TopicConfig::new(format!("interactions-{run}"), 6), TopicConfig::new(format!("dead-letters-{run}"), 1)]
}

/// A log with the topics of one run.
struct Run {
    log: Arc<dyn EventLog>,
    topic: String,
    dead_letters: String,
}

impl Run {
    fn source(&self) -> Source {
        Source {
            log: self.log.clone(),
            wire: Arc::new(SingleObject),
            topic: self.topic.clone(),
            dead_letter_topic: self.dead_letters.clone(),
        }
    }
}

/// Runs a consumer on its own thread until `stop`.
fn spawn_consumer(
    run: &Run,
    items: Arc<ItemVectors>,
    stop: Arc<AtomicBool>,
) -> (Arc<VisitorStates>, thread::JoinHandle<StreamConsumer>) {
    let states = Arc::new(VisitorStates::new(DIM, AggregateWeights::default()));
    // Never written: the benchmark takes no snapshots.
    let snapshot = std::env::temp_dir().join(format!("tailor-bench-{}-{}.snapshot", std::process::id(), run.topic));
    let (mut consumer, _) = StreamConsumer::start(run.source(), states.clone(), items, &snapshot).unwrap();
    let handle = thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            consumer.poll(4096, Duration::from_millis(5)).unwrap();
        }
        consumer
    });
    (states, handle)
}

fn throughput(run: Run, items: Arc<ItemVectors>, scale: &Scale) -> f64 {
    let events = synthetic::interactions(scale.throughput_events, 20_000, ITEMS, 7);
    let batches: Vec<Vec<Message>> = synthetic::messages(&events).chunks(1_000).map(<[Message]>::to_vec).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let (_, consumer) = spawn_consumer(&run, items, stop.clone());
    let mut end = vec![0u64; 6];
    for batch in batches {
        for position in run.log.append(&run.topic, batch).unwrap() {
            end[position.partition as usize] = end[position.partition as usize].max(position.offset + 1);
        }
    }
    let produced = started.elapsed();
    // The consumer finishes the remainder on this thread.
    stop.store(true, Ordering::Relaxed);
    let mut consumer = consumer.join().unwrap();
    while consumer.positions() != end {
        consumer.poll(4096, Duration::from_millis(50)).unwrap();
    }
    let elapsed = started.elapsed();
    println!("    produced in {:.2} s, all applied after {:.2} s", produced.as_secs_f64(), elapsed.as_secs_f64());
    scale.throughput_events as f64 / elapsed.as_secs_f64()
}

fn probe_event(i: usize, visitor: &str) -> Message {
    let event = Interaction {
        event_id: format!("probe-{i}"),
        subject: visitor.to_owned(),
        subject_kind: SubjectKind::Session,
        item_id: format!("item-{}", i % ITEMS),
        kind: InteractionKind::Click,
        value: None,
        timestamp_ms: 1_790_000_000_000 + i as i64,
        source: EventSource::LoadGenerator,
    };
    Message::new(visitor.as_bytes(), encode(&Event::Interaction(event)))
}

/// Append-to-readable latencies in ms, sorted, under a steady background load.
fn latencies(run: Run, items: Arc<ItemVectors>, scale: &Scale) -> Vec<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let (states, consumer) = spawn_consumer(&run, items, stop.clone());
    let background = {
        let (log, topic, stop) = (run.log.clone(), run.topic.clone(), stop.clone());
        let per_tick = scale.background_per_second / 100;
        thread::spawn(move || {
            let events = synthetic::interactions(per_tick * 100 * 600, 20_000, ITEMS, 9);
            for chunk in synthetic::messages(&events).chunks(per_tick) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                log.append(&topic, chunk.to_vec()).unwrap();
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let mut samples = Vec::with_capacity(scale.probes);
    for i in 0..scale.probes {
        let visitor = format!("probe-visitor-{}", i % 100);
        let key = SubjectKey::session(&visitor);
        let before = states.get(&key).map_or(0, |s| s.aggregate().interactions());
        let started = Instant::now();
        run.log.append(&run.topic, vec![probe_event(i, &visitor)]).unwrap();
        while states.get(&key).map_or(0, |s| s.aggregate().interactions()) == before {
            assert!(started.elapsed() < Duration::from_secs(30), "probe {i} never applied");
            thread::yield_now();
        }
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    background.join().unwrap();
    consumer.join().unwrap();
    samples.sort_by(f64::total_cmp);
    samples
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn report(name: &str, run: impl Fn() -> Run, items: &Arc<ItemVectors>, scale: &Scale) {
    println!("{name}");
    let rate = throughput(run(), items.clone(), scale);
    println!("    end-to-end throughput: {rate:.0} events/s ({} events)", scale.throughput_events);
    let samples = latencies(run(), items.clone(), scale);
    println!(
        "    append to readable ({} probes, {} events/s background): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        scale.background_per_second,
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().unwrap()
    );
}

/// Counts live heap bytes, so the memory a visitor costs is measured rather than estimated.
struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code, reason = "a global allocator that counts live bytes around the system one")]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn memory_per_visitor(scale: &Scale) {
    for dim in [128, DIM] {
        let items = synthetic::item_vectors(100, dim, 3);
        let states = VisitorStates::new(dim, AggregateWeights::default());
        let item = items.get("item-1").unwrap();
        let before = LIVE_BYTES.load(Ordering::Relaxed);
        for i in 0..scale.memory_visitors {
            let event = Interaction {
                event_id: format!("m{i}"),
                subject: format!("visitor-{i:08}"),
                subject_kind: SubjectKind::Session,
                item_id: "item-1".to_owned(),
                kind: InteractionKind::Like,
                value: None,
                timestamp_ms: 0,
                source: EventSource::LoadGenerator,
            };
            states.apply(0, i as u64, event.timestamp_ms, &event, item).unwrap();
        }
        let per_visitor = (LIVE_BYTES.load(Ordering::Relaxed) - before) as f64 / scale.memory_visitors as f64;
        println!(
            "memory, dim {dim}: {per_visitor:.0} heap bytes per visitor ({} visitors); 1M visitors ~ {:.2} GiB",
            scale.memory_visitors,
            per_visitor * 1e6 / (1u64 << 30) as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale = if args.iter().any(|a| a == "--bench") { &FULL } else { &SMOKE };
    // Like criterion: `cargo bench --bench stream_pipeline -- kafka` runs the sections whose key
    // (embedded, kafka-memory, kafka-sqlite, visitors) contains one of the words.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let selected = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let items = Arc::new(synthetic::item_vectors(ITEMS, DIM, 1));
    println!("stream pipeline, item vectors of dimension {DIM}, 6 partitions");

    let dir = tempfile::tempdir().unwrap();
    let runs = AtomicUsize::new(0);
    let next_run = |log: &dyn Fn(&[TopicConfig; 2]) -> Arc<dyn EventLog>| {
        let topics = topics(runs.fetch_add(1, Ordering::Relaxed));
        Run { log: log(&topics), topic: topics[0].name.clone(), dead_letters: topics[1].name.clone() }
    };
    let embedded = |topics: &[TopicConfig; 2]| -> Arc<dyn EventLog> {
        Arc::new(EmbeddedLog::open(&dir.path().join(&topics[0].name), topics, DEFAULT_SEGMENT_BYTES).unwrap())
    };
    if selected("embedded") {
        report("embedded log (fsync per append)", || next_run(&embedded), &items, scale);
    }
    for (key, storage, name) in [
        ("kafka-memory", Storage::Memory, "kafka protocol, tansu memory storage"),
        ("kafka-sqlite", Storage::Sqlite, "kafka protocol, tansu sqlite storage"),
    ] {
        if !selected(key) {
            continue;
        }
        let broker = Broker::start(storage);
        let kafka = |topics: &[TopicConfig; 2]| -> Arc<dyn EventLog> {
            let group = format!("bench-{}", topics[0].name);
            let log = KafkaLog::connect(&broker.address(), KafkaConfig::new(group)).unwrap();
            log.ensure_topics(topics).unwrap();
            Arc::new(log)
        };
        report(name, || next_run(&kafka), &items, scale);
    }
    if selected("visitors") {
        memory_per_visitor(scale);
    }
}
