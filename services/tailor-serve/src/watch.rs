//! What keeps a replica's model current: the watcher that swaps in each version announced on the
//! models topic, and, where this process trains, the schedule that starts retrains.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tailor_events::Event;
use tailor_log::EventLog;
use tailor_models::{ModelStore, RetrainSchedule};
use tailor_ranker::{RetrainRefused, RetrainStatus, Retrainer, Service};

use crate::ServeError;

/// How often the schedule is checked.
pub const SCHEDULE_CHECK: Duration = Duration::from_secs(5);

/// Swaps in each version announced on `topic`, from announcements made after start-up (the
/// store's active version is loaded before this starts).
pub fn watch_models(service: &Service, log: &dyn EventLog, topic: &str, stop: &AtomicBool) -> Result<(), ServeError> {
    let mut reader = log.reader(topic, &log.end_offsets(topic)?)?;
    while !stop.load(Ordering::Relaxed) {
        for record in reader.poll(16, Duration::from_millis(200))? {
            let version = match service.intake.wire.decode(&record.message.payload) {
                Ok(Event::ModelPublished(published)) => published.version as u64,
                Ok(_) | Err(_) => {
                    eprintln!(
                        "{topic}: skipping a message that is not a model-published event at offset {}",
                        record.offset
                    );
                    continue;
                }
            };
            if service.model.load().as_ref().is_some_and(|m| m.version == version) {
                continue;
            }
            match service.load_version(version) {
                Ok(()) => println!("swapped in model version {version}"),
                Err(error) => eprintln!("model version {version} refused, the current one stays: {error}"),
            }
        }
    }
    Ok(())
}

/// Starts a retrain whenever `schedule` says so; `interactions` is the topic it counts events on.
pub fn schedule_retrains(
    schedule: &RetrainSchedule,
    store: &ModelStore,
    log: &dyn EventLog,
    interactions: &str,
    retrainer: &dyn Retrainer,
    stop: &AtomicBool,
) {
    let mut last_check = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(200));
        if last_check.elapsed() < SCHEDULE_CHECK {
            continue;
        }
        last_check = Instant::now();
        let due = log
            .end_offsets(interactions)
            .map_err(|e| e.to_string())
            .and_then(|ends| schedule.due(store, &ends, tailor_log::now_ms()).map_err(|e| e.to_string()));
        match due {
            Ok(true) => match retrainer.start() {
                Ok(()) => println!("scheduled retrain started"),
                Err(RetrainRefused::AlreadyRunning) => {}
                Err(RetrainRefused::CannotStart(reason)) => eprintln!("cannot start a retrain: {reason}"),
            },
            Ok(false) => {}
            Err(error) => eprintln!("cannot check the retrain schedule: {error}"),
        }
    }
}

/// A replica that does not train: the trainer process (`tailor train --watch`) does.
pub(crate) struct ElsewhereTrainer;

impl Retrainer for ElsewhereTrainer {
    fn start(&self) -> Result<(), RetrainRefused> {
        Err(RetrainRefused::CannotStart(
            "this replica does not train; the trainer process (`tailor train --watch`) does".to_owned(),
        ))
    }

    fn status(&self) -> RetrainStatus {
        RetrainStatus::default()
    }
}
