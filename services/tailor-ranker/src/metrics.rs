//! The service's metrics, named once here with their labels.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::PrometheusHandle;

/// Requests by `route` (the matched pattern) and `status`.
pub const REQUESTS: &str = "tailor_http_requests_total";
/// Request latency by `route`.
pub const REQUEST_DURATION: &str = "tailor_http_request_duration_seconds";
/// Interaction events durably accepted through `POST /v1/events`.
pub const EVENTS_ACCEPTED: &str = "tailor_events_accepted_total";
/// Items in the catalogue, and of those, items that can be recommended (they have a vector).
pub const CATALOG_ITEMS: &str = "tailor_catalog_items";
pub const RANKABLE_ITEMS: &str = "tailor_rankable_items";
/// The model version serving now (0 before the first).
pub const MODEL_VERSION: &str = "tailor_model_version";
/// Model swaps done, and versions refused (corrupt, or not fitting the catalogue).
pub const MODEL_SWAPS: &str = "tailor_model_swaps_total";
pub const MODEL_REFUSED: &str = "tailor_model_refused_total";
/// The serving version's offline evaluation by `slice`, `k` (revealed interactions) and `metric`.
pub const MODEL_EVALUATION: &str = "tailor_model_evaluation";

/// The process-wide Prometheus recorder, installed on first use, with the service's, the
/// engine's and the consumer's metrics described.
pub fn handle() -> PrometheusHandle {
    tailor_config::metrics_recorder(&[describe, tailor_engine::metrics::describe, tailor_stream::metrics::describe])
}

fn describe() {
    describe_counter!(REQUESTS, "HTTP requests by route and status");
    describe_histogram!(REQUEST_DURATION, Unit::Seconds, "HTTP request latency by route");
    describe_counter!(EVENTS_ACCEPTED, "Interaction events durably appended to the log");
    describe_gauge!(CATALOG_ITEMS, "Items in the served catalogue");
    describe_gauge!(RANKABLE_ITEMS, "Items with a vector, which can be recommended");
    describe_gauge!(MODEL_VERSION, "The Two-Tower model version serving now");
    describe_counter!(MODEL_SWAPS, "Model versions swapped in");
    describe_counter!(MODEL_REFUSED, "Model versions refused; the previous one kept serving");
    describe_gauge!(MODEL_EVALUATION, "Offline cold-start evaluation of the serving model, by slice, k and metric");
}

pub(crate) fn record_model(model: &tailor_engine::ActiveModel) {
    gauge!(MODEL_VERSION).set(model.version as f64);
    counter!(MODEL_SWAPS).increment(1);
    for (key, value) in &model.metrics {
        // Keys are `slice.kN.metric`, as the trainer writes them.
        if let [slice, k, metric] = key.split('.').collect::<Vec<_>>()[..] {
            let k = k.trim_start_matches('k').to_owned();
            gauge!(MODEL_EVALUATION, "slice" => slice.to_owned(), "k" => k, "metric" => metric.to_owned()).set(*value);
        }
    }
}

pub(crate) fn record_model_refused() {
    counter!(MODEL_REFUSED).increment(1);
}

pub(crate) fn record_catalog(items: usize, rankable: usize) {
    gauge!(CATALOG_ITEMS).set(items as f64);
    gauge!(RANKABLE_ITEMS).set(rankable as f64);
}

pub(crate) fn record_events_accepted(count: usize) {
    counter!(EVENTS_ACCEPTED).increment(count as u64);
}

/// Middleware: counts and times every request under its route pattern (not the raw path, so ids
/// do not explode the label set).
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    histogram!(REQUEST_DURATION, "route" => route.clone()).record(started.elapsed().as_secs_f64());
    counter!(REQUESTS, "route" => route, "status" => response.status().as_u16().to_string()).increment(1);
    response
}
