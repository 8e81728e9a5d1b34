//! Exact top-K against a naive reference: score every row, filter, sort, truncate.

use proptest::prelude::*;
use tailor_core::{
    AttributeFilter, Attributes, CoreError, Embedding, FilterField, Gender, ItemId, ItemMatrix, ItemMatrixBuilder,
    RowSet, Scored, top_k, vector::dot,
};

const COLOURS: [&str; 3] = ["Black", "White", "Navy Blue"];

#[derive(Debug)]
struct Row {
    values: Vec<f32>,
    gender: usize,
    colour: usize,
}

fn matrix(dim: usize, rows: &[Row]) -> ItemMatrix {
    let mut builder = ItemMatrixBuilder::new(dim).unwrap();
    for (i, row) in rows.iter().enumerate() {
        let attributes = Attributes {
            gender: Some(Gender::ALL[row.gender]),
            colour: Some(COLOURS[row.colour].to_owned()),
            ..Attributes::default()
        };
        let embedding = Embedding::new(row.values.clone(), dim).unwrap();
        builder.push(ItemId::new(format!("item-{i}")).unwrap(), &attributes, &embedding).unwrap();
    }
    builder.build()
}

fn naive(
    matrix: &ItemMatrix,
    rows: &[Row],
    query: &[f32],
    k: usize,
    excluded: &[u32],
    colour: Option<usize>,
) -> Vec<Scored> {
    let mut all: Vec<Scored> = (0..matrix.len() as u32)
        .filter(|r| !excluded.contains(r))
        .filter(|&r| colour.is_none_or(|c| rows[r as usize].colour == c))
        .map(|row| Scored { row, score: dot(query, matrix.row(row)) })
        .collect();
    all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
    all.truncate(k);
    all
}

fn case() -> impl Strategy<Value = (usize, Vec<Row>, Vec<f32>, usize, Vec<u32>, Option<usize>)> {
    (1usize..24, 1usize..120).prop_flat_map(|(dim, n)| {
        let row = (prop::collection::vec(-1.0f32..1.0, dim), 0..Gender::ALL.len(), 0..COLOURS.len())
            .prop_filter("non-zero", |(v, _, _)| v.iter().any(|x| x.abs() > 1e-3))
            .prop_map(|(values, gender, colour)| Row { values, gender, colour });
        (
            Just(dim),
            prop::collection::vec(row, n),
            prop::collection::vec(-1.0f32..1.0, dim),
            0usize..30,
            prop::collection::vec(0..n as u32, 0..10),
            prop::option::of(0..COLOURS.len()),
        )
    })
}

proptest! {
    #[test]
    fn matches_naive_reference((dim, rows, query, k, excluded, colour) in case()) {
        let matrix = matrix(dim, &rows);
        let mut exclude = RowSet::new(matrix.len());
        excluded.iter().for_each(|&r| exclude.insert(r));
        let mut filter = AttributeFilter::default();
        if let Some(c) = colour {
            filter = filter.with(FilterField::Colour, COLOURS[c].to_lowercase());
        }
        let expected = naive(&matrix, &rows, &query, k, &excluded, colour);
        match matrix.resolve(&filter) {
            Ok(resolved) => prop_assert_eq!(top_k(&matrix, &query, k, &exclude, &resolved).unwrap(), expected),
            // A colour that no row has: the reference finds nothing either.
            Err(CoreError::UnknownAttributeValue { .. }) => prop_assert!(expected.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

#[test]
fn finds_the_nearest_item_and_honours_exclusions_and_filters() {
    let rows = vec![
        Row { values: vec![1.0, 0.0], gender: 0, colour: 0 },
        Row { values: vec![0.8, 0.2], gender: 1, colour: 1 },
        Row { values: vec![0.0, 1.0], gender: 0, colour: 1 },
    ];
    let m = matrix(2, &rows);
    let none = m.resolve(&AttributeFilter::default()).unwrap();
    let all = top_k(&m, &[1.0, 0.0], 3, &RowSet::new(3), &none).unwrap();
    assert_eq!(all.iter().map(|s| s.row).collect::<Vec<_>>(), vec![0, 1, 2]);

    let excluded = m.rows_of([&ItemId::new("item-0").unwrap()]);
    let rest = top_k(&m, &[1.0, 0.0], 1, &excluded, &none).unwrap();
    assert_eq!(rest[0].row, 1);

    let men = m.resolve(&AttributeFilter::default().with(FilterField::Gender, "men")).unwrap();
    let filtered = top_k(&m, &[0.8, 0.2], 3, &RowSet::new(3), &men).unwrap();
    assert_eq!(filtered.iter().map(|s| s.row).collect::<Vec<_>>(), vec![0, 2]);
}

#[test]
fn refuses_bad_queries() {
    let m = matrix(2, &[Row { values: vec![1.0, 0.0], gender: 0, colour: 0 }]);
    let none = m.resolve(&AttributeFilter::default()).unwrap();
    assert_eq!(
        top_k(&m, &[1.0], 1, &RowSet::new(1), &none),
        Err(CoreError::DimensionMismatch { expected: 2, found: 1 })
    );
    assert!(matches!(
        top_k(&m, &[f32::NAN, 0.0], 1, &RowSet::new(1), &none),
        Err(CoreError::NonFiniteComponent { index: 0, .. })
    ));
}
