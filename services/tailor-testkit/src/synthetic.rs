//! Seeded synthetic catalogues and interaction streams: the same seed gives the same data, so a
//! failing case can be rerun.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::{Embedding, InteractionKind, ItemId};
use tailor_events::{Event, EventSource, Interaction, SubjectKind, encode};
use tailor_log::Message;
use tailor_stream::ItemVectors;

/// `count` items `item-0` .. with random unit vectors of dimension `dim`.
pub fn item_vectors(count: usize, dim: usize, seed: u64) -> ItemVectors {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut items = ItemVectors::new(dim);
    for i in 0..count {
        let values: Vec<f32> = (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let vector = Embedding::new(values, dim).expect("a random vector is not zero");
        items.insert(ItemId::new(format!("item-{i}")).expect("valid id"), vector).expect("same dimension");
    }
    items
}

/// `count` interactions of `visitors` sessions with items `item-0` .. `item-{items - 1}`, every
/// kind represented, timestamps spread over a month.
pub fn interactions(count: usize, visitors: usize, items: usize, seed: u64) -> Vec<Interaction> {
    let mut rng = StdRng::seed_from_u64(seed);
    const KINDS: [InteractionKind; 7] = [
        InteractionKind::View,
        InteractionKind::Click,
        InteractionKind::Like,
        InteractionKind::Dislike,
        InteractionKind::AddToCart,
        InteractionKind::Purchase,
        InteractionKind::Rating,
    ];
    (0..count)
        .map(|i| {
            let kind = KINDS[rng.random_range(0..KINDS.len())];
            Interaction {
                event_id: format!("{seed}-{i}"),
                subject: format!("visitor-{}", rng.random_range(0..visitors)),
                subject_kind: SubjectKind::Session,
                item_id: format!("item-{}", rng.random_range(0..items)),
                kind,
                value: (kind == InteractionKind::Rating).then(|| rng.random_range(1..=10) as f32),
                timestamp_ms: 1_790_000_000_000 + rng.random_range(0..30 * 24 * 3600 * 1000),
                source: EventSource::LoadGenerator,
            }
        })
        .collect()
}

/// Each interaction encoded and keyed by its subject, as producers send them.
pub fn messages(events: &[Interaction]) -> Vec<Message> {
    events.iter().map(|e| Message::new(e.subject.as_bytes(), encode(&Event::Interaction(e.clone())))).collect()
}
