//! Ranking: a query vector against the item matrix, top-K with exclusions and filters, and for
//! each result the visitor's liked item it is closest to, as the reason.

use tailor_core::vector::dot;
use tailor_core::{AggregateWeights, AttributeFilter, Embedding, InteractionKind, RowSet, UserAggregate, mmr};

use crate::{ActiveModel, ApiError, ServingCatalog, metrics};

/// One recommended item.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub row: u32,
    pub score: f32,
    pub reason: Reason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Part of the first screen for a visitor with no taste yet.
    Onboarding,
    /// Close to the visitor's taste, which no single liked item explains.
    Taste,
    /// Closest, among the visitor's liked items, to this row.
    SimilarTo(u32),
}

/// What a visitor has shown: items with how they interacted, oldest first.
pub struct Signals<'a> {
    pub items: Vec<(&'a str, InteractionKind)>,
}

impl Signals<'_> {
    fn positive(kind: InteractionKind) -> bool {
        match kind {
            InteractionKind::Like | InteractionKind::AddToCart | InteractionKind::Purchase => true,
            // A rating's sign depends on its value, which only the aggregate sees.
            InteractionKind::View | InteractionKind::Click | InteractionKind::Dislike | InteractionKind::Rating => {
                false
            }
        }
    }
}

/// How many candidates per requested item MMR chooses from.
const DIVERSITY_POOL_FACTOR: usize = 5;

/// Top `k` for a visitor's `taste` (a content-space vector), leaving out the visitor's items,
/// re-ranked for variety when `diversity` (0 to 1) is above 0; with no taste yet, the onboarding
/// set. With a model, the taste goes through the user tower and is ranked against the item-tower
/// matrix; without one, against the content vectors.
pub fn recommend(
    catalog: &ServingCatalog,
    model: Option<&ActiveModel>,
    taste: Option<&Embedding>,
    signals: &Signals<'_>,
    k: usize,
    filter: &AttributeFilter,
    diversity: f32,
) -> Result<Vec<Recommendation>, ApiError> {
    let content = catalog.matrix();
    let (matrix, search, name, query) = match (model, taste) {
        (Some(model), Some(taste)) => {
            let query =
                model.query(taste).map_err(|e| ApiError::InvalidParameter { name: "taste", reason: e.to_string() })?;
            (&model.matrix, &model.search, "model", Some(query))
        }
        (_, taste) => (content, catalog.search(), "content", taste.cloned()),
    };
    let query = query.as_ref();
    let resolved =
        matrix.resolve(filter).map_err(|e| ApiError::InvalidParameter { name: "filter", reason: e.to_string() })?;
    let seen: Vec<u32> = signals.items.iter().filter_map(|(id, _)| matrix.row_of(id)).collect();
    let mut exclude = RowSet::new(matrix.len());
    seen.iter().for_each(|&row| exclude.insert(row));
    let Some(query) = query else {
        let rows =
            catalog.onboarding().iter().copied().filter(|&row| !exclude.contains(row) && matrix.passes(row, &resolved));
        return Ok(rows.take(k).map(|row| Recommendation { row, score: 0.0, reason: Reason::Onboarding }).collect());
    };
    let liked: Vec<u32> = signals
        .items
        .iter()
        .filter(|(_, kind)| Signals::positive(*kind))
        .filter_map(|(id, _)| matrix.row_of(id))
        .collect();
    // With diversity, a wider pool is re-ranked by maximal marginal relevance.
    let pool = if diversity > 0.0 { (k * DIVERSITY_POOL_FACTOR).max(k) } else { k };
    let (mut scored, method) = search
        .top_k(matrix, query.as_slice(), pool, &exclude, &resolved)
        .map_err(|e| ApiError::InvalidParameter { name: "query", reason: e.to_string() })?;
    metrics::record_search(name, method);
    if diversity > 0.0 {
        scored = mmr(matrix, &scored, k, diversity);
    }
    Ok(scored
        .into_iter()
        .map(|s| {
            // Rows are shared between the matrices; closeness is judged on content.
            let closest = liked.iter().copied().max_by(|&a, &b| {
                let (sa, sb) = (dot(content.row(s.row), content.row(a)), dot(content.row(s.row), content.row(b)));
                sa.total_cmp(&sb)
            });
            Recommendation { row: s.row, score: s.score, reason: closest.map_or(Reason::Taste, Reason::SimilarTo) }
        })
        .collect())
}

/// The taste vector of an anonymous visitor from the request alone: the same aggregate the
/// streaming consumer keeps, over liked and disliked items. `None` when it is empty.
pub fn taste_from(
    catalog: &ServingCatalog,
    signals: &Signals<'_>,
    weights: &AggregateWeights,
) -> Result<Option<Embedding>, ApiError> {
    taste_with_text(catalog, signals, None, weights)
}

/// As [`taste_from`], with a typed description counted as one more liked item.
pub fn taste_with_text(
    catalog: &ServingCatalog,
    signals: &Signals<'_>,
    text: Option<&Embedding>,
    weights: &AggregateWeights,
) -> Result<Option<Embedding>, ApiError> {
    let matrix = catalog.matrix();
    let mut aggregate = UserAggregate::new(matrix.dim());
    for (id, kind) in &signals.items {
        let row = matrix.row_of(id).ok_or_else(|| ApiError::UnknownItem((*id).to_owned()))?;
        let vector = Embedding::from_unit(matrix.row(row).to_vec(), matrix.dim())
            .map_err(|e| ApiError::Unreadable(format!("the vector of item {id}: {e}")))?;
        aggregate
            .apply(weights, *kind, None, 0, &vector)
            .map_err(|e| ApiError::InvalidParameter { name: "liked", reason: e.to_string() })?;
    }
    if let Some(text) = text {
        aggregate
            .apply(weights, InteractionKind::Like, None, 0, text)
            .map_err(|e| ApiError::InvalidParameter { name: "text", reason: e.to_string() })?;
    }
    Ok(aggregate.vector())
}
