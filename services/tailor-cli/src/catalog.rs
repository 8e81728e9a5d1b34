//! `tailor ingest` and `tailor catalog ...`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use tailor_catalog::{CatalogStore, SourceFormat};
use tailor_core::{ItemId, Modality};

use tailor_config::Config;

#[derive(Args)]
pub struct IngestArgs {
    /// Layout of the source
    #[arg(long, value_enum)]
    format: FormatArg,
    /// Data file, or for myntra and hm the directory holding styles.csv / articles.csv and images/
    path: PathBuf,
    /// Also publish the new and changed rows (compared with the store) as item events, for a
    /// running system to take in while it serves.
    #[arg(long)]
    publish: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Myntra,
    Hm,
    Generic,
}

impl From<FormatArg> for SourceFormat {
    fn from(format: FormatArg) -> SourceFormat {
        match format {
            FormatArg::Myntra => SourceFormat::Myntra,
            FormatArg::Hm => SourceFormat::Hm,
            FormatArg::Generic => SourceFormat::Generic,
        }
    }
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Counts by modality and category, with the time the store takes to load.
    Stats,
    /// One item as JSON.
    Show { id: String },
}

pub fn ingest(config: &Config, args: IngestArgs) -> anyhow::Result<()> {
    let store = open(config)?;
    let started = Instant::now();
    let report = tailor_catalog::ingest(&args.path, args.format.into(), &store)?;
    for issue in &report.issues {
        eprintln!("{issue}");
    }
    println!("{report}");
    println!(
        "  catalogue {}: {} items, revision {} ({:.2} s)",
        store.path().display(),
        store.len()?,
        store.revision()?,
        started.elapsed().as_secs_f64()
    );
    if args.publish {
        crate::publish::publish(config, &report.changed)?;
    }
    Ok(())
}

pub fn run(config: &Config, command: CatalogCommand) -> anyhow::Result<()> {
    let store = open(config)?;
    match command {
        CatalogCommand::Stats => stats(&store),
        CatalogCommand::Show { id } => {
            let id = ItemId::new(id)?;
            let Some(item) = store.get(&id)? else { bail!("no item {id} in {}", store.path().display()) };
            println!("{}", serde_json::to_string_pretty(&item)?);
            Ok(())
        }
    }
}

fn stats(store: &CatalogStore) -> anyhow::Result<()> {
    let started = Instant::now();
    let items = store.load_all()?;
    let load_time = started.elapsed();
    let mut modalities = BTreeMap::new();
    let mut categories = BTreeMap::new();
    for item in &items {
        let modality = match item.modality() {
            Modality::TextAndImage => "text and image",
            Modality::TextOnly => "text only",
            Modality::ImageOnly => "image only",
        };
        *modalities.entry(modality).or_insert(0) += 1;
        *categories.entry(item.attributes().category.as_deref().unwrap_or("(none)")).or_insert(0) += 1;
    }
    println!("catalogue {} (revision {})", store.path().display(), store.revision()?);
    println!("  {} items loaded in {:.1} ms", items.len(), load_time.as_secs_f64() * 1e3);
    for (modality, count) in modalities {
        println!("  {modality:<16} {count:>8}");
    }
    println!("  by category:");
    for (category, count) in categories {
        println!("    {category:<20} {count:>8}");
    }
    Ok(())
}

fn open(config: &Config) -> anyhow::Result<CatalogStore> {
    CatalogStore::open(&config.data_dir)
        .with_context(|| format!("opening the catalogue in {}", config.data_dir.display()))
}
