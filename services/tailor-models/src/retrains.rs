//! The trainer's side of the lifecycle: acting on retrain requests and on the schedule, one run
//! at a time, and saying on the models topic how each request went.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tailor_events::RetrainState;
use tailor_log::now_ms;

use crate::{Manifest, ModelError, ModelLifecycle, ModelNews, RetrainSchedule, RetrainStatus};

/// How often the schedule is checked.
pub const SCHEDULE_CHECK: Duration = Duration::from_secs(5);

/// How long the schedule waits after a run it started failed, so that a log without ratings is
/// not retried, and reported, every few seconds.
const AFTER_A_FAILED_SCHEDULED_RUN: Duration = Duration::from_secs(60);

/// One training run: reads the lifecycle's log, trains, and publishes through the lifecycle.
pub trait TrainingRun: Send + Sync {
    fn train(&self, lifecycle: &ModelLifecycle) -> Result<Manifest, String>;
}

impl ModelLifecycle {
    /// Acts on retrain requests, and on `schedule` (counting new events on `interactions`),
    /// until `stop` is set. Requests made while a run goes on are served together by the next
    /// one; a request that a stopped trainer had started is served again.
    pub fn serve_retrains(
        &self,
        run: &dyn TrainingRun,
        schedule: &RetrainSchedule,
        interactions: &str,
        stop: &AtomicBool,
    ) -> Result<(), ModelError> {
        let mut feed = self.follow()?;
        let mut pending = RetrainStatus::from_history(&self.history()?).pending();
        let mut served = HashSet::new();
        let mut next_check = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            for news in feed.poll(Duration::from_millis(200))? {
                if let ModelNews::Retrain(retrain) = news
                    && retrain.state == RetrainState::Requested
                    && !served.contains(&retrain.request_id)
                    && !pending.contains(&retrain.request_id)
                {
                    pending.push(retrain.request_id);
                }
            }
            let mut scheduled = false;
            if pending.is_empty() && schedule.is_set() && Instant::now() >= next_check {
                next_check = Instant::now() + SCHEDULE_CHECK;
                let due = self
                    .log()
                    .end_offsets(interactions)
                    .map_err(ModelError::from)
                    .and_then(|ends| schedule.due(self.store(), &ends, now_ms()));
                match due {
                    Ok(true) => {
                        pending.push(self.request_retrain("the schedule")?);
                        scheduled = true;
                    }
                    Ok(false) => {}
                    Err(error) => eprintln!("cannot check the retrain schedule: {error}"),
                }
            }
            if pending.is_empty() {
                continue;
            }
            let serving = std::mem::take(&mut pending);
            for request in &serving {
                self.report(request, RetrainState::Started, None, None)?;
            }
            match run.train(self) {
                Ok(manifest) => {
                    for request in &serving {
                        self.report(request, RetrainState::Published, Some(manifest.version), None)?;
                    }
                }
                Err(error) => {
                    eprintln!("retraining failed (the active model stays): {error}");
                    for request in &serving {
                        self.report(request, RetrainState::Failed, None, Some(error.clone()))?;
                    }
                    if scheduled {
                        next_check = Instant::now() + AFTER_A_FAILED_SCHEDULED_RUN;
                    }
                }
            }
            served.extend(serving);
        }
        Ok(())
    }
}
