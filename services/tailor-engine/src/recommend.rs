//! Ranking. Candidates come from the content vectors (closeness to what the visitor picked) and,
//! with a model, from the item-tower matrix; each is scored by a blend of the two cosines and of
//! its agreement with the attribute values all the picks share, weighted by how much the visitor
//! has shown (the active model's [`Blend`], chosen when it was trained). Items of a gender the
//! visitor showed no interest in are left out, near-duplicates collapse to one, and each result
//! gets a reason that is true by a stated rule.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use tailor_core::vector::dot;
use tailor_core::{
    AggregateWeights, AttributeFilter, Embedding, FilterField, Gender, InteractionKind, ResolvedFilter, RowSet, Scored,
    UserAggregate, mmr,
};
use tailor_models::Blend;

use crate::{ActiveModel, EngineError, Rules, ServingCatalog, metrics};

/// How results are chosen among the candidates; `[serve.ranking]` in the configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    /// Added to the score of an item with a photo when a request prefers photos. Scores are
    /// cosines, and close candidates differ by hundredths: 0.1 puts a photo ahead of any
    /// photo-less item that is not clearly closer.
    pub photo_boost: f32,
    /// Two items whose content vectors have at least this cosine are one product shown twice.
    pub duplicate_cosine: f32,
    /// A result is "similar to" a pick only when it has the pick's article type, the pick is the
    /// nearest of the visitor's picks, and their content cosine is at least this. In the joint
    /// space `tailor embed` makes for Myntra, two random items have a cosine near 0 (90th
    /// percentile 0.15), two random items of one article type 0.1-0.2 (90th percentile 0.26-0.46),
    /// and an item's nearest among 100 of its type about 0.5-0.8.
    pub reason_min_cosine: f32,
    /// The weight of agreeing with the attribute values all the picks share, when no model (with
    /// its own blend) is active, and for similar items.
    pub attribute_weight: f32,
}

impl Default for RankingConfig {
    fn default() -> Self {
        RankingConfig { photo_boost: 0.25, duplicate_cosine: 0.98, reason_min_cosine: 0.4, attribute_weight: 1.0 }
    }
}

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
    /// Among the items most interacted with lately, on a first screen.
    Trending,
    /// Placed at its position by a business rule.
    Pinned,
    /// Close to the visitor's picks taken together, with no single pick of its kind close enough
    /// to name.
    Taste,
    /// Close to what the visitor typed, who picked nothing.
    Described,
    /// This pick of the visitor's is the nearest to the row, of the same article type and at
    /// least [`RankingConfig::reason_min_cosine`] close.
    SimilarTo(u32),
}

/// What a visitor has shown: items with how they interacted, oldest first.
pub struct Signals<'a> {
    pub items: Vec<(&'a str, InteractionKind)>,
}

/// One ranking request.
pub struct Request<'a> {
    /// The visitor's taste in the content space; `None` before they have shown any.
    pub taste: Option<&'a Embedding>,
    pub signals: &'a Signals<'a>,
    /// Whether a typed description is part of `taste`.
    pub described: bool,
    pub k: usize,
    pub filter: &'a AttributeFilter,
    /// From 0 (relevance alone) to 1: re-ranks a wider pool by maximal marginal relevance.
    pub diversity: f32,
    pub prefer_photos: bool,
    /// Items by how popular they are now, most first: the first screen of a visitor without
    /// picks opens with them.
    pub trending: &'a [(Box<str>, f64)],
    /// The shop's business rules for this request (the configured defaults merged with its own).
    pub rules: &'a Rules,
}

/// How many candidates per requested item each matrix contributes, and at least how many: enough
/// that duplicates, the photo preference and diversity still leave `k` good ones.
const CANDIDATES_PER_RESULT: usize = 8;
const MIN_CANDIDATES: usize = 160;
/// How many candidates per requested item MMR chooses from.
const DIVERSITY_POOL_FACTOR: usize = 5;

/// How much of a score comes from the model and from agreeing with the picks' shared attributes;
/// the rest is the content cosine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    pub model: f32,
    pub attributes: f32,
}

impl Weights {
    /// The active model's blend at `positives`; without a model, content with the configured
    /// attribute weight.
    pub fn of(model: Option<&ActiveModel>, ranking: &RankingConfig, positives: usize) -> Weights {
        match model {
            Some(model) => from_blend(&model.blend, positives),
            None => Weights { model: 0.0, attributes: ranking.attribute_weight },
        }
    }
}

fn from_blend(blend: &Blend, positives: usize) -> Weights {
    Weights { model: blend.model_weight(positives), attributes: blend.attribute_weight(positives) }
}

/// Top `k` for a request: with no taste yet, the onboarding spread; otherwise the candidates
/// ranked with the active model's blend (content alone without a model).
pub fn recommend(
    catalog: &ServingCatalog,
    model: Option<&ActiveModel>,
    ranking: &RankingConfig,
    request: &Request<'_>,
) -> Result<Vec<Recommendation>, EngineError> {
    match Pool::gather(catalog, model, request)? {
        Some(pool) => Ok(pool.rank(Weights::of(model, ranking, pool.positives()), ranking)),
        None => onboarding(catalog, request),
    }
}

fn onboarding(catalog: &ServingCatalog, request: &Request<'_>) -> Result<Vec<Recommendation>, EngineError> {
    let matrix = catalog.matrix();
    let resolved = resolve(catalog, request.filter)?;
    let mut exclude = catalog.withdrawn_rows();
    request.signals.items.iter().filter_map(|(id, _)| matrix.row_of(id)).for_each(|row| exclude.insert(row));
    request.rules.exclude_rows(catalog, &mut exclude);
    let shown = |row: &u32| !exclude.contains(*row) && matrix.passes(*row, &resolved);
    let trending = catalog.trending_rows(request.trending).into_iter().filter(shown);
    // Boosts reorder the first screen too; a wider stretch of it gives them room.
    let wanted = if request.rules.boosts.is_empty() { request.k } else { request.k * DIVERSITY_POOL_FACTOR };
    let mut chosen: Vec<Recommendation> =
        trending.take(wanted).map(|row| Recommendation { row, score: 0.0, reason: Reason::Trending }).collect();
    // The spread fills what trending leaves: a new shop, or a filter few trending items pass.
    let taken: HashSet<u32> = chosen.iter().map(|r| r.row).collect();
    let spread = catalog.onboarding().filter(|row| shown(row) && !taken.contains(row));
    let rest = wanted - chosen.len();
    chosen.extend(spread.take(rest).map(|row| Recommendation { row, score: 0.0, reason: Reason::Onboarding }));
    for recommendation in &mut chosen {
        recommendation.score = request.rules.boost(catalog, recommendation.row);
    }
    // Stable: equal boosts keep the trending and spread order.
    chosen.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut room = request.rules.capped(catalog);
    chosen.retain(|r| room(r.row));
    let shown_pin = |row: u32| !catalog.is_withdrawn(row) && matrix.passes(row, &resolved);
    request.rules.pin(catalog, shown_pin, &mut chosen, request.k, pinned);
    chosen.truncate(request.k);
    Ok(chosen)
}

fn pinned(row: u32) -> Recommendation {
    Recommendation { row, score: 0.0, reason: Reason::Pinned }
}

fn resolve(catalog: &ServingCatalog, filter: &AttributeFilter) -> Result<tailor_core::ResolvedFilter, EngineError> {
    catalog.matrix().resolve(filter).map_err(EngineError::bad_input("filter"))
}

/// A candidate with its cosine to the taste in the content space and to the user-tower query in
/// the model's space (0 without a model), and the share of the picks' common attribute values it
/// has.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    row: u32,
    content: f32,
    model: f32,
    agreement: f32,
}

/// The attributes whose values a visitor's picks may have in common.
const SHARED_FIELDS: [FilterField; 4] =
    [FilterField::ArticleType, FilterField::Colour, FilterField::Usage, FilterField::Gender];

/// The attribute values every one of `liked` has, as the matrix's codes.
fn shared_values(catalog: &ServingCatalog, liked: &[u32]) -> Vec<(FilterField, u32)> {
    let Some((&first, rest)) = liked.split_first() else { return Vec::new() };
    let matrix = catalog.matrix();
    SHARED_FIELDS
        .iter()
        .filter(|&&field| catalog.attribute(first, field).is_some())
        .map(|&field| (field, matrix.code(first, field)))
        .filter(|&(field, code)| rest.iter().all(|&row| matrix.code(row, field) == code))
        .collect()
}

/// The candidates for one request, scored in both spaces, before a blend orders them; with the
/// request's options.
pub struct Pool<'c> {
    catalog: &'c ServingCatalog,
    rules: Rules,
    /// The request's filter, which pinned items must pass too.
    resolved: ResolvedFilter,
    candidates: Vec<Candidate>,
    /// The rows of the visitor's positive items, and of every item they interacted with.
    liked: Vec<u32>,
    seen: Vec<u32>,
    described: bool,
    k: usize,
    diversity: f32,
    prefer_photos: bool,
}

impl<'c> Pool<'c> {
    /// The candidates for `request`; `None` when it carries no taste.
    pub fn gather(
        catalog: &'c ServingCatalog,
        model: Option<&ActiveModel>,
        request: &Request<'_>,
    ) -> Result<Option<Pool<'c>>, EngineError> {
        let Some(taste) = request.taste else { return Ok(None) };
        let content = catalog.matrix();
        let resolved = resolve(catalog, request.filter)?;
        let row_of = |(id, _): &(&str, InteractionKind)| content.row_of(id);
        let seen: Vec<u32> = request.signals.items.iter().filter_map(row_of).collect();
        // Signals carry no rating values: a rating pulls only through the taste's aggregate.
        let liked: Vec<u32> =
            request.signals.items.iter().filter(|(_, kind)| kind.is_positive(None)).filter_map(row_of).collect();
        let mut exclude = catalog.withdrawn_rows();
        seen.iter().for_each(|&row| exclude.insert(row));
        request.rules.exclude_rows(catalog, &mut exclude);
        let size = (request.k * CANDIDATES_PER_RESULT).max(MIN_CANDIDATES);
        let search = |exclude: &RowSet| {
            let searched = catalog.search().top_k(content, taste.as_slice(), size, exclude, &resolved);
            let (found, method) = searched.map_err(EngineError::bad_input("query"))?;
            metrics::record_search("content", method);
            Ok::<_, EngineError>(found)
        };
        // The gender rule is applied to what the search found: leaving half the catalogue out of
        // a graph walk makes it several times slower. Only when too few are left is the search
        // run again with those genders left out of the walk.
        let unwanted = unwanted_genders(catalog, &liked, request.filter);
        let wanted = |found: &Scored| !unwanted.contains(&content.code(found.row, FilterField::Gender));
        let mut found: Vec<Scored> = search(&exclude)?.into_iter().filter(wanted).collect();
        if found.len() < request.k * 2 && !unwanted.is_empty() {
            for &code in &unwanted {
                content.rows_with_code(FilterField::Gender, code).iter().for_each(|&row| exclude.insert(row));
            }
            found = search(&exclude)?;
        }
        let query = model.map(|model| model.query(taste).map(|query| (model, query))).transpose()?;
        let shared = shared_values(catalog, &liked);
        let agreement = |row: u32| {
            let agreeing = shared.iter().filter(|&&(field, code)| content.code(row, field) == code).count();
            agreeing as f32 / shared.len().max(1) as f32
        };
        // The content search's scores are the full-precision cosines to the taste; rows are
        // shared between the matrices.
        let model_cosine =
            |row: u32| query.as_ref().map_or(0.0, |(model, query)| dot(query.as_slice(), model.matrix.row(row)));
        let mut candidates: Vec<Candidate> = found
            .into_iter()
            .map(|Scored { row, score }| Candidate {
                row,
                content: score,
                model: model_cosine(row),
                agreement: agreement(row),
            })
            .collect();
        // The model's own candidates too: items its user tower ranks high that are not among the
        // taste's nearest (what shoppers who liked such picks went on to like). Its matrix is
        // 128-d, so this walk costs less than the content one; its scores are full-precision.
        if let Some((model, query)) = &query {
            let resolved = model.matrix.resolve(request.filter).map_err(EngineError::bad_input("filter"))?;
            let searched = model.search.top_k(&model.matrix, query.as_slice(), size, &exclude, &resolved);
            let (more, method) = searched.map_err(EngineError::bad_input("query"))?;
            metrics::record_search("model", method);
            let known: HashSet<u32> = candidates.iter().map(|c| c.row).collect();
            let new = more.into_iter().filter(|m| !known.contains(&m.row) && wanted(m));
            candidates.extend(new.map(|Scored { row, score }| Candidate {
                row,
                content: dot(taste.as_slice(), content.row(row)),
                model: score,
                agreement: agreement(row),
            }));
        }
        Ok(Some(Pool {
            catalog,
            rules: request.rules.clone(),
            resolved,
            candidates,
            liked,
            seen,
            described: request.described,
            k: request.k,
            diversity: request.diversity,
            prefer_photos: request.prefer_photos,
        }))
    }

    /// How many items the visitor has liked (added to the cart, bought): a typed description
    /// alone counts as none, and has the blend's first entry.
    pub fn positives(&self) -> usize {
        self.liked.len()
    }

    /// The top `k` the request asked for, each candidate scored with `weights`.
    pub fn rank(&self, weights: Weights, ranking: &RankingConfig) -> Vec<Recommendation> {
        let mut scored: Vec<Scored> = self
            .candidates
            .iter()
            .map(|c| {
                let mut score =
                    (1.0 - weights.model) * c.content + weights.model * c.model + weights.attributes * c.agreement;
                if self.prefer_photos && self.catalog.item_at(c.row).image().is_some() {
                    score += ranking.photo_boost;
                }
                score += self.rules.boost(self.catalog, c.row);
                Scored { row: c.row, score }
            })
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
        let diverse = self.diversity > 0.0;
        let wanted = if diverse { self.k * DIVERSITY_POOL_FACTOR } else { self.k };
        let mut chosen = self.distinct(scored, wanted, ranking);
        if diverse {
            chosen = mmr(self.catalog.matrix(), &chosen, self.k, self.diversity);
        }
        let mut ranked: Vec<Recommendation> = chosen
            .into_iter()
            .map(|s| Recommendation { row: s.row, score: s.score, reason: self.reason(s.row, ranking) })
            .collect();
        let matrix = self.catalog.matrix();
        let shown = |row: u32| !self.catalog.is_withdrawn(row) && matrix.passes(row, &self.resolved);
        self.rules.pin(self.catalog, shown, &mut ranked, self.k, pinned);
        ranked
    }

    /// The best `wanted` of `scored` (best first), leaving out each one that repeats a result
    /// kept before it or an item the visitor has seen: the same title and colour, or content
    /// vectors at least [`RankingConfig::duplicate_cosine`] alike.
    fn distinct(&self, scored: Vec<Scored>, wanted: usize, ranking: &RankingConfig) -> Vec<Scored> {
        let content = self.catalog.matrix();
        let mut kept_rows = self.seen.clone();
        let mut listings: HashSet<String> = self.seen.iter().filter_map(|&row| self.catalog.listing(row)).collect();
        let mut kept = Vec::with_capacity(wanted);
        let mut room = self.rules.capped(self.catalog);
        for candidate in scored {
            if kept.len() == wanted {
                break;
            }
            let listing = self.catalog.listing(candidate.row);
            if listing.as_ref().is_some_and(|l| listings.contains(l))
                || kept_rows
                    .iter()
                    .any(|&row| dot(content.row(row), content.row(candidate.row)) >= ranking.duplicate_cosine)
                || !room(candidate.row)
            {
                continue;
            }
            listings.extend(listing);
            kept_rows.push(candidate.row);
            kept.push(candidate);
        }
        kept
    }

    fn reason(&self, row: u32, ranking: &RankingConfig) -> Reason {
        let content = self.catalog.matrix();
        let nearest = self
            .liked
            .iter()
            .map(|&pick| (pick, dot(content.row(row), content.row(pick))))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match nearest {
            Some((pick, cosine))
                if cosine >= ranking.reason_min_cosine && self.catalog.same_article_type(row, pick) =>
            {
                Reason::SimilarTo(pick)
            }
            None if self.described => Reason::Described,
            _ => Reason::Taste,
        }
    }
}

/// The codes of the genders the visitor has shown no interest in: when the gendered items they
/// liked are all of some genders, the others (unisex items always stay). None when they liked
/// nothing gendered, or when the request filters by gender itself.
fn unwanted_genders(catalog: &ServingCatalog, liked: &[u32], filter: &AttributeFilter) -> Vec<u32> {
    if filter.constrains(FilterField::Gender) {
        return Vec::new();
    }
    let wanted: HashSet<Gender> = liked
        .iter()
        .filter_map(|&row| catalog.item_at(row).attributes().gender)
        .filter(|&gender| gender != Gender::Unisex)
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    Gender::ALL
        .iter()
        .filter(|&&gender| gender != Gender::Unisex && !wanted.contains(&gender))
        .filter_map(|gender| catalog.matrix().code_of(FilterField::Gender, gender.as_str()))
        .collect()
}

/// The taste vector of an anonymous visitor from the request alone: the same aggregate the
/// streaming consumer keeps, over liked and disliked items, with a typed description (already
/// embedded) counted as one more liked item. `None` when it is empty.
pub fn taste_from(
    catalog: &ServingCatalog,
    signals: &Signals<'_>,
    text: Option<&Embedding>,
    weights: &AggregateWeights,
) -> Result<Option<Embedding>, EngineError> {
    let matrix = catalog.matrix();
    let mut aggregate = UserAggregate::new(matrix.dim());
    for (id, kind) in &signals.items {
        let row = matrix.row_of(id).ok_or_else(|| EngineError::UnknownItem((*id).to_owned()))?;
        let vector = Embedding::from_unit(matrix.row(row).to_vec(), matrix.dim())
            .map_err(|e| EngineError::Internal(format!("the vector of item {id}: {e}")))?;
        aggregate.apply(weights, *kind, None, 0, &vector).map_err(EngineError::bad_input("liked"))?;
    }
    if let Some(text) = text {
        aggregate.apply(weights, InteractionKind::Like, None, 0, text).map_err(EngineError::bad_input("text"))?;
    }
    Ok(aggregate.vector())
}
