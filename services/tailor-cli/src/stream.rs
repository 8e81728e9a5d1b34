//! `tailor stream run`: the streaming consumer as a process of its own; `tailor stream
//! replay-dead-letters`: dead letters back to their topics after a fix.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use tailor_config::interactions_source;
use tailor_core::AggregateWeights;
use tailor_stream::{
    DeadLetterRange, ItemVectors, StreamConsumer, VisitorStates, consume, replay_dead_letters, stop_on_signals,
};

use tailor_config::Config;

#[derive(Subcommand)]
pub enum StreamCommand {
    /// Consume interaction events into visitor states until stopped (SIGINT, SIGTERM), with
    /// periodic snapshots; a restart resumes from the latest snapshot.
    Run(RunArgs),
    /// Put dead-lettered messages back on the topics they were read from (after a fix, e.g. the
    /// item they named now exists); each is replayed once, however often this runs.
    ReplayDeadLetters(ReplayArgs),
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The first dead-letter offset to replay.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// The offset to stop before [default: the end].
    #[arg(long)]
    to: Option<u64>,
    #[arg(long, default_value_t = 0)]
    partition: u32,
    /// Say what would be replayed, and replay nothing.
    #[arg(long)]
    dry_run: bool,
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
    let args = match command {
        StreamCommand::Run(args) => args,
        StreamCommand::ReplayDeadLetters(args) => return replay(config, args),
    };
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

fn replay(config: &Config, args: ReplayArgs) -> anyhow::Result<()> {
    let log = tailor_config::open_log(config)?;
    let topic = &config.events.dead_letters.name;
    let range = DeadLetterRange { topic, partition: args.partition, from: args.from, to: args.to };
    let outcome = replay_dead_letters(log.as_ref(), &range, args.dry_run)?;
    let verb = if args.dry_run { "would replay" } else { "replayed" };
    for (target, count) in &outcome.replayed {
        println!("{verb} {count} messages onto {target}");
    }
    println!("{} replayed before, left alone", outcome.already);
    for (offset, reason) in &outcome.skipped {
        println!("offset {offset} left where it is: {reason}");
    }
    Ok(())
}
