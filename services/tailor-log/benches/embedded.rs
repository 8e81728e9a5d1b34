//! The embedded log's hot paths: appending a batch (one fsync per partition touched) and reading
//! records back, with messages the size of an interaction event.

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, EventLog, Message, TopicConfig};

const BATCH: usize = 1_000;

fn messages() -> Vec<Message> {
    (0..BATCH).map(|i| Message::new(format!("visitor-{}", i % 997), vec![0xA5; 90])).collect()
}

fn bench_embedded(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedLog::open(dir.path(), &[TopicConfig::new("t", 6)], DEFAULT_SEGMENT_BYTES).unwrap();
    let mut group = c.benchmark_group("embedded_log");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("append_1000_fsynced", |b| {
        b.iter_batched(messages, |batch| log.append("t", batch).unwrap(), BatchSize::SmallInput)
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("append_1_fsynced", |b| {
        b.iter_batched(
            || vec![Message::new("v", vec![0xA5; 90])],
            |one| log.append("t", one).unwrap(),
            BatchSize::SmallInput,
        )
    });
    for _ in 0..100 {
        log.append("t", messages()).unwrap();
    }
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("read_1000", |b| {
        b.iter_batched(
            || log.reader("t", &[0; 6]).unwrap(),
            |mut reader| reader.poll(BATCH, Duration::ZERO).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_embedded);
criterion_main!(benches);
