//! `tailor stream run`: the streaming consumer as a process of its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use tailor_config::interactions_source;
use tailor_core::AggregateWeights;
use tailor_stream::{ItemVectors, StreamConsumer, VisitorStates, consume, stop_on_signals};

use tailor_config::Config;

#[derive(Subcommand)]
pub enum StreamCommand {
    /// Consume interaction events into visitor states until stopped (SIGINT, SIGTERM), with
    /// periodic snapshots; a restart resumes from the latest snapshot.
    Run(RunArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// Stop, after a final snapshot, once every partition has been read to its end.
    #[arg(long)]
    until_caught_up: bool,
    /// Fused item vectors to aggregate (overrides `stream.item_vectors`).
    #[arg(long)]
    item_vectors: Option<PathBuf>,
}

pub fn run(config: &Config, command: StreamCommand) -> anyhow::Result<()> {
    let StreamCommand::Run(args) = command;
    let items_path = args.item_vectors.unwrap_or_else(|| config.paths().item_vectors());
    let items = ItemVectors::load(&items_path).with_context(|| {
        format!("loading item vectors from {} (compute them first, or pass --item-vectors)", items_path.display())
    })?;
    if let Some(addr) = config.stream.metrics_addr {
        tailor_config::serve_metrics(addr, &[tailor_stream::metrics::describe])?;
    }
    let states = Arc::new(VisitorStates::with_limits(items.dim(), AggregateWeights::default(), config.stream.limits));
    let snapshot_path = config.snapshot_path();
    let (mut consumer, snapshot) =
        StreamConsumer::start(interactions_source(config)?, states.clone(), Arc::new(items), &snapshot_path)?;
    match snapshot {
        Some(s) => {
            println!("resuming from {}: {} visitors, positions {:?}", snapshot_path.display(), s.visitors, s.positions)
        }
        None => {
            let topic = &config.events.interactions.name;
            println!("no snapshot at {}: reading {topic} from the start", snapshot_path.display())
        }
    }

    let stop = stop_on_signals()?;
    let started = Instant::now();
    let total =
        consume(&mut consumer, &stop, Duration::from_millis(config.stream.snapshot_interval_ms), args.until_caught_up)?;
    let visitors = consumer.states().len();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "applied {}, redelivered {}, resent {}, dead-lettered {} in {seconds:.2} s; {visitors} visitors; positions {:?}",
        total.applied,
        total.redelivered,
        total.resent,
        total.dead_lettered,
        consumer.positions()
    );
    Ok(())
}
