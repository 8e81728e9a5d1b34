//! Tailor's ranking service: browsing and photos for onboarding, similar items, recommendations
//! for a visitor the streaming consumer knows or for an anonymous one from the request alone,
//! durable event intake, and Prometheus metrics. Everything runs in plain Rust on the item
//! vectors; no libtorch.

mod api;
mod catalog;
mod error;
pub mod metrics;
mod params;
mod recommend;
mod service;
mod sessions;
mod views;

pub use catalog::ServingCatalog;
pub use error::ApiError;
pub use service::{Intake, MAX_BODY_BYTES, Service, router, serve};
pub use sessions::SessionKeys;

use thiserror::Error;

/// Failures while setting the service up, before it serves.
#[derive(Debug, Error)]
pub enum RankerError {
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
}
