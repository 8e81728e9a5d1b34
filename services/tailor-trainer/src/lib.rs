//! Tailor's Two-Tower model on libtorch: training data from the event log, the training loop
//! (CPU or CUDA), export to the plain-Rust towers serving runs, and the offline cold-start
//! evaluation against random, popularity and content-only baselines.

mod dataset;
mod evaluate;
mod model;
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
}
