//! A small shop for the CLI tests: a generic CSV export next to the fixture photos of
//! `tailor-embed` (synthetic images; no catalogue data is committed).

#![allow(dead_code, reason = "each test file uses its part of these helpers")]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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

/// Starts `tailor serve` (`command`, with its data directory set) on a free port and returns it
/// with its base URL; its further output is drained so it never blocks.
pub fn start_server(mut command: Command) -> (Child, String) {
    let mut server =
        command.arg("serve").env("TAILOR_SERVE__ADDR", "127.0.0.1:0").stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (server, base)
}
