use std::path::PathBuf;

use tailor_core::CoreError;
use tailor_events::EventError;
use tailor_log::LogError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StreamError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("{path}: {reason}")]
    Snapshot { path: PathBuf, reason: String },
    #[error(transparent)]
    Models(#[from] tailor_models::ModelError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl StreamError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StreamError {
        let context = context.into();
        move |source| StreamError::Io { context, source }
    }
}
