//! Pick consistency from the command line: `tailor train` chooses a version's blend on the
//! validation cells, and `tailor train` and `tailor eval` print the test cells' figures for every
//! ranking path beside the baselines (see `tailor_engine::evaluation`).

use std::collections::BTreeMap;

use tailor_core::TextQuery;
use tailor_core::{AggregateWeights, Item};
use tailor_engine::evaluation::{PICKS, Path, PickConsistency, Score, popularity, summarise};
use tailor_engine::{ActiveModel, ServingCatalog};
use tailor_events::Interaction;
use tailor_models::ItemVectors;

use tailor_config::Config;

/// Seeds per attribute group, number of picks and half of the cells, unless `--trials` says.
pub const TRIALS: usize = 100;
const SEED: u64 = 29;

/// The catalogue as `tailor serve` ranks it, with the approximate index built as serving builds it.
pub fn serving_catalog(config: &Config, items: Vec<Item>, vectors: &ItemVectors) -> anyhow::Result<ServingCatalog> {
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

pub fn print(scores: &[Score]) {
    let groups = scores.iter().map(|s| s.group.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    println!(
        "pick consistency on the test cells: a result is relevant when it shares the picks' attributes; \
         precision@10 ± its 95% interval, averaged over {groups} attribute groups (picks 0: free text only); \
         distinct: a repeat of an earlier result's title and colour counts as not relevant"
    );
    println!(
        "{:>5} {:<11} {:>6} {:>15} {:>14} {:>8} {:>10} {:>7} {:>12}",
        "picks", "path", "trials", "P@10", "distinct P@10", "NDCG@10", "duplicates", "photos", "true reasons"
    );
    for s in summarise(scores) {
        let reasons = s.true_reasons.map_or("-".to_owned(), |r| format!("{r:.3}"));
        println!(
            "{:>5} {:<11} {:>6} {:>8.3} ± {:.3} {:>14.3} {:>8.3} {:>10.3} {:>7.3} {:>12}",
            s.picks,
            s.path.name(),
            s.trials,
            s.precision_at_10.mean,
            s.precision_at_10.half_width,
            s.distinct_precision_at_10.mean,
            s.ndcg_at_10.mean,
            s.duplicates,
            s.with_photo,
            reasons
        );
    }
    let paths = [Path::Picks, Path::Session, Path::App, Path::Content, Path::Popularity, Path::ModelOnly];
    println!("precision@10 at 3 picks by attribute group:");
    print!("{:<32}", "group");
    paths.iter().for_each(|p| print!(" {:>10}", p.name()));
    println!();
    let mut by_group: BTreeMap<&str, BTreeMap<Path, f64>> = BTreeMap::new();
    for s in scores.iter().filter(|s| s.picks == 3) {
        by_group.entry(&s.group).or_default().insert(s.path, s.precision_at_10.mean);
    }
    for (group, values) in by_group {
        print!("{group:<32}");
        paths.iter().for_each(|p| print!(" {:>10}", values.get(p).map_or("-".to_owned(), |v| format!("{v:.3}"))));
        println!();
    }
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
