//! Tailor's Two-Tower model on libtorch: training data from the event log, the training loop
//! (CPU or CUDA), export to the plain-Rust towers serving runs, the offline cold-start
//! evaluation against random, popularity and content-only baselines, and the pipelines that run
//! them on the configured data ([`pipeline`]).

mod dataset;
mod evaluate;
mod model;
pub mod pipeline;
mod train;

pub use dataset::{Dataset, DatasetCounts, RELEVANT_RATING, Role, Split, UserEvent, UserHistory};
pub use evaluate::{EvalRow, Method, ModalityVectors, Slice, TopTen, evaluate, new_user_cases};
pub use model::{TwoTower, TwoTowerConfig};
pub use tailor_models::TrainConfig;
pub use train::{EpochReport, Trained, item_inputs, item_outputs, train};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TrainerError {
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
    #[error("no item has a content vector: run `tailor embed` first")]
    NoItems,
    #[error("training data: {0}")]
    Data(String),
    #[error(transparent)]
    Config(#[from] tailor_config::ConfigError),
    #[error("the catalogue: {0}")]
    Catalog(#[from] tailor_catalog::CatalogError),
    #[error(transparent)]
    Models(#[from] tailor_models::ModelError),
    #[error(transparent)]
    Engine(#[from] tailor_engine::EngineError),
    #[error(transparent)]
    Log(#[from] tailor_log::LogError),
    #[error("embedding items: {0}")]
    Embed(#[from] tailor_embed::EmbedError),
    #[error(transparent)]
    Event(#[from] tailor_events::EventError),
    #[error("{context}: {source}")]
    Input { context: String, source: tailor_models::ModelError },
}
