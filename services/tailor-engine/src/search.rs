//! Top-K over one item matrix: the exact scan up to a configurable size, and above it an HNSW
//! graph (usearch) once that graph is built. Until then, and for filters so narrow that few rows
//! pass, the exact scan answers, so results are always there and never wrong, only slower.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tailor_core::vector::dot;
use tailor_core::{CoreError, ItemMatrix, ResolvedFilter, RowSet, Scored, top_k};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::{EngineError, metrics};

/// When and how the service searches approximately.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Matrices with more rows than this get an HNSW graph; smaller ones are scanned exactly.
    /// The scan of Myntra's 44,000 rows takes 0.64 ms and the graph 0.29 ms at recall@10 0.99;
    /// a recommendation walks two graphs, the most of its time (README: Ranking).
    pub approximate_above: usize,
    /// Links per node in the graph (HNSW's M): more raise recall and memory.
    pub connectivity: usize,
    /// Candidates kept while inserting (ef_construction): more build a better graph, slower.
    pub expansion_add: usize,
    /// Candidates kept while searching (ef): more raise recall and latency.
    pub expansion_search: usize,
    /// How the graph stores its copy of the vectors, which its walk compares; what it finds is
    /// scored again at full precision. Bytes (i8) walk Myntra's 256-d content vectors a third
    /// faster than f32, and find more of the nearest given a deeper walk (README: Ranking).
    pub precision: GraphPrecision,
}

/// The scalar type of a graph's vectors. Bytes are each vector scaled to unit length times 127,
/// and compared by integer dot products, which give the same answer on every CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphPrecision {
    F32,
    F16,
    I8,
}

impl GraphPrecision {
    fn scalar_kind(self) -> ScalarKind {
        match self {
            GraphPrecision::F32 => ScalarKind::F32,
            GraphPrecision::F16 => ScalarKind::F16,
            GraphPrecision::I8 => ScalarKind::I8,
        }
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            approximate_above: 20_000,
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 200,
            precision: GraphPrecision::I8,
        }
    }
}

/// Below this share of passing rows the exact scan, which walks only the rows holding the
/// filter's rarest value, beats a graph walk through neighbours that mostly fail the filter
/// (which also misses some that pass: recall 0.91 at a seventh on 100,000 items).
const EXACT_BELOW_PASSING_SHARE: f64 = 0.3;

/// Seeds the order rows enter the graph in, so a rebuild makes the same graph up to threading.
const INSERTION_SEED: u64 = 42;

/// Matrices with fewer rows than this are indexed by one thread.
const SEQUENTIAL_BUILD_BELOW: usize = 10_000;

/// How one search was answered, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchMethod {
    Exact,
    Approximate,
}

impl SearchMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMethod::Exact => "exact",
            SearchMethod::Approximate => "approximate",
        }
    }
}

/// Room left in a graph for rows added while serving, as a share of the rows it was built with.
const GROWTH_ROOM: f64 = 0.25;

/// Searches one matrix; the snapshots of a live catalogue share one graph, which gains the rows
/// they add while it has room. Rows it does not hold are scanned exactly beside it.
#[derive(Clone)]
pub struct MatrixSearch {
    config: SearchConfig,
    graph: Arc<OnceLock<Graph>>,
}

struct Graph {
    index: Index,
    /// The graph holds rows `0..indexed`.
    indexed: AtomicUsize,
    /// Serialises additions, so that `indexed` grows over contiguous rows only.
    adding: Mutex<()>,
}

impl MatrixSearch {
    pub fn new(config: SearchConfig) -> MatrixSearch {
        MatrixSearch { config, graph: Arc::default() }
    }

    /// The search of `matrix`, a later snapshot of `old` whose rows `changed` are new or changed:
    /// the same graph, given the new rows while it has room and the new vectors of changed rows
    /// (a change of attributes alone leaves the graph as it is).
    pub fn follow(&self, old: &ItemMatrix, matrix: &ItemMatrix, changed: &[u32]) -> Result<MatrixSearch, EngineError> {
        if let Some(graph) = self.graph.get() {
            let _adding = graph.adding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let failed = |e: cxx::Exception| EngineError::Internal(format!("adding to the approximate index: {e}"));
            let mut indexed = graph.indexed.load(Ordering::Acquire);
            let moved = |row: u32| (row as usize) < old.len() && old.row(row) != matrix.row(row);
            for &row in changed.iter().filter(|&&row| (row as usize) < indexed && moved(row)) {
                // Searches running meanwhile find the row under its old vector or not at all;
                // their scores come from their own matrix either way.
                graph.index.remove(row as u64).map_err(failed)?;
                graph.index.add(row as u64, matrix.row(row)).map_err(failed)?;
            }
            while indexed < matrix.len() && graph.index.size() < graph.index.capacity() {
                graph.index.add(indexed as u64, matrix.row(indexed as u32)).map_err(failed)?;
                indexed += 1;
                graph.indexed.store(indexed, Ordering::Release);
            }
        }
        Ok(self.clone())
    }

    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// Whether `matrix` is large enough for a graph.
    pub fn wants_graph(&self, matrix: &ItemMatrix) -> bool {
        matrix.len() > self.config.approximate_above
    }

    pub fn is_approximate(&self) -> bool {
        self.graph.get().is_some()
    }

    /// Builds the graph over `matrix` on every core when the matrix wants one; a million rows
    /// take minutes. Searches meanwhile are exact. `name` labels the build time in the metrics.
    pub fn build(&self, matrix: &ItemMatrix, name: &'static str) -> Result<(), EngineError> {
        if !self.wants_graph(matrix) || self.graph.get().is_some() {
            return Ok(());
        }
        let started = Instant::now();
        let failed = |e: cxx::Exception| EngineError::Internal(format!("building the approximate index: {e}"));
        let options = IndexOptions {
            dimensions: matrix.dim(),
            metric: MetricKind::IP,
            quantization: self.config.precision.scalar_kind(),
            connectivity: self.config.connectivity,
            expansion_add: self.config.expansion_add,
            expansion_search: self.config.expansion_search,
            multi: false,
        };
        let index = Index::new(&options).map_err(failed)?;
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        // Concurrent inserts race to link a row, so the graph differs run to run; on a small
        // matrix one thread builds it in milliseconds, and the same graph every time.
        let threads = if matrix.len() < SEQUENTIAL_BUILD_BELOW { 1 } else { cores };
        // Searches come from the async workers and blocking threads alike: room for both, and
        // for the items added while serving.
        let capacity = matrix.len() + (matrix.len() as f64 * GROWTH_ROOM) as usize;
        index.reserve_capacity_and_threads(capacity, cores * 4).map_err(failed)?;
        // Rows are grouped by category; inserted in that order, each category's part of the graph
        // would be built before the next one existed, and links between them would be few
        // (recall@10 0.89 instead of 0.99 at a million items). A seeded shuffle keeps it uniform.
        let mut order: Vec<u32> = (0..matrix.len() as u32).collect();
        order.shuffle(&mut StdRng::seed_from_u64(INSERTION_SEED));
        thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|first| {
                    let (index, order) = (&index, &order);
                    scope.spawn(move || {
                        order
                            .iter()
                            .skip(first)
                            .step_by(threads)
                            .try_for_each(|&row| index.add(row as u64, matrix.row(row)))
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|w| w.join().expect("an insert thread does not panic"))
        })
        .map_err(failed)?;
        metrics::record_index_built(name, matrix.len(), started.elapsed());
        // Another build may have won the race; either graph is the same.
        let graph = Graph { index, indexed: AtomicUsize::new(matrix.len()), adding: Mutex::new(()) };
        let _ = self.graph.set(graph);
        Ok(())
    }

    /// Top `k` rows for `query`, best first, as [`top_k`] returns them: approximate when the
    /// graph is built and the filter lets enough rows through, exact otherwise.
    pub fn top_k(
        &self,
        matrix: &ItemMatrix,
        query: &[f32],
        k: usize,
        exclude: &RowSet,
        filter: &ResolvedFilter,
    ) -> Result<(Vec<Scored>, SearchMethod), CoreError> {
        let exact = || Ok((top_k(matrix, query, k, exclude, filter)?, SearchMethod::Exact));
        let passing_share = matrix.passing_at_most(filter) as f64 / matrix.len().max(1) as f64;
        let graph = self.graph.get().filter(|_| passing_share >= EXACT_BELOW_PASSING_SHARE);
        let Some(graph) = graph else { return exact() };
        matrix.check_query(query)?;
        if k == 0 {
            return Ok((Vec::new(), SearchMethod::Approximate));
        }
        let count = k.max(self.config.expansion_search);
        // A graph shared with later snapshots may hold rows this matrix does not have.
        let passes = |key: u64| {
            let row = key as u32;
            (row as usize) < matrix.len() && !exclude.contains(row) && matrix.passes(row, filter)
        };
        let found = match graph.index.filtered_search(query, count, passes) {
            Ok(found) => found,
            Err(error) => {
                // The graph failing is the service's fault, not the request's: answer exactly.
                eprintln!("approximate search failed, answering exactly: {error}");
                metrics::record_search_failure();
                return exact();
            }
        };
        // Scores from the full-precision rows, so both methods rank and report alike.
        let mut scored: Vec<Scored> = found
            .keys
            .iter()
            .map(|&key| Scored { row: key as u32, score: dot(query, matrix.row(key as u32)) })
            .collect();
        // Rows added since the graph last had room, scanned exactly.
        let tail = graph.indexed.load(Ordering::Acquire) as u32..matrix.len() as u32;
        scored.extend(
            tail.filter(|&row| !exclude.contains(row) && matrix.passes(row, filter))
                .map(|row| Scored { row, score: dot(query, matrix.row(row)) }),
        );
        scored.sort_unstable_by(|a, b| b.cmp(a));
        scored.truncate(k);
        Ok((scored, SearchMethod::Approximate))
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use tailor_core::{AttributeFilter, Attributes, Embedding, FilterField, Gender, ItemId, ItemMatrixBuilder};

    use super::*;

    const DIM: usize = 16;

    /// Rows around 20 directions; every third one for women, every fiftieth one teal.
    fn clustered(rows: usize) -> ItemMatrix {
        let mut rng = StdRng::seed_from_u64(3);
        let centres: Vec<Vec<f32>> = (0..20).map(|_| (0..DIM).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let mut builder = ItemMatrixBuilder::new(DIM).unwrap();
        for i in 0..rows {
            let centre = &centres[i % centres.len()];
            let values = centre.iter().map(|c| c + rng.random_range(-0.3..0.3)).collect();
            let gender = if i % 3 == 0 { Gender::Women } else { Gender::Men };
            let colour = (i % 50 == 0).then(|| "Teal".to_owned());
            let attributes = Attributes { gender: Some(gender), colour, ..Attributes::default() };
            builder
                .push(ItemId::new(format!("i{i}")).unwrap(), &attributes, &Embedding::new(values, DIM).unwrap())
                .unwrap();
        }
        builder.build()
    }

    fn approximate_above(rows: usize) -> MatrixSearch {
        MatrixSearch::new(SearchConfig { approximate_above: rows, ..SearchConfig::default() })
    }

    #[test]
    fn small_matrices_are_scanned_exactly_and_get_no_graph() {
        let matrix = clustered(500);
        let search = approximate_above(500);
        search.build(&matrix, "test").unwrap();
        assert!(!search.is_approximate());
        let query = matrix.row(7).to_vec();
        let (found, method) =
            search.top_k(&matrix, &query, 5, &RowSet::new(matrix.len()), &ResolvedFilter::default()).unwrap();
        assert_eq!(method, SearchMethod::Exact);
        assert_eq!(found[0].row, 7);
    }

    #[test]
    fn the_graph_agrees_with_the_exact_scan_and_keeps_exclusions_and_filters() {
        let matrix = clustered(3_000);
        let search = approximate_above(1_000);
        let women = matrix.resolve(&AttributeFilter::default().with(FilterField::Gender, "women")).unwrap();
        let excluding = |row: u32| {
            let mut set = RowSet::new(matrix.len());
            set.insert(row);
            set
        };
        let before = search.top_k(&matrix, matrix.row(11), 10, &excluding(11), &women).unwrap();
        assert_eq!(before.1, SearchMethod::Exact, "exact until the graph is built");
        search.build(&matrix, "test").unwrap();
        assert!(search.is_approximate());
        for filter in [ResolvedFilter::default(), women] {
            let mut found = 0;
            // Each query is an item, left out of its own results as a visitor's items are.
            let queries: Vec<u32> = (0..matrix.len() as u32).step_by(30).collect();
            for &row in &queries {
                let exclude = excluding(row);
                let exact = top_k(&matrix, matrix.row(row), 10, &exclude, &filter).unwrap();
                let (approximate, method) = search.top_k(&matrix, matrix.row(row), 10, &exclude, &filter).unwrap();
                assert_eq!(method, SearchMethod::Approximate);
                assert!(approximate.iter().all(|s| s.row != row && matrix.passes(s.row, &filter)));
                assert!(approximate.windows(2).all(|w| w[0].score >= w[1].score), "best first");
                found += approximate.iter().filter(|s| exact.contains(s)).count();
            }
            let recall = found as f64 / (queries.len() * 10) as f64;
            assert!(recall >= 0.95, "recall@10 {recall} on 3,000 clustered rows with {filter:?}");
        }
    }

    #[test]
    fn narrow_filters_and_bad_queries() {
        let matrix = clustered(3_000);
        let search = approximate_above(1_000);
        search.build(&matrix, "test").unwrap();
        let none = RowSet::new(matrix.len());
        // 2% of the rows are teal: the scan of those rows finds them all.
        let teal = matrix.resolve(&AttributeFilter::default().with(FilterField::Colour, "teal")).unwrap();
        let query = matrix.row(5).to_vec();
        let (found, method) = search.top_k(&matrix, &query, 10, &none, &teal).unwrap();
        assert_eq!(method, SearchMethod::Exact);
        assert_eq!(found, top_k(&matrix, &query, 10, &none, &teal).unwrap());
        let everything = ResolvedFilter::default();
        assert!(search.top_k(&matrix, &[f32::NAN; DIM], 3, &none, &everything).is_err(), "NaN is refused");
        assert!(search.top_k(&matrix, &[0.5; 3], 3, &none, &everything).is_err(), "so is the wrong dimension");
    }
}
