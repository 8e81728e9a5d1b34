//! Every visitor's state, held in a `DashMap` so the consumer writes while the ranking service
//! reads, and updated in O(d) per event.

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use tailor_core::{AggregateWeights, Embedding, UserAggregate};
use tailor_events::{Interaction, InteractionKind, SubjectKind};

use crate::StreamError;

/// How many of a visitor's latest event ids are remembered to drop re-sent events; producer
/// retries re-send within seconds, so a short window per visitor suffices.
const RECENT_EVENT_IDS: usize = 8;
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitorState {
    aggregate: UserAggregate,
    /// The partition and offset of the last event applied.
    last_applied: (u32, u64),
    /// Hashes of the latest event ids, a ring.
    recent_event_ids: [u64; RECENT_EVENT_IDS],
    next_slot: u8,
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Already applied: a redelivery from at or before the visitor's last applied offset.
    Redelivered,
    /// The same event id arrived again at a new offset: a producer's retry.
    Resent,
}

pub struct VisitorStates {
    dim: usize,
    weights: AggregateWeights,
    visitors: DashMap<SubjectKey, VisitorState>,
}

impl VisitorStates {
    pub fn new(dim: usize, weights: AggregateWeights) -> VisitorStates {
        VisitorStates { dim, weights, visitors: DashMap::new() }
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

    /// Folds one interaction, read at `partition`/`offset`, into its visitor's state, unless the
    /// state already holds it.
    pub fn apply(
        &self,
        partition: u32,
        offset: u64,
        event: &Interaction,
        item: &Embedding,
    ) -> Result<Outcome, StreamError> {
        let key = SubjectKey { kind: event.subject_kind, id: event.subject.as_str().into() };
        let event_hash = fnv1a(event.event_id.as_bytes());
        let mut entry = self.visitors.entry(key).or_insert_with(|| VisitorState {
            aggregate: UserAggregate::new(self.dim),
            last_applied: (partition, 0),
            recent_event_ids: [0; RECENT_EVENT_IDS],
            next_slot: 0,
            recent_items: Vec::new(),
        });
        let state = entry.value_mut();
        let (last_partition, last_offset) = state.last_applied;
        // Offsets of different partitions do not compare: a visitor moves partition only when a
        // topic gains partitions, and then the event-id window still catches re-sends.
        if state.aggregate.interactions() > 0 && last_partition == partition && offset <= last_offset {
            return Ok(Outcome::Redelivered);
        }
        if state.recent_event_ids.contains(&event_hash) {
            state.last_applied = (partition, offset);
            return Ok(Outcome::Resent);
        }
        state.aggregate.apply(&self.weights, event.kind, event.value, event.timestamp_ms, item)?;
        state.last_applied = (partition, offset);
        state.recent_event_ids[state.next_slot as usize] = event_hash;
        state.next_slot = ((state.next_slot as usize + 1) % RECENT_EVENT_IDS) as u8;
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
fn fnv1a(bytes: &[u8]) -> u64 {
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
        assert_eq!(states.apply(0, 5, &like("e1", "s1"), &item).unwrap(), Outcome::Applied);
        let once = states.get(&key).unwrap();
        assert_eq!(states.apply(0, 5, &like("e1", "s1"), &item).unwrap(), Outcome::Redelivered);
        assert_eq!(states.apply(0, 3, &like("e0", "s1"), &item).unwrap(), Outcome::Redelivered);
        assert_eq!(states.apply(0, 9, &like("e1", "s1"), &item).unwrap(), Outcome::Resent);
        assert_eq!(states.get(&key).unwrap().aggregate(), once.aggregate());
        assert_eq!(states.apply(0, 10, &like("e2", "s1"), &item).unwrap(), Outcome::Applied);
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
            states.apply(0, n, &event(n, InteractionKind::Like), &item).unwrap();
        }
        for n in 3..40 {
            states.apply(0, n, &event(n, InteractionKind::View), &item).unwrap();
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
        states.apply(0, 0, &like("e1", "x"), &item).unwrap();
        let mut as_user = like("e2", "x");
        as_user.subject_kind = SubjectKind::User;
        states.apply(0, 1, &as_user, &item).unwrap();
        assert_eq!(states.len(), 2);
        assert!(states.vector(&SubjectKey::user("x")).is_some());
        assert!(states.vector(&SubjectKey::user("y")).is_none());
    }

    #[test]
    fn a_vector_of_the_wrong_dimension_is_an_error() {
        let states = VisitorStates::new(3, AggregateWeights::default());
        let item = Embedding::new(vec![0.0, 1.0], 2).unwrap();
        assert!(states.apply(0, 0, &like("e1", "x"), &item).is_err());
    }
}
