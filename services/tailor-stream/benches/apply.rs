//! The consumer's apply rate in process, on one core: decoding each Avro message, finding the
//! item's vector, and folding it into the visitor's aggregate (O(d)), for batches as the log
//! hands them over. Target: at least 200,000 events/s per core.

use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tailor_core::AggregateWeights;
use tailor_events::SingleObject;
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, Record, TopicConfig};
use tailor_stream::{Source, StreamConsumer, VisitorStates};
use tailor_testkit::synthetic;

const BATCH: usize = 4096;

fn bench_apply(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let topics = [TopicConfig::new("interactions", 6), TopicConfig::new("dead-letters", 1)];
    let log: Arc<dyn EventLog> = Arc::new(EmbeddedLog::open(dir.path(), &topics, DEFAULT_SEGMENT_BYTES).unwrap());
    let mut group = c.benchmark_group("consumer_apply");
    group.throughput(Throughput::Elements(BATCH as u64));
    for dim in [128, 512] {
        let items = Arc::new(synthetic::item_vectors(5_000, dim, 1));
        // Records as a reader returns them: 4,096 events of 1,000 visitors.
        let records: Vec<Record> = synthetic::messages(&synthetic::interactions(BATCH, 1_000, 5_000, 2))
            .into_iter()
            .enumerate()
            .map(|(i, message)| Record { partition: 0, offset: i as u64, appended_at_ms: 0, message })
            .collect();
        let snapshot = dir.path().join("unused.snapshot");
        group.bench_function(format!("dim_{dim}"), |b| {
            b.iter_batched(
                || {
                    let states = Arc::new(VisitorStates::new(dim, AggregateWeights::default()));
                    let source = Source {
                        log: log.clone(),
                        wire: Arc::new(SingleObject),
                        topic: "interactions".to_owned(),
                        dead_letter_topic: "dead-letters".to_owned(),
                    };
                    StreamConsumer::start(source, states, items.clone(), &snapshot).unwrap().0
                },
                |mut consumer| consumer.apply(&records).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_apply);
criterion_main!(benches);
