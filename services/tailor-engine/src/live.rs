//! Catalogue changes while serving, apart from where they are read: item upserts (with stock and
//! expiry), removals and content vectors, folded into new [`Serving`] snapshots. An item serves
//! once both its upsert and a vector have arrived, in either order; stock, expiry and removal
//! only change which rows every answer leaves out, so they apply without rebuilding anything.

use std::collections::HashMap;

use tailor_core::{Embedding, Item, ItemId};
use tailor_events::Availability;

use crate::{EngineError, ItemChange, Serving, Withdrawal, metrics};

pub enum ItemEvent {
    /// Boxed: an item is ten times the size of the other events.
    Upsert {
        item: Box<Item>,
        availability: Availability,
        expires_at_ms: Option<i64>,
    },
    Removed(ItemId),
    Vector {
        id: ItemId,
        vector: Embedding,
    },
}

/// What the events of a batch changed.
pub struct Applied {
    pub serving: Serving,
    /// The vectors that now serve, for the streaming consumer's item lookup.
    pub vectors: Vec<(ItemId, Embedding)>,
}

#[derive(Default)]
pub struct LiveCatalogue {
    withdrawn: HashMap<ItemId, Withdrawal>,
    expiries: HashMap<ItemId, i64>,
    /// Vectors that arrived before their item's upsert.
    waiting_vectors: HashMap<ItemId, Embedding>,
}

impl LiveCatalogue {
    pub fn new() -> LiveCatalogue {
        LiveCatalogue::default()
    }

    /// Items waiting for their upsert, and items withdrawn now.
    pub fn counts(&self) -> (usize, usize) {
        (self.waiting_vectors.len(), self.withdrawn.len())
    }

    /// Folds `events`, in order, into a new snapshot of `serving`; `None` when nothing changed.
    pub fn apply(
        &mut self,
        serving: &Serving,
        events: Vec<ItemEvent>,
        now_ms: i64,
    ) -> Result<Option<Applied>, EngineError> {
        if events.is_empty() {
            return Ok(None);
        }
        let mut changes: Vec<ItemChange> = Vec::new();
        // The latest state of each item this batch upserts, for vectors later in the batch.
        let mut upserted: HashMap<ItemId, Item> = HashMap::new();
        let mut vectors = Vec::new();
        let withdrawn_before = self.withdrawn.clone();
        for event in events {
            match event {
                ItemEvent::Upsert { item, availability, expires_at_ms } => {
                    let id = item.id().clone();
                    let vector = self.waiting_vectors.remove(&id);
                    if let Some(vector) = &vector {
                        vectors.push((id.clone(), vector.clone()));
                    }
                    self.withdrawn.remove(&id);
                    self.expiries.remove(&id);
                    if availability == Availability::SoldOut {
                        self.withdrawn.insert(id.clone(), Withdrawal::SoldOut);
                    }
                    if let Some(at) = expires_at_ms {
                        self.expiries.insert(id.clone(), at);
                    }
                    let item = *item;
                    upserted.insert(id, item.clone());
                    // A change of stock or expiry alone leaves the rows as they are.
                    let unchanged = vector.is_none() && serving.catalog.item(item.id().as_str()) == Some(&item);
                    if !unchanged {
                        changes.push(ItemChange { item, vector });
                    }
                }
                ItemEvent::Removed(id) => {
                    self.expiries.remove(&id);
                    self.waiting_vectors.remove(&id);
                    self.withdrawn.insert(id, Withdrawal::Removed);
                }
                ItemEvent::Vector { id, vector } => {
                    let item = upserted.get(&id).cloned().or_else(|| serving.catalog.item(id.as_str()).cloned());
                    match item {
                        Some(item) => {
                            vectors.push((id, vector.clone()));
                            changes.push(ItemChange { item, vector: Some(vector) });
                        }
                        None => {
                            self.waiting_vectors.insert(id, vector);
                        }
                    }
                }
            }
        }
        self.expire(now_ms);
        if changes.is_empty() && self.withdrawn == withdrawn_before {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let rows_changed = !changes.is_empty();
        let withdrawn = self.withdrawn.clone();
        let serving =
            if rows_changed { serving.with_changes(changes, withdrawn)? } else { serving.with_withdrawn(withdrawn) };
        metrics::record_catalogue_snapshot(rows_changed, started.elapsed());
        Ok(Some(Applied { serving, vectors }))
    }

    /// Withdraws the items whose expiry has passed: a new snapshot when there are any.
    pub fn sweep(&mut self, serving: &Serving, now_ms: i64) -> Option<Serving> {
        self.expire(now_ms).then(|| serving.with_withdrawn(self.withdrawn.clone()))
    }

    fn expire(&mut self, now_ms: i64) -> bool {
        let expired: Vec<ItemId> =
            self.expiries.iter().filter(|(_, at)| **at <= now_ms).map(|(id, _)| id.clone()).collect();
        for id in &expired {
            self.expiries.remove(id);
            self.withdrawn.entry(id.clone()).or_insert(Withdrawal::Expired);
        }
        !expired.is_empty()
    }
}
