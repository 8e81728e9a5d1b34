//! Pick consistency: does what the service ranks follow what the visitor picked? Judged on the
//! catalogue's own attributes, which no synthetic shopper wrote. A seed is 1, 3 or 5 items drawn
//! from one cell of an attribute group (for example article type and colour: "black t-shirts");
//! a result is relevant when it shares the cell's values. Every ranking path the service runs is
//! scored (anonymous picks, a live session, the app's session with photos preferred, free text,
//! similar items) beside the content baseline (the mean of the picks' content vectors), item
//! popularity and the model alone. Cells are split by a hash into a validation half, on which
//! the blend of model and content is chosen, and a test half, on which it is reported.

use std::collections::{BTreeMap, HashSet};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tailor_core::{AggregateWeights, Embedding, FilterField, InteractionKind, ResolvedFilter, RowSet, top_k};
use tailor_events::{EventSource, Interaction, SubjectKind};
use tailor_models::Blend;
use tailor_stream::{SubjectKey, VisitorStates};

use crate::recommend::{Pool, Reason, Recommendation, Request, Signals, Weights, recommend, taste_from};
use tailor_core::TextQuery;

use crate::{ActiveModel, EngineError, NO_RULES, RankingConfig, ServingCatalog};

/// The attribute groups a seed's picks share, and a result must share to be relevant.
pub const GROUPS: [&[FilterField]; 7] = [
    &[FilterField::ArticleType],
    &[FilterField::ArticleType, FilterField::Gender],
    &[FilterField::ArticleType, FilterField::Colour],
    &[FilterField::ArticleType, FilterField::Gender, FilterField::Colour],
    &[FilterField::ArticleType, FilterField::Usage],
    &[FilterField::Gender, FilterField::Usage],
    &[FilterField::Gender, FilterField::Colour],
];
/// How many picks a seed has.
pub const PICKS: [usize; 3] = [1, 3, 5];
/// Cells with fewer items are not drawn: after 5 picks at least 10 relevant items must remain,
/// with room to spare.
const MIN_CELL: usize = 30;
const TOP: usize = 10;
/// The weights the blend is chosen from.
const MODEL_WEIGHTS: [f32; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const ATTRIBUTE_WEIGHTS: [f32; 10] = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0, 1.5];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// `POST /v1/recommendations` with the picks as `liked`.
    Picks,
    /// The picks as likes through the streaming consumer's state, then
    /// `GET /v1/users/{id}/recommendations`.
    Session,
    /// The same, as the app asks: `prefer_photos=true`.
    App,
    /// `POST /v1/recommendations` with only `text`, a description of the cell.
    Text,
    /// `GET /v1/items/{first pick}/similar`.
    Similar,
    /// Baseline: the mean of the picks' content vectors, exact top 10.
    Content,
    /// Baseline: the most liked items in the event log.
    Popularity,
    /// The user tower on the picks' aggregate against the item-tower matrix, alone: what the
    /// service served before the blend.
    ModelOnly,
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Path::Picks => "picks",
            Path::Session => "session",
            Path::App => "app",
            Path::Text => "text",
            Path::Similar => "similar",
            Path::Content => "content",
            Path::Popularity => "popularity",
            Path::ModelOnly => "model_only",
        }
    }
}

/// The validation or the test half of the cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Validation,
    Test,
}

/// A mean over trials with the half-width of its 95% confidence interval (normal approximation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub half_width: f64,
}

impl Estimate {
    fn of(values: &[f64]) -> Estimate {
        let n = values.len() as f64;
        if values.is_empty() {
            return Estimate::default();
        }
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Estimate { mean, half_width: 1.96 * (variance / n).sqrt() }
    }
}

/// One path's figures on one group at one number of picks (0 for free text).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub path: Path,
    pub picks: usize,
    pub group: String,
    pub trials: usize,
    pub precision_at_10: Estimate,
    /// Precision@10 with a result that repeats an earlier one's title and colour counted as not
    /// relevant: what a shopper gains from the list.
    pub distinct_precision_at_10: Estimate,
    pub ndcg_at_10: Estimate,
    /// Share of results whose title and colour repeat an earlier result's.
    pub duplicates: f64,
    pub with_photo: f64,
    /// Share of results whose stated reason is true; `None` for paths that give no reasons.
    pub true_reasons: Option<f64>,
}

/// Attribute values that items share: one value per field of a group.
type Cell = Vec<(FilterField, String)>;

/// One seed: picks from a cell, and the cell's values.
struct Trial {
    group: usize,
    values: Cell,
    picks: Vec<u32>,
}

impl Trial {
    /// What a visitor might type for the cell, e.g. "black casual tshirts for men".
    fn description(&self) -> String {
        let value = |field| self.values.iter().find(|(f, _)| *f == field).map(|(_, v)| v.as_str());
        let mut words: Vec<&str> = [FilterField::Colour, FilterField::Usage].into_iter().filter_map(value).collect();
        words.push(value(FilterField::ArticleType).unwrap_or("clothes"));
        let mut text = words.join(" ");
        if let Some(gender) = value(FilterField::Gender) {
            text.push_str(" for ");
            text.push_str(gender);
        }
        text
    }
}

/// What the evaluation ranks with.
pub struct PickConsistency<'a> {
    pub catalog: &'a ServingCatalog,
    pub model: Option<&'a ActiveModel>,
    pub ranking: RankingConfig,
    pub weights: AggregateWeights,
    /// Free text is scored only with an encoder.
    pub text: Option<&'a dyn TextQuery>,
    /// Positive interactions per content-matrix row, for the popularity baseline.
    pub popularity: Vec<f32>,
    /// Seeds per group, number of picks and part.
    pub trials: usize,
    pub seed: u64,
}

fn failed(what: &str) -> impl Fn(String) -> EngineError + '_ {
    move |reason| EngineError::Internal(format!("evaluating pick consistency: {what}: {reason}"))
}

impl PickConsistency<'_> {
    /// The cells of a group (value tuples held by at least [`MIN_CELL`] items) in this part.
    fn cells(&self, group: &[FilterField], part: Part) -> Vec<(Cell, Vec<u32>)> {
        let mut cells: BTreeMap<Vec<String>, Vec<u32>> = BTreeMap::new();
        for row in 0..self.catalog.matrix().len() as u32 {
            let values: Option<Vec<String>> = group.iter().map(|&field| self.catalog.attribute(row, field)).collect();
            if let Some(values) = values {
                cells.entry(values).or_default().push(row);
            }
        }
        cells
            .into_iter()
            .filter(|(values, rows)| rows.len() >= MIN_CELL && part_of(values) == part)
            .map(|(values, rows)| (group.iter().copied().zip(values).collect(), rows))
            .collect()
    }

    /// Seeds of `picks` items for every group, drawn from the cells of `part`, seeded.
    fn trials(&self, picks: usize, part: Part) -> Vec<Trial> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ (picks as u64) << 8 ^ part as u64);
        let mut trials = Vec::new();
        for (group, fields) in GROUPS.iter().enumerate() {
            let cells = self.cells(fields, part);
            if cells.is_empty() {
                continue;
            }
            for _ in 0..self.trials {
                // Cells uniformly, for breadth: a rare colour of a common type counts as much.
                let (values, rows) = &cells[rng.random_range(0..cells.len())];
                let picks = rows.choose_multiple(&mut rng, picks.max(1)).copied().collect();
                trials.push(Trial { group, values: values.clone(), picks });
            }
        }
        trials
    }

    fn relevant(&self, trial: &Trial, row: u32) -> bool {
        let matrix = self.catalog.matrix();
        let filter = trial
            .values
            .iter()
            .fold(tailor_core::AttributeFilter::default(), |f, (field, value)| f.with(*field, value.clone()));
        matrix.resolve(&filter).is_ok_and(|resolved: ResolvedFilter| matrix.passes(row, &resolved))
    }

    fn picks_request<'s>(&self, signals: &'s Signals<'s>, taste: Option<&'s Embedding>) -> Request<'s> {
        Request {
            taste,
            signals,
            described: false,
            k: TOP,
            filter: &NO_FILTER,
            diversity: 0.0,
            prefer_photos: false,
            trending: &[],
            rules: &NO_RULES,
        }
    }

    /// The weights, for each of 1, 3 and 5 picks, with the best mean precision@10 over the
    /// validation cells (on a tie the smaller model weight, then the smaller attribute weight)
    /// among those `acceptable(picks, weights)` accepts (the best overall when it accepts none),
    /// and the blend that follows: those weights at 1, 3 and 5 liked items, halfway between them
    /// at 2 and 4. The first entry, for free text alone, is the model weight best for the cells'
    /// descriptions when there is a text encoder, the 1-pick weights otherwise. Without a model,
    /// the attribute weights alone.
    pub fn choose_blend(
        &self,
        acceptable: &mut dyn FnMut(usize, Weights) -> Result<bool, EngineError>,
    ) -> Result<Blend, EngineError> {
        let model_grid: &[f32] = if self.model.is_some() { &MODEL_WEIGHTS } else { &[0.0] };
        let grid: Vec<Weights> = model_grid
            .iter()
            .flat_map(|&model| ATTRIBUTE_WEIGHTS.iter().map(move |&attributes| Weights { model, attributes }))
            .collect();
        let mut chosen = Vec::new();
        for picks in PICKS {
            let pools = self.validation_pools(picks, false)?;
            chosen.push(self.best(&pools, &grid, &mut |weights| acceptable(picks, weights))?);
        }
        let text = match self.text {
            Some(_) => {
                // With nothing picked, no attribute is shared: only the model weight matters.
                let grid: Vec<Weights> = model_grid.iter().map(|&model| Weights { model, attributes: 0.0 }).collect();
                self.best(&self.validation_pools(1, true)?, &grid, &mut |_| Ok(true))?
            }
            None => chosen[0],
        };
        let spread = |weight: fn(&Weights) -> f32| {
            let [one, three, five] = [weight(&chosen[0]), weight(&chosen[1]), weight(&chosen[2])];
            vec![weight(&text), one, (one + three) / 2.0, three, (three + five) / 2.0, five]
        };
        Ok(Blend { model_weight: spread(|w| w.model), attribute_weight: spread(|w| w.attributes) })
    }

    /// The validation cells' seeds of `picks` items with their candidates; with `described`, the
    /// seeds' descriptions in place of the picks.
    fn validation_pools(&self, picks: usize, described: bool) -> Result<Vec<(Trial, Pool<'_>)>, EngineError> {
        let mut pools = Vec::new();
        for trial in self.trials(picks, Part::Validation) {
            let picked = likes(self.catalog, &trial.picks);
            let none = Signals { items: Vec::new() };
            let (signals, text) = match (described, self.text) {
                (true, Some(encoder)) => (
                    &none,
                    Some(
                        encoder
                            .embed(&trial.description())
                            .map_err(|e| failed("embedding a description")(e.to_string()))?,
                    ),
                ),
                _ => (&picked, None),
            };
            let taste =
                taste_from(self.catalog, signals, text.as_ref(), &self.weights).map_err(api("the picks' taste"))?;
            let request = Request { described, ..self.picks_request(signals, taste.as_ref()) };
            if let Some(pool) = Pool::gather(self.catalog, self.model, &request).map_err(api("gathering candidates"))? {
                pools.push((trial, pool));
            }
        }
        Ok(pools)
    }

    /// The weights of `grid` with the most relevant results over `pools`, among those `acceptable`
    /// accepts (the best overall when it accepts none); a tie goes to the earlier in `grid`.
    fn best(
        &self,
        pools: &[(Trial, Pool<'_>)],
        grid: &[Weights],
        acceptable: &mut dyn FnMut(Weights) -> Result<bool, EngineError>,
    ) -> Result<Weights, EngineError> {
        let totals: Vec<usize> = grid
            .iter()
            .map(|&weights| {
                pools
                    .iter()
                    .map(|(trial, pool)| {
                        pool.rank(weights, &self.ranking).iter().filter(|r| self.relevant(trial, r.row)).count()
                    })
                    .sum()
            })
            .collect();
        let mut order: Vec<usize> = (0..grid.len()).collect();
        // Best first; the sort is stable, so ties keep the grid's order (smaller weights first).
        order.sort_by(|&a, &b| totals[b].cmp(&totals[a]));
        for &i in &order {
            if acceptable(grid[i])? {
                return Ok(grid[i]);
            }
        }
        Ok(grid[order[0]])
    }

    /// Every path's figures on the test cells, by group and number of picks.
    pub fn evaluate(&self) -> Result<Vec<Score>, EngineError> {
        let mut results: BTreeMap<(Path, usize, usize), Vec<Judged>> = BTreeMap::new();
        let sessions = VisitorStates::new(self.catalog.matrix().dim(), self.weights.clone());
        for picks in PICKS {
            for (n, trial) in self.trials(picks, Part::Test).iter().enumerate() {
                for path in [Path::Picks, Path::Session, Path::App, Path::Content, Path::Popularity, Path::ModelOnly] {
                    if path == Path::ModelOnly && self.model.is_none() {
                        continue;
                    }
                    let session = format!("eval-{picks}-{n}");
                    let ranked = self.rank(path, trial, &sessions, &session)?;
                    results.entry((path, picks, trial.group)).or_default().push(ranked.judge(self, trial));
                }
                if picks == 1 {
                    let ranked = self.rank(Path::Similar, trial, &sessions, "")?;
                    results.entry((Path::Similar, 1, trial.group)).or_default().push(ranked.judge(self, trial));
                    if self.text.is_some() {
                        let ranked = self.rank(Path::Text, trial, &sessions, "")?;
                        results.entry((Path::Text, 0, trial.group)).or_default().push(ranked.judge(self, trial));
                    }
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|((path, picks, group), judged)| Score {
                path,
                picks,
                group: GROUPS[group].iter().map(|f| f.name()).collect::<Vec<_>>().join("+"),
                trials: judged.len(),
                precision_at_10: Estimate::of(&judged.iter().map(|j| j.precision).collect::<Vec<_>>()),
                distinct_precision_at_10: Estimate::of(
                    &judged.iter().map(|j| j.distinct_precision).collect::<Vec<_>>(),
                ),
                ndcg_at_10: Estimate::of(&judged.iter().map(|j| j.ndcg).collect::<Vec<_>>()),
                duplicates: share(&judged, |j| j.duplicates),
                with_photo: share(&judged, |j| j.with_photo),
                true_reasons: judged
                    .iter()
                    .all(|j| j.true_reasons.is_some())
                    .then(|| share(&judged, |j| j.true_reasons.unwrap_or_default())),
            })
            .collect())
    }

    fn rank(&self, path: Path, trial: &Trial, sessions: &VisitorStates, session: &str) -> Result<Ranked, EngineError> {
        let catalog = self.catalog;
        let matrix = catalog.matrix();
        let signals = likes(catalog, &trial.picks);
        let taste = || taste_from(catalog, &signals, None, &self.weights).map_err(api("the picks' taste"));
        let served = |model: Option<&ActiveModel>, request: &Request<'_>| {
            recommend(catalog, model, &self.ranking, request).map(Ranked::Served).map_err(api(path.name()))
        };
        let mut exclude = RowSet::new(matrix.len());
        trial.picks.iter().for_each(|&row| exclude.insert(row));
        match path {
            Path::Picks => {
                let taste = taste()?;
                served(self.model, &self.picks_request(&signals, taste.as_ref()))
            }
            Path::Session | Path::App => {
                let key = SubjectKey::session(session);
                if sessions.get(&key).is_none() {
                    for (offset, &row) in trial.picks.iter().enumerate() {
                        let event = Interaction {
                            event_id: format!("{session}-{offset}"),
                            subject: session.to_owned(),
                            subject_kind: SubjectKind::Session,
                            item_id: matrix.id(row).to_string(),
                            kind: InteractionKind::Like,
                            value: None,
                            timestamp_ms: 1_000 * offset as i64,
                            source: EventSource::App,
                        };
                        let vector = Embedding::from_unit(matrix.row(row).to_vec(), matrix.dim())?;
                        sessions
                            .apply(0, offset as u64, event.timestamp_ms, &event, &vector)
                            .map_err(|e| failed("a session")(e.to_string()))?;
                    }
                }
                let state = sessions.get(&key).expect("applied above");
                let taste = state.aggregate().vector();
                let signals = Signals { items: state.recent_items().collect() };
                let request =
                    Request { prefer_photos: path == Path::App, ..self.picks_request(&signals, taste.as_ref()) };
                served(self.model, &request)
            }
            Path::Text => {
                let encoder = self.text.expect("text is scored only with an encoder");
                let text = encoder
                    .embed(&trial.description())
                    .map_err(|e| failed("embedding a description")(e.to_string()))?;
                let none = Signals { items: Vec::new() };
                let taste = taste_from(catalog, &none, Some(&text), &self.weights).map_err(api("the text's taste"))?;
                served(self.model, &Request { described: true, ..self.picks_request(&none, taste.as_ref()) })
            }
            Path::Similar => {
                let first = Signals { items: signals.items[..1].to_vec() };
                let taste = taste_from(catalog, &first, None, &self.weights).map_err(api("the pick's vector"))?;
                served(None, &self.picks_request(&first, taste.as_ref()))
            }
            Path::Content => {
                let mut mean = vec![0f32; matrix.dim()];
                trial.picks.iter().for_each(|&row| tailor_core::vector::add_scaled(&mut mean, 1.0, matrix.row(row)));
                let found = top_k(matrix, &mean, TOP, &exclude, &ResolvedFilter::default())?;
                Ok(Ranked::Rows(found.into_iter().map(|s| s.row).collect()))
            }
            Path::Popularity => {
                Ok(Ranked::Rows(self.popular().into_iter().filter(|&row| !exclude.contains(row)).take(TOP).collect()))
            }
            Path::ModelOnly => {
                let model = self.model.expect("scored only with a model");
                let taste = taste()?.ok_or_else(|| failed("the picks' taste")("empty".into()))?;
                let query = model.query(&taste)?;
                let (found, _) =
                    model.search.top_k(&model.matrix, query.as_slice(), TOP, &exclude, &ResolvedFilter::default())?;
                Ok(Ranked::Rows(found.into_iter().map(|s| s.row).collect()))
            }
        }
    }

    fn popular(&self) -> Vec<u32> {
        let mut rows: Vec<u32> = (0..self.popularity.len() as u32).collect();
        // Most liked first; the row breaks ties, so the order is stable.
        rows.sort_by(|&a, &b| self.popularity[b as usize].total_cmp(&self.popularity[a as usize]).then(a.cmp(&b)));
        rows.truncate(TOP + PICKS[PICKS.len() - 1]);
        rows
    }

    /// Whether a served reason is true: a named pick must be one of the picks, the nearest of
    /// them to the result, of the same article type, and at least `reason_min_cosine` close.
    fn reason_is_true(&self, trial: &Trial, recommendation: &Recommendation) -> bool {
        let Reason::SimilarTo(named) = recommendation.reason else { return true };
        let matrix = self.catalog.matrix();
        let cosine = |pick: u32| tailor_core::vector::dot(matrix.row(pick), matrix.row(recommendation.row));
        let nearest = trial.picks.iter().map(|&pick| cosine(pick)).fold(f32::NEG_INFINITY, f32::max);
        trial.picks.contains(&named)
            && cosine(named) >= nearest
            && cosine(named) >= self.ranking.reason_min_cosine
            && self.catalog.same_article_type(named, recommendation.row)
    }
}

static NO_FILTER: std::sync::LazyLock<tailor_core::AttributeFilter> =
    std::sync::LazyLock::new(tailor_core::AttributeFilter::default);

fn api(what: &str) -> impl Fn(EngineError) -> EngineError + '_ {
    move |error| EngineError::Internal(format!("evaluating pick consistency: {what}: {error}"))
}

fn likes<'c>(catalog: &'c ServingCatalog, rows: &[u32]) -> Signals<'c> {
    Signals { items: rows.iter().map(|&row| (catalog.matrix().id(row).as_str(), InteractionKind::Like)).collect() }
}

/// Half the cells, by a hash of their values, are for choosing the blend; the others for the report.
fn part_of(values: &[String]) -> Part {
    let hash = values.join("|").bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    if hash % 2 == 0 { Part::Validation } else { Part::Test }
}

fn share(judged: &[Judged], value: impl Fn(&Judged) -> f64) -> f64 {
    judged.iter().map(value).sum::<f64>() / judged.len().max(1) as f64
}

/// A path's answer for one trial.
enum Ranked {
    Served(Vec<Recommendation>),
    Rows(Vec<u32>),
}

/// One trial's figures.
struct Judged {
    precision: f64,
    distinct_precision: f64,
    ndcg: f64,
    duplicates: f64,
    with_photo: f64,
    true_reasons: Option<f64>,
}

impl Ranked {
    fn judge(&self, evaluation: &PickConsistency<'_>, trial: &Trial) -> Judged {
        let catalog = evaluation.catalog;
        let rows: Vec<u32> = match self {
            Ranked::Served(served) => served.iter().map(|r| r.row).collect(),
            Ranked::Rows(rows) => rows.clone(),
        };
        let gains: Vec<bool> = rows.iter().map(|&row| evaluation.relevant(trial, row)).collect();
        let dcg: f64 = gains.iter().enumerate().filter(|(_, g)| **g).map(|(p, _)| 1.0 / (p as f64 + 2.0).log2()).sum();
        let ideal: f64 = (0..TOP).map(|p| 1.0 / (p as f64 + 2.0).log2()).sum();
        let shown = rows.len().max(1) as f64;
        let mut listings = HashSet::new();
        let repeated: Vec<bool> =
            rows.iter().map(|&row| catalog.listing(row).is_some_and(|l| !listings.insert(l))).collect();
        let repeats = repeated.iter().filter(|r| **r).count();
        let distinct_hits = gains.iter().zip(&repeated).filter(|(g, r)| **g && !**r).count();
        let photos = rows.iter().filter(|&&row| catalog.item_at(row).image().is_some()).count();
        let true_reasons = match self {
            Ranked::Served(served) => {
                Some(served.iter().filter(|r| evaluation.reason_is_true(trial, r)).count() as f64 / shown)
            }
            Ranked::Rows(_) => None,
        };
        Judged {
            precision: gains.iter().filter(|g| **g).count() as f64 / TOP as f64,
            distinct_precision: distinct_hits as f64 / TOP as f64,
            ndcg: dcg / ideal,
            duplicates: repeats as f64 / shown,
            with_photo: photos as f64 / shown,
            true_reasons,
        }
    }
}

/// The figures averaged over groups for each path and number of picks: the mean of the groups'
/// means, and the interval from all their trials together.
pub fn summarise(scores: &[Score]) -> Vec<Score> {
    let mut by_path: BTreeMap<(Path, usize), Vec<&Score>> = BTreeMap::new();
    for score in scores {
        by_path.entry((score.path, score.picks)).or_default().push(score);
    }
    by_path
        .into_iter()
        .map(|((path, picks), groups)| {
            let mean =
                |value: &dyn Fn(&Score) -> f64| groups.iter().map(|s| value(s)).sum::<f64>() / groups.len() as f64;
            // Groups are independent samples: the variance of their mean is the mean of their
            // variances over the number of groups.
            let pooled = |estimate: &dyn Fn(&Score) -> Estimate| {
                let variance: f64 = groups.iter().map(|s| (estimate(s).half_width / 1.96).powi(2)).sum::<f64>();
                1.96 * variance.sqrt() / groups.len() as f64
            };
            Score {
                path,
                picks,
                group: "average".into(),
                trials: groups.iter().map(|s| s.trials).sum(),
                precision_at_10: Estimate {
                    mean: mean(&|s| s.precision_at_10.mean),
                    half_width: pooled(&|s| s.precision_at_10),
                },
                distinct_precision_at_10: Estimate {
                    mean: mean(&|s| s.distinct_precision_at_10.mean),
                    half_width: pooled(&|s| s.distinct_precision_at_10),
                },
                ndcg_at_10: Estimate { mean: mean(&|s| s.ndcg_at_10.mean), half_width: pooled(&|s| s.ndcg_at_10) },
                duplicates: mean(&|s| s.duplicates),
                with_photo: mean(&|s| s.with_photo),
                true_reasons: groups
                    .iter()
                    .all(|s| s.true_reasons.is_some())
                    .then(|| mean(&|s| s.true_reasons.unwrap_or_default())),
            }
        })
        .collect()
}

/// Positive interactions per row of `catalog`'s matrix, from an event stream: likes, carts,
/// purchases and ratings of at least 7.
pub fn popularity<'e>(catalog: &ServingCatalog, events: impl IntoIterator<Item = &'e Interaction>) -> Vec<f32> {
    let matrix = catalog.matrix();
    let mut counts = vec![0f32; matrix.len()];
    for event in events {
        if let (true, Some(row)) = (event.kind.is_positive(event.value), matrix.row_of(&event.item_id)) {
            counts[row as usize] += 1.0;
        }
    }
    counts
}
