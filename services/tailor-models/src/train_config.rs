//! The training run's hyperparameters. They live here, beside the manifests that record them, so
//! that configuration can name them without linking the trainer (and libtorch).

use serde::{Deserialize, Serialize};

/// The training run's settings; `[train.model]` in the configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub seed: u64,
    pub max_epochs: u32,
    /// Stop after this many epochs without a better validation loss.
    pub patience: u32,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Adam's L2 penalty on the weights.
    pub weight_decay: f64,
    /// The most events a user reveals as tower input in one epoch.
    pub context_max: usize,
    /// Whether the item tower reads catalogue attributes besides the content vector.
    pub item_attributes: bool,
    /// Items a user never touched, sampled this many per rating and trained as rated 1. A model
    /// fitted to observed ratings alone knows how an item would be rated, not whether the user
    /// would look at it, and ranks the whole catalogue poorly; these teach it the second.
    pub unrated_per_rating: f64,
    pub hidden: i64,
    pub output: i64,
    /// Attribute values on fewer items than this share the "rare" slot.
    pub min_attribute_count: usize,
    /// The retrieval loss's weight beside the rating MSE; 0 trains on ratings alone.
    pub retrieval_weight: f64,
    /// The softmax temperature over cosines in the retrieval loss.
    pub temperature: f64,
    /// (user, positive item) pairs per retrieval batch; each pair's item is a negative for the others.
    pub retrieval_batch: usize,
    /// Items drawn uniformly per retrieval batch as further negatives.
    pub sampled_negatives: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            seed: 42,
            // Losses flatten by about the tenth epoch; 12 at about 4.3 s keeps 100k ratings within a
            // minute on two cores.
            max_epochs: 12,
            patience: 3,
            batch_size: 1024,
            learning_rate: 2e-3,
            weight_decay: 0.0,
            context_max: 8,
            item_attributes: true,
            unrated_per_rating: 2.0,
            hidden: 256,
            output: 128,
            min_attribute_count: 5,
            retrieval_weight: 1.0,
            temperature: 0.1,
            retrieval_batch: 512,
            sampled_negatives: 512,
        }
    }
}
