//! Model-store values for tests.

use std::collections::BTreeMap;

use tailor_core::{Dense, Embedding, ItemId, RatingHead, Tower};
use tailor_models::{DataWindow, ItemVectors, Manifest, PublishedModel, TrainingSummary, TwoTowerWeights};

/// A manifest for a version with the given evaluation figures; the store fills in version and
/// parent when it publishes.
pub fn manifest(metrics: BTreeMap<String, f64>) -> Manifest {
    Manifest {
        version: 0,
        parent: None,
        created_at_ms: 0,
        code_revision: "test".into(),
        data: DataWindow {
            topic: "interactions".into(),
            end_offsets: BTreeMap::from([(0, 10)]),
            events: 10,
            ratings: 8,
            users: 2,
            items: 1,
        },
        training: TrainingSummary {
            device: "cpu".into(),
            seed: 1,
            item_attributes: false,
            epochs: 1,
            best_epoch: 1,
            epoch_ms: vec![1.0],
            train_mse: 1.0,
            validation_mse: 1.0,
            training_examples: 8,
            seconds: 0.1,
        },
        metrics,
        blend: None,
    }
}

/// A small model of one item (`a`), 3 numbers in and 2 out; `seed` makes its weights its own.
pub fn published(seed: f32) -> PublishedModel {
    let layer = |output: usize, input: usize| {
        let weights = (0..output * input).map(|i| ((i as f32 + seed) * 0.7).cos()).collect();
        Dense::new(weights, vec![0.0; output], input).unwrap()
    };
    let towers = TwoTowerWeights {
        user: Tower::new(vec![layer(2, 3)]).unwrap(),
        item: Tower::new(vec![layer(2, 3)]).unwrap(),
        head: RatingHead::new(1.0, 0.0).unwrap(),
        vocabulary: None,
    };
    let mut item_vectors = ItemVectors::new(2);
    item_vectors.insert(ItemId::new("a").unwrap(), Embedding::new(vec![1.0, seed], 2).unwrap()).unwrap();
    PublishedModel { manifest: manifest(BTreeMap::new()), towers, item_vectors }
}
