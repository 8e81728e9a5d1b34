//! The consumer's metrics, named once here with their labels.

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

use crate::{BatchSummary, Evicted, Outcome};

/// Events read, by `outcome`: applied, redelivered, resent, dead_lettered, parked (waiting for
/// their item; counted again as applied or dead_lettered when they leave). Its rate is the apply
/// rate.
pub const EVENTS: &str = "tailor_stream_events_total";
/// Events appended but not yet applied, by `partition`.
pub const LAG: &str = "tailor_stream_lag_events";
/// From an event's append to the log to its visitor's state being updated.
pub const APPEND_TO_APPLY: &str = "tailor_stream_append_to_apply_seconds";
pub const VISITORS: &str = "tailor_stream_visitors";
/// About how much memory the visitor states take, as of the latest eviction pass.
pub const VISITOR_BYTES: &str = "tailor_stream_visitor_bytes";
/// Visitors dropped, by `reason`: idle (past `stream.limits.idle_ttl_ms`) or over_limit (past
/// `stream.limits.max_visitors`, least recently seen first).
pub const VISITORS_EVICTED: &str = "tailor_stream_visitors_evicted_total";
pub const SNAPSHOT_DURATION: &str = "tailor_stream_snapshot_seconds";
/// Interactions waiting for their item to arrive (at most `stream.limits.max_parked`).
pub const PARKED: &str = "tailor_stream_parked_events";

pub fn describe() {
    describe_counter!(EVENTS, "Events read by the streaming consumer, by outcome");
    describe_gauge!(LAG, "Events appended to a partition and not yet applied");
    describe_histogram!(APPEND_TO_APPLY, Unit::Seconds, "Time from an event's append to its visitor's update");
    describe_gauge!(VISITORS, "Visitors held in memory");
    describe_gauge!(VISITOR_BYTES, Unit::Bytes, "Approximate memory of the visitor states");
    describe_counter!(VISITORS_EVICTED, "Visitors dropped from memory, by reason");
    describe_histogram!(SNAPSHOT_DURATION, Unit::Seconds, "Time to write a snapshot of the visitor states");
    describe_gauge!(PARKED, "Interactions waiting for their item to arrive");
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Applied => "applied",
        Outcome::Redelivered => "redelivered",
        Outcome::Resent => "resent",
    }
}

pub(crate) fn record_batch(summary: &BatchSummary, visitors: usize, parked: usize) {
    for (outcome, count) in [
        (outcome_label(Outcome::Applied), summary.applied),
        (outcome_label(Outcome::Redelivered), summary.redelivered),
        (outcome_label(Outcome::Resent), summary.resent),
        ("dead_lettered", summary.dead_lettered),
        ("parked", summary.parked),
    ] {
        if count > 0 {
            counter!(EVENTS, "outcome" => outcome).increment(count);
        }
    }
    gauge!(VISITORS).set(visitors as f64);
    gauge!(PARKED).set(parked as f64);
}

pub(crate) fn record_eviction(evicted: &Evicted) {
    for (reason, count) in [("idle", evicted.idle), ("over_limit", evicted.over_limit)] {
        if count > 0 {
            counter!(VISITORS_EVICTED, "reason" => reason).increment(count as u64);
        }
    }
    gauge!(VISITORS).set(evicted.visitors as f64);
    gauge!(VISITOR_BYTES).set(evicted.bytes as f64);
}

pub(crate) fn record_append_to_apply(seconds: f64) {
    histogram!(APPEND_TO_APPLY).record(seconds);
}

pub(crate) fn record_lag(partition: usize, lag: u64) {
    gauge!(LAG, "partition" => partition.to_string()).set(lag as f64);
}

pub(crate) fn record_snapshot(seconds: f64) {
    histogram!(SNAPSHOT_DURATION).record(seconds);
}
