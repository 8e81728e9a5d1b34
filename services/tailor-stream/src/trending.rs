//! What is popular now: a decayed, weighted count of interactions per item, kept by the consumer
//! as events arrive, for the first screen of a visitor who picked nothing yet.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use tailor_events::{Interaction, InteractionKind};

use crate::StreamError;

/// How each kind of interaction counts, and how fast counts fade.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendingWeights {
    pub view: f64,
    pub click: f64,
    pub like: f64,
    pub add_to_cart: f64,
    pub purchase: f64,
    /// A rating of 7 or more counts as this; a lower one as nothing.
    pub good_rating: f64,
    /// A count halves over this much log time.
    pub half_life_ms: u64,
}

impl Default for TrendingWeights {
    fn default() -> Self {
        TrendingWeights {
            view: 1.0,
            click: 2.0,
            like: 3.0,
            add_to_cart: 5.0,
            purchase: 8.0,
            good_rating: 3.0,
            half_life_ms: 7 * 24 * 3600 * 1000,
        }
    }
}

impl TrendingWeights {
    fn of(&self, event: &Interaction) -> f64 {
        match event.kind {
            InteractionKind::View => self.view,
            InteractionKind::Click => self.click,
            InteractionKind::Like => self.like,
            InteractionKind::AddToCart => self.add_to_cart,
            InteractionKind::Purchase => self.purchase,
            InteractionKind::Rating if event.kind.is_positive(event.value) => self.good_rating,
            InteractionKind::Rating | InteractionKind::Dislike => 0.0,
        }
    }
}

#[derive(Clone, Copy, Serialize, Deserialize)]
struct Count {
    value: f64,
    at_ms: i64,
}

/// The ranked list is recomputed at most this often: a first screen a second old is fresh enough.
const RANKING_MAX_AGE: Duration = Duration::from_secs(1);
/// The ranked list holds this many items, enough for any filter of a first screen.
const RANKED: usize = 2_000;

/// Item ids by their count, highest first.
pub type Ranked = Arc<Vec<(Box<str>, f64)>>;

pub struct Trending {
    weights: TrendingWeights,
    counts: DashMap<Box<str>, Count>,
    /// The latest ranking and when it was made.
    ranked: Mutex<(Option<Instant>, Ranked)>,
    /// Held by the one caller ranking again; the others take the latest ranking meanwhile, so a
    /// request never waits for one.
    ranking: Mutex<()>,
}

impl Trending {
    pub fn new(weights: TrendingWeights) -> Trending {
        Trending { weights, counts: DashMap::new(), ranked: Mutex::default(), ranking: Mutex::new(()) }
    }

    /// Counts an event appended to the log at `at_ms`.
    pub fn record(&self, event: &Interaction, at_ms: i64) {
        let weight = self.weights.of(event);
        if weight == 0.0 {
            return;
        }
        let mut count = self.counts.entry(event.item_id.as_str().into()).or_insert(Count { value: 0.0, at_ms });
        let latest = count.at_ms.max(at_ms);
        count.value = self.decayed(count.value, latest - count.at_ms) + self.decayed(weight, latest - at_ms);
        count.at_ms = latest;
    }

    fn decayed(&self, value: f64, elapsed_ms: i64) -> f64 {
        value * 0.5f64.powf(elapsed_ms.max(0) as f64 / self.weights.half_life_ms.max(1) as f64)
    }

    /// Items by their count as of `now_ms`, highest first (at most 2,000), recomputed when the
    /// last ranking is over a second old, by one caller while the others take the last one.
    pub fn ranked(&self, now_ms: i64) -> Ranked {
        let (at, last) = {
            let latest = self.latest();
            (latest.0, latest.1.clone())
        };
        if at.is_some_and(|at| at.elapsed() < RANKING_MAX_AGE) {
            return last;
        }
        let Ok(_ranking) = self.ranking.try_lock() else { return last };
        let mut all: Vec<(Box<str>, f64)> =
            self.counts.iter().map(|c| (c.key().clone(), self.decayed(c.value, now_ms - c.at_ms))).collect();
        let by_count = |a: &(Box<str>, f64), b: &(Box<str>, f64)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0));
        if all.len() > RANKED {
            all.select_nth_unstable_by(RANKED, by_count);
            all.truncate(RANKED);
        }
        all.sort_unstable_by(by_count);
        let all = Arc::new(all);
        *self.latest() = (Some(Instant::now()), all.clone());
        all
    }

    /// The latest ranking and when it was made, locked.
    fn latest(&self) -> MutexGuard<'_, (Option<Instant>, Ranked)> {
        self.ranked.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The counts saved at `path` beside the visitors' snapshot, when there are any: a restart
    /// resumes them rather than starting the first screen from nothing.
    pub fn load(path: &Path, weights: TrendingWeights) -> Result<Trending, StreamError> {
        let trending = Trending::new(weights);
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(trending),
            Err(e) => return Err(StreamError::io(format!("reading {}", path.display()))(e)),
        };
        let counts: HashMap<Box<str>, Count> = postcard::from_bytes(&bytes)
            .map_err(|e| StreamError::Snapshot { path: path.to_path_buf(), reason: format!("trending counts: {e}") })?;
        for (id, count) in counts {
            trending.counts.insert(id, count);
        }
        Ok(trending)
    }

    /// Writes the counts to `path` (through a temporary file, so a crash leaves the old ones).
    pub fn save(&self, path: &Path) -> Result<(), StreamError> {
        let counts: HashMap<Box<str>, Count> = self.counts.iter().map(|c| (c.key().clone(), *c.value())).collect();
        let bytes = postcard::to_allocvec(&counts).expect("counts always encode");
        let temporary = tailor_core::temporary_beside(path);
        std::fs::write(&temporary, bytes).map_err(StreamError::io(format!("writing {}", temporary.display())))?;
        std::fs::rename(&temporary, path).map_err(StreamError::io(format!("replacing {}", path.display())))
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use tailor_events::{EventSource, SubjectKind};

    use super::*;

    fn event(item: &str, kind: InteractionKind) -> Interaction {
        Interaction {
            event_id: "e".into(),
            subject: "s".into(),
            subject_kind: SubjectKind::Session,
            item_id: item.into(),
            kind,
            value: None,
            timestamp_ms: 0,
            source: EventSource::App,
        }
    }

    #[test]
    fn purchases_outweigh_views_and_old_counts_fade() {
        let hour: i64 = 3600 * 1000;
        let weights = TrendingWeights { half_life_ms: hour as u64, ..TrendingWeights::default() };
        let trending = Trending::new(weights);
        for _ in 0..5 {
            trending.record(&event("viewed", InteractionKind::View), 0);
        }
        trending.record(&event("bought", InteractionKind::Purchase), 0);
        trending.record(&event("disliked", InteractionKind::Dislike), 0);
        let ranked = trending.ranked(0);
        let names: Vec<&str> = ranked.iter().map(|(id, _)| &**id).collect();
        assert_eq!(names, ["bought", "viewed"], "a dislike counts for nothing");
        // Two hours on, one view beats five views then: each halved twice.
        let later = Trending::new(weights);
        for _ in 0..5 {
            later.record(&event("old", InteractionKind::View), 0);
        }
        later.record(&event("new", InteractionKind::Click), 2 * hour);
        later.record(&event("new", InteractionKind::Click), 2 * hour);
        let ranked = later.ranked(2 * hour);
        assert_eq!(&*ranked[0].0, "new");
        assert!((ranked[1].1 - 1.25).abs() < 1e-9, "5 views halved twice: {}", ranked[1].1);
        // An event older than the count's latest counts as if in order: as of two hours, the five
        // views (halved twice) and one view an hour old (halved once).
        later.record(&event("old", InteractionKind::View), hour);
        let old = *later.counts.get("old").unwrap();
        assert!((later.decayed(old.value, 2 * hour - old.at_ms) - (1.25 + 0.5)).abs() < 1e-9);
    }
}
