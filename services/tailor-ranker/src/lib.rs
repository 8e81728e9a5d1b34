//! Tailor's ranking service over HTTP: browsing and photos for onboarding, similar items,
//! recommendations for a visitor the streaming consumer knows or for an anonymous one from the
//! request alone, durable event intake, admin routes, and Prometheus metrics. Handlers extract,
//! call `tailor-engine` and respond; [`ApiError`] is the one mapping to HTTP statuses. No
//! libtorch.

mod admin;
mod api;
mod error;
mod intake;
mod items;
mod limits;
pub mod metrics;
mod params;
mod service;
mod sessions;
mod text_encoder;
mod views;

pub use admin::Admin;
pub use error::ApiError;
pub use intake::Intake;
pub use items::ItemIntake;
pub use service::{MAX_BODY_BYTES, Service, router, serve};
pub use sessions::{IssuedSession, SessionKeys};
pub use text_encoder::{
    RemoteTextEncoder, TEXT_VECTOR_ROUTE, TextRequest, TextVector, serve_text_encoder, text_encoder_router,
};
