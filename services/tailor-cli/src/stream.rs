//! `tailor stream run`: the streaming consumer as a process of its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use tailor_core::AggregateWeights;
use tailor_stream::{BatchSummary, ItemVectors, StreamConsumer, VisitorStates};

use crate::config::Config;
use crate::events::interactions_source;

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

const POLL_BATCH: usize = 4096;
const POLL_TIMEOUT: Duration = Duration::from_millis(100);
const LAG_REPORT_INTERVAL: Duration = Duration::from_secs(1);

pub fn run(config: &Config, command: StreamCommand) -> anyhow::Result<()> {
    let StreamCommand::Run(args) = command;
    let items_path = args.item_vectors.unwrap_or_else(|| config.item_vectors_path());
    let items = ItemVectors::load(&items_path).with_context(|| {
        format!("loading item vectors from {} (compute them first, or pass --item-vectors)", items_path.display())
    })?;
    if let Some(addr) = config.stream.metrics_addr {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .with_context(|| format!("serving metrics on {addr}"))?;
        tailor_stream::metrics::describe();
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

/// A flag that SIGINT or SIGTERM sets.
pub fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handlers")?;
    }
    Ok(stop)
}

/// Applies events until `stop` is set (or, with `until_caught_up`, until every partition has been
/// read to its end), with snapshots every `interval` on another thread, then a final one.
pub fn consume(
    consumer: &mut StreamConsumer,
    stop: &Arc<AtomicBool>,
    interval: Duration,
    until_caught_up: bool,
) -> anyhow::Result<BatchSummary> {
    let stop_snapshots = Arc::new(AtomicBool::new(false));
    let snapshots = spawn_snapshots(consumer, stop_snapshots.clone(), interval);
    let mut total = BatchSummary::default();
    let mut last_lag_report = Instant::now();
    let polled = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        let batch = match consumer.poll(POLL_BATCH, POLL_TIMEOUT) {
            Ok(batch) => batch,
            Err(error) => break Err(error),
        };
        total += batch;
        let idle = batch.records() == 0;
        if idle || last_lag_report.elapsed() >= LAG_REPORT_INTERVAL {
            last_lag_report = Instant::now();
            // Reading the partition ends fails while a broker is away; consuming goes on.
            match consumer.report_lag() {
                Ok(0) if idle && until_caught_up => break Ok(()),
                Ok(_) => {}
                Err(e) => eprintln!("warning: cannot measure lag: {e}"),
            }
        }
    };
    // The snapshots stop either way; what was applied before an error is kept.
    stop_snapshots.store(true, Ordering::Relaxed);
    snapshots.join().expect("the snapshot thread does not panic")?;
    consumer.snapshotter().write()?;
    polled?;
    Ok(total)
}

fn spawn_snapshots(
    consumer: &StreamConsumer,
    stop: Arc<AtomicBool>,
    interval: Duration,
) -> thread::JoinHandle<anyhow::Result<()>> {
    let snapshotter = consumer.snapshotter();
    thread::spawn(move || {
        let mut last = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(interval.min(Duration::from_millis(50)));
            if last.elapsed() >= interval {
                snapshotter.write().context("writing a snapshot")?;
                last = Instant::now();
            }
        }
        Ok(())
    })
}
