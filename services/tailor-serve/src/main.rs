//! `tailor-serve`: a ranking replica, with its streaming consumer, and no libtorch. Free-text
//! queries go to the embedder process at `serve.text_encoder_url`; retraining is the trainer
//! process's (`tailor train --watch`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tailor_config::{Config, Overrides};
use tailor_ranker::RemoteTextEncoder;
use tailor_serve::Roles;

#[derive(Parser)]
#[command(
    name = "tailor-serve",
    version,
    about = "Tailor's ranking replica: recommendations and event intake over HTTP"
)]
struct Cli {
    /// TOML configuration file [default: ./tailor.toml when present]
    #[arg(long, env = "TAILOR_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory for the catalogue store and derived data [default: ./var]
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref(), Overrides { data_dir: cli.data_dir })?;
    let timeout = Duration::from_millis(config.serve.text_encoder_timeout_ms);
    let text_query = config.serve.text_encoder_url.as_deref().map(|url| {
        println!("free-text queries go to the text encoder at {url}");
        Box::new(RemoteTextEncoder::new(url, timeout)) as Box<dyn tailor_core::TextQuery>
    });
    tailor_serve::run(&config, Roles { text_query, trainer: None, embedder: None })?;
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
