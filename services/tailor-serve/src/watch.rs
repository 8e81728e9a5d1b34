//! A replica's side of the model lifecycle: it follows the models topic, swapping in each
//! version announced and keeping the retrain status the admin route shows.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tailor_models::{ModelNews, RetrainStatus};
use tailor_ranker::Service;

use crate::ServeError;

/// Until `stop`: the status from the topic's history first, then every announcement and retrain
/// event made after start-up (the store's active version is loaded before this starts).
pub fn follow_models(service: &Service, stop: &AtomicBool) -> Result<(), ServeError> {
    let lifecycle = &service.admin.lifecycle;
    let mut feed = lifecycle.follow()?;
    let history = RetrainStatus::from_history(&lifecycle.history()?);
    *service.admin.retrains.lock().expect("the retrain status lock") = history;
    while !stop.load(Ordering::Relaxed) {
        for news in feed.poll(Duration::from_millis(200))? {
            match news {
                ModelNews::Active { version, location } => swap_to(service, version, &location),
                ModelNews::Retrain(retrain) => {
                    service.admin.retrains.lock().expect("the retrain status lock").apply(&retrain)
                }
            }
        }
    }
    Ok(())
}

fn swap_to(service: &Service, version: u64, location: &str) {
    if service.serving().model.as_ref().is_some_and(|m| m.version == version) {
        return;
    }
    let here = service.admin.lifecycle.store().version_dir(version);
    if here.display().to_string() != location {
        // Several model stores would let replicas serve different models under one version.
        eprintln!("model version {version} was announced at {location}; this replica loads {}", here.display());
    }
    match service.load_version(version) {
        Ok(()) => println!("swapped in model version {version}"),
        Err(error) => eprintln!("model version {version} refused, the current one stays: {error}"),
    }
}
