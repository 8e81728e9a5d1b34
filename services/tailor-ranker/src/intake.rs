//! Event intake for `POST /v1/events`: the posted events checked (the schema's rules, the
//! service's timestamp window, items in the catalogue, values only on ratings), encoded in the
//! configured wire format, and appended durably to the interactions topic.

use std::sync::Arc;

use serde::Deserialize;
use tailor_config::TimestampWindow;
use tailor_engine::ServingCatalog;
use tailor_events::{Event, EventSource, Interaction, InteractionKind, SubjectKind, WireFormat};
use tailor_log::{EventLog, Message};

use crate::ApiError;

/// At most this many events per request.
pub const MAX_EVENTS: usize = 1000;

/// Where events are appended, how they are framed, and which timestamps are taken.
pub struct Intake {
    pub log: Arc<dyn EventLog>,
    pub wire: Arc<dyn WireFormat>,
    pub topic: String,
    pub timestamps: TimestampWindow,
}

/// One posted event, as the API takes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventIn {
    event_id: Option<String>,
    pub subject: String,
    #[serde(default = "session")]
    pub subject_kind: SubjectKind,
    item_id: String,
    kind: InteractionKind,
    value: Option<f32>,
    timestamp_ms: Option<i64>,
}

fn session() -> SubjectKind {
    SubjectKind::Session
}

impl Intake {
    /// Every event checked at `now` and encoded as a message keyed by its subject; the first
    /// that fails refuses them all, naming its index.
    pub(crate) fn messages(
        &self,
        catalog: &ServingCatalog,
        events: Vec<EventIn>,
        now: i64,
    ) -> Result<Vec<Message>, ApiError> {
        if events.is_empty() || events.len() > MAX_EVENTS {
            let reason = format!("{} events; send 1 to {MAX_EVENTS}", events.len());
            return Err(ApiError::InvalidParameter { name: "events", reason });
        }
        let (earliest, latest) = self.timestamps.bounds(now);
        for (index, event) in events.iter().enumerate() {
            match event.timestamp_ms {
                Some(at_ms) if !(earliest..=latest).contains(&at_ms) => {
                    return Err(ApiError::InvalidTimestamp { index, at_ms, earliest, latest });
                }
                _ => {}
            }
        }
        let mut messages = Vec::with_capacity(events.len());
        for (index, event) in events.into_iter().enumerate() {
            let invalid = |reason: String| ApiError::InvalidEvent { index, reason };
            let interaction = interaction(catalog, event, now, index).map_err(invalid)?;
            let payload = self
                .wire
                .encode(&Event::Interaction(interaction.clone()))
                .map_err(|e| ApiError::LogUnavailable(e.to_string()))?;
            messages.push(Message::new(interaction.subject.into_bytes(), payload));
        }
        Ok(messages)
    }

    /// Appends `messages` and returns once they are durable (fsynced, or held by every in-sync
    /// replica): call it off the async workers.
    pub(crate) fn append(&self, messages: Vec<Message>) -> Result<usize, ApiError> {
        let count = messages.len();
        self.log.append(&self.topic, messages).map_err(|e| ApiError::LogUnavailable(e.to_string()))?;
        Ok(count)
    }
}

/// The checks every decoded event gets, plus what only this API asks: the item is in the
/// catalogue, and only ratings carry a value.
fn interaction(catalog: &ServingCatalog, event: EventIn, now: i64, index: usize) -> Result<Interaction, String> {
    if event.kind != InteractionKind::Rating && event.value.is_some() {
        return Err(format!("a {:?} event carries no value; only ratings do", event.kind));
    }
    let interaction = Interaction {
        event_id: event.event_id.unwrap_or_else(|| format!("{}-{now}-{index}", event.subject)),
        subject: event.subject,
        subject_kind: event.subject_kind,
        item_id: event.item_id,
        kind: event.kind,
        value: event.value,
        timestamp_ms: event.timestamp_ms.unwrap_or(now),
        source: EventSource::App,
    }
    .check()
    .map_err(|e| e.to_string())?;
    if catalog.item(&interaction.item_id).is_none() {
        return Err(format!("no item {:?} in the catalogue", interaction.item_id));
    }
    Ok(interaction)
}
