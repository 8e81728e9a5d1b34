//! Tailor's model artefacts on disk, readable without libtorch: item-vector files (the embedder's
//! fused vectors and each model's item-tower outputs), the Two-Tower weights the trainer exports,
//! and the versioned model store the trainer publishes to and the ranking service loads from;
//! and the one model lifecycle every process uses: publish, activate, roll back, announce on the
//! models topic, follow it, and ask for retrains there and act on them.

mod item_vectors;
mod lifecycle;
mod manifest;
mod retrains;
mod schedule;
mod store;
mod towers;
mod train_config;

pub use item_vectors::ItemVectors;
pub use lifecycle::{ModelFeed, ModelLifecycle, ModelNews, RetrainStatus, Target};
pub use manifest::{Blend, DataWindow, Manifest, TrainingSummary};
pub use retrains::{SCHEDULE_CHECK, TrainingRun};
pub use schedule::RetrainSchedule;
pub use store::{LoadedModel, ModelStore, PublishedModel, StoredVersion, TrainingLock};
pub use towers::TwoTowerWeights;
pub use train_config::TrainConfig;

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("{path}: not a usable item-vector file: {reason}")]
    ItemVectors { path: PathBuf, reason: String },
    #[error("{path}: not usable Two-Tower weights: {reason}")]
    Towers { path: PathBuf, reason: String },
    #[error("model version {version} is corrupt: {reason}")]
    Corrupt { version: u64, reason: String },
    #[error("model version {0} is not in the model store")]
    UnknownVersion(u64),
    #[error("no model is active yet: run `tailor train`")]
    NoActiveModel,
    #[error("nothing to roll back to: version {0} was the first one activated")]
    NothingToRollBack(u64),
    #[error("model version {version} refused, the active one stays: {reason}")]
    Refused { version: u64, reason: String },
    #[error("the models topic: {0}")]
    Log(#[from] tailor_log::LogError),
    #[error("a model event: {0}")]
    Event(#[from] tailor_events::EventError),
    #[error("another training run holds {path}; two retrains never run at once")]
    TrainingInProgress { path: PathBuf },
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl ModelError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ModelError {
        let context = context.into();
        move |source| ModelError::Io { context, source }
    }
}
