//! What applying a batch of catalogue changes to a serving snapshot costs, at the size of the
//! Myntra catalogue (44,000 items, 256-number content rows, a 128-number model with an attribute
//! vocabulary, both searched through a built HNSW graph), as the replica's catalogue reader
//! applies them: a nightly diff's 4,096 new prices, 4,096 items embedded again, 100 new items.
//!
//! `cargo bench -p tailor-engine --bench catalogue_changes`
//! (`cargo test --all-targets` runs each once, on 500 items and no graph.)

use std::collections::BTreeMap;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::{Attributes, Dense, Embedding, FeatureVocabulary, Item, ItemId, Price, RatingHead, Tower};
use tailor_engine::{ActiveModel, ItemEvent, LiveCatalogue, SearchConfig, Serving, ServingCatalog};
use tailor_events::Availability;
use tailor_models::{ItemVectors, LoadedModel, TwoTowerWeights};
use tailor_testkit::shop;

const CONTENT_DIM: usize = 256;
const MODEL_DIM: usize = 128;
const BATCH: usize = 4_096;

fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn priced(item: &Item, price: f64) -> Item {
    let attributes = Attributes { price: Some(Price::new(price).unwrap()), ..item.attributes().clone() };
    Item::new(item.id().clone(), item.title().map(str::to_owned), None, None, attributes).unwrap()
}

fn layer(rng: &mut StdRng, output: usize, input: usize) -> Dense {
    let weights = (0..output * input).map(|_| rng.random_range(-0.1..0.1)).collect();
    Dense::new(weights, vec![0.0; output], input).unwrap()
}

/// The shop with prices, searched approximately when benchmarking, and a model over it.
fn serving(items: usize) -> (Serving, Vec<Item>) {
    let mut rng = StdRng::seed_from_u64(9);
    let shop = shop::shop(items, CONTENT_DIM, 0.6, 42);
    let items: Vec<Item> = shop.items.iter().map(|item| priced(item, rng.random_range(100.0..5_000.0))).collect();
    let search =
        SearchConfig { approximate_above: if benchmarking() { 20_000 } else { usize::MAX }, ..SearchConfig::default() };
    let catalog = ServingCatalog::new(items.clone(), &shop.vectors, search).unwrap();
    catalog.build_index().unwrap();
    let vocabulary = FeatureVocabulary::from_catalogue(items.iter().map(Item::attributes), 5);
    let towers = TwoTowerWeights {
        user: Tower::new(vec![layer(&mut rng, MODEL_DIM, CONTENT_DIM)]).unwrap(),
        item: Tower::new(vec![layer(&mut rng, 256, CONTENT_DIM + vocabulary.width()), layer(&mut rng, MODEL_DIM, 256)])
            .unwrap(),
        head: RatingHead::new(1.0, 0.0).unwrap(),
        vocabulary: Some(vocabulary),
    };
    let loaded = LoadedModel {
        manifest: tailor_testkit::models::manifest(BTreeMap::new()),
        towers,
        item_vectors: ItemVectors::new(MODEL_DIM),
    };
    let serving = Serving::new(catalog);
    let model = ActiveModel::new(&serving.catalog, loaded).unwrap();
    (serving.with_model(model), items)
}

fn upsert(item: Item) -> ItemEvent {
    ItemEvent::Upsert { item: Box::new(item), availability: Availability::InStock, expires_at_ms: None }
}

fn bench_changes(c: &mut Criterion) {
    let (serving, items) = serving(if benchmarking() { 44_000 } else { 500 });
    let mut rng = StdRng::seed_from_u64(3);
    let batch = BATCH.min(items.len());
    let repriced: Vec<Item> =
        items[..batch].iter().map(|item| priced(item, item.attributes().price.unwrap().value() + 1.0)).collect();
    let vector = |rng: &mut StdRng| {
        Embedding::new((0..CONTENT_DIM).map(|_| rng.random_range(-1.0..1.0)).collect(), CONTENT_DIM).unwrap()
    };
    let embedded_again: Vec<(ItemId, Embedding)> =
        items[..batch].iter().map(|item| (item.id().clone(), vector(&mut rng))).collect();
    let arrivals: Vec<(Item, Embedding)> = (0..100)
        .map(|i| {
            let item = Item::new(
                ItemId::new(format!("arrival-{i}")).unwrap(),
                Some(format!("New arrival {i}")),
                None,
                None,
                items[i].attributes().clone(),
            )
            .unwrap();
            (item, vector(&mut rng))
        })
        .collect();

    let mut group = c.benchmark_group("catalogue_changes");
    group.sample_size(10);
    let mut apply = |name: &str, events: &dyn Fn() -> Vec<ItemEvent>| {
        group.bench_function(name, |b| {
            b.iter_batched(
                events,
                |events| LiveCatalogue::new().apply(&serving, events, 0).unwrap().expect("a change"),
                BatchSize::PerIteration,
            )
        });
    };
    apply("new_prices_4096", &|| repriced.iter().cloned().map(upsert).collect());
    apply("embedded_again_4096", &|| {
        embedded_again.iter().map(|(id, vector)| ItemEvent::Vector { id: id.clone(), vector: vector.clone() }).collect()
    });
    apply("arrivals_100", &|| {
        arrivals
            .iter()
            .flat_map(|(item, vector)| {
                [upsert(item.clone()), ItemEvent::Vector { id: item.id().clone(), vector: vector.clone() }]
            })
            .collect()
    });
    group.finish();
}

criterion_group!(benches, bench_changes);
criterion_main!(benches);
