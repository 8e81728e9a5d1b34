//! The model lifecycle on an embedded log: versions published and activated are announced, a
//! refused one changes nothing, and the trainer's side serves retrain requests, together when they
//! arrive during a run, again when a trainer stopped half-way, and reports each on the topic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tailor_events::{RetrainState, SingleObject};
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, TopicConfig};
use tailor_models::{
    Manifest, ModelError, ModelLifecycle, ModelNews, ModelStore, RetrainSchedule, RetrainStatus, Target, TrainingRun,
};
use tailor_testkit::models::published;

const TOPIC: &str = "models";

fn lifecycle(dir: &std::path::Path) -> ModelLifecycle {
    let topics = [TopicConfig::new(TOPIC, 1), TopicConfig::new("interactions", 1)];
    let log = Arc::new(EmbeddedLog::open(&dir.join("log"), &topics, DEFAULT_SEGMENT_BYTES).unwrap());
    ModelLifecycle::new(ModelStore::open(&dir.join("models")).unwrap(), log, Arc::new(SingleObject), TOPIC)
}

fn active_versions(history: &[ModelNews]) -> Vec<u64> {
    history
        .iter()
        .filter_map(|n| if let ModelNews::Active { version, .. } = n { Some(*version) } else { None })
        .collect()
}

#[test]
fn every_change_is_announced_and_a_refused_version_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lifecycle = lifecycle(dir.path());
    lifecycle.publish(published(1.0)).unwrap();
    lifecycle.publish(published(2.0)).unwrap();
    let refused = lifecycle.activate(Target::Version(1), |_| Err::<(), _>("does not fit".to_owned()));
    assert!(matches!(refused, Err(ModelError::Refused { version: 1, ref reason }) if reason == "does not fit"));
    assert_eq!(lifecycle.store().active().unwrap(), Some(2), "the active one stays");
    let (manifest, fitted) = lifecycle.activate(Target::Previous, |loaded| Ok(loaded.manifest.version)).unwrap();
    assert_eq!((manifest.version, fitted), (1, 1));
    assert_eq!(lifecycle.store().active().unwrap(), Some(1));

    let history = lifecycle.history().unwrap();
    assert_eq!(active_versions(&history), [1, 2, 1], "published, published, rolled back; nothing for the refusal");
    let ModelNews::Active { location, .. } = &history[0] else { unreachable!() };
    assert_eq!(location, &lifecycle.store().version_dir(1).display().to_string());
}

/// Publishes a version per run; each run waits for a go from the test, and fails when told.
struct Scripted {
    go: Mutex<mpsc::Receiver<Result<(), String>>>,
    started: mpsc::SyncSender<()>,
}

impl TrainingRun for Scripted {
    fn train(&self, lifecycle: &ModelLifecycle) -> Result<Manifest, String> {
        self.started.send(()).unwrap();
        self.go.lock().unwrap().recv().unwrap()?;
        lifecycle.publish(published(3.0)).map_err(|e| e.to_string())
    }
}

/// The requests' states as the topic tells them, once `done` holds.
fn wait_for(lifecycle: &ModelLifecycle, done: impl Fn(&RetrainStatus) -> bool) -> RetrainStatus {
    let started = Instant::now();
    loop {
        let status = RetrainStatus::from_history(&lifecycle.history().unwrap());
        if done(&status) {
            return status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{status:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn state_of(status: &RetrainStatus, request: &str) -> Option<(RetrainState, Option<i64>)> {
    status.requests.iter().find(|r| r.request_id == request).map(|r| (r.state, r.version))
}

#[test]
fn the_trainer_serves_requests_reports_them_and_takes_late_ones_in_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let lifecycle = Arc::new(lifecycle(dir.path()));
    // Asked before any trainer runs, and one a stopped trainer had started: both are served.
    let early = lifecycle.request_retrain("the test").unwrap();
    let interrupted = lifecycle.request_retrain("the test").unwrap();
    lifecycle.report(&interrupted, RetrainState::Started, None, None).unwrap();

    let (go, runs) = mpsc::channel();
    let (started, starts) = mpsc::sync_channel(4);
    let run = Scripted { go: Mutex::new(runs), started };
    let stop = Arc::new(AtomicBool::new(false));
    let trainer = {
        let (lifecycle, stop) = (lifecycle.clone(), stop.clone());
        std::thread::spawn(move || lifecycle.serve_retrains(&run, &RetrainSchedule::default(), "interactions", &stop))
    };
    starts.recv_timeout(Duration::from_secs(10)).unwrap();
    let late = lifecycle.request_retrain("the test").unwrap();
    let status = wait_for(&lifecycle, |s| state_of(s, &late) == Some((RetrainState::Requested, None)));
    assert!(status.running);
    assert_eq!(state_of(&status, &early), Some((RetrainState::Started, None)));
    go.send(Ok(())).unwrap();
    let status = wait_for(&lifecycle, |s| state_of(s, &early).is_some_and(|(s, _)| s == RetrainState::Published));
    assert_eq!(state_of(&status, &interrupted), Some((RetrainState::Published, Some(1))), "served with the first");

    starts.recv_timeout(Duration::from_secs(10)).expect("a second run for the late request");
    go.send(Err("no ratings".to_owned())).unwrap();
    let status = wait_for(&lifecycle, |s| state_of(s, &late).is_some_and(|(s, _)| s == RetrainState::Failed));
    assert_eq!(
        (status.running, status.last_version, status.last_error.as_deref()),
        (false, Some(1), Some("no ratings"))
    );
    assert!(starts.recv_timeout(Duration::from_millis(500)).is_err(), "nothing more to serve");

    stop.store(true, Ordering::Relaxed);
    trainer.join().unwrap().unwrap();
    assert_eq!(active_versions(&lifecycle.history().unwrap()), [1], "one version published");
}
