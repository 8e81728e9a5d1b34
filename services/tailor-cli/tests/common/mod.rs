//! A small shop for the CLI tests: a generic CSV export next to the fixture photos of
//! `tailor-embed` (synthetic images; no catalogue data is committed).

use std::fs;
use std::path::{Path, PathBuf};

/// Writes `shop/shop.csv` under `dir` with `header` and `rows`, and `shop/images/{portrait,
/// landscape,square}.png` for rows to refer to; returns the CSV's path.
pub fn write_shop(dir: &Path, header: &str, rows: &[&str]) -> PathBuf {
    let shop = dir.join("shop");
    fs::create_dir_all(shop.join("images")).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tailor-embed/fixtures/images");
    for name in ["portrait", "landscape", "square"] {
        fs::copy(fixtures.join(format!("{name}.png")), shop.join(format!("images/{name}.png"))).unwrap();
    }
    let csv = shop.join("shop.csv");
    fs::write(&csv, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    csv
}
