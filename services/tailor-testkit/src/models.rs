//! Model-store values for tests.

use std::collections::BTreeMap;

use tailor_models::{DataWindow, Manifest, TrainingSummary};

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
