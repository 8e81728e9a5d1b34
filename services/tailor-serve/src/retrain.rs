//! Retraining next to a running service, where the process links a trainer: on a thread of its
//! own (so requests never wait on it), at most one at a time, when the admin route or the
//! schedule asks.

use std::sync::{Arc, Mutex};
use std::thread;

use tailor_log::EventLog;
use tailor_ranker::{RetrainRefused, RetrainStatus, Retrainer};

/// One training run on the log: reads it, trains, publishes and announces a version.
pub trait TrainingRun: Send + Sync {
    /// The version published, or why there is none.
    fn train(&self, log: &dyn EventLog) -> Result<u64, String>;
}

pub(crate) struct InProcessRetrainer {
    run: Arc<dyn TrainingRun>,
    log: Arc<dyn EventLog>,
    status: Arc<Mutex<RetrainStatus>>,
}

impl InProcessRetrainer {
    pub(crate) fn new(run: Arc<dyn TrainingRun>, log: Arc<dyn EventLog>) -> InProcessRetrainer {
        InProcessRetrainer { run, log, status: Arc::default() }
    }
}

impl Retrainer for InProcessRetrainer {
    fn start(&self) -> Result<(), RetrainRefused> {
        let mut status = self.status.lock().expect("retrain status lock");
        if status.running {
            return Err(RetrainRefused::AlreadyRunning);
        }
        let (run, log, shared) = (self.run.clone(), self.log.clone(), self.status.clone());
        let spawned = thread::Builder::new().name("retrain".into()).spawn(move || {
            let outcome = run.train(log.as_ref());
            let mut status = shared.lock().expect("retrain status lock");
            status.running = false;
            match outcome {
                Ok(version) => (status.last_version, status.last_error) = (Some(version), None),
                Err(error) => {
                    eprintln!("retraining failed (the active model stays): {error}");
                    status.last_error = Some(error);
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
