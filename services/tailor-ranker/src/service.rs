//! The service's shared state and its routes.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post, put};
use metrics_exporter_prometheus::PrometheusHandle;
use tailor_core::AggregateWeights;
use tailor_stream::{Trending, TrendingWeights, VisitorStates};
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};

use crate::admin::{self, Admin};
use crate::limits::{Admission, ClientRate, admit, limit_rate};
use tailor_config::RequestLimits;
use tailor_engine::{ActiveModel, RankingConfig, Rules, Serving, ServingCatalog};

use crate::items::MAX_BATCH_BYTES;
use crate::{ApiError, Intake, ItemIntake, SessionKeys, api, items, metrics};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub struct Service {
    /// The catalogue and model requests rank with; each request keeps the snapshot it started
    /// with, so a swap never changes a ranking half-way.
    serving: ArcSwap<Serving>,
    /// Held while a new snapshot is made from the current one, so that a catalogue change and a
    /// model swap never undo each other.
    changing: Mutex<()>,
    /// What is popular now, by the streaming consumer's count; the first screen opens with it.
    pub trending: Arc<Trending>,
    /// Where the admin item routes append item events.
    pub items: ItemIntake,
    /// The visitor states the streaming consumer keeps up to date.
    pub visitors: Arc<VisitorStates>,
    pub intake: Intake,
    pub sessions: SessionKeys,
    pub weights: AggregateWeights,
    pub ranking: RankingConfig,
    /// The business rules every request gets.
    pub rules: Rules,
    pub metrics: PrometheusHandle,
    pub admin: Admin,
    /// Embeds a visitor's typed description in the item vectors' space; `None` when the
    /// encoders are not available, and free-text requests are refused.
    pub text_query: Option<Box<dyn tailor_core::TextQuery>>,
    /// Why the streaming consumer stopped, once it has: the service is then neither healthy nor
    /// ready, since visitors' recommendations no longer follow their events.
    pub consumer_failure: OnceLock<String>,
    /// Rate limits, requests in flight and their time.
    pub limits: RequestLimits,
}

impl Service {
    pub fn new(
        catalog: ServingCatalog,
        visitors: Arc<VisitorStates>,
        intake: Intake,
        sessions: SessionKeys,
        admin: Admin,
    ) -> Service {
        metrics::record_catalog(catalog.len(), catalog.matrix().len());
        let (weights, metrics) = (AggregateWeights::default(), metrics::handle());
        let ranking = RankingConfig::default();
        let consumer_failure = OnceLock::new();
        let items_topic = tailor_config::EventsConfig::default().items.name;
        let items = ItemIntake { log: intake.log.clone(), wire: intake.wire.clone(), topic: items_topic };
        Service {
            serving: ArcSwap::from_pointee(Serving::new(catalog)),
            changing: Mutex::new(()),
            trending: Arc::new(Trending::new(TrendingWeights::default())),
            items,
            visitors,
            intake,
            sessions,
            weights,
            ranking,
            rules: Rules::default(),
            metrics,
            admin,
            text_query: None,
            consumer_failure,
            limits: RequestLimits::default(),
        }
    }

    /// The snapshot a request ranks with.
    pub fn serving(&self) -> Arc<Serving> {
        self.serving.load_full()
    }

    /// Makes the next snapshot from the current one with `change`, alone: no other change runs
    /// meanwhile. On an error the current one stays.
    pub fn change<E>(&self, change: impl FnOnce(&Serving) -> Result<Serving, E>) -> Result<(), E> {
        let _alone = self.changing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = change(&self.serving.load())?;
        metrics::record_catalog(next.catalog.len(), next.catalog.matrix().len());
        if let Some(model) = &next.model {
            metrics::record_model(model);
        }
        self.serving.store(Arc::new(next));
        Ok(())
    }

    /// Loads `version` from the model store and swaps it in. On any failure the model serving
    /// now stays, and the failure is counted.
    pub fn load_version(&self, version: u64) -> Result<(), ApiError> {
        self.change(|serving| Ok(serving.with_model(self.check_version(serving, version)?)))
    }

    /// Loads `version` from the model store and checks it against `serving`'s catalogue,
    /// swapping nothing; a failure is counted.
    fn check_version(&self, serving: &Serving, version: u64) -> Result<ActiveModel, ApiError> {
        let loaded = self.admin.lifecycle.store().load(version).map_err(ApiError::from);
        let checked = loaded.and_then(|loaded| Ok(ActiveModel::new(&serving.catalog, loaded)?));
        if checked.is_err() {
            metrics::record_model_refused();
        }
        checked
    }
}

/// The guards of one router: built once, shared by every request.
#[derive(Clone)]
struct Guards {
    admission: Admission,
    sessions: ClientRate,
    events: ClientRate,
}

impl Guards {
    fn new(limits: &RequestLimits) -> Guards {
        Guards {
            admission: Admission::new(limits),
            sessions: ClientRate::new(limits.sessions_per_second, limits.sessions_burst),
            events: ClientRate::new(limits.event_posts_per_second, limits.event_posts_burst),
        }
    }
}

pub fn router(service: Arc<Service>, app: Option<&Path>) -> Router {
    let guards = Guards::new(&service.limits);
    guarded_router(service, app, guards)
}

fn guarded_router(service: Arc<Service>, app: Option<&Path>, guards: Guards) -> Router {
    let Guards { admission, sessions, events } = guards;
    let mut router = Router::new();
    // A batch of items may be larger than any other body.
    let item_batches = post(items::post_batch).route_layer(DefaultBodyLimit::max(MAX_BATCH_BYTES));
    if let Some(dir) = app {
        router = router
            .route_service("/", ServeFile::new(dir.join("index.html")))
            .nest_service("/assets", ServeDir::new(dir.join("assets")));
    }
    router
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
        .route("/v1/sessions", post(api::new_session).route_layer(from_fn_with_state(sessions, limit_rate)))
        .route("/v1/events", post(api::post_events).route_layer(from_fn_with_state(events, limit_rate)))
        .route("/v1/admin/models", get(admin::list_models))
        .route("/v1/admin/models/rollback", post(admin::rollback))
        .route("/v1/admin/models/{version}/activate", post(admin::activate))
        .route("/v1/admin/retrain", post(admin::retrain).get(admin::retrain_status))
        .route("/v1/admin/items/{id}", put(items::put_item).delete(items::delete_item))
        .route("/v1/admin/items/{id}/availability", patch(items::patch_availability))
        .route("/v1/admin/items:batch", item_batches)
        .route("/v1/items/trending", get(api::trending))
        .fallback(api::no_route)
        .layer(from_fn_with_state(admission, admit))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(service)
}

/// Serves until `shutdown` completes, letting requests in flight finish.
pub async fn serve(
    service: Arc<Service>,
    app: Option<&Path>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let guards = Guards::new(&service.limits);
    let (sessions, events) = (guards.sessions.clone(), guards.events.clone());
    // Clients whose allowance is full again are forgotten, so a flood of addresses passes.
    let forgetting = tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            sessions.forget_idle_clients();
            events.forget_idle_clients();
        }
    });
    let app = guarded_router(service, app, guards).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    forgetting.abort();
    served
}
