//! One model lifecycle for every process. A trained model is published as the next version; a
//! version is activated or rolled back to only after it loads and the caller's check accepts it;
//! each change is announced on the models topic, where every replica follows it. A retrain is
//! asked for with an event on the same topic (by any replica's admin route), and the trainer
//! process acts on it and reports how it went there too, so any replica can tell its status.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tailor_events::{Event, ModelPublished, Retrain, RetrainState, WireFormat};
use tailor_log::{EventLog, LogReader, Message, now_ms, read_to_end};

use crate::{LoadedModel, Manifest, ModelError, ModelStore, PublishedModel};

/// Which version to make active.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Version(u64),
    /// The one active before the current one that still loads.
    Previous,
}

/// What the models topic said.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelNews {
    /// `version` became the active one; `location` is its directory in the announcing process's
    /// model store.
    Active {
        version: u64,
        location: String,
    },
    Retrain(Retrain),
}

pub struct ModelLifecycle {
    store: ModelStore,
    log: Arc<dyn EventLog>,
    wire: Arc<dyn WireFormat>,
    topic: String,
}

/// Reading the topic's history stops when it makes no progress for this long before its end.
const HISTORY_STALL: Duration = Duration::from_secs(10);

impl ModelLifecycle {
    pub fn new(store: ModelStore, log: Arc<dyn EventLog>, wire: Arc<dyn WireFormat>, topic: &str) -> ModelLifecycle {
        ModelLifecycle { store, log, wire, topic: topic.to_owned() }
    }

    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// Writes a trained model as the next version, makes it active and announces it.
    pub fn publish(&self, model: PublishedModel) -> Result<Manifest, ModelError> {
        let manifest = self.store.publish(model)?;
        self.announce(&manifest)?;
        Ok(manifest)
    }

    /// Makes `target` the active version once it loads and `fits` (the caller's check against
    /// what it serves) accepts it, then announces it; returns its manifest and what `fits` made of
    /// it. A refused version leaves the active one where it was.
    pub fn activate<T>(
        &self,
        target: Target,
        fits: impl FnOnce(LoadedModel) -> Result<T, String>,
    ) -> Result<(Manifest, T), ModelError> {
        let version = match target {
            Target::Version(version) => version,
            Target::Previous => self.store.rollback_target()?,
        };
        let loaded = self.store.load(version)?;
        let manifest = loaded.manifest.clone();
        let fitted = fits(loaded).map_err(|reason| ModelError::Refused { version, reason })?;
        match target {
            Target::Version(_) => self.store.activate(version)?,
            Target::Previous => self.store.rollback_to(version)?,
        };
        self.announce(&manifest)?;
        Ok((manifest, fitted))
    }

    fn announce(&self, manifest: &Manifest) -> Result<(), ModelError> {
        let version = manifest.version;
        self.append(Event::ModelPublished(ModelPublished {
            version: version as i64,
            parent: manifest.parent.map(|p| p as i64),
            location: self.store.version_dir(version).display().to_string(),
            metrics: manifest.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            created_at_ms: manifest.created_at_ms,
        }))
    }

    /// Asks the trainer process for a retrain; `detail` says who asked. Returns the request's id.
    pub fn request_retrain(&self, detail: &str) -> Result<String, ModelError> {
        static REQUESTS: AtomicU64 = AtomicU64::new(0);
        let sequence = REQUESTS.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("retrain-{}-{}-{sequence}", now_ms(), std::process::id());
        self.report(&request_id, RetrainState::Requested, None, Some(detail.to_owned()))?;
        Ok(request_id)
    }

    /// How the retrain `request_id` stands now, for every replica to see.
    pub fn report(
        &self,
        request_id: &str,
        state: RetrainState,
        version: Option<u64>,
        detail: Option<String>,
    ) -> Result<(), ModelError> {
        let version = version.map(|v| v as i64);
        self.append(Event::Retrain(Retrain {
            request_id: request_id.to_owned(),
            state,
            version,
            detail,
            at_ms: now_ms(),
        }))
    }

    fn append(&self, event: Event) -> Result<(), ModelError> {
        let key = match &event {
            Event::Retrain(retrain) => retrain.request_id.clone().into_bytes(),
            _ => b"model".to_vec(),
        };
        let payload = self.wire.encode(&event)?;
        self.log.append(&self.topic, vec![Message::new(key, payload)])?;
        Ok(())
    }

    /// Everything the topic holds now, oldest first.
    pub fn history(&self) -> Result<Vec<ModelNews>, ModelError> {
        let mut news = Vec::new();
        let read = read_to_end(self.log.as_ref(), &self.topic, HISTORY_STALL, &mut |record| {
            news.extend(self.news(&record.message.payload, record.offset))
        })?;
        if !read.complete() {
            // Retention may have removed the last records; what was read is what there is.
            eprintln!("{}: read up to offsets {:?} of {:?}; nothing more arrived", self.topic, read.reached, read.ends);
        }
        Ok(news)
    }

    /// What is appended to the topic from now on.
    pub fn follow(&self) -> Result<ModelFeed<'_>, ModelError> {
        let reader = self.log.reader(&self.topic, &self.log.end_offsets(&self.topic)?)?;
        Ok(ModelFeed { lifecycle: self, reader })
    }

    fn news(&self, payload: &[u8], offset: u64) -> Option<ModelNews> {
        match self.wire.decode(payload) {
            Ok(Event::ModelPublished(published)) => {
                Some(ModelNews::Active { version: published.version as u64, location: published.location })
            }
            Ok(Event::Retrain(retrain)) => Some(ModelNews::Retrain(retrain)),
            Ok(Event::Interaction(_) | Event::ItemUpsert(_) | Event::ItemRemoved(_) | Event::ItemVector(_))
            | Err(_) => {
                eprintln!("{}: skipping a message at offset {offset} that is not a model event", self.topic);
                None
            }
        }
    }
}

/// The models topic as it grows.
pub struct ModelFeed<'l> {
    lifecycle: &'l ModelLifecycle,
    reader: Box<dyn LogReader>,
}

impl ModelFeed<'_> {
    /// What arrived within `timeout`.
    pub fn poll(&mut self, timeout: Duration) -> Result<Vec<ModelNews>, ModelError> {
        let records = self.reader.poll(64, timeout)?;
        Ok(records.iter().filter_map(|r| self.lifecycle.news(&r.message.payload, r.offset)).collect())
    }
}

/// Retrains as the models topic tells them, for the admin route to show.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RetrainStatus {
    /// Whether a request is waiting for the trainer or being served.
    pub running: bool,
    /// How the latest run ended: the version it published, or why it failed.
    pub last_version: Option<u64>,
    pub last_error: Option<String>,
    /// The latest requests, each as it stands now (its latest event), oldest first.
    pub requests: Vec<Retrain>,
}

/// How many requests the status keeps.
const RECENT_REQUESTS: usize = 20;

impl RetrainStatus {
    pub fn apply(&mut self, event: &Retrain) {
        let version = event.version.map(|v| v as u64);
        match event.state {
            RetrainState::Published => (self.last_version, self.last_error) = (version, None),
            RetrainState::Failed => self.last_error = event.detail.clone(),
            RetrainState::Requested | RetrainState::Started => {}
        }
        self.requests.retain(|r| r.request_id != event.request_id);
        self.requests.push(event.clone());
        if self.requests.len() > RECENT_REQUESTS {
            self.requests.remove(0);
        }
        self.running = !self.pending().is_empty();
    }

    /// Requests asked for (or started by a trainer that stopped) and not yet ended, oldest first.
    pub fn pending(&self) -> Vec<String> {
        let waiting = |r: &&Retrain| matches!(r.state, RetrainState::Requested | RetrainState::Started);
        self.requests.iter().filter(waiting).map(|r| r.request_id.clone()).collect()
    }

    /// The status the topic's history leaves.
    pub fn from_history(history: &[ModelNews]) -> RetrainStatus {
        let mut status = RetrainStatus::default();
        for news in history {
            if let ModelNews::Retrain(retrain) = news {
                status.apply(retrain);
            }
        }
        status
    }
}
