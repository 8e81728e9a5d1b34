//! When a retrain is due: no model yet, the active one older than `every_ms`, or `after_events`
//! new interactions past its data window.

use serde::{Deserialize, Serialize};

use crate::{ModelError, ModelStore};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrainSchedule {
    pub every_ms: Option<u64>,
    pub after_events: Option<u64>,
}

impl std::fmt::Display for RetrainSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.every_ms, self.after_events) {
            (None, None) => write!(f, "no schedule"),
            (Some(every), None) => write!(f, "every {every} ms"),
            (None, Some(after)) => write!(f, "after {after} new events"),
            (Some(every), Some(after)) => write!(f, "every {every} ms or after {after} new events"),
        }
    }
}

impl RetrainSchedule {
    pub fn is_set(&self) -> bool {
        self.every_ms.is_some() || self.after_events.is_some()
    }

    /// `ends`: the interactions topic's end offsets now, one per partition.
    pub fn due(&self, store: &ModelStore, ends: &[u64], now_ms: i64) -> Result<bool, ModelError> {
        let Some(version) = store.active()? else { return Ok(true) };
        let manifest = store.manifest(version)?;
        let age = now_ms - manifest.created_at_ms;
        let trained_to = &manifest.data.end_offsets;
        let new_events: u64 = ends
            .iter()
            .enumerate()
            .map(|(p, end)| end.saturating_sub(*trained_to.get(&(p as u32)).unwrap_or(&0)))
            .sum();
        Ok(self.every_ms.is_some_and(|every| age >= every as i64)
            || self.after_events.is_some_and(|after| new_events >= after))
    }
}
