//! The engine's metrics, named once here with their labels.

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

use crate::SearchMethod;

/// Top-K searches by `method` (exact or approximate) and `matrix` (content or model).
pub const SEARCHES: &str = "tailor_searches_total";
/// Approximate searches that failed inside the graph and were answered exactly instead.
pub const SEARCH_FAILURES: &str = "tailor_search_failures_total";
/// Seconds the last approximate index build took, and the rows it holds, by `matrix`.
pub const INDEX_BUILD_SECONDS: &str = "tailor_index_build_seconds";
pub const INDEX_ROWS: &str = "tailor_index_rows";

/// Item events read while serving, by `topic` (items or item_vectors) and `outcome` (applied or
/// dead_lettered).
pub const CATALOGUE_EVENTS: &str = "tailor_catalogue_events_total";
/// From an item event's append to the log to the replica serving the change.
pub const CATALOGUE_APPLY: &str = "tailor_catalogue_append_to_apply_seconds";
/// Time to make the next snapshot from a batch of item events, by `kind`: rows (items added or
/// changed: catalogue and model rows rebuilt) or withdrawals (the rows shared, only what every
/// answer leaves out made anew).
pub const CATALOGUE_SNAPSHOT: &str = "tailor_catalogue_snapshot_seconds";
/// Items in the served catalogue by `state`: served, withdrawn, or waiting (a vector without its
/// item yet).
pub const CATALOGUE_ITEMS: &str = "tailor_catalogue_items";

pub fn describe() {
    describe_counter!(CATALOGUE_EVENTS, "Item events read while serving, by topic and outcome");
    describe_histogram!(CATALOGUE_APPLY, Unit::Seconds, "Time from an item event's append to its change serving");
    describe_gauge!(CATALOGUE_ITEMS, "Items in the served catalogue, by state");
    describe_histogram!(CATALOGUE_SNAPSHOT, Unit::Seconds, "Time to make a snapshot from item events, by kind");
    describe_counter!(SEARCHES, "Top-K searches by method and matrix");
    describe_counter!(SEARCH_FAILURES, "Approximate searches answered exactly after the graph failed");
    describe_gauge!(INDEX_BUILD_SECONDS, Unit::Seconds, "Time the last approximate index build took, by matrix");
    describe_gauge!(INDEX_ROWS, "Rows in the approximate index, by matrix");
}

pub(crate) fn record_index_built(matrix: &'static str, rows: usize, took: std::time::Duration) {
    gauge!(INDEX_BUILD_SECONDS, "matrix" => matrix).set(took.as_secs_f64());
    gauge!(INDEX_ROWS, "matrix" => matrix).set(rows as f64);
}

pub(crate) fn record_search(matrix: &'static str, method: SearchMethod) {
    counter!(SEARCHES, "matrix" => matrix, "method" => method.as_str()).increment(1);
}

pub(crate) fn record_search_failure() {
    counter!(SEARCH_FAILURES).increment(1);
}

pub fn record_catalogue_events(topic: &'static str, applied: u64, dead_lettered: u64) {
    for (outcome, count) in [("applied", applied), ("dead_lettered", dead_lettered)] {
        if count > 0 {
            counter!(CATALOGUE_EVENTS, "topic" => topic, "outcome" => outcome).increment(count);
        }
    }
}

pub fn record_catalogue_applied(seconds: f64) {
    histogram!(CATALOGUE_APPLY).record(seconds);
}

pub fn record_catalogue_items(served: usize, withdrawn: usize, waiting: usize) {
    for (state, count) in [("served", served.saturating_sub(withdrawn)), ("withdrawn", withdrawn), ("waiting", waiting)]
    {
        gauge!(CATALOGUE_ITEMS, "state" => state).set(count as f64);
    }
}

pub(crate) fn record_catalogue_snapshot(rows_changed: bool, took: std::time::Duration) {
    let kind = if rows_changed { "rows" } else { "withdrawals" };
    histogram!(CATALOGUE_SNAPSHOT, "kind" => kind).record(took.as_secs_f64());
}
