//! The ranking service's own ranking on the persona evaluation's new users: the blend of model,
//! content and the picks' shared attributes, scored on the same cases and with the same measures
//! as `crate::evaluate`, so the served ranking stands beside popularity and the model
//! alone. `tailor train` also asks it, on the validation users, whether a candidate blend keeps
//! the served ranking ahead of popularity.

use std::collections::HashSet;

use crate::{Dataset, EvalRow, Method, RELEVANT_RATING, Role, Slice, Split, TopTen, TrainerError, new_user_cases};
use tailor_core::{AggregateWeights, AttributeFilter, InteractionKind};
use tailor_engine::{
    ActiveModel, NO_RULES, Pool, RankingConfig, Request, ServingCatalog, Signals, Weights, recommend, taste_from,
};
use tailor_events::{EventSource, Interaction, SubjectKind};
use tailor_stream::{Trending, TrendingWeights};

/// Revealed liked items per case; the evaluation's seed and largest k, as `tailor train` uses them.
pub struct PersonaCheck<'a> {
    pub catalog: &'a ServingCatalog,
    pub model: &'a ActiveModel,
    pub ranking: RankingConfig,
    pub dataset: &'a Dataset,
    pub split: Split,
    pub max_k: usize,
    pub seed: u64,
}

/// One case's candidates, gathered once and ranked under any weights.
pub struct Case<'c> {
    pool: Pool<'c>,
    revealed: Vec<u32>,
    relevant: HashSet<u32>,
}

const TOP: usize = 10;

impl<'a> PersonaCheck<'a> {
    /// The cases of the users of `role` who reveal `k` liked items, with their candidates.
    pub fn cases(&self, role: Role, k: usize) -> Result<Vec<Case<'a>>, TrainerError> {
        let weights = AggregateWeights::default();
        let no_filter = AttributeFilter::default();
        let mut cases = Vec::new();
        for (revealed, relevant) in new_user_cases(self.dataset, &self.split, role, k, self.max_k, self.seed) {
            let ids: Vec<&str> = revealed.iter().map(|&row| self.dataset.items[row as usize].as_str()).collect();
            let signals = Signals { items: ids.iter().map(|id| (*id, InteractionKind::Like)).collect() };
            let taste = taste_from(self.catalog, &signals, None, &weights)?;
            let request = Request {
                taste: taste.as_ref(),
                signals: &signals,
                described: false,
                k: TOP,
                filter: &no_filter,
                diversity: 0.0,
                prefer_photos: false,
                trending: &[],
                rules: &NO_RULES,
            };
            // With nothing revealed the service shows its onboarding spread, which has no pool.
            if let Some(pool) = Pool::gather(self.catalog, Some(self.model), &request)? {
                cases.push(Case { pool, revealed, relevant });
            }
        }
        Ok(cases)
    }

    /// The served ranking of every case under `weights`, scored.
    pub fn score(&self, cases: &[Case<'_>], k: usize, weights: Weights) -> EvalRow {
        let mut row = EvalRow {
            slice: Slice::NewUsers,
            k,
            method: Method::Served,
            users: cases.len(),
            ndcg_at_10: 0.0,
            recall_at_10: 0.0,
            hit_rate_at_10: 0.0,
            coverage: 0.0,
        };
        let matrix = self.catalog.matrix();
        let mut shown = HashSet::new();
        for case in cases {
            let ranked: Vec<u32> = case
                .pool
                .rank(weights, &self.ranking)
                .iter()
                .filter_map(|r| self.dataset_row(matrix.id(r.row).as_str()))
                .collect();
            let scored = TopTen::of(&ranked, &case.relevant);
            row.ndcg_at_10 += scored.ndcg;
            row.recall_at_10 += scored.recall;
            row.hit_rate_at_10 += f64::from(scored.hit);
            shown.extend(ranked);
        }
        let users = cases.len().max(1) as f64;
        row.ndcg_at_10 /= users;
        row.recall_at_10 /= users;
        row.hit_rate_at_10 /= users;
        row.coverage = shown.len() as f64 / self.dataset.items.len().max(1) as f64;
        row
    }

    /// Popularity's NDCG@10 on the same cases, counting only training users' liked items, so
    /// validation users' own likes do not help it.
    pub fn popularity(&self, cases: &[Case<'_>]) -> f64 {
        let mut counts = vec![0f64; self.dataset.items.len()];
        for user in self.dataset.users.iter().filter(|u| self.split.role(&u.subject) == Role::Train) {
            for event in user.ratings().filter(|e| e.value.is_some_and(|v| v >= RELEVANT_RATING)) {
                counts[event.item as usize] += 1.0;
            }
        }
        let mut order: Vec<u32> = (0..counts.len() as u32).collect();
        order.sort_by(|&a, &b| counts[b as usize].total_cmp(&counts[a as usize]).then(a.cmp(&b)));
        let total: f64 = cases
            .iter()
            .map(|case| {
                let ranked: Vec<u32> =
                    order.iter().copied().filter(|row| !case.revealed.contains(row)).take(TOP).collect();
                TopTen::of(&ranked, &case.relevant).ndcg
            })
            .sum();
        total / cases.len().max(1) as f64
    }

    fn dataset_row(&self, id: &str) -> Option<u32> {
        self.dataset.items.binary_search_by(|item| item.as_str().cmp(id)).ok().map(|row| row as u32)
    }
}

impl PersonaCheck<'_> {
    /// The first screen of a visitor who revealed nothing, for the held-out users: trending
    /// items as the streaming consumer counts them from the training users' events (at the
    /// time of the latest), then the spread; and the spread alone, as served before.
    pub fn first_screens(&self) -> Result<[EvalRow; 2], TrainerError> {
        let trending = Trending::new(TrendingWeights::default());
        let mut latest = i64::MIN;
        for user in self.dataset.users.iter().filter(|u| self.split.role(&u.subject) == Role::Train) {
            for event in &user.events {
                let interaction = Interaction {
                    event_id: String::new(),
                    subject: user.subject.clone(),
                    subject_kind: SubjectKind::User,
                    item_id: self.dataset.items[event.item as usize].to_string(),
                    kind: event.kind,
                    value: event.value,
                    timestamp_ms: event.at_ms,
                    source: EventSource::Persona,
                };
                trending.record(&interaction, event.at_ms);
                latest = latest.max(event.at_ms);
            }
        }
        let cases = new_user_cases(self.dataset, &self.split, Role::Test, 0, self.max_k, self.seed);
        let screen = |ranked: &[(Box<str>, f64)], method| -> Result<EvalRow, TrainerError> {
            let signals = Signals { items: Vec::new() };
            let request = Request {
                taste: None,
                signals: &signals,
                described: false,
                k: TOP,
                filter: &AttributeFilter::default(),
                diversity: 0.0,
                prefer_photos: false,
                trending: ranked,
                rules: &NO_RULES,
            };
            let shown: Vec<u32> = recommend(self.catalog, None, &self.ranking, &request)?
                .iter()
                .filter_map(|r| self.dataset_row(self.catalog.matrix().id(r.row).as_str()))
                .collect();
            let mut row = EvalRow {
                slice: Slice::NewUsers,
                k: 0,
                method,
                users: cases.len(),
                ndcg_at_10: 0.0,
                recall_at_10: 0.0,
                hit_rate_at_10: 0.0,
                coverage: shown.len() as f64 / self.dataset.items.len().max(1) as f64,
            };
            for (_, relevant) in &cases {
                let scored = TopTen::of(&shown, relevant);
                row.ndcg_at_10 += scored.ndcg;
                row.recall_at_10 += scored.recall;
                row.hit_rate_at_10 += f64::from(scored.hit);
            }
            let users = cases.len().max(1) as f64;
            (row.ndcg_at_10, row.recall_at_10, row.hit_rate_at_10) =
                (row.ndcg_at_10 / users, row.recall_at_10 / users, row.hit_rate_at_10 / users);
            Ok(row)
        };
        Ok([screen(&trending.ranked(latest), Method::Served)?, screen(&[], Method::OnboardingSpread)?])
    }
}

/// The served ranking's rows for the held-out (test) users at each k of `ks`, with the active
/// blend (at k = 0 its first screen, beside the spread alone), placed after the other methods'
/// rows of the same k.
pub fn add_rows(check: &PersonaCheck<'_>, ks: &[usize], rows: &mut Vec<EvalRow>) -> Result<(), TrainerError> {
    if ks.contains(&0) {
        let after = rows.iter().rposition(|r| r.slice == Slice::NewUsers && r.k == 0).map_or(rows.len(), |i| i + 1);
        for (offset, row) in check.first_screens()?.into_iter().enumerate() {
            rows.insert(after + offset, row);
        }
    }
    for &k in ks.iter().filter(|&&k| k > 0) {
        let cases = check.cases(Role::Test, k)?;
        let served = check.score(&cases, k, Weights::of(Some(check.model), &check.ranking, k));
        let after = rows.iter().rposition(|r| r.slice == Slice::NewUsers && r.k == k).map_or(rows.len(), |i| i + 1);
        rows.insert(after, served);
    }
    Ok(())
}
