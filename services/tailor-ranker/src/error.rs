//! Every way a request can fail, each with its HTTP status and a stable code. The mapping is one
//! exhaustive match, so a new variant forces a decision.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tailor_engine::EngineError;
use tailor_models::ModelError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("no item {0:?} in the catalogue")]
    UnknownItem(String),
    #[error("{0}")]
    ItemWithdrawn(String),
    #[error("invalid item: {0}")]
    InvalidItem(String),
    #[error("item {0:?} has no photo")]
    NoImage(String),
    #[error("invalid {name}: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    #[error("request body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("event {index}: {reason}")]
    InvalidEvent { index: usize, reason: String },
    #[error("event {index}: timestamp_ms {at_ms} is outside the window this service accepts, {earliest} to {latest}")]
    InvalidTimestamp { index: usize, at_ms: i64, earliest: i64, latest: i64 },
    #[error("no route {0}")]
    NoRoute(String),
    #[error("this needs the session's token: `Authorization: Bearer TOKEN` from POST /v1/sessions")]
    MissingToken,
    #[error("the session's token expired at {at_ms} (ms since the epoch); start a new session with POST /v1/sessions")]
    SessionExpired { at_ms: i64 },
    #[error("{0}")]
    Forbidden(String),
    #[error("events cannot be stored right now: {0}")]
    LogUnavailable(String),
    /// Damaged data or a bug: logged, and answered without its details.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(
        "this needs the admin token and none is configured (serve.admin_token), so admin routes and reads by user id are disabled"
    )]
    AdminDisabled,
    #[error("this needs `Authorization: Bearer ADMIN_TOKEN`")]
    AdminTokenRequired,
    #[error("model version {0} is not in the model store")]
    UnknownModel(u64),
    #[error("{0}")]
    ModelRefused(String),
    #[error("not ready: {0}")]
    NotReady(String),
    #[error("the streaming consumer stopped, so recommendations no longer follow events: {0}")]
    ConsumerStopped(String),
    #[error("free-text queries cannot be answered right now: {0}")]
    TextEncoderUnavailable(String),
    #[error("too many requests from this client; try again in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    #[error("the request took longer than {after:?} (waiting for a slot included); try again")]
    TimedOut { after: std::time::Duration },
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::UnknownItem(_) => (StatusCode::NOT_FOUND, "unknown_item"),
            ApiError::ItemWithdrawn(_) => (StatusCode::GONE, "item_withdrawn"),
            ApiError::InvalidItem(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_item"),
            ApiError::NoImage(_) => (StatusCode::NOT_FOUND, "no_image"),
            ApiError::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, "invalid_parameter"),
            ApiError::InvalidBody(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
            ApiError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::InvalidEvent { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
            ApiError::InvalidTimestamp { .. } => (StatusCode::BAD_REQUEST, "invalid_timestamp"),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "no_route"),
            ApiError::MissingToken => (StatusCode::UNAUTHORIZED, "missing_session_token"),
            ApiError::SessionExpired { .. } => (StatusCode::UNAUTHORIZED, "session_expired"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::LogUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "log_unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::AdminDisabled => (StatusCode::UNAUTHORIZED, "admin_disabled"),
            ApiError::AdminTokenRequired => (StatusCode::UNAUTHORIZED, "admin_token_required"),
            ApiError::UnknownModel(_) => (StatusCode::NOT_FOUND, "unknown_model"),
            ApiError::ModelRefused(_) => (StatusCode::CONFLICT, "model_refused"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::ConsumerStopped(_) => (StatusCode::SERVICE_UNAVAILABLE, "consumer_stopped"),
            ApiError::TextEncoderUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "text_encoder_unavailable"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::TimedOut { .. } => (StatusCode::SERVICE_UNAVAILABLE, "timed_out"),
        }
    }
}

/// The engine's failures, each given its place among the API's.
impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::BadInput { name, reason } => ApiError::InvalidParameter { name, reason },
            EngineError::UnknownItem(id) => ApiError::UnknownItem(id),
            EngineError::Withdrawn { .. } => ApiError::ItemWithdrawn(error.to_string()),
            EngineError::ModelMismatch { .. } => ApiError::ModelRefused(error.to_string()),
            EngineError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<ModelError> for ApiError {
    fn from(error: ModelError) -> Self {
        match error {
            ModelError::UnknownVersion(version) => ApiError::UnknownModel(version),
            ModelError::Corrupt { .. }
            | ModelError::NothingToRollBack(_)
            | ModelError::NoActiveModel
            | ModelError::Refused { .. } => ApiError::ModelRefused(error.to_string()),
            ModelError::Log(_) => ApiError::LogUnavailable(error.to_string()),
            // No admin route trains, so none meets the training lock.
            ModelError::TrainingInProgress { .. }
            | ModelError::ItemVectors { .. }
            | ModelError::Towers { .. }
            | ModelError::Event(_)
            | ModelError::Core(_)
            | ModelError::Io { .. } => ApiError::Internal(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(_) => {
                eprintln!("{self}");
                "an internal error; the service's log has the details".to_owned()
            }
            _ => self.to_string(),
        };
        let body = Json(json!({ "error": { "code": code, "message": message } }));
        if let ApiError::RateLimited { retry_after_s } = self {
            return (status, [(header::RETRY_AFTER, retry_after_s.to_string())], body).into_response();
        }
        (status, body).into_response()
    }
}
