//! The tables `tailor train` and `tailor eval` print.

use std::collections::{BTreeMap, BTreeSet};

use tailor_engine::evaluation::{Path, Score, summarise};
use tailor_trainer::EvalRow;

/// The persona evaluation's rows.
pub fn print_rows(rows: &[EvalRow]) {
    println!(
        "{:<22} {:>2} {:<17} {:>6} {:>8} {:>10} {:>8} {:>9}",
        "slice", "k", "method", "users", "NDCG@10", "Recall@10", "HR@10", "coverage"
    );
    for row in rows {
        println!(
            "{:<22} {:>2} {:<17} {:>6} {:>8.4} {:>10.4} {:>8.4} {:>9.4}",
            row.slice.name(),
            row.k,
            row.method.name(),
            row.users,
            row.ndcg_at_10,
            row.recall_at_10,
            row.hit_rate_at_10,
            row.coverage
        );
    }
}

/// Pick consistency on the test cells, on average and at 3 picks by attribute group.
pub fn print_scores(scores: &[Score]) {
    let groups = scores.iter().map(|s| s.group.as_str()).collect::<BTreeSet<_>>().len();
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
