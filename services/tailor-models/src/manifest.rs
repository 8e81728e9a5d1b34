//! What a model version records about itself, as `manifest.json` in its directory.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u64,
    /// The version that was active when this one was trained.
    pub parent: Option<u64>,
    pub created_at_ms: i64,
    /// The source revision of the `tailor` that trained it.
    pub code_revision: String,
    pub data: DataWindow,
    pub training: TrainingSummary,
    /// Evaluation figures, e.g. `new_users.k3.ndcg_at_10`.
    pub metrics: BTreeMap<String, f64>,
}

/// Exactly which events a version learned from: everything in `topic` before `end_offsets`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataWindow {
    pub topic: String,
    /// Partition -> the first offset not read.
    pub end_offsets: BTreeMap<u32, u64>,
    pub events: u64,
    pub ratings: u64,
    pub users: u64,
    pub items: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSummary {
    /// `cpu` or `cuda:N`.
    pub device: String,
    pub seed: u64,
    /// Whether the item tower read catalogue attributes besides the content vector.
    pub item_attributes: bool,
    pub epochs: u32,
    /// The epoch whose weights were kept (lowest validation loss).
    pub best_epoch: u32,
    pub epoch_ms: Vec<f64>,
    pub train_mse: f64,
    pub validation_mse: f64,
    pub training_examples: u64,
    pub seconds: f64,
}
