//! The approximate index against the exact scan on a large synthetic catalogue: build time,
//! recall@k and latency percentiles, printed.
//!
//! `cargo bench -p tailor-engine --bench approximate -- --items 1000000`
//! `cargo bench -p tailor-engine --bench approximate -- --vectors $PWD/var/models/v000001/items.safetensors`
//! (cargo runs benches in the crate's directory, hence the absolute path)
//!
//! Synthetic items are 128-d unit vectors drawn like a shop's: article types, styles within each
//! type, and each item a style plus its own noise (`--noise`). A query is a visitor's taste: the
//! mean of three items of one style, with those three left out of the results. With `--vectors`
//! the items are a published model's item vectors instead, and a query is three random items.
//! Every query is answered exactly and approximately; recall@k (`--k`, 10 unless told) is the
//! share of the exact k the approximate k hold. `--precision f32|f16|i8` and the graph's other
//! settings as flags compare graphs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::{
    AttributeFilter, Attributes, Embedding, FilterField, Gender, Item, ItemId, ItemMatrix, ResolvedFilter, RowSet,
    top_k,
};
use tailor_engine::{MatrixSearch, SearchConfig, SearchMethod, ServingCatalog};
use tailor_models::ItemVectors;
use tailor_testkit::shop::{self, CATEGORIES};

const DIM: usize = 128;

struct Options {
    items: usize,
    vectors: Option<PathBuf>,
    queries: usize,
    noise: f32,
    /// How many results each query asks for, and recall is counted over.
    k: usize,
    search: SearchConfig,
}

fn options() -> Options {
    let mut options = Options {
        items: 0,
        vectors: None,
        queries: 1_000,
        noise: 0.6,
        k: 10,
        search: SearchConfig { approximate_above: 0, ..SearchConfig::default() },
    };
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this without it, as a quick
    // check that it works, on a small catalogue unless told otherwise.
    let mut benchmarking = false;
    let mut items = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--items" => items = Some(value().parse().expect("--items is a count")),
            "--vectors" => options.vectors = Some(value().into()),
            "--queries" => options.queries = value().parse().expect("--queries is a count"),
            "--noise" => options.noise = value().parse().expect("--noise is a number"),
            "--k" => options.k = value().parse().expect("--k is a count"),
            "--precision" => {
                let precision = value();
                options.search.precision = serde_json::from_value(serde_json::Value::String(precision.clone()))
                    .unwrap_or_else(|_| panic!("--precision is f32, f16 or i8, not {precision}"))
            }
            "--connectivity" => options.search.connectivity = value().parse().expect("--connectivity is a count"),
            "--expansion-add" => options.search.expansion_add = value().parse().expect("--expansion-add is a count"),
            "--expansion-search" => {
                options.search.expansion_search = value().parse().expect("--expansion-search is a count")
            }
            "--bench" => benchmarking = true,
            other => panic!("unknown flag {other}"),
        }
    }
    options.items = items.unwrap_or(if benchmarking { 1_000_000 } else { 5_000 });
    if !benchmarking {
        options.queries = options.queries.min(50);
    }
    options
}

/// A published model's item vectors, each its own "style", with attributes as the synthetic
/// shop's: every other item for women, categories by position.
fn published(path: &std::path::Path, search: &SearchConfig) -> (ServingCatalog, Vec<Vec<ItemId>>) {
    let vectors = ItemVectors::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let items: Vec<Item> = vectors
        .iter()
        .enumerate()
        .map(|(i, (id, _))| {
            let attributes = Attributes {
                gender: Some(Gender::ALL[i % 2]),
                category: Some(CATEGORIES[(i / 97) % CATEGORIES.len()].to_owned()),
                ..Attributes::default()
            };
            Item::new(id.clone(), Some(format!("item {id}")), None, None, attributes).unwrap()
        })
        .collect();
    let everything = vec![items.iter().map(|item| item.id().clone()).collect()];
    (ServingCatalog::new(items, &vectors, search.clone()).unwrap(), everything)
}

/// The synthetic shop, in the rows the service would give it, and for each style its items.
fn synthetic(options: &Options) -> (ServingCatalog, Vec<Vec<ItemId>>) {
    let shop = shop::shop(options.items, DIM, options.noise, 42);
    let by_style =
        shop.items_by_style.iter().map(|items| items.iter().map(|&i| shop.items[i].id().clone()).collect()).collect();
    (ServingCatalog::new(shop.items, &shop.vectors, options.search.clone()).unwrap(), by_style)
}

struct Query {
    vector: Vec<f32>,
    exclude: RowSet,
}

fn queries(options: &Options, matrix: &ItemMatrix, items_by_style: &[Vec<ItemId>], rng: &mut StdRng) -> Vec<Query> {
    let styles: Vec<&Vec<ItemId>> = items_by_style.iter().filter(|items| !items.is_empty()).collect();
    (0..options.queries)
        .map(|_| {
            // A small catalogue leaves some styles empty.
            let style = &styles[rng.random_range(0..styles.len())];
            let liked: Vec<u32> =
                (0..3).map(|_| matrix.row_of(style[rng.random_range(0..style.len())].as_str()).unwrap()).collect();
            let mut sum = vec![0.0; matrix.dim()];
            let mut exclude = RowSet::new(matrix.len());
            for &row in &liked {
                sum.iter_mut().zip(matrix.row(row)).for_each(|(total, value)| *total += value);
                exclude.insert(row);
            }
            Query { vector: Embedding::new(sum, matrix.dim()).unwrap().as_slice().to_vec(), exclude }
        })
        .collect()
}

fn percentiles(latencies: &Histogram<u64>) -> String {
    let ms = |q: f64| latencies.value_at_quantile(q) as f64 / 1000.0;
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", ms(0.5), ms(0.99), latencies.max() as f64 / 1000.0)
}

/// Recall@k and latencies of the approximate search under `filter`, against the exact scan.
fn compare(
    name: &str,
    k: usize,
    matrix: &ItemMatrix,
    search: &MatrixSearch,
    queries: &[Query],
    filter: &ResolvedFilter,
) {
    let mut exact_latency = Histogram::<u64>::new(3).unwrap();
    let mut approximate_latency = Histogram::<u64>::new(3).unwrap();
    let (mut found, mut approximate_answers) = (0, 0);
    for query in queries {
        let started = Instant::now();
        let exact = top_k(matrix, &query.vector, k, &query.exclude, filter).unwrap();
        exact_latency.record(started.elapsed().as_micros() as u64).unwrap();
        let started = Instant::now();
        let (approximate, method) = search.top_k(matrix, &query.vector, k, &query.exclude, filter).unwrap();
        approximate_latency.record(started.elapsed().as_micros() as u64).unwrap();
        approximate_answers += usize::from(method == SearchMethod::Approximate);
        found += approximate.iter().filter(|s| exact.contains(s)).count();
    }
    println!(
        "{name:<24} recall@{k} {:.4} ({approximate_answers}/{} answered approximately)\n  exact:       {}\n  approximate: {}",
        found as f64 / (queries.len() * k) as f64,
        queries.len(),
        percentiles(&exact_latency),
        percentiles(&approximate_latency),
    );
}

/// Approximate searches from every core at once, as the service runs them.
fn concurrent(k: usize, matrix: &ItemMatrix, search: &MatrixSearch, queries: &[Query], rounds: usize) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let everything = ResolvedFilter::default();
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let everything = &everything;
                scope.spawn(move || {
                    let mut latencies = Histogram::<u64>::new(3).unwrap();
                    for query in queries.iter().cycle().skip(t).step_by(threads).take(queries.len() * rounds / threads)
                    {
                        let started = Instant::now();
                        search.top_k(matrix, &query.vector, k, &query.exclude, everything).unwrap();
                        latencies.record(started.elapsed().as_micros() as u64).unwrap();
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Histogram::<u64>::new(3).unwrap();
        workers.into_iter().for_each(|w| all.add(w.join().unwrap()).unwrap());
        all
    });
    let elapsed = started.elapsed();
    println!(
        "{threads} threads at once: {} searches in {:.1} s = {:.0}/s; {}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentiles(&latencies)
    );
}

fn main() {
    let options = options();
    let mut rng = StdRng::seed_from_u64(42);
    let started = Instant::now();
    let (catalog, items_by_style) = match &options.vectors {
        Some(path) => published(path, &options.search),
        None => synthetic(&options),
    };
    let matrix = catalog.matrix();
    let queries = queries(&options, matrix, &items_by_style, &mut rng);
    let source =
        options.vectors.as_ref().map_or(format!("synthetic, noise {}", options.noise), |p| p.display().to_string());
    println!(
        "{} items x {} ({source}), {} queries, made in {:.1} s; {:?}",
        matrix.len(),
        matrix.dim(),
        queries.len(),
        started.elapsed().as_secs_f64(),
        options.search
    );
    let search = catalog.search();
    let started = Instant::now();
    catalog.build_index().unwrap();
    let took: Duration = started.elapsed();
    println!("index built in {:.1} s on {} threads", took.as_secs_f64(), std::thread::available_parallelism().unwrap());
    let filter = |f: AttributeFilter| matrix.resolve(&f).unwrap();
    compare("no filter", options.k, matrix, search, &queries, &ResolvedFilter::default());
    compare(
        "gender (1/2)",
        options.k,
        matrix,
        search,
        &queries,
        &filter(AttributeFilter::default().with(FilterField::Gender, "women")),
    );
    compare(
        "category (about 1/7)",
        options.k,
        matrix,
        search,
        &queries,
        &filter(AttributeFilter::default().with(FilterField::Category, "footwear")),
    );
    concurrent(options.k, matrix, search, &queries, 5);
}
