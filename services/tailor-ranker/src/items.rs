//! The admin item routes: a shop's back office adds, changes, sells out and removes items while
//! the service runs. Each request is checked by the rules ingestion applies to a row, appended as
//! item events to the items topic keyed by item id, and answered `202` once the append is
//! durable; every replica (this one included) applies it from the topic.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tailor_core::{ImageRef, Item};
use tailor_engine::{ServingCatalog, Withdrawal};
use tailor_events::{Availability, Event, ItemRemoved, ItemUpsert, WireFormat};
use tailor_log::{EventLog, Message};

use crate::admin::authorise;
use crate::{ApiError, Service};

/// A JSON Lines batch holds at most this many items.
pub const MAX_BATCH_ITEMS: usize = 10_000;
/// And at most this many bytes.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Where item events are appended, and how they are framed.
pub struct ItemIntake {
    pub log: Arc<dyn EventLog>,
    pub wire: Arc<dyn WireFormat>,
    pub topic: String,
}

impl ItemIntake {
    fn append(&self, events: Vec<Event>) -> Result<usize, ApiError> {
        let count = events.len();
        let messages = events
            .iter()
            .map(|event| {
                let key = match event {
                    Event::ItemUpsert(upsert) => upsert.item_id.clone(),
                    Event::ItemRemoved(removed) => removed.item_id.clone(),
                    _ => unreachable!("only item events are appended here"),
                };
                let payload = self.wire.encode(event).map_err(|e| ApiError::LogUnavailable(e.to_string()))?;
                Ok(Message::new(key.into_bytes(), payload))
            })
            .collect::<Result<Vec<Message>, ApiError>>()?;
        self.log.append(&self.topic, messages).map_err(|e| ApiError::LogUnavailable(e.to_string()))?;
        Ok(count)
    }
}

/// An item as the admin routes take it: its whole state.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// Only in a batch, where each line names its item.
    id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    /// An absolute path on the serving machines, or an http(s) URL.
    image: Option<String>,
    gender: Option<String>,
    category: Option<String>,
    sub_category: Option<String>,
    article_type: Option<String>,
    colour: Option<String>,
    season: Option<String>,
    usage: Option<String>,
    price: Option<f64>,
    brand: Option<String>,
    year: Option<i32>,
    #[serde(default)]
    availability: Availability,
    expires_at_ms: Option<i64>,
}

impl ItemIn {
    /// The upsert of item `id`, checked as ingestion checks a row, with what was noticed;
    /// `known_photo` as [`tailor_catalog::check_item`] takes it.
    fn upsert(
        self,
        id: &str,
        now_ms: i64,
        known_photo: Option<&ImageRef>,
    ) -> Result<(ItemUpsert, Vec<String>), String> {
        if let Some(at) = self.expires_at_ms {
            tailor_core::check_timestamp(at).map_err(|e| format!("expires_at_ms: {e}"))?;
        }
        let asked = ItemUpsert {
            item_id: id.to_owned(),
            title: self.title,
            description: self.description,
            image: self.image,
            gender: self.gender,
            category: self.category,
            sub_category: self.sub_category,
            article_type: self.article_type,
            colour: self.colour,
            season: self.season,
            usage: self.usage,
            price: self.price,
            brand: self.brand,
            timestamp_ms: now_ms,
            availability: Some(self.availability),
            expires_at_ms: self.expires_at_ms,
            year: self.year,
        };
        let attributes = asked.raw_attributes();
        let checked = tailor_catalog::check_item(
            id,
            asked.title.clone(),
            asked.description.clone(),
            asked.image.clone(),
            attributes,
            known_photo,
        )?;
        // As the catalogue holds it: text tidied, a photo that could not be used dropped.
        let image = checked.item.image().map(image_reference);
        let upsert = ItemUpsert {
            availability: asked.availability,
            expires_at_ms: asked.expires_at_ms,
            ..ItemUpsert::of(&checked.item, image, now_ms)
        };
        Ok((upsert, checked.warnings))
    }
}

/// The photo `catalog` holds for item `id`, checked when the item was applied.
fn known_photo<'c>(catalog: &'c ServingCatalog, id: &str) -> Option<&'c ImageRef> {
    catalog.item(id).and_then(Item::image)
}

fn image_reference(image: &ImageRef) -> String {
    image.reference().to_owned()
}

type Shared = State<Arc<Service>>;

async fn append(service: Arc<Service>, events: Vec<Event>) -> Result<usize, ApiError> {
    // The append fsyncs (or waits for all in-sync replicas): off the async workers.
    tokio::task::spawn_blocking(move || service.items.append(events))
        .await
        .map_err(|e| ApiError::LogUnavailable(e.to_string()))?
}

/// Adds or replaces item `id` with the body's state.
pub async fn put_item(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ItemIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let Json(item) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    if item.id.as_ref().is_some_and(|named| *named != id) {
        return Err(ApiError::InvalidBody(format!("the body names item {:?}, the path {id:?}", item.id)));
    }
    let checked = {
        let (id, serving) = (id.clone(), service.serving());
        tokio::task::spawn_blocking(move || item.upsert(&id, tailor_log::now_ms(), known_photo(&serving.catalog, &id)))
    };
    let (upsert, warnings) =
        checked.await.map_err(|e| ApiError::Internal(e.to_string()))?.map_err(ApiError::InvalidItem)?;
    append(service, vec![Event::ItemUpsert(Box::new(upsert))]).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "item_id": id, "warnings": warnings }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityIn {
    availability: Availability,
}

/// Marks item `id` in stock or sold out: its current state, with the new availability, as one
/// upsert (so the topic's last event of the item is its whole state).
pub async fn patch_availability(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<AvailabilityIn>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let Json(AvailabilityIn { availability }) = body.map_err(|e| ApiError::InvalidBody(e.body_text()))?;
    let serving = service.serving();
    if serving.catalog.withdrawal(&id) == Some(Withdrawal::Removed) {
        // Its whole state again would bring it back: a removed item comes back with PUT.
        return Err(tailor_engine::EngineError::Withdrawn { id, why: Withdrawal::Removed }.into());
    }
    let item: &Item = serving.catalog.item(&id).ok_or_else(|| ApiError::UnknownItem(id.clone()))?;
    let upsert = ItemUpsert {
        availability: Some(availability),
        ..ItemUpsert::of(item, item.image().map(image_reference), tailor_log::now_ms())
    };
    append(service.clone(), vec![Event::ItemUpsert(Box::new(upsert))]).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "item_id": id, "availability": availability }))).into_response())
}

/// Removes item `id` from every answer for good (a later upsert brings it back).
pub async fn delete_item(
    State(service): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    tailor_core::ItemId::new(id.as_str())
        .map_err(|e| ApiError::InvalidParameter { name: "id", reason: e.to_string() })?;
    let removed = ItemRemoved {
        item_id: id.clone(),
        reason: Some("the admin route".to_owned()),
        timestamp_ms: tailor_log::now_ms(),
    };
    append(service, vec![Event::ItemRemoved(removed)]).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "item_id": id, "removed": true }))).into_response())
}

/// Many items at once, one JSON object per line with its `id`: every valid line is appended,
/// and the answer lists the lines refused and what was noticed, by line number, as ingestion's
/// report does. Nothing is appended when no line is valid.
pub async fn post_batch(
    State(service): Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorise(&service, &headers)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge { limit: MAX_BATCH_BYTES },
        _ => ApiError::InvalidBody(e.body_text()),
    })?;
    // Checking a line reads the header of a photo the catalogue does not hold yet: off the
    // async workers, which serve the recommendations meanwhile.
    let serving = service.serving();
    let (events, report) = tokio::task::spawn_blocking(move || check_batch(&body, &serving.catalog))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let accepted = append(service, events).await?;
    let mut report = report;
    report["accepted"] = json!(accepted);
    Ok((StatusCode::ACCEPTED, Json(report)).into_response())
}

/// The upserts of a batch's valid lines, and the report of the others.
fn check_batch(body: &[u8], catalog: &ServingCatalog) -> Result<(Vec<Event>, serde_json::Value), ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| ApiError::InvalidBody(format!("not UTF-8: {e}")))?;
    let now = tailor_log::now_ms();
    let (mut events, mut rejected, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    let lines = text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty());
    for (index, line) in lines {
        let number = index + 1;
        let parsed = serde_json::from_str::<ItemIn>(line).map_err(|e| e.to_string()).and_then(|item| {
            let id = item.id.clone().ok_or("id is empty")?;
            item.upsert(&id, now, known_photo(catalog, &id))
        });
        match parsed {
            Ok((upsert, noticed)) => {
                warnings.extend(noticed.into_iter().map(|w| json!({ "line": number, "warning": w })));
                events.push(Event::ItemUpsert(Box::new(upsert)));
            }
            Err(reason) => rejected.push(json!({ "line": number, "reason": reason })),
        }
    }
    let lines = events.len() + rejected.len();
    if lines > MAX_BATCH_ITEMS {
        let reason = format!("{lines} lines; send at most {MAX_BATCH_ITEMS}");
        return Err(ApiError::InvalidParameter { name: "body", reason });
    }
    if events.is_empty() {
        return Err(ApiError::InvalidBody(format!("no valid line: {}", json!(rejected))));
    }
    Ok((events, json!({ "rejected": rejected, "warnings": warnings })))
}
