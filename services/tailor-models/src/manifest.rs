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
    /// How serving weighs this model against content similarity to what the visitor picked,
    /// chosen when it was trained; absent in versions trained before the blend existed.
    #[serde(default)]
    pub blend: Option<Blend>,
}

/// How serving scores a candidate for a visitor who has liked `n` items (the last entry of each
/// list for any more; `n` = 0 is a typed description alone): `(1 - m) * content cosine + m * model cosine + a * agreement`, where `m`
/// is `model_weight[n]`, `a` is `attribute_weight[n]`, and agreement is the share of the
/// attribute values all the visitor's picks have in common (article type, colour, usage, gender)
/// that the candidate has too. Few picks say little about a visitor beyond the picks themselves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blend {
    pub model_weight: Vec<f32>,
    #[serde(default)]
    pub attribute_weight: Vec<f32>,
}

impl Blend {
    /// The model's weight for a visitor with `positives` positive signals; 0 for an empty blend.
    pub fn model_weight(&self, positives: usize) -> f32 {
        at(&self.model_weight, positives)
    }

    /// The weight of agreeing with the picks' shared attributes; 0 for an empty list.
    pub fn attribute_weight(&self, positives: usize) -> f32 {
        at(&self.attribute_weight, positives)
    }
}

fn at(weights: &[f32], positives: usize) -> f32 {
    weights.get(positives.min(weights.len().saturating_sub(1))).copied().unwrap_or(0.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blend_holds_its_last_weight_for_more_positives() {
        let blend = Blend { model_weight: vec![0.0, 0.1, 0.3], attribute_weight: vec![0.2] };
        assert_eq!([0, 1, 2, 7].map(|n| blend.model_weight(n)), [0.0, 0.1, 0.3, 0.3]);
        assert_eq!([0, 5].map(|n| blend.attribute_weight(n)), [0.2, 0.2]);
        let empty = Blend { model_weight: vec![], attribute_weight: vec![] };
        assert_eq!((empty.model_weight(3), empty.attribute_weight(3)), (0.0, 0.0));
    }
}
