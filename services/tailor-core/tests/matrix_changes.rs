//! A changed copy of a matrix against one built afresh from the same rows: the same ids, values
//! and filter row lists, across block boundaries, with new attribute values, and the original
//! left as it was.

use proptest::prelude::*;
use tailor_core::{Attributes, FilterField, ItemId, ItemMatrix, ItemMatrixBuilder};

const DIM: usize = 2;
/// Two of them only appear in changes, so changes intern new values.
const COLOURS: [Option<&str>; 5] = [None, Some("Black"), Some("White"), Some("Teal"), Some("Rust")];

#[derive(Clone, Debug)]
struct Row {
    id: String,
    colour: Option<&'static str>,
    values: [f32; DIM],
}

fn attributes(row: &Row) -> Attributes {
    Attributes { colour: row.colour.map(str::to_owned), ..Attributes::default() }
}

fn built(rows: &[Row]) -> ItemMatrix {
    let mut builder = ItemMatrixBuilder::new(DIM).unwrap();
    for row in rows {
        builder.push_slice(ItemId::new(row.id.as_str()).unwrap(), &attributes(row), &row.values).unwrap();
    }
    builder.build()
}

/// What a matrix holds, codes aside (they number values in the order they were first seen):
/// each row's id and values, and each colour's rows.
#[derive(Debug, PartialEq)]
struct Contents {
    rows: Vec<(String, Vec<f32>)>,
    rows_by_colour: Vec<(&'static str, Vec<u32>)>,
}

fn contents(matrix: &ItemMatrix) -> Contents {
    let rows = (0..matrix.len() as u32).map(|row| (matrix.id(row).to_string(), matrix.row(row).to_vec())).collect();
    let rows_by_colour = COLOURS
        .iter()
        .flatten()
        .map(|&colour| {
            let code = matrix.code_of(FilterField::Colour, colour);
            (colour, code.map_or(Vec::new(), |code| matrix.rows_with_code(FilterField::Colour, code).to_vec()))
        })
        .collect();
    Contents { rows, rows_by_colour }
}

fn row(id: String) -> impl Strategy<Value = Row> {
    (0..3usize, -4i8..4, -4i8..4).prop_map(move |(colour, a, b)| Row {
        id: id.clone(),
        colour: COLOURS[colour],
        values: [f32::from(a), f32::from(b)],
    })
}

fn change() -> impl Strategy<Value = (usize, Option<&'static str>, Option<[f32; DIM]>)> {
    (any::<usize>(), 0..COLOURS.len(), proptest::option::of((-4i8..4, -4i8..4)))
        .prop_map(|(at, colour, values)| (at, COLOURS[colour], values.map(|(a, b)| [f32::from(a), f32::from(b)])))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_changed_copy_holds_what_a_fresh_build_of_its_rows_holds(
        rows in (1usize..2_600).prop_flat_map(|n| (0..n).map(|i| row(format!("i{i}"))).collect::<Vec<_>>()),
        changes in proptest::collection::vec(change(), 0..40),
        added in (0usize..1_100).prop_flat_map(|n| (0..n).map(|i| row(format!("new{i}"))).collect::<Vec<_>>()),
    ) {
        let original = built(&rows);
        let before = contents(&original);
        let mut expected = rows.clone();
        let mut replaced = Vec::new();
        for (at, colour, values) in changes {
            let at = at % rows.len();
            expected[at].colour = colour;
            if let Some(values) = values {
                expected[at].values = values;
            }
            replaced.push((at as u32, expected[at].clone()));
        }
        let replaced: Vec<(u32, Attributes, Row)> =
            replaced.into_iter().map(|(at, row)| (at, attributes(&row), row)).collect();
        let replaced: Vec<(u32, &Attributes, &[f32])> =
            replaced.iter().map(|(at, attributes, row)| (*at, attributes, &row.values[..])).collect();
        let appended: Vec<(ItemId, Attributes, [f32; DIM])> =
            added.iter().map(|row| (ItemId::new(row.id.as_str()).unwrap(), attributes(row), row.values)).collect();
        let appended: Vec<(ItemId, &Attributes, &[f32])> =
            appended.iter().map(|(id, attributes, values)| (id.clone(), attributes, &values[..])).collect();
        expected.extend(added);

        let changed = original.with_rows(&replaced, &appended).unwrap();
        prop_assert_eq!(contents(&changed), contents(&built(&expected)));
        prop_assert_eq!(contents(&original), before, "the original is unchanged");
        for row in &expected {
            prop_assert!(changed.row_of(&row.id).is_some());
        }
    }
}
