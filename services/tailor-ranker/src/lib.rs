//! Tailor's ranking service: browsing and photos for onboarding, similar items, recommendations
//! for a visitor the streaming consumer knows or for an anonymous one from the request alone,
//! durable event intake, and Prometheus metrics. Everything runs in plain Rust on the item
//! vectors; no libtorch.

mod admin;
mod api;
mod catalog;
mod error;
pub mod evaluation;
mod limits;
pub mod metrics;
mod model;
mod params;
mod recommend;
mod search;
mod service;
mod sessions;
mod text_encoder;
mod views;

pub use admin::{Admin, RetrainRefused, RetrainStatus, Retrainer, announce};
pub use catalog::ServingCatalog;
pub use error::ApiError;
pub use limits::RequestLimits;
pub use model::ActiveModel;
pub use recommend::{Pool, RankingConfig, Request, Signals, Weights, recommend, taste_from};
pub use search::{MatrixSearch, SearchConfig, SearchMethod};
pub use service::{Intake, MAX_BODY_BYTES, Service, TimestampWindow, router, serve};
pub use sessions::{DEFAULT_SESSION_TTL_MS, IssuedSession, SessionKeys};
pub use text_encoder::{
    RemoteTextEncoder, TEXT_VECTOR_ROUTE, TextRequest, TextVector, serve_text_encoder, text_encoder_router,
};

use thiserror::Error;

/// Failures while setting the service up, before it serves.
#[derive(Debug, Error)]
pub enum RankerError {
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
    #[error(transparent)]
    Models(#[from] tailor_models::ModelError),
    #[error("building the approximate index: {0}")]
    Index(String),
    #[error("model version {version} does not fit the served catalogue: {reason}")]
    ModelMismatch { version: u64, reason: String },
    #[error("evaluating pick consistency: {0}")]
    Evaluation(String),
}
