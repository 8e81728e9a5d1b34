//! The reference the streaming consumer must agree with: all events folded in one pass, with no
//! log, offsets or snapshots involved.

use std::collections::HashMap;

use tailor_core::{AggregateWeights, UserAggregate};
use tailor_events::Interaction;

use crate::{ItemVectors, StreamError, SubjectKey};

/// Folds `events` into one aggregate per visitor, dropping repeated event ids and events for
/// items without a vector, as the consumer does.
pub fn replay<'a>(
    events: impl IntoIterator<Item = &'a Interaction>,
    items: &ItemVectors,
    weights: &AggregateWeights,
) -> Result<HashMap<SubjectKey, UserAggregate>, StreamError> {
    let mut seen = std::collections::HashSet::new();
    let mut visitors = HashMap::new();
    for event in events {
        let Some(item) = items.get(&event.item_id) else { continue };
        if !seen.insert(event.event_id.as_str()) {
            continue;
        }
        let key = SubjectKey { kind: event.subject_kind, id: event.subject.as_str().into() };
        let aggregate = visitors.entry(key).or_insert_with(|| UserAggregate::new(items.dim()));
        aggregate.apply(weights, event.kind, event.value, event.timestamp_ms, item)?;
    }
    Ok(visitors)
}
