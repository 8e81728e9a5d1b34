//! Maximal marginal relevance (Carbonell & Goldstein): re-ranks candidates so each next pick is
//! relevant but unlike the ones already picked, trading relevance for variety by `diversity`.

use crate::vector::dot;
use crate::{ItemMatrix, Scored};

/// Picks `k` of `candidates` (best first, as `top_k` returns them): each pick maximises
/// `(1 - diversity) * score - diversity * (its highest similarity to a row already picked)`.
/// `diversity` 0 keeps the order; 1 ignores relevance after the first pick.
pub fn mmr(matrix: &ItemMatrix, candidates: &[Scored], k: usize, diversity: f32) -> Vec<Scored> {
    let diversity = diversity.clamp(0.0, 1.0);
    let mut remaining: Vec<Scored> = candidates.to_vec();
    // The highest similarity of each remaining candidate to the picks so far.
    let mut redundancy = vec![f32::NEG_INFINITY; remaining.len()];
    let mut picked = Vec::with_capacity(k.min(remaining.len()));
    while picked.len() < k && !remaining.is_empty() {
        let value = |i: usize| {
            let penalty = if picked.is_empty() { 0.0 } else { redundancy[i] };
            (1.0 - diversity) * remaining[i].score - diversity * penalty
        };
        let best =
            (0..remaining.len()).max_by(|&a, &b| value(a).total_cmp(&value(b)).then(b.cmp(&a))).expect("non-empty");
        let chosen = remaining.swap_remove(best);
        redundancy.swap_remove(best);
        for (candidate, worst) in remaining.iter().zip(redundancy.iter_mut()) {
            *worst = worst.max(dot(matrix.row(candidate.row), matrix.row(chosen.row)));
        }
        picked.push(chosen);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Attributes, Embedding, ItemId, ItemMatrixBuilder};

    fn matrix(rows: &[[f32; 2]]) -> ItemMatrix {
        let mut builder = ItemMatrixBuilder::new(2).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let id = ItemId::new(format!("i{i}")).unwrap();
            builder.push(id, &Attributes::default(), &Embedding::new(row.to_vec(), 2).unwrap()).unwrap();
        }
        builder.build()
    }

    #[test]
    fn no_diversity_keeps_the_order_and_full_diversity_spreads() {
        // Rows 0 and 1 are near duplicates; row 2 points elsewhere.
        let m = matrix(&[[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]]);
        let candidates = [Scored { row: 0, score: 0.9 }, Scored { row: 1, score: 0.89 }, Scored { row: 2, score: 0.5 }];
        let rows = |picked: Vec<Scored>| picked.iter().map(|s| s.row).collect::<Vec<_>>();
        assert_eq!(rows(mmr(&m, &candidates, 3, 0.0)), [0, 1, 2]);
        assert_eq!(rows(mmr(&m, &candidates, 2, 0.5)), [0, 2]);
        assert_eq!(rows(mmr(&m, &candidates, 5, 1.0)), [0, 2, 1]);
        assert!(mmr(&m, &[], 3, 0.5).is_empty());
    }
}
