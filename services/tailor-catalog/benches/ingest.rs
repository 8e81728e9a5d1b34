//! Ingestion of the full Myntra catalogue (44,446 rows, 11,882 photos checked), a re-ingestion
//! that changes nothing, and loading the whole store. The data comes from `TAILOR_MYNTRA_DIR` or
//! `../shared/data/myntra` beside the repository.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tailor_catalog::{CatalogStore, SourceFormat, ingest};
use tempfile::TempDir;

fn bench_ingest(c: &mut Criterion) {
    let source = common::myntra_dir();
    let mut group = c.benchmark_group("myntra");
    group.sample_size(10).measurement_time(Duration::from_secs(20));

    group.bench_function("ingest_into_empty_store", |b| {
        b.iter_batched(
            TempDir::new,
            |dir| {
                let store = CatalogStore::open(dir.as_ref().unwrap().path()).unwrap();
                let report = ingest(&source, SourceFormat::Myntra, &store).unwrap();
                assert_eq!(report.new, 44_439);
            },
            BatchSize::PerIteration,
        )
    });

    let dir = TempDir::new().unwrap();
    let store = CatalogStore::open(dir.path()).unwrap();
    ingest(&source, SourceFormat::Myntra, &store).unwrap();
    group.bench_function("reingest_unchanged", |b| {
        b.iter(|| assert_eq!(ingest(&source, SourceFormat::Myntra, &store).unwrap().unchanged, 44_439))
    });
    group.bench_function("load_all", |b| b.iter(|| assert_eq!(store.load_all().unwrap().len(), 44_439)));
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
