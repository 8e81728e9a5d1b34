//! Training data from the event log: every user's interactions (deduplicated by event id, in
//! time order) over the items that have content vectors, and a split by hashing, so the same
//! users and items are held out by every run and by `tailor eval`.

use std::collections::{HashMap, HashSet};

use tailor_core::{AggregateWeights, Embedding, InteractionKind, ItemId, UserAggregate, check_timestamp};
use tailor_events::Interaction;

use crate::TrainerError;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UserEvent {
    pub item: u32,
    pub kind: InteractionKind,
    pub value: Option<f32>,
    pub at_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserHistory {
    pub subject: String,
    /// Oldest first.
    pub events: Vec<UserEvent>,
}

impl UserHistory {
    pub fn ratings(&self) -> impl Iterator<Item = &UserEvent> {
        self.events.iter().filter(|e| e.kind == InteractionKind::Rating)
    }
}

/// Ratings at or above this count as "liked" for ranking metrics and as what a visitor reveals.
pub const RELEVANT_RATING: f32 = tailor_core::POSITIVE_RATING;

/// What was read and what was left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetCounts {
    pub events: u64,
    pub ratings: u64,
    pub duplicates: u64,
    /// Events about items without a content vector (not embedded, or not in the catalogue).
    pub unknown_items: u64,
    /// Events whose time is no time at all (before 1970 or after 9999), which would break the
    /// decay of the visitor's other events. Decoding refuses them; this guards other sources.
    pub invalid_timestamps: u64,
}

/// The items (rows of the content matrix) and the users' histories over them.
pub struct Dataset {
    pub items: Vec<ItemId>,
    pub dim: usize,
    /// Unit content vectors, row-major [items, dim].
    pub content: Vec<f32>,
    pub users: Vec<UserHistory>,
    pub counts: DatasetCounts,
}

impl Dataset {
    /// `items` are the catalogue's content vectors, rows in the order given.
    pub fn new(
        items: Vec<(ItemId, Embedding)>,
        interactions: impl IntoIterator<Item = Interaction>,
    ) -> Result<Dataset, TrainerError> {
        let dim = items.first().map(|(_, v)| v.dim()).ok_or(TrainerError::NoItems)?;
        let row_of: HashMap<&str, u32> =
            items.iter().enumerate().map(|(row, (id, _))| (id.as_str(), row as u32)).collect();
        let mut counts = DatasetCounts::default();
        let mut seen = HashSet::new();
        let mut by_subject: HashMap<String, Vec<UserEvent>> = HashMap::new();
        for event in interactions {
            counts.events += 1;
            if !seen.insert(event.event_id.clone()) {
                counts.duplicates += 1;
                continue;
            }
            if check_timestamp(event.timestamp_ms).is_err() {
                counts.invalid_timestamps += 1;
                continue;
            }
            let Some(&item) = row_of.get(event.item_id.as_str()) else {
                counts.unknown_items += 1;
                continue;
            };
            counts.ratings += u64::from(event.kind == InteractionKind::Rating);
            by_subject.entry(event.subject).or_default().push(UserEvent {
                item,
                kind: event.kind,
                value: event.value,
                at_ms: event.timestamp_ms,
            });
        }
        let mut users: Vec<UserHistory> = by_subject
            .into_iter()
            .map(|(subject, mut events)| {
                events.sort_by_key(|e| e.at_ms);
                UserHistory { subject, events }
            })
            .collect();
        users.sort_by(|a, b| a.subject.cmp(&b.subject));
        let mut content = Vec::with_capacity(items.len() * dim);
        for (id, vector) in &items {
            if vector.dim() != dim {
                return Err(TrainerError::Data(format!("item {id} has dimension {}, the first {dim}", vector.dim())));
            }
            content.extend_from_slice(vector.as_slice());
        }
        Ok(Dataset { items: items.into_iter().map(|(id, _)| id).collect(), dim, content, users, counts })
    }

    pub fn content(&self, item: u32) -> &[f32] {
        let start = item as usize * self.dim;
        &self.content[start..start + self.dim]
    }

    /// The user-tower input for these events: the serving aggregate's direction, or zeros when
    /// there is none (no events, or they cancel out).
    pub fn user_input<'a>(
        &self,
        weights: &AggregateWeights,
        events: impl IntoIterator<Item = &'a UserEvent>,
        out: &mut Vec<f32>,
    ) -> Result<(), TrainerError> {
        let mut aggregate = UserAggregate::new(self.dim);
        for event in events {
            let vector = Embedding::from_unit(self.content(event.item).to_vec(), self.dim)?;
            aggregate.apply(weights, event.kind, event.value, event.at_ms, &vector)?;
        }
        match aggregate.vector() {
            Some(vector) => out.extend_from_slice(vector.as_slice()),
            None => out.resize(out.len() + self.dim, 0.0),
        }
        Ok(())
    }
}

fn bucket(salt: &str, key: &str) -> u32 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in salt.bytes().chain(key.bytes()) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    hash % 100
}

/// Who and what training never sees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    /// Percentage of users held out for evaluation as new visitors.
    pub test_users: u32,
    /// Percentage of training users whose ratings decide early stopping.
    pub validation_users: u32,
    /// Percentage of items held out as new items: no rating of theirs is trained on.
    pub new_items: u32,
}

impl Default for Split {
    fn default() -> Self {
        Split { test_users: 10, validation_users: 10, new_items: 5 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Train,
    Validation,
    Test,
}

impl Split {
    pub fn role(&self, subject: &str) -> Role {
        if bucket("test", subject) < self.test_users {
            Role::Test
        } else if bucket("validation", subject) < self.validation_users {
            Role::Validation
        } else {
            Role::Train
        }
    }

    pub fn is_new_item(&self, item: &ItemId) -> bool {
        bucket("item", item.as_str()) < self.new_items
    }
}

#[cfg(test)]
mod tests {
    use tailor_events::{EventSource, SubjectKind};

    use super::*;

    fn event(id: &str, subject: &str, item: &str, value: f32, at: i64) -> Interaction {
        Interaction {
            event_id: id.into(),
            subject: subject.into(),
            subject_kind: SubjectKind::User,
            item_id: item.into(),
            kind: InteractionKind::Rating,
            value: Some(value),
            timestamp_ms: at,
            source: EventSource::Persona,
        }
    }

    fn items() -> Vec<(ItemId, Embedding)> {
        ["a", "b"]
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let mut v = vec![0.0; 2];
                v[i] = 1.0;
                (ItemId::new(*id).unwrap(), Embedding::new(v, 2).unwrap())
            })
            .collect()
    }

    #[test]
    fn histories_are_deduplicated_ordered_and_limited_to_known_items() {
        let events = vec![
            event("1", "u", "b", 9.0, 20),
            event("2", "u", "a", 2.0, 10),
            event("2", "u", "a", 2.0, 10),
            event("3", "u", "zzz", 5.0, 30),
            // Once an overflow in the decay arithmetic that aborted training for good.
            event("4", "u", "a", 5.0, i64::MAX),
            event("5", "u", "b", 5.0, -1),
        ];
        let dataset = Dataset::new(items(), events).unwrap();
        let counts = &dataset.counts;
        assert_eq!((counts.events, counts.duplicates, counts.unknown_items, counts.ratings), (6, 1, 1, 2));
        assert_eq!(counts.invalid_timestamps, 2);
        let items: Vec<u32> = dataset.users[0].events.iter().map(|e| e.item).collect();
        assert_eq!(items, [0, 1]);
        let mut input = Vec::new();
        dataset.user_input(&AggregateWeights::default(), &dataset.users[0].events, &mut input).unwrap();
        assert!(input[1] > 0.0 && input[0] < 0.0, "the 9 pulls, the 2 pushes: {input:?}");
        dataset.user_input(&AggregateWeights::default(), &[], &mut input).unwrap();
        assert_eq!(&input[2..], &[0.0, 0.0]);
    }

    #[test]
    fn the_split_is_stable_and_near_its_percentages() {
        let split = Split::default();
        let roles: Vec<Role> = (0..10_000).map(|i| split.role(&format!("user-{i}"))).collect();
        let test = roles.iter().filter(|r| **r == Role::Test).count();
        assert!((800..1200).contains(&test), "{test}");
        assert_eq!(roles[17], split.role("user-17"));
    }
}
