//! Where the consumer finds an interaction's item: the vectors embedded before serving started,
//! and those of items added since, which the catalogue follower adds as they arrive.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use tailor_core::{CoreError, Embedding, ItemId};

use crate::ItemVectors;

pub struct LiveItemVectors {
    base: Arc<ItemVectors>,
    added: DashMap<ItemId, Embedding>,
    /// Counts additions, so that parked events are looked at again only when something arrived.
    generation: AtomicU64,
}

impl LiveItemVectors {
    pub fn new(base: Arc<ItemVectors>) -> LiveItemVectors {
        LiveItemVectors { base, added: DashMap::new(), generation: AtomicU64::new(0) }
    }

    pub fn dim(&self) -> usize {
        self.base.dim()
    }

    /// Adds or replaces the vector of an item added or changed while serving.
    pub fn insert(&self, id: ItemId, vector: Embedding) -> Result<(), CoreError> {
        if vector.dim() != self.dim() {
            return Err(CoreError::DimensionMismatch { expected: self.dim(), found: vector.dim() });
        }
        self.added.insert(id, vector);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Calls `use_vector` with the item's latest vector, when there is one.
    pub fn with_vector<R>(&self, id: &str, use_vector: impl FnOnce(&Embedding) -> R) -> Option<R> {
        match self.added.get(id) {
            Some(added) => Some(use_vector(added.value())),
            None => self.base.get(id).map(use_vector),
        }
    }
}
