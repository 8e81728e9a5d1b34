//! The admin routes, for ML ops: list model versions, activate one, roll back, ask for a
//! retrain and see how retrains stand. Each needs `Authorization: Bearer ADMIN_TOKEN`; with no
//! admin token configured they refuse everyone. Every change goes through the model lifecycle
//! (`tailor_models::ModelLifecycle`), as the CLI's does: activation loads the version and checks
//! it against this catalogue before the store changes, and announces it so the other replicas
//! follow; a retrain is asked for with an event that the trainer process acts on.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tailor_engine::ActiveModel;
use tailor_models::{ModelLifecycle, RetrainStatus, Target};

use crate::sessions::bearer;
use crate::{ApiError, Service};

pub struct Admin {
    /// `None` refuses every admin request.
    pub token: Option<String>,
    pub lifecycle: ModelLifecycle,
    /// Retrains as the models topic tells them; the model watcher keeps it.
    pub retrains: Mutex<RetrainStatus>,
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
    let versions = service.admin.lifecycle.store().list()?;
    let listed: Vec<serde_json::Value> = versions
        .into_iter()
        .map(|stored| match stored.manifest {
            Ok(manifest) => json!({ "version": stored.version, "active": stored.active, "manifest": manifest }),
            Err(error) => json!({ "version": stored.version, "active": stored.active, "error": error.to_string() }),
        })
        .collect();
    let serving = service.serving().model.as_ref().map(|m| m.version);
    Ok(Json(json!({ "serving": serving, "versions": listed })).into_response())
}

/// Makes `target` active through the lifecycle, checked against this catalogue first, and swaps
/// it in here. Blocking work off the workers.
async fn switch(service: Arc<Service>, target: Target) -> Result<Response, ApiError> {
    let version = tokio::task::spawn_blocking(move || {
        let mut version = 0;
        service.change(|serving| {
            let fits = |loaded| ActiveModel::new(&serving.catalog, loaded).map_err(|e| e.to_string());
            let activated = service.admin.lifecycle.activate(target, fits);
            let (manifest, model) = activated.inspect_err(|_| crate::metrics::record_model_refused())?;
            version = manifest.version;
            Ok::<_, ApiError>(serving.with_model(model))
        })?;
        Ok::<u64, ApiError>(version)
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
    switch(service, Target::Version(version)).await
}

pub async fn rollback(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    switch(service, Target::Previous).await
}

pub async fn retrain_status(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let status = service.admin.retrains.lock().map_err(|_| ApiError::Internal("the retrain status".into()))?.clone();
    Ok(Json(status).into_response())
}

/// Asks the trainer process for a retrain; requests made while one runs are served together by
/// the next run.
pub async fn retrain(State(service): Shared, headers: HeaderMap) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let request_id = tokio::task::spawn_blocking(move || service.admin.lifecycle.request_retrain("the admin route"))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok((StatusCode::ACCEPTED, Json(json!({ "request_id": request_id }))).into_response())
}
