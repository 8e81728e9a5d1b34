//! Retraining next to a running service. The service retrains on a thread of its own (so
//! requests never wait on it), at most one at a time, when the admin route or the schedule
//! (`train.every_ms`, `train.after_events`) asks. With the embedded log, which one process owns,
//! `tailor train` run beside the service asks the service to retrain instead.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use tailor_log::EventLog;
use tailor_models::ModelStore;
use tailor_ranker::{RetrainRefused, RetrainStatus, Retrainer};

use crate::config::Config;
use crate::train::train_once;

pub struct InProcessRetrainer {
    config: Config,
    log: Arc<dyn EventLog>,
    status: Arc<Mutex<RetrainStatus>>,
}

impl InProcessRetrainer {
    pub fn new(config: &Config, log: Arc<dyn EventLog>) -> InProcessRetrainer {
        InProcessRetrainer { config: config.clone(), log, status: Arc::default() }
    }
}

impl Retrainer for InProcessRetrainer {
    fn start(&self) -> Result<(), RetrainRefused> {
        let mut status = self.status.lock().expect("retrain status lock");
        if status.running {
            return Err(RetrainRefused::AlreadyRunning);
        }
        let (config, log, shared) = (self.config.clone(), self.log.clone(), self.status.clone());
        let spawned = thread::Builder::new().name("retrain".into()).spawn(move || {
            let outcome = train_once(&config, log.as_ref(), config.train.model.item_attributes);
            let mut status = shared.lock().expect("retrain status lock");
            status.running = false;
            match outcome {
                Ok(manifest) => (status.last_version, status.last_error) = (Some(manifest.version), None),
                Err(error) => {
                    eprintln!("retraining failed (the active model stays): {error:#}");
                    status.last_error = Some(format!("{error:#}"));
                }
            }
        });
        spawned.map_err(|e| RetrainRefused::CannotStart(e.to_string()))?;
        status.running = true;
        Ok(())
    }

    fn status(&self) -> RetrainStatus {
        self.status.lock().expect("retrain status lock").clone()
    }
}

/// Whether the schedule calls for a retrain: no model yet, the active one older than
/// `train.every_ms`, or `train.after_events` new events since its data window.
pub fn retrain_due(config: &Config, store: &ModelStore, log: &dyn EventLog) -> anyhow::Result<bool> {
    let Some(version) = store.active()? else { return Ok(true) };
    let manifest = store.manifest(version)?;
    let age = tailor_log::now_ms() - manifest.created_at_ms;
    let ends = log.end_offsets(&config.events.interactions.name)?;
    let new_events: u64 = ends
        .iter()
        .enumerate()
        .map(|(p, end)| end.saturating_sub(*manifest.data.end_offsets.get(&(p as u32)).unwrap_or(&0)))
        .sum();
    let train = &config.train;
    Ok(train.every_ms.is_some_and(|every| age >= every as i64)
        || train.after_events.is_some_and(|after| new_events >= after))
}

/// How long `tailor train` waits for the running service's retrain to publish.
const DELEGATED_TIMEOUT: Duration = Duration::from_secs(600);

/// An admin route of the service at `serve.addr` (`route` after `/v1/admin/`) and the
/// `Authorization` value its token makes: how a command reaches a running service that holds
/// the embedded log.
pub fn admin_route(config: &Config, route: &str) -> anyhow::Result<(String, String)> {
    let token = config.serve.admin_token.as_deref().context(
        "the embedded log is held by a running `tailor serve`; set serve.admin_token (TAILOR_SERVE__ADMIN_TOKEN) \
         for both, and this command goes through the service",
    )?;
    Ok((format!("http://{}/v1/admin/{route}", config.serve.addr), format!("Bearer {token}")))
}

/// Asks the service at `serve.addr` to retrain, waits for the run to end, and returns the version
/// it published.
pub fn delegate_to_service(config: &Config) -> anyhow::Result<u64> {
    let (url, bearer) = admin_route(config, "retrain")?;
    println!("the embedded log is held by the running service; asking it to retrain ({url})");
    match ureq::post(&url).header("Authorization", &bearer).send_empty() {
        Ok(_) | Err(ureq::Error::StatusCode(409)) => {}
        Err(error) => return Err(error).with_context(|| format!("asking {url} to retrain")),
    }
    let started = Instant::now();
    while started.elapsed() < DELEGATED_TIMEOUT {
        thread::sleep(Duration::from_millis(500));
        let status: serde_json::Value = ureq::get(&url)
            .header("Authorization", &bearer)
            .call()
            .and_then(|mut response| response.body_mut().read_json())
            .with_context(|| format!("asking {url} how the retrain goes"))?;
        if status["running"] == false {
            if let Some(error) = status["last_error"].as_str() {
                anyhow::bail!("the service's retrain failed: {error}");
            }
            return status["last_version"].as_u64().context("the service reports no published version");
        }
    }
    anyhow::bail!("the retrain did not finish within {} s; see the service's log", DELEGATED_TIMEOUT.as_secs())
}
