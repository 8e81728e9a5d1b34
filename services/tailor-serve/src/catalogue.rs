//! A replica's side of the live catalogue: it reads the items topic and the item-vectors topic
//! from their start (the last event of each item is its state, so a restart rebuilds the same
//! catalogue), turns their events into catalogue changes, and swaps in each new snapshot.
//! Events it cannot apply go to the dead-letter topic with the reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tailor_core::{Embedding, Item, ItemId};
use tailor_engine::{ItemEvent, LiveCatalogue, ServingCatalog, metrics};
use tailor_events::{Event, WireFormat};
use tailor_log::{EventLog, LogReader, Message, Record, now_ms};
use tailor_ranker::Service;
use tailor_stream::{DEAD_LETTER_REASON, DEAD_LETTER_SOURCE, LiveItemVectors};

use crate::ServeError;

/// The topics a replica follows for its catalogue.
pub struct CatalogueTopics {
    pub log: Arc<dyn EventLog>,
    pub wire: Arc<dyn WireFormat>,
    pub items: String,
    pub item_vectors: String,
    pub dead_letters: String,
}

const POLL_BATCH: usize = 4096;
const POLL_TIMEOUT: Duration = Duration::from_millis(20);

/// Until `stop`: every item event applied to `service`'s catalogue, and every item vector added
/// to `vectors` too, for the streaming consumer's parked interactions.
pub fn follow_catalogue(
    service: &Service,
    topics: &CatalogueTopics,
    vectors: &LiveItemVectors,
    stop: &AtomicBool,
) -> Result<(), ServeError> {
    let from_start = |topic: &str| -> Result<Box<dyn LogReader>, ServeError> {
        let partitions = topics.log.partitions(topic).map_err(tailor_stream::StreamError::from)?;
        Ok(topics.log.reader(topic, &vec![0; partitions as usize]).map_err(tailor_stream::StreamError::from)?)
    };
    let (mut items, mut item_vectors) = (from_start(&topics.items)?, from_start(&topics.item_vectors)?);
    let mut live = LiveCatalogue::new();
    // What was appended before the start is history being read again, not a change's latency.
    let started_ms = now_ms();
    while !stop.load(Ordering::Relaxed) {
        // One wait per turn, on the items: waiting on each topic in turn would hold an item
        // event that came during the vectors' wait for that whole wait.
        let records = items.poll(POLL_BATCH, POLL_TIMEOUT).map_err(tailor_stream::StreamError::from)?;
        let vector_records = item_vectors.poll(POLL_BATCH, Duration::ZERO).map_err(tailor_stream::StreamError::from)?;
        let current = service.serving();
        let mut events = Vec::with_capacity(records.len() + vector_records.len());
        let mut dead_letters = Vec::new();
        for (topic, records) in [(&topics.items, &records), (&topics.item_vectors, &vector_records)] {
            let mut applied = 0;
            for record in records.iter() {
                match item_event(topics.wire.as_ref(), record, topic == &topics.item_vectors, &current.catalog) {
                    Ok(event) => {
                        applied += 1;
                        events.push(event);
                    }
                    Err(reason) => dead_letters.push(dead_letter(topic, record, reason)),
                }
            }
            let name = if topic == &topics.items { "items" } else { "item_vectors" };
            metrics::record_catalogue_events(name, applied, (records.len() as u64) - applied);
        }
        if !dead_letters.is_empty() {
            topics.log.append(&topics.dead_letters, dead_letters).map_err(tailor_stream::StreamError::from)?;
        }
        let mut added = Vec::new();
        let changed = service.change(|serving| {
            let applied = match live.apply(serving, std::mem::take(&mut events), now_ms())? {
                Some(applied) => applied,
                None => match live.sweep(serving, now_ms()) {
                    Some(swept) => tailor_engine::Applied { serving: swept, vectors: Vec::new() },
                    None => return Err(Unchanged::Nothing),
                },
            };
            added = applied.vectors;
            Ok(applied.serving)
        });
        match changed {
            Ok(()) | Err(Unchanged::Nothing) => {}
            Err(Unchanged::Failed(error)) => return Err(error.into()),
        }
        for (id, vector) in added {
            vectors.insert(id, vector).map_err(tailor_engine::EngineError::from)?;
        }
        let now = now_ms();
        for record in records.iter().chain(&vector_records).filter(|r| r.appended_at_ms >= started_ms) {
            metrics::record_catalogue_applied((now - record.appended_at_ms).max(0) as f64 / 1000.0);
        }
        let serving = service.serving();
        let (waiting, withdrawn) = live.counts();
        metrics::record_catalogue_items(serving.catalog.len(), withdrawn, waiting);
    }
    Ok(())
}

/// Why a change made no new snapshot.
enum Unchanged {
    Nothing,
    Failed(tailor_engine::EngineError),
}

impl From<tailor_engine::EngineError> for Unchanged {
    fn from(error: tailor_engine::EngineError) -> Self {
        Unchanged::Failed(error)
    }
}

/// The change a record makes, or why it cannot make one.
/// `catalog` is the current one: an item's photo it already holds is not read again.
fn item_event(
    wire: &dyn WireFormat,
    record: &Record,
    vectors_topic: bool,
    catalog: &ServingCatalog,
) -> Result<ItemEvent, String> {
    let key = std::str::from_utf8(&record.message.key).map_err(|_| "the message key is not UTF-8".to_owned())?;
    if record.message.payload.is_empty() && !vectors_topic {
        // A tombstone: the key's item is removed.
        return ItemId::new(key).map(ItemEvent::Removed).map_err(|e| format!("a tombstone under key {key:?}: {e}"));
    }
    let event = wire.decode(&record.message.payload).map_err(|e| e.to_string())?;
    let (id, item_event) = match event {
        Event::ItemUpsert(upsert) if !vectors_topic => {
            let checked = tailor_catalog::check_item(
                &upsert.item_id,
                upsert.title.clone(),
                upsert.description.clone(),
                upsert.image.clone(),
                upsert.raw_attributes(),
                catalog.item(&upsert.item_id).and_then(Item::image),
            )
            .map_err(|reason| format!("item {:?}: {reason}", upsert.item_id))?;
            let availability = upsert.availability.unwrap_or_default();
            let expires_at_ms = upsert.expires_at_ms;
            (upsert.item_id, ItemEvent::Upsert { item: Box::new(checked.item), availability, expires_at_ms })
        }
        Event::ItemRemoved(removed) if !vectors_topic => {
            let id = ItemId::new(removed.item_id.as_str()).map_err(|e| e.to_string())?;
            (removed.item_id, ItemEvent::Removed(id))
        }
        Event::ItemVector(vector) if vectors_topic => {
            let id = ItemId::new(vector.item_id.as_str()).map_err(|e| e.to_string())?;
            let embedding = Embedding::new(vector.vector, catalog.matrix().dim())
                .map_err(|e| format!("the vector of {:?}: {e}", vector.item_id))?;
            (vector.item_id, ItemEvent::Vector { id, vector: embedding })
        }
        other => return Err(format!("a {} event does not belong on this topic", event_name(&other))),
    };
    if id != key {
        return Err(format!("message key {key:?} is not the event's item {id:?}"));
    }
    Ok(item_event)
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Interaction(_) => "interaction",
        Event::ItemUpsert(_) => "item upsert",
        Event::ItemRemoved(_) => "item removal",
        Event::ItemVector(_) => "item vector",
        Event::ModelPublished(_) => "model announcement",
        Event::Retrain(_) => "retrain",
    }
}

fn dead_letter(topic: &str, record: &Record, reason: String) -> Message {
    let source = format!("{topic}/{}/{}", record.partition, record.offset);
    Message::new(record.message.key.clone(), record.message.payload.clone())
        .with_header(DEAD_LETTER_REASON, reason)
        .with_header(DEAD_LETTER_SOURCE, source)
}
