//! `tailor`: the one command that drives Tailor's pipeline.

mod catalog;
mod embed;
mod log;
mod models;
mod personas;
mod progress;
mod publish;
mod report;
mod retrain;
mod serve;
mod stream;
mod text_encoder;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use tailor_config::{Config, Overrides};

#[derive(Parser)]
#[command(name = "tailor", version, about = "Tailor: a streaming, multimodal fashion recommender")]
struct Cli {
    /// TOML configuration file [default: ./tailor.toml when present]
    #[arg(long, global = true, env = "TAILOR_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory for the catalogue store and derived data [default: ./var]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the configuration in effect (defaults, file, TAILOR_* variables, flags) as TOML,
    /// secrets redacted.
    Config,
    /// Ingest a catalogue file into the store; bad rows are reported, good rows kept.
    Ingest(catalog::IngestArgs),
    /// Inspect the ingested catalogue.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Compute item vectors for the catalogue (photos and texts, one joint space).
    Embed(embed::EmbedArgs),
    /// Synthetic shoppers: ratings and interactions from personas, into the event log.
    #[command(subcommand)]
    Personas(personas::PersonasCommand),
    /// Train the Two-Tower model on the event log and publish it as the next model version.
    Train(train::TrainArgs),
    /// Offline cold-start evaluation of a model version against random, popularity and
    /// content-only baselines.
    Eval(train::EvalArgs),
    /// The model store: list versions, activate one, roll back.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Serve recommendations and take events over HTTP, with the streaming consumer in process.
    Serve,
    /// Answer serving replicas' free-text queries (`serve.text_encoder_url`) with the encoder
    /// over `tailor embed`'s joint space, at `embed.text_encoder_addr`.
    TextEncoder,
    /// The streaming consumer that keeps visitor states up to date.
    #[command(subcommand)]
    Stream(stream::StreamCommand),
    /// The embedded event log: check it for damage, repair what a crash or a bad disk left.
    #[command(subcommand)]
    Log(log::LogCommand),
}

/// `tailor config`: the configuration in effect, secrets replaced by a marker.
fn print_config(config: &Config) -> anyhow::Result<()> {
    print!("{}", toml::to_string(&config.redacted())?);
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = Config::load(cli.config.as_deref(), Overrides { data_dir: cli.data_dir });
    let result = loaded.map_err(anyhow::Error::from).and_then(|config| match cli.command {
        Command::Config => print_config(&config),
        Command::Ingest(args) => catalog::ingest(&config, args),
        Command::Catalog(command) => catalog::run(&config, command),
        Command::Embed(args) => embed::run(&config, args),
        Command::Personas(command) => personas::run(&config, command),
        Command::Train(args) => train::run(&config, args),
        Command::Eval(args) => train::eval(&config, args),
        Command::Models(command) => models::run(&config, command),
        Command::Serve => serve::run(&config),
        Command::TextEncoder => text_encoder::run(&config),
        Command::Stream(command) => stream::run(&config, command),
        Command::Log(command) => log::run(&config, command),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
