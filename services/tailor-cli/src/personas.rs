//! `tailor personas generate`: synthetic shoppers' ratings and interactions, appended to the
//! interactions topic like any other events.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use tailor_catalog::CatalogStore;
use tailor_events::Event;
use tailor_log::Message;
use tailor_personas::{CatalogueItem, DEFAULT_PERSONAS, GenerateOptions, LlmConfig, LlmRater, PersonaFile, generate};
use tailor_stream::ItemVectors;

use tailor_config::Config;
use tailor_config::{open_log, wire_format};
use tailor_embed::FreeTextEncoder;

#[derive(Subcommand)]
pub enum PersonasCommand {
    /// Create synthetic users per persona and append their ratings and interactions to the log.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// How many users, spread evenly over the personas.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Each user rates between half and one and a half times this many items.
    #[arg(long, default_value_t = 100)]
    ratings_per_user: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// A persona file [default: the one shipped with Tailor].
    #[arg(long)]
    file: Option<PathBuf>,
    /// Ask an OpenAI-compatible chat endpoint (a local vLLM or Ollama serving Mistral, e.g.
    /// http://127.0.0.1:11434/v1) for each persona's ratings instead of the attribute and
    /// embedding score; answers are cached in DATA_DIR/personas/llm-ratings.jsonl.
    #[arg(long)]
    llm_endpoint: Option<String>,
    #[arg(long, default_value = "mistral")]
    llm_model: String,
    #[arg(long, env = "TAILOR_LLM_API_KEY", hide_env_values = true)]
    llm_api_key: Option<String>,
    #[arg(long, default_value_t = 30_000)]
    llm_timeout_ms: u64,
    /// Tries per rating, the first included; waits double from 500 ms between them.
    #[arg(long, default_value_t = 4)]
    llm_attempts: u32,
}

const APPEND_BATCH: usize = 10_000;

pub fn run(config: &Config, command: PersonasCommand) -> anyhow::Result<()> {
    let PersonasCommand::Generate(args) = command;
    let started = Instant::now();
    let text = match &args.file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        None => DEFAULT_PERSONAS.to_owned(),
    };
    let file = PersonaFile::parse(&text).with_context(|| {
        format!("in {}", args.file.as_ref().map_or("the shipped personas".into(), |p| p.display().to_string()))
    })?;
    let store = CatalogStore::open(&config.data_dir)
        .with_context(|| format!("opening the catalogue in {}", config.data_dir.display()))?;
    let items = store.load_all()?;
    let vectors_path = config.paths().item_vectors();
    let vectors = ItemVectors::load(&vectors_path)
        .with_context(|| format!("loading item vectors from {} (run `tailor embed` first)", vectors_path.display()))?;
    let catalogue: Vec<CatalogueItem<'_>> = items
        .iter()
        .filter_map(|item| {
            let vector = vectors.get(item.id().as_str())?;
            Some(CatalogueItem { id: item.id(), title: item.title(), attributes: item.attributes(), vector })
        })
        .collect();
    let descriptions: Vec<&str> = file.personas.iter().map(|p| p.description.as_str()).collect();
    let encoder =
        FreeTextEncoder::load(&config.paths().joint_space(), config.embed.models_dir.as_deref(), config.embed.dim)?;
    let description_vectors = encoder.embed(&descriptions)?;
    let options = GenerateOptions {
        users: args.users,
        ratings_per_user: args.ratings_per_user,
        seed: args.seed,
        now_ms: tailor_log::now_ms(),
    };
    let mut llm = match &args.llm_endpoint {
        Some(endpoint) => {
            let llm_config = LlmConfig {
                endpoint: endpoint.clone(),
                model: args.llm_model.clone(),
                api_key: args.llm_api_key.clone(),
                timeout: Duration::from_millis(args.llm_timeout_ms),
                attempts: args.llm_attempts,
                backoff: Duration::from_millis(500),
            };
            Some(LlmRater::new(llm_config, &config.paths().llm_ratings())?)
        }
        None => None,
    };
    let generated = generate(&file.personas, &description_vectors, &catalogue, &options, llm.as_mut())?;
    if let Some(llm) = &llm {
        let c = &llm.counts;
        println!(
            "LLM rater: {} requests ({} retries, {} malformed answers), {} ratings from the cache, {} clipped to 1-10",
            c.requests, c.retries, c.malformed, c.cached, c.clipped
        );
    }

    let log = open_log(config)?;
    let wire = wire_format(config);
    let topic = &config.events.interactions.name;
    for chunk in generated.events.chunks(APPEND_BATCH) {
        let messages = chunk
            .iter()
            .map(|event| {
                Ok(Message::new(event.subject.clone().into_bytes(), wire.encode(&Event::Interaction(event.clone()))?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        log.append(topic, messages).with_context(|| format!("appending persona events to {topic}"))?;
    }
    let summary = &generated.summary;
    println!("persona file version {}: {} users over {} catalogue items", file.version, args.users, catalogue.len());
    for (name, users) in &summary.users {
        println!("  {name:<12} {users} users");
    }
    let mean = summary.histogram.iter().enumerate().map(|(i, n)| (i + 1) * n).sum::<usize>() as f64
        / summary.ratings.max(1) as f64;
    println!(
        "{} ratings (mean {mean:.2}; by value 1-10: {:?}), {} likes, {} dislikes; clipped {} below 1 and {} above 10",
        summary.ratings, summary.histogram, summary.likes, summary.dislikes, summary.clipped_low, summary.clipped_high
    );
    println!("appended {} events to {topic} in {:.1} s", generated.events.len(), started.elapsed().as_secs_f64());
    Ok(())
}
