//! Exact top-10 over item matrices the size of the Myntra photo set (6,000) and of a large shop
//! (100,000), 128-d, with and without an attribute filter.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::{
    AttributeFilter, Attributes, Embedding, FilterField, Gender, ItemId, ItemMatrix, ItemMatrixBuilder, RowSet, top_k,
};

const DIM: usize = 128;

fn random_embedding(rng: &mut StdRng) -> Embedding {
    Embedding::new((0..DIM).map(|_| rng.random_range(-1.0..1.0)).collect(), DIM).unwrap()
}

fn random_matrix(rows: usize, rng: &mut StdRng) -> ItemMatrix {
    let mut builder = ItemMatrixBuilder::new(DIM).unwrap();
    for i in 0..rows {
        let attributes = Attributes { gender: Some(Gender::ALL[i % Gender::ALL.len()]), ..Attributes::default() };
        builder.push(ItemId::new(format!("item-{i}")).unwrap(), &attributes, &random_embedding(rng)).unwrap();
    }
    builder.build()
}

fn bench_top_k(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut group = c.benchmark_group("top10");
    for rows in [6_000, 100_000] {
        let matrix = random_matrix(rows, &mut rng);
        let query = random_embedding(&mut rng);
        let mut exclude = RowSet::new(rows);
        (0..3).for_each(|r| exclude.insert(r));
        let unfiltered = matrix.resolve(&AttributeFilter::default()).unwrap();
        let women = matrix.resolve(&AttributeFilter::default().with(FilterField::Gender, "women")).unwrap();
        group.bench_function(BenchmarkId::new("exact", format!("{rows}x{DIM}")), |b| {
            b.iter(|| top_k(&matrix, query.as_slice(), 10, &exclude, &unfiltered).unwrap())
        });
        group.bench_function(BenchmarkId::new("exact_gender_filter", format!("{rows}x{DIM}")), |b| {
            b.iter(|| top_k(&matrix, query.as_slice(), 10, &exclude, &women).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_top_k);
criterion_main!(benches);
