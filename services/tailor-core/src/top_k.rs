use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::vector::dot;
use crate::{CoreError, ItemMatrix, ResolvedFilter, RowSet};

/// A matrix row and its score against the query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub row: u32,
    pub score: f32,
}

impl Eq for Scored {}

impl Ord for Scored {
    /// Higher scores rank first; equal scores rank the lower row first, so results are
    /// deterministic.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score.total_cmp(&other.score).then_with(|| other.row.cmp(&self.row))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How many rows ahead a filtered scan asks for: enough to cover memory latency.
const PREFETCH_AHEAD: usize = 8;

/// Exact top-`k` rows by dot product with `query`, best first, skipping excluded rows and rows
/// that fail the filter. With normalised rows and query the score is the cosine similarity.
pub fn top_k(
    matrix: &ItemMatrix,
    query: &[f32],
    k: usize,
    exclude: &RowSet,
    filter: &ResolvedFilter,
) -> Result<Vec<Scored>, CoreError> {
    matrix.check_query(query)?;
    if k == 0 {
        return Ok(Vec::new());
    }
    // Only rows holding the filter's rarest value can pass it; monomorphised for both cases so
    // the unfiltered scan stays a plain counted loop.
    let best = match matrix.rarest(filter) {
        Some(rows) => {
            let prefetching = rows.iter().enumerate().map(|(i, &row)| {
                if let Some(&ahead) = rows.get(i + PREFETCH_AHEAD) {
                    matrix.prefetch(ahead);
                }
                row
            });
            best_of(matrix, query, k, exclude, filter, prefetching)
        }
        None => best_of(matrix, query, k, exclude, filter, 0..matrix.len() as u32),
    };
    // Ascending order of `Reverse` is best first.
    Ok(best.into_sorted_vec().into_iter().map(|Reverse(s)| s).collect())
}

/// A min-heap of the best `k` of `rows`: its top is the candidate to beat.
fn best_of(
    matrix: &ItemMatrix,
    query: &[f32],
    k: usize,
    exclude: &RowSet,
    filter: &ResolvedFilter,
    rows: impl Iterator<Item = u32>,
) -> BinaryHeap<Reverse<Scored>> {
    let mut best = BinaryHeap::with_capacity(k + 1);
    for row in rows {
        if exclude.contains(row) || !filter.matches(matrix.row_codes(row)) {
            continue;
        }
        let candidate = Scored { row, score: dot(query, matrix.row(row)) };
        if best.len() < k {
            best.push(Reverse(candidate));
        } else if best.peek().is_some_and(|Reverse(worst)| candidate > *worst) {
            best.pop();
            best.push(Reverse(candidate));
        }
    }
    best
}
