//! The service's shared state and its routes.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tailor_core::AggregateWeights;
use tailor_events::WireFormat;
use tailor_log::EventLog;
use tailor_stream::VisitorStates;
use tokio::net::TcpListener;

use crate::{ServingCatalog, SessionKeys, api, metrics};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Where `POST /v1/events` appends, and how events are framed.
pub struct Intake {
    pub log: Arc<dyn EventLog>,
    pub wire: Arc<dyn WireFormat>,
    pub topic: String,
}

pub struct Service {
    pub catalog: ServingCatalog,
    /// The visitor states the streaming consumer keeps up to date.
    pub visitors: Arc<VisitorStates>,
    pub intake: Intake,
    pub sessions: SessionKeys,
    pub weights: AggregateWeights,
    pub metrics: PrometheusHandle,
}

impl Service {
    pub fn new(
        catalog: ServingCatalog,
        visitors: Arc<VisitorStates>,
        intake: Intake,
        sessions: SessionKeys,
    ) -> Service {
        metrics::record_catalog(catalog.len(), catalog.matrix().len());
        let (weights, metrics) = (AggregateWeights::default(), metrics::handle());
        Service { catalog, visitors, intake, sessions, weights, metrics }
    }
}

pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics_text))
        .route("/openapi.json", get(api::openapi))
        .route("/v1/items", get(api::list_items))
        .route("/v1/items/{id}", get(api::get_item))
        .route("/v1/items/{id}/image", get(api::item_image))
        .route("/v1/items/{id}/similar", get(api::similar_items))
        .route("/v1/recommendations", post(api::cold_start))
        .route("/v1/users/{id}/recommendations", get(api::visitor_recommendations))
        .route("/v1/sessions", post(api::new_session))
        .route("/v1/events", post(api::post_events))
        .fallback(api::no_route)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(service)
}

/// Serves until `shutdown` completes, letting requests in flight finish.
pub async fn serve(
    service: Arc<Service>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service)).with_graceful_shutdown(shutdown).await
}
