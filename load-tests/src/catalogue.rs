//! `tailor-load catalogue`: writes a synthetic shop (the seeded generator the approximate-index
//! benchmark uses) into a data directory as `tailor serve` reads it, the catalogue store and the
//! item vectors, so the service can be load-tested at sizes no real catalogue here has. Without a
//! model the service ranks by these vectors, through the same search as the item-tower matrix.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use tailor_catalog::CatalogStore;
use tailor_testkit::shop;

/// Write a synthetic catalogue and its item vectors into a data directory.
#[derive(clap::Args)]
pub struct Args {
    /// The data directory to fill; it must not hold a catalogue yet.
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    items: usize,
    #[arg(long, default_value_t = 128)]
    dim: usize,
    /// Each item's distance from its style (see the shop generator).
    #[arg(long, default_value_t = 0.6)]
    noise: f32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Items per store transaction.
const BATCH: usize = 50_000;

pub fn run(args: Args) -> anyhow::Result<()> {
    let vectors_path = args.data_dir.join("embeddings/items.safetensors");
    if vectors_path.exists() {
        bail!("{} exists: give an empty data directory", vectors_path.display());
    }
    let started = Instant::now();
    let shop = shop::shop(args.items, args.dim, args.noise, args.seed);
    println!("{} items x {} drawn in {:.1} s", shop.items.len(), args.dim, started.elapsed().as_secs_f64());
    let store = CatalogStore::open(&args.data_dir)
        .with_context(|| format!("opening a catalogue in {}", args.data_dir.display()))?;
    if !store.is_empty()? {
        bail!("{} already holds a catalogue: give an empty data directory", args.data_dir.display());
    }
    for batch in shop.items.chunks(BATCH) {
        store.upsert(batch)?;
    }
    std::fs::create_dir_all(vectors_path.parent().expect("a file in a directory"))?;
    shop.vectors.save(&vectors_path)?;
    println!(
        "wrote the catalogue and {} in {:.1} s; serve it with `tailor --data-dir {} serve`",
        vectors_path.display(),
        started.elapsed().as_secs_f64(),
        args.data_dir.display()
    );
    Ok(())
}
