use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EmbedError {
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("{path}: cannot load weights: {reason}")]
    Weights { path: PathBuf, reason: String },
    #[error("{path}: cannot use the tokenizer: {reason}")]
    Tokenizer { path: PathBuf, reason: String },
    #[error("{path}: not a usable image: {reason}")]
    Image { path: PathBuf, reason: String },
    #[error("{path}: invalid model configuration: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("{path}: feature cache: {reason}")]
    Cache { path: PathBuf, reason: String },
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
    #[error(transparent)]
    Vectors(#[from] tailor_models::ModelError),
    #[error("cannot train the joint space: {0}")]
    Training(String),
}
