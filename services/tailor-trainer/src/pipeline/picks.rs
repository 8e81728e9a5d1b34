//! Pick consistency in the pipelines: a training run chooses its version's blend on the
//! validation cells, and training and evaluation report the test cells' figures for every ranking
//! path beside the baselines (see `tailor_engine::evaluation`).

use std::collections::BTreeMap;

use tailor_core::TextQuery;
use tailor_core::{AggregateWeights, Item};
use tailor_engine::evaluation::{PICKS, Path, PickConsistency, Score, popularity, summarise};
use tailor_engine::{ActiveModel, ServingCatalog};
use tailor_events::Interaction;
use tailor_models::ItemVectors;

use tailor_config::Config;

use crate::TrainerError;

/// Seeds per attribute group, number of picks and half of the cells, unless the caller says.
pub const TRIALS: usize = 100;
const SEED: u64 = 29;

/// The catalogue as `tailor serve` ranks it, with the approximate index built as serving builds it.
pub fn serving_catalog(
    config: &Config,
    items: Vec<Item>,
    vectors: &ItemVectors,
) -> Result<ServingCatalog, TrainerError> {
    let catalog = ServingCatalog::new(items, vectors, config.serve.search.clone())?;
    catalog.build_index()?;
    Ok(catalog)
}

pub fn evaluation<'a>(
    config: &Config,
    catalog: &'a ServingCatalog,
    model: Option<&'a ActiveModel>,
    events: &[Interaction],
    text: Option<&'a dyn TextQuery>,
    trials: usize,
) -> PickConsistency<'a> {
    PickConsistency {
        catalog,
        model,
        ranking: config.serve.ranking.clone(),
        weights: AggregateWeights::default(),
        text,
        popularity: popularity(catalog, events),
        trials,
        seed: SEED,
    }
}

/// The averages as manifest figures, e.g. `picks.picks.n3.precision_at_10`.
pub fn metrics(scores: &[Score]) -> BTreeMap<String, f64> {
    summarise(scores)
        .iter()
        .flat_map(|s| {
            let key = |metric: &str| format!("picks.{}.n{}.{metric}", s.path.name(), s.picks);
            [
                (key("precision_at_10"), s.precision_at_10.mean),
                (key("distinct_precision_at_10"), s.distinct_precision_at_10.mean),
                (key("ndcg_at_10"), s.ndcg_at_10.mean),
            ]
        })
        .collect()
}

/// The served ranking (anonymous picks) against the content baseline: at every number of picks
/// on average, and at 3 picks in every group, where a gap within the two intervals is a tie.
/// Each shortfall, named.
pub fn shortfalls(scores: &[Score]) -> Vec<String> {
    let find = |all: &[Score], path: Path, picks: usize, group: &str| {
        all.iter().find(|s| s.path == path && s.picks == picks && s.group == group).cloned()
    };
    let mut problems = Vec::new();
    let averages = summarise(scores);
    for picks in PICKS {
        if let (Some(served), Some(content)) =
            (find(&averages, Path::Picks, picks, "average"), find(&averages, Path::Content, picks, "average"))
            && served.precision_at_10.mean < content.precision_at_10.mean
        {
            problems.push(format!(
                "at {picks} picks the served ranking's precision@10 {:.3} is below the content baseline's {:.3}",
                served.precision_at_10.mean, content.precision_at_10.mean
            ));
        }
    }
    for served in scores.iter().filter(|s| s.path == Path::Picks && s.picks == 3) {
        if let Some(content) = find(scores, Path::Content, 3, &served.group) {
            let gap = content.precision_at_10.mean - served.precision_at_10.mean;
            if gap > served.precision_at_10.half_width.max(content.precision_at_10.half_width) {
                problems.push(format!(
                    "{}: at 3 picks the served ranking's precision@10 {:.3} is below the content baseline's {:.3}",
                    served.group, served.precision_at_10.mean, content.precision_at_10.mean
                ));
            }
        }
    }
    problems
}
