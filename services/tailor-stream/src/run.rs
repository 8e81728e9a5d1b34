//! The consume loop every process that keeps visitor states runs: events applied until a stop
//! flag is set (SIGINT or SIGTERM, or the owner's own reasons), snapshots on a thread of their
//! own at a fixed interval, and a final one on the way out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::{BatchSummary, StreamConsumer, StreamError};

const POLL_BATCH: usize = 4096;
const POLL_TIMEOUT: Duration = Duration::from_millis(100);
const LAG_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// A flag that SIGINT or SIGTERM sets.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>, StreamError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).map_err(StreamError::io("installing signal handlers"))?;
    }
    Ok(stop)
}

/// Applies events until `stop` is set (or, with `until_caught_up`, until every partition has been
/// read to its end), with snapshots every `interval` on another thread, then a final one.
pub fn consume(
    consumer: &mut StreamConsumer,
    stop: &AtomicBool,
    interval: Duration,
    until_caught_up: bool,
) -> Result<BatchSummary, StreamError> {
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
) -> thread::JoinHandle<Result<(), StreamError>> {
    let snapshotter = consumer.snapshotter();
    thread::spawn(move || {
        let mut last = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(interval.min(Duration::from_millis(50)));
            if last.elapsed() >= interval {
                snapshotter.write()?;
                last = Instant::now();
            }
        }
        Ok(())
    })
}
