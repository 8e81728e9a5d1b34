//! Encoding and decoding one interaction: the per-event cost on the consumer's hot path.

use criterion::{Criterion, criterion_group, criterion_main};
use tailor_events::{Event, EventSource, Interaction, InteractionKind, SubjectKind, decode, encode};

fn bench_codec(c: &mut Criterion) {
    let event = Event::Interaction(Interaction {
        event_id: "0b9f6c1e-5d7a-4c1e-9a51-6f0d2b7c9e11".into(),
        subject: "session-5f2c9a".into(),
        subject_kind: SubjectKind::Session,
        item_id: "15970".into(),
        kind: InteractionKind::Rating,
        value: Some(8.0),
        timestamp_ms: 1_764_000_000_000,
        source: EventSource::App,
    });
    let message = encode(&event);
    c.bench_function("interaction/encode", |b| b.iter(|| encode(&event)));
    c.bench_function("interaction/decode", |b| b.iter(|| decode(&message).unwrap()));
}

criterion_group!(benches, bench_codec);
criterion_main!(benches);
