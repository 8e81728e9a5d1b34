//! The HTTP handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tailor_core::{AttributeFilter, Embedding, ImageRef, InteractionKind, TextQueryError};
use tailor_events::SubjectKind;
use tailor_stream::SubjectKey;

use crate::intake::EventIn;
use crate::params::{MAX_K, MAX_PAGE, Params, check_diversity, filter_from_map};
use crate::sessions::{TokenRefused, bearer};
use crate::views::{ItemView, RecommendationsView};
use crate::{ApiError, Service, admin, metrics};
use tailor_engine::{Browse, Order, Request, Rules, Signals, recommend, taste_from};

const DEFAULT_K: usize = 10;

type Shared = State<Arc<Service>>;

fn query(
    raw: Result<Query<HashMap<String, String>>, QueryRejection>,
    also: &[&'static str],
) -> Result<Params, ApiError> {
    let Query(raw) = raw.map_err(|e| ApiError::InvalidParameter { name: "query", reason: e.body_text() })?;
    Params::new(raw, also)
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(value)| value).map_err(|e| refused_body(e.status(), e.body_text()))
}

/// A body axum would not read: too large (the body limit), or not what the route takes.
fn refused_body(status: StatusCode, reason: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::BodyTooLarge { limit: crate::MAX_BODY_BYTES }
    } else {
        ApiError::InvalidBody(reason)
    }
}

/// Up unless the streaming consumer has stopped.
pub async fn healthz(State(service): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    consumer_running(&service)?;
    Ok(Json(json!({ "status": "ok" })))
}

fn consumer_running(service: &Service) -> Result<(), ApiError> {
    match service.consumer_failure.get() {
        Some(reason) => Err(ApiError::ConsumerStopped(reason.clone())),
        None => Ok(()),
    }
}

/// Ready once a model and the item matrix are loaded; until then recommendations come from the
/// content vectors alone, and this says why it is not ready.
pub async fn readyz(State(service): Shared) -> Result<Json<serde_json::Value>, ApiError> {
    consumer_running(&service)?;
    let serving = service.serving();
    let catalog = &serving.catalog;
    let Some(model) = serving.model.as_ref() else {
        return Err(ApiError::NotReady(
            "no model yet: run `tailor train` (recommendations use the content vectors until then)".into(),
        ));
    };
    Ok(Json(json!({
        "status": "ready",
        "items": catalog.len(),
        "rankable": catalog.matrix().len(),
        "dim": catalog.matrix().dim(),
        "model_version": model.version,
    })))
}

/// The API's description, kept beside the code in `openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json"))
}

pub async fn metrics_text(State(service): Shared) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], service.metrics.render())
}

pub async fn list_items(
    State(service): Shared,
    raw: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(raw, &["offset", "limit", "q", "with_photo", "order"])?;
    let (offset, limit) = (params.offset()?, params.count("limit", 24, MAX_PAGE)?);
    let order = match params.get("order").unwrap_or("id") {
        "id" => Order::Id,
        "spread" => Order::Spread,
        "trending" => Order::Trending,
        other => {
            let reason = format!("{other:?} is not id, spread or trending");
            return Err(ApiError::InvalidParameter { name: "order", reason });
        }
    };
    // Only the trending order reads the ranking; browsing by id or spread need not make it.
    let trending = match order {
        Order::Trending => service.trending.ranked(tailor_log::now_ms()),
        Order::Id | Order::Spread => tailor_stream::Ranked::default(),
    };
    let browse = Browse {
        filter: &params.filter(),
        query: params.get("q").unwrap_or_default(),
        with_photo: params.flag("with_photo")?,
        order,
        offset,
        limit,
        trending: &trending,
    };
    let serving = service.serving();
    let page = serving.catalog.browse(&browse)?;
    let items: Vec<ItemView> = page.items.into_iter().map(ItemView::of).collect();
    Ok(Json(json!({ "items": items, "total": page.total, "offset": offset, "limit": limit })).into_response())
}

pub async fn get_item(State(service): Shared, Path(id): Path<String>) -> Result<Response, ApiError> {
    let serving = service.serving();
    Ok(Json(ItemView::of(serving.catalog.served_item(&id)?)).into_response())
}

pub async fn item_image(State(service): Shared, Path(id): Path<String>) -> Result<Response, ApiError> {
    let serving = service.serving();
    let path = match serving.catalog.served_item(&id)?.image() {
        Some(ImageRef::File { path, .. }) => path.clone(),
        Some(ImageRef::Url { url }) => {
            return Ok((StatusCode::FOUND, [(header::LOCATION, url.clone())]).into_response());
        }
        None => return Err(ApiError::NoImage(id)),
    };
    let bytes = tokio::fs::read(&path).await.map_err(|e| ApiError::Internal(format!("the photo of item {id}: {e}")))?;
    let content_type = if path.to_ascii_lowercase().ends_with(".png") { "image/png" } else { "image/jpeg" };
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], bytes)
        .into_response())
}

/// A ranking request from a GET route's `k`, `diversity` and `prefer_photos`.
fn ranking_request<'a>(
    params: &Params,
    taste: Option<&'a Embedding>,
    signals: &'a Signals<'a>,
    filter: &'a AttributeFilter,
    trending: &'a [(Box<str>, f64)],
    rules: &'a Rules,
) -> Result<Request<'a>, ApiError> {
    Ok(Request {
        taste,
        signals,
        described: false,
        k: params.count("k", DEFAULT_K, MAX_K)?,
        filter,
        diversity: params.diversity()?,
        prefer_photos: params.flag("prefer_photos")?,
        trending,
        rules,
    })
}

pub async fn similar_items(
    State(service): Shared,
    Path(id): Path<String>,
    raw: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(raw, &["k", "diversity", "prefer_photos"])?;
    let serving = service.serving();
    let catalog = &serving.catalog;
    let signals = Signals { items: vec![(id.as_str(), InteractionKind::Like)] };
    let taste = taste_from(catalog, &signals, None, &service.weights)?;
    let filter = params.filter();
    let request = ranking_request(&params, taste.as_ref(), &signals, &filter, &[], &service.rules)?;
    // Similar items are similar in content, whatever the model learned.
    let recommendations = recommend(catalog, None, &service.ranking, &request)?;
    Ok(Json(RecommendationsView::of(catalog, recommendations)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdStartRequest {
    #[serde(default)]
    liked: Vec<String>,
    #[serde(default)]
    disliked: Vec<String>,
    /// What the visitor is looking for, in words ("a navy linen shirt for summer").
    text: Option<String>,
    k: Option<usize>,
    diversity: Option<f64>,
    /// Rank items with a photo higher (by `serve.ranking.photo_boost`).
    #[serde(default)]
    prefer_photos: bool,
    /// Business rules for this request, on top of the configured ones.
    #[serde(default)]
    rules: Rules,
    #[serde(default)]
    filter: HashMap<String, String>,
}

/// Longest accepted free-text query, in characters.
const MAX_TEXT_CHARS: usize = 500;

pub async fn cold_start(
    State(service): Shared,
    request: Result<Json<ColdStartRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let k = request.k.unwrap_or(DEFAULT_K);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::InvalidParameter { name: "k", reason: format!("{k} is not from 1 to {MAX_K}") });
    }
    let filter = filter_from_map(&request.filter)?;
    let diversity = match request.diversity {
        Some(d) => check_diversity(Some(d), &d.to_string())?,
        None => 0.0,
    };
    let liked = request.liked.iter().map(|id| (id.as_str(), InteractionKind::Like));
    let signals = Signals {
        items: liked.chain(request.disliked.iter().map(|id| (id.as_str(), InteractionKind::Dislike))).collect(),
    };
    let serving = service.serving();
    let catalog = &serving.catalog;
    let text = match request.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(text) if text.chars().count() > MAX_TEXT_CHARS => {
            let reason = format!("{} characters; the limit is {MAX_TEXT_CHARS}", text.chars().count());
            return Err(ApiError::InvalidParameter { name: "text", reason });
        }
        Some(text) => {
            let (shared, owned) = (service.clone(), text.to_owned());
            // The encoder runs libtorch for a few milliseconds: off the async workers.
            let embedded = tokio::task::spawn_blocking(move || match &shared.text_query {
                Some(encoder) => encoder.embed(&owned),
                None => Err(TextQueryError::Unavailable("this service has no text encoder configured".to_owned())),
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            Some(embedded.map_err(|error| match error {
                TextQueryError::Refused(reason) => ApiError::InvalidParameter { name: "text", reason },
                TextQueryError::Unavailable(reason) => ApiError::TextEncoderUnavailable(reason),
            })?)
        }
    };
    let taste = taste_from(catalog, &signals, text.as_ref(), &service.weights)?;
    let trending = first_screen(&service, taste.as_ref());
    let rules = service.rules.merged(&request.rules);
    rules.check()?;
    let ranked = Request {
        taste: taste.as_ref(),
        signals: &signals,
        described: text.is_some(),
        k,
        filter: &filter,
        diversity,
        prefer_photos: request.prefer_photos,
        trending: &trending,
        rules: &rules,
    };
    let recommendations = recommend(catalog, serving.model.as_deref(), &service.ranking, &ranked)?;
    let view = RecommendationsView::of(catalog, recommendations).with_unknown_ids(rules.unknown_ids(catalog));
    Ok(Json(view).into_response())
}

/// A session's recommendations need its token (their reasons name the items it liked); a user
/// id's need the admin token, and are disabled when none is configured.
pub async fn visitor_recommendations(
    State(service): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(raw, &["k", "kind", "diversity", "prefer_photos"])?;
    let key = match params.get("kind").unwrap_or("session") {
        "session" => {
            open_session(&service, &id, bearer(&headers), tailor_log::now_ms())?;
            SubjectKey::session(&id)
        }
        "user" => {
            admin::authorise(&service, &headers)?;
            SubjectKey::user(&id)
        }
        other => {
            return Err(ApiError::InvalidParameter {
                name: "kind",
                reason: format!("{other:?} is not session or user"),
            });
        }
    };
    let state = service.visitors.get(&key);
    let taste = state.as_ref().and_then(|s| s.aggregate().vector());
    let signals = Signals { items: state.as_ref().map(|s| s.recent_items().collect()).unwrap_or_default() };
    let serving = service.serving();
    let catalog = &serving.catalog;
    let filter = params.filter();
    let trending = first_screen(&service, taste.as_ref());
    let request = ranking_request(&params, taste.as_ref(), &signals, &filter, &trending, &service.rules)?;
    let recommendations = recommend(catalog, serving.model.as_deref(), &service.ranking, &request)?;
    Ok(Json(RecommendationsView::of(catalog, recommendations)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsRequest {
    events: Vec<EventIn>,
    /// The session token, for senders that cannot set headers (`navigator.sendBeacon`).
    token: Option<String>,
}

/// A new anonymous session and the token its events and reads must carry, with its expiry.
pub async fn new_session(State(service): Shared) -> Response {
    (StatusCode::CREATED, Json(service.sessions.issue(tailor_log::now_ms()))).into_response()
}

/// Admits a request for `session` that carries `token`.
fn open_session(service: &Service, session: &str, token: Option<&str>, now_ms: i64) -> Result<(), ApiError> {
    match service.sessions.verify(session, token.ok_or(ApiError::MissingToken)?, now_ms) {
        Ok(()) => Ok(()),
        Err(TokenRefused::Expired { at_ms }) => Err(ApiError::SessionExpired { at_ms }),
        Err(TokenRefused::NotThisSession) => Err(ApiError::Forbidden(format!(
            "the token is not {session:?}'s: a visitor reads and posts only for its own session"
        ))),
    }
}

pub async fn post_events(
    State(service): Shared,
    headers: HeaderMap,
    body_bytes: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    // JSON, or text/plain from `navigator.sendBeacon`, which cannot send JSON's content type
    // without a preflight.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(content_type.starts_with("application/json") || content_type.starts_with("text/plain")) {
        return Err(ApiError::InvalidBody(format!("content type {content_type:?}; send application/json")));
    }
    let body_bytes = body_bytes.map_err(|e| refused_body(e.status(), e.body_text()))?;
    let request: EventsRequest =
        serde_json::from_slice(&body_bytes).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    let token = bearer(&headers).or(request.token.as_deref());
    let now = tailor_log::now_ms();
    for event in &request.events {
        if event.subject_kind != SubjectKind::Session {
            return Err(ApiError::Forbidden("a visitor posts events only for its own session".to_owned()));
        }
        open_session(&service, &event.subject, token, now)?;
    }
    let messages = service.intake.messages(&service.serving().catalog, request.events, now)?;
    let appender = service.clone();
    // The append fsyncs (or waits for all in-sync replicas): off the async workers.
    let count = tokio::task::spawn_blocking(move || appender.intake.append(messages))
        .await
        .map_err(|e| ApiError::LogUnavailable(e.to_string()))??;
    metrics::record_events_accepted(count);
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": count }))).into_response())
}

/// The items most interacted with lately (decayed, weighted counts), with the usual filters.
pub async fn trending(
    State(service): Shared,
    raw: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = query(raw, &["k"])?;
    let k = params.count("k", DEFAULT_K, MAX_K)?;
    let serving = service.serving();
    let catalog = &serving.catalog;
    let matrix = catalog.matrix();
    let filter = matrix
        .resolve(&params.filter())
        .map_err(|e| ApiError::InvalidParameter { name: "filter", reason: e.to_string() })?;
    let ranked = service.trending.ranked(tailor_log::now_ms());
    let items: Vec<serde_json::Value> = ranked
        .iter()
        .filter_map(|(id, count)| matrix.row_of(id).map(|row| (row, count)))
        .filter(|&(row, _)| !catalog.is_withdrawn(row) && matrix.passes(row, &filter))
        .take(k)
        .map(|(row, count)| json!({ "item": ItemView::of(catalog.item_at(row)), "count": count }))
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// What is trending, for a visitor without a taste yet, whose answer is a first screen; nothing
/// for the others, who need not wait for it.
fn first_screen(service: &Service, taste: Option<&Embedding>) -> tailor_stream::Ranked {
    match taste {
        None => service.trending.ranked(tailor_log::now_ms()),
        Some(_) => tailor_stream::Ranked::default(),
    }
}

pub async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}
