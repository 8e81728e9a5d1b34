//! Every visitor's state, held in a `DashMap` so the consumer writes while the ranking service
//! reads, and updated in O(d) per event. The map is bounded: idle visitors are dropped after a
//! while, and past a maximum count the least recently seen go first.

use std::collections::VecDeque;

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use tailor_core::{AggregateWeights, Embedding, UserAggregate};
use tailor_events::{Interaction, InteractionKind, SubjectKind};

use crate::StreamError;

/// At most this many of a visitor's event ids are remembered, whatever the window: a visitor
/// sending faster than this per window is deduplicated over its latest ones only.
const MAX_REMEMBERED_IDS: usize = 1024;
/// How many of a visitor's latest items are remembered, to leave them out of recommendations and
/// to explain them; cold-start visitors have a handful.
const RECENT_ITEMS: usize = 16;

/// A signed-in user and an anonymous session are different visitors even when their ids match.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubjectKey {
    pub kind: SubjectKind,
    pub id: Box<str>,
}

impl SubjectKey {
    pub fn user(id: &str) -> SubjectKey {
        SubjectKey { kind: SubjectKind::User, id: id.into() }
    }

    pub fn session(id: &str) -> SubjectKey {
        SubjectKey { kind: SubjectKind::Session, id: id.into() }
    }
}

/// How long visitors and their event ids are kept, and how many visitors at most.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateLimits {
    /// An event whose id the visitor sent within this much log time before is a resend, and
    /// counts once; a client resending after a lost answer does so well within it.
    pub dedup_window_ms: i64,
    /// A visitor with no event for this long is dropped, and leaves the next snapshot.
    pub idle_ttl_ms: i64,
    /// Past this many visitors, the least recently seen are dropped.
    pub max_visitors: usize,
    /// Interactions with an item not yet in the catalogue wait for it, this many at most; past
    /// that, or past `max_park_ms`, they are dead-lettered.
    pub max_parked: usize,
    pub max_park_ms: u64,
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits {
            dedup_window_ms: 10 * 60 * 1000,
            idle_ttl_ms: 30 * 24 * 3600 * 1000,
            max_visitors: 1_000_000,
            max_parked: 10_000,
            max_park_ms: 10 * 60 * 1000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitorState {
    aggregate: UserAggregate,
    /// The partition and offset of the last event applied.
    last_applied: (u32, u64),
    /// Hashes of the event ids seen within the dedup window, with the log time each was seen at,
    /// oldest first.
    recent_event_ids: VecDeque<(u64, i64)>,
    /// The log time of the latest event: what idle and least-recently-seen eviction go by.
    last_seen_ms: i64,
    /// The latest items interacted with, oldest first.
    recent_items: Vec<(Box<str>, InteractionKind)>,
}

impl VisitorState {
    pub fn aggregate(&self) -> &UserAggregate {
        &self.aggregate
    }

    /// The latest items the visitor interacted with and how, oldest first (at most 16).
    pub fn recent_items(&self) -> impl Iterator<Item = (&str, InteractionKind)> {
        self.recent_items.iter().map(|(id, kind)| (&**id, *kind))
    }

    pub fn last_applied(&self) -> (u32, u64) {
        self.last_applied
    }

    /// About how many bytes the state holds, for the memory gauge.
    pub fn approximate_bytes(&self, key: &SubjectKey) -> usize {
        let items: usize =
            self.recent_items.iter().map(|(id, _)| id.len() + size_of::<(Box<str>, InteractionKind)>()).sum();
        size_of::<(SubjectKey, VisitorState)>()
            + key.id.len()
            + self.aggregate.dim() * size_of::<f32>()
            + self.recent_event_ids.capacity() * size_of::<(u64, i64)>()
            + items
    }

    /// A state written by format 2 snapshots: the last 8 event ids in a ring, without times.
    pub(crate) fn from_version_2(
        aggregate: UserAggregate,
        last_applied: (u32, u64),
        ids: [u64; 8],
        recent_items: Vec<(Box<str>, InteractionKind)>,
        taken_at_ms: i64,
    ) -> VisitorState {
        let recent_event_ids = ids.into_iter().filter(|&id| id != 0).map(|id| (id, taken_at_ms)).collect();
        VisitorState { aggregate, last_applied, recent_event_ids, last_seen_ms: taken_at_ms, recent_items }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Already applied: a redelivery from at or before the visitor's last applied offset.
    Redelivered,
    /// The same event id arrived again at a new offset: a producer's retry.
    Resent,
}

/// Where and when an event was read, and whether it comes late (parked for its item).
struct Read {
    partition: u32,
    offset: u64,
    appended_at_ms: i64,
    late: bool,
}

pub struct VisitorStates {
    dim: usize,
    weights: AggregateWeights,
    limits: StateLimits,
    visitors: DashMap<SubjectKey, VisitorState>,
}

/// What one eviction pass removed, and what is left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evicted {
    pub idle: usize,
    pub over_limit: usize,
    pub visitors: usize,
    pub bytes: usize,
}

impl VisitorStates {
    pub fn new(dim: usize, weights: AggregateWeights) -> VisitorStates {
        VisitorStates::with_limits(dim, weights, StateLimits::default())
    }

    pub fn with_limits(dim: usize, weights: AggregateWeights, limits: StateLimits) -> VisitorStates {
        VisitorStates { dim, weights, limits, visitors: DashMap::new() }
    }

    pub fn limits(&self) -> StateLimits {
        self.limits
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.visitors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visitors.is_empty()
    }

    /// Folds one interaction, read at `partition`/`offset` and appended to the log at
    /// `appended_at_ms`, into its visitor's state, unless the state already holds it.
    pub fn apply(
        &self,
        partition: u32,
        offset: u64,
        appended_at_ms: i64,
        event: &Interaction,
        item: &Embedding,
    ) -> Result<Outcome, StreamError> {
        self.fold(Read { partition, offset, appended_at_ms, late: false }, event, item)
    }

    /// Folds an interaction that waited for its item while the visitor's later events were
    /// applied: its offset is behind theirs, so only its event id tells whether it is held.
    pub fn apply_late(
        &self,
        partition: u32,
        offset: u64,
        appended_at_ms: i64,
        event: &Interaction,
        item: &Embedding,
    ) -> Result<Outcome, StreamError> {
        self.fold(Read { partition, offset, appended_at_ms, late: true }, event, item)
    }

    fn fold(&self, read: Read, event: &Interaction, item: &Embedding) -> Result<Outcome, StreamError> {
        let Read { partition, offset, appended_at_ms, late } = read;
        let key = SubjectKey { kind: event.subject_kind, id: event.subject.as_str().into() };
        let event_hash = fnv1a(event.event_id.as_bytes());
        let mut entry = self.visitors.entry(key).or_insert_with(|| VisitorState {
            aggregate: UserAggregate::new(self.dim),
            last_applied: (partition, 0),
            recent_event_ids: VecDeque::new(),
            last_seen_ms: appended_at_ms,
            recent_items: Vec::new(),
        });
        let state = entry.value_mut();
        state.last_seen_ms = state.last_seen_ms.max(appended_at_ms);
        let window_start = state.last_seen_ms.saturating_sub(self.limits.dedup_window_ms);
        while state.recent_event_ids.front().is_some_and(|&(_, seen)| seen < window_start) {
            state.recent_event_ids.pop_front();
        }
        let (last_partition, last_offset) = state.last_applied;
        // Offsets of different partitions do not compare: a visitor moves partition only when a
        // topic gains partitions, and then the event-id window still catches re-sends.
        let behind = state.aggregate.interactions() > 0 && last_partition == partition && offset <= last_offset;
        if behind && !late {
            return Ok(Outcome::Redelivered);
        }
        let last_applied = if behind { state.last_applied } else { (partition, offset) };
        if state.recent_event_ids.iter().any(|&(id, _)| id == event_hash) {
            state.last_applied = last_applied;
            return Ok(Outcome::Resent);
        }
        state.aggregate.apply(&self.weights, event.kind, event.value, event.timestamp_ms, item)?;
        state.last_applied = last_applied;
        if state.recent_event_ids.len() == MAX_REMEMBERED_IDS {
            state.recent_event_ids.pop_front();
        }
        state.recent_event_ids.push_back((event_hash, appended_at_ms));
        if state.recent_items.len() == RECENT_ITEMS {
            // Views and clicks go first: the items a visitor chose say more, and ranking names
            // them as reasons and keeps their genders.
            let passing = |(_, kind): &(Box<str>, InteractionKind)| {
                matches!(kind, InteractionKind::View | InteractionKind::Click)
            };
            let oldest = state.recent_items.iter().position(passing).unwrap_or(0);
            state.recent_items.remove(oldest);
        }
        state.recent_items.push((event.item_id.as_str().into(), event.kind));
        Ok(Outcome::Applied)
    }

    /// The visitor's taste vector, or `None` for a visitor with no (or cancelling) interactions.
    pub fn vector(&self, key: &SubjectKey) -> Option<Embedding> {
        self.visitors.get(key)?.aggregate.vector()
    }

    pub fn get(&self, key: &SubjectKey) -> Option<VisitorState> {
        self.visitors.get(key).map(|state| state.clone())
    }

    /// Visits every state; writers are only blocked shard by shard.
    pub fn for_each(&self, mut visit: impl FnMut(&SubjectKey, &VisitorState)) {
        self.visitors.iter().for_each(|entry| visit(entry.key(), entry.value()));
    }

    /// Drops the visitors idle for longer than the limit at `now_ms`, then, past the maximum
    /// count, the least recently seen down to nine tenths of it (so eviction runs now and then,
    /// not on every new visitor), and measures what is left.
    pub fn evict(&self, now_ms: i64) -> Evicted {
        // Removals are counted as they happen: the consumer may add visitors meanwhile.
        let idle_before = now_ms.saturating_sub(self.limits.idle_ttl_ms);
        let mut idle = 0;
        self.visitors.retain(|_, state| {
            let active = state.last_seen_ms >= idle_before;
            idle += usize::from(!active);
            active
        });
        let mut over_limit = 0;
        if self.visitors.len() > self.limits.max_visitors {
            let keep = self.limits.max_visitors - self.limits.max_visitors / 10;
            let mut seen: Vec<i64> = self.visitors.iter().map(|entry| entry.value().last_seen_ms).collect();
            let drop = seen.len().saturating_sub(keep).max(1);
            let (older, &mut newest_dropped, _) = seen.select_nth_unstable(drop - 1);
            // Visitors seen in the same millisecond as the newest dropped are dropped only as
            // many as are needed.
            let mut ties_to_drop = drop - older.iter().filter(|&&at| at < newest_dropped).count();
            self.visitors.retain(|_, state| {
                let dropped = match state.last_seen_ms.cmp(&newest_dropped) {
                    std::cmp::Ordering::Less => true,
                    std::cmp::Ordering::Equal if ties_to_drop > 0 => {
                        ties_to_drop -= 1;
                        true
                    }
                    _ => false,
                };
                over_limit += usize::from(dropped);
                !dropped
            });
        }
        let mut bytes = 0;
        self.for_each(|key, state| bytes += state.approximate_bytes(key));
        Evicted { idle, over_limit, visitors: self.visitors.len(), bytes }
    }

    pub(crate) fn restore(&self, key: SubjectKey, state: VisitorState) -> Result<(), StreamError> {
        let found = state.aggregate.dim();
        if found != self.dim {
            return Err(tailor_core::CoreError::DimensionMismatch { expected: self.dim, found }.into());
        }
        self.visitors.insert(key, state);
        Ok(())
    }
}

/// 64-bit FNV-1a: stable across Rust releases, unlike `DefaultHasher`, because the hashes persist
/// in snapshots.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use tailor_events::EventSource;

    use super::*;

    fn like(event_id: &str, subject: &str) -> Interaction {
        Interaction {
            event_id: event_id.to_owned(),
            subject: subject.to_owned(),
            subject_kind: SubjectKind::Session,
            item_id: "item".to_owned(),
            kind: InteractionKind::Like,
            value: None,
            timestamp_ms: 1_000,
            source: EventSource::App,
        }
    }

    #[test]
    fn redeliveries_and_resends_change_nothing() {
        let states = VisitorStates::new(2, AggregateWeights::default());
        let item = Embedding::new(vec![1.0, 0.0], 2).unwrap();
        let key = SubjectKey::session("s1");
        assert_eq!(states.apply(0, 5, 0, &like("e1", "s1"), &item).unwrap(), Outcome::Applied);
        let once = states.get(&key).unwrap();
        assert_eq!(states.apply(0, 5, 0, &like("e1", "s1"), &item).unwrap(), Outcome::Redelivered);
        assert_eq!(states.apply(0, 3, 0, &like("e0", "s1"), &item).unwrap(), Outcome::Redelivered);
        assert_eq!(states.apply(0, 9, 0, &like("e1", "s1"), &item).unwrap(), Outcome::Resent);
        assert_eq!(states.get(&key).unwrap().aggregate(), once.aggregate());
        assert_eq!(states.apply(0, 10, 0, &like("e2", "s1"), &item).unwrap(), Outcome::Applied);
        let state = states.get(&key).unwrap();
        assert_eq!(state.aggregate().interactions(), 2);
        assert_eq!(state.recent_items().collect::<Vec<_>>(), [("item", InteractionKind::Like); 2]);
    }

    #[test]
    fn views_leave_the_recent_items_before_likes() {
        let states = VisitorStates::new(2, AggregateWeights::default());
        let item = Embedding::new(vec![1.0, 0.0], 2).unwrap();
        let event = |n: u64, kind: InteractionKind| Interaction {
            event_id: format!("e{n}"),
            item_id: format!("i{n}"),
            kind,
            ..like("", "s1")
        };
        for n in 0..3 {
            states.apply(0, n, 0, &event(n, InteractionKind::Like), &item).unwrap();
        }
        for n in 3..40 {
            states.apply(0, n, 0, &event(n, InteractionKind::View), &item).unwrap();
        }
        let state = states.get(&SubjectKey::session("s1")).unwrap();
        let recent: Vec<(&str, InteractionKind)> = state.recent_items().collect();
        assert_eq!(recent.len(), RECENT_ITEMS);
        assert_eq!(
            &recent[..3],
            [("i0", InteractionKind::Like), ("i1", InteractionKind::Like), ("i2", InteractionKind::Like)]
        );
        assert_eq!(recent[RECENT_ITEMS - 1], ("i39", InteractionKind::View), "the newest view is kept");
    }

    #[test]
    fn users_and_sessions_with_the_same_id_are_different_visitors() {
        let states = VisitorStates::new(2, AggregateWeights::default());
        let item = Embedding::new(vec![0.0, 1.0], 2).unwrap();
        states.apply(0, 0, 0, &like("e1", "x"), &item).unwrap();
        let mut as_user = like("e2", "x");
        as_user.subject_kind = SubjectKind::User;
        states.apply(0, 1, 0, &as_user, &item).unwrap();
        assert_eq!(states.len(), 2);
        assert!(states.vector(&SubjectKey::user("x")).is_some());
        assert!(states.vector(&SubjectKey::user("y")).is_none());
    }

    #[test]
    fn a_resend_within_the_window_counts_once_however_many_events_came_between() {
        let limits = StateLimits { dedup_window_ms: 600_000, ..StateLimits::default() };
        let states = VisitorStates::with_limits(2, AggregateWeights::default(), limits);
        let item = Embedding::new(vec![1.0, 0.0], 2).unwrap();
        assert_eq!(states.apply(0, 0, 0, &like("first", "s1"), &item).unwrap(), Outcome::Applied);
        // More events than the old per-visitor memory of 8 ids, then the first again.
        for n in 1..50 {
            states.apply(0, n, n as i64 * 1_000, &like(&format!("e{n}"), "s1"), &item).unwrap();
        }
        assert_eq!(states.apply(0, 50, 590_000, &like("first", "s1"), &item).unwrap(), Outcome::Resent);
        // Past the window the id is forgotten: the same id later is a new event.
        assert_eq!(states.apply(0, 51, 1_300_000, &like("first", "s1"), &item).unwrap(), Outcome::Applied);
    }

    #[test]
    fn idle_visitors_go_and_past_the_maximum_the_least_recently_seen_go_first() {
        let limits = StateLimits { idle_ttl_ms: 10_000, max_visitors: 100, ..StateLimits::default() };
        let states = VisitorStates::with_limits(2, AggregateWeights::default(), limits);
        let item = Embedding::new(vec![1.0, 0.0], 2).unwrap();
        for n in 0..150 {
            states.apply(0, n, 100_000 + n as i64, &like(&format!("e{n}"), &format!("s{n}")), &item).unwrap();
        }
        let evicted = states.evict(100_200);
        assert_eq!((evicted.idle, evicted.over_limit, evicted.visitors), (0, 60, 90));
        assert!(states.get(&SubjectKey::session("s59")).is_none() && states.get(&SubjectKey::session("s60")).is_some());
        assert!(evicted.bytes > 90 * 2 * size_of::<f32>(), "{evicted:?}");
        let evicted = states.evict(100_000 + 10_100);
        assert_eq!((evicted.idle, evicted.visitors), (40, 50), "seen before 100,100 is idle");
    }

    #[test]
    fn a_vector_of_the_wrong_dimension_is_an_error() {
        let states = VisitorStates::new(3, AggregateWeights::default());
        let item = Embedding::new(vec![0.0, 1.0], 2).unwrap();
        assert!(states.apply(0, 0, 0, &like("e1", "x"), &item).is_err());
    }
}
