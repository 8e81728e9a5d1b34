//! The engine's metrics, named once here with their labels.

use metrics::{Unit, counter, describe_counter, describe_gauge, gauge};

use crate::SearchMethod;

/// Top-K searches by `method` (exact or approximate) and `matrix` (content or model).
pub const SEARCHES: &str = "tailor_searches_total";
/// Approximate searches that failed inside the graph and were answered exactly instead.
pub const SEARCH_FAILURES: &str = "tailor_search_failures_total";
/// Seconds the last approximate index build took, and the rows it holds, by `matrix`.
pub const INDEX_BUILD_SECONDS: &str = "tailor_index_build_seconds";
pub const INDEX_ROWS: &str = "tailor_index_rows";

pub fn describe() {
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
