//! Tailor's Two-Tower model on libtorch. The training loop, data from the event log and model
//! publishing arrive with the rest of issue #5; this is the model and its export to the plain-Rust
//! inference of `tailor-core`, which serving uses without libtorch.

mod model;

pub use model::{TwoTower, TwoTowerConfig};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TrainerError {
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
}
