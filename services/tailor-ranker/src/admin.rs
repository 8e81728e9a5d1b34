//! The admin routes, for ML ops: list model versions, activate one, roll back, start a retrain.
//! Each needs `Authorization: Bearer ADMIN_TOKEN`; with no admin token configured they refuse
//! everyone. Activation loads and checks the version before anything changes, swaps it in here,
//! and announces it on the models topic so the other replicas follow.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tailor_events::{Event, ModelPublished, WireFormat};
use tailor_log::{EventLog, Message};
use tailor_models::{LoadedModel, Manifest, ModelError, ModelStore};

use crate::sessions::bearer;
use crate::{ApiError, Service};

/// Starts a training run in the background, so serving never waits on it.
pub trait Retrainer: Send + Sync {
    /// Starts one unless one is running.
    fn start(&self) -> Result<(), RetrainRefused>;
    fn status(&self) -> RetrainStatus;
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct RetrainStatus {
    pub running: bool,
    /// How the latest run ended: the version it published, or why it failed.
    pub last_version: Option<u64>,
    pub last_error: Option<String>,
}

#[derive(Debug)]
pub enum RetrainRefused {
    AlreadyRunning,
    CannotStart(String),
}

pub struct Admin {
    /// `None` refuses every admin request.
    pub token: Option<String>,
    pub store: ModelStore,
    pub retrainer: Arc<dyn Retrainer>,
    /// Where activations are announced.
    pub models_topic: String,
}

/// Appends a model-published event naming `manifest`'s version and its directory in `store`.
pub fn announce(
    log: &dyn EventLog,
    wire: &dyn WireFormat,
    topic: &str,
    store: &ModelStore,
    manifest: &Manifest,
) -> Result<(), String> {
    let event = Event::ModelPublished(ModelPublished {
        version: manifest.version as i64,
        parent: manifest.parent.map(|p| p as i64),
        location: store.version_dir(manifest.version).display().to_string(),
        metrics: manifest.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        created_at_ms: manifest.created_at_ms,
    });
    let failed = |e: String| format!("announcing model version {} on {topic}: {e}", manifest.version);
    let payload = wire.encode(&event).map_err(|e| failed(e.to_string()))?;
    log.append(topic, vec![Message::new(b"model".to_vec(), payload)]).map(drop).map_err(|e| failed(e.to_string()))
}

/// Constant-time comparison, so response timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Admits requests that carry the admin token: the admin routes, and reads by user id.
pub(crate) fn authorise(service: &Service, headers: &HeaderMap) -> Result<(), ApiError> {
    match (&service.admin.token, bearer(headers)) {
        (Some(token), Some(given)) if same(token.as_bytes(), given.as_bytes()) => Ok(()),
        (None, _) => Err(ApiError::AdminDisabled),
        (Some(_), _) => Err(ApiError::AdminTokenRequired),
    }
}

type Shared = State<Arc<Service>>;

pub async fn list_models(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let versions = service.admin.store.list().map_err(ApiError::from)?;
    let listed: Vec<serde_json::Value> = versions
        .into_iter()
        .map(|stored| match stored.manifest {
            Ok(manifest) => json!({ "version": stored.version, "active": stored.active, "manifest": manifest }),
            Err(error) => json!({ "version": stored.version, "active": stored.active, "error": error.to_string() }),
        })
        .collect();
    let serving = service.model.load().as_ref().map(|m| m.version);
    Ok(Json(json!({ "serving": serving, "versions": listed })).into_response())
}

/// Checks the version `choose` picks against the catalogue, and only then makes it the store's
/// active one (`make_active`), swaps it in here and announces it to the others; a version that
/// does not fit leaves the store's pointer where it was. Blocking work off the workers.
async fn switch(
    service: Arc<Service>,
    choose: impl FnOnce(&ModelStore) -> Result<u64, ModelError> + Send + 'static,
    make_active: impl FnOnce(&ModelStore, u64) -> Result<LoadedModel, ModelError> + Send + 'static,
) -> Result<Response, ApiError> {
    let version = tokio::task::spawn_blocking(move || {
        let store = &service.admin.store;
        let version = choose(store).map_err(ApiError::from)?;
        let model = service.check_version(version).map_err(|e| ApiError::ModelRefused(e.to_string()))?;
        let manifest = make_active(store, version).map_err(ApiError::from)?.manifest;
        service.swap_in(model);
        let (intake, admin) = (&service.intake, &service.admin);
        announce(intake.log.as_ref(), intake.wire.as_ref(), &admin.models_topic, store, &manifest)
            .map_err(ApiError::LogUnavailable)?;
        Ok::<u64, ApiError>(manifest.version)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(json!({ "active": version })).into_response())
}

pub async fn activate(
    State(service): Shared,
    headers: HeaderMap,
    version: Result<Path<u64>, PathRejection>,
) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let Path(version) = version.map_err(|e| ApiError::InvalidParameter { name: "version", reason: e.body_text() })?;
    switch(service, move |store| store.manifest(version).map(|m| m.version), ModelStore::activate).await
}

pub async fn rollback(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    switch(service, ModelStore::rollback_target, ModelStore::rollback_to).await
}

pub async fn retrain_status(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    Ok(Json(service.admin.retrainer.status()).into_response())
}

pub async fn retrain(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    match service.admin.retrainer.start() {
        Ok(()) => Ok((StatusCode::ACCEPTED, Json(json!({ "status": "started" }))).into_response()),
        Err(RetrainRefused::AlreadyRunning) => Err(ApiError::RetrainRunning),
        Err(RetrainRefused::CannotStart(reason)) => Err(ApiError::Internal(format!("the trainer: {reason}"))),
    }
}
