//! Any bytes as a generic CSV or JSON Lines export: every row is ingested or rejected, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_catalog::{CatalogStore, SourceFormat, ingest};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else { return };
    let dir = tempfile::tempdir().unwrap();
    let name = if selector % 2 == 0 { "shop.csv" } else { "shop.jsonl" };
    let file = dir.path().join(name);
    std::fs::write(&file, content).unwrap();
    let store = CatalogStore::open(&dir.path().join("var")).unwrap();
    let report = ingest(&file, SourceFormat::Generic, &store).unwrap_or_else(|_| Default::default());
    assert_eq!(report.read, report.ingested() + report.rejected);
});
