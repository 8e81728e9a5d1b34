//! Whatever bytes a shop sends, ingestion accounts for every row and never fails outright.

mod common;

use common::write;
use proptest::prelude::*;
use tailor_catalog::{CatalogStore, IssueOutcome, SourceFormat, ingest};
use tempfile::TempDir;

fn check_accounting(name: &str, content: &[u8]) -> Result<(), TestCaseError> {
    let dir = TempDir::new().unwrap();
    let file = write(dir.path(), name, content);
    let store = CatalogStore::open(&dir.path().join("var")).unwrap();
    let report = ingest(&file, SourceFormat::Generic, &store).unwrap();
    let lines = content.split(|b| *b == b'\n').count() as u64;
    prop_assert_eq!(report.read, report.ingested() + report.rejected);
    prop_assert_eq!(report.ingested(), store.len().unwrap());
    let rejected = report.issues.iter().filter(|i| i.outcome == IssueOutcome::Rejected).count() as u64;
    prop_assert_eq!(rejected, report.rejected);
    for issue in &report.issues {
        prop_assert!((1..=lines).contains(&issue.line), "line {} outside 1..={}", issue.line, lines);
    }
    Ok(())
}

/// Rows built from fragments that exercise quoting, placeholders, bad numbers and bad bytes.
fn csv_body() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        "[a-z0-9]{0,6}".prop_map(String::into_bytes),
        Just(b"NA".to_vec()),
        Just(b"\"quoted, with comma\"".to_vec()),
        Just(b"\"unterminated".to_vec()),
        Just(b"12.5".to_vec()),
        Just(b"-3".to_vec()),
        Just(vec![0xff, 0xfe]),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    let row = prop::collection::vec(cell, 0..7).prop_map(|cells| cells.join(&b","[..]));
    let newline = prop_oneof![Just(b"\n".to_vec()), Just(b"\r\n".to_vec())];
    prop::collection::vec((row, newline), 0..25).prop_map(|rows| {
        rows.into_iter()
            .flat_map(|(mut row, newline)| {
                row.extend(newline);
                row
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn csv_rows_are_all_accounted_for(body in csv_body()) {
        let mut content = b"id,title,price,year,gender,image\n".to_vec();
        content.extend(body);
        check_accounting("shop.csv", &content)?;
    }

    #[test]
    fn json_lines_are_all_accounted_for(
        lines in prop::collection::vec(prop_oneof![
            "\\{\"id\": \"[a-z0-9]{1,4}\", \"title\": \"[a-zA-Z ]{0,12}\"(, \"price\": -?[0-9]{1,3})?\\}",
            "\\{\"id\": [0-9]{1,4}, \"title\": null\\}",
            "[ -~]{0,20}",
        ], 0..20)
    ) {
        check_accounting("shop.jsonl", lines.join("\n").as_bytes())?;
    }
}
