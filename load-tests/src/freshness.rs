//! Freshness probes: after an event is acknowledged, poll the visitor's recommendations until
//! they differ from the ones seen before it, and record the time from the acknowledgement.
//! Several probe threads take probes off one queue, so probes do not wait behind each other.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

const PROBE_THREADS: usize = 4;

/// An acknowledged event and what its visitor's recommendations were before it.
pub struct Probe {
    /// The visitor's recommendations URL, and the bearer token that reads it.
    pub recommendations: String,
    pub token: String,
    pub before: Vec<String>,
    pub acknowledged: Instant,
}

pub struct Freshness {
    fresh: Histogram<u64>,
    stale: u64,
}

pub struct Probers {
    queue: Sender<Probe>,
    threads: Vec<JoinHandle<Freshness>>,
}

/// The item ids of a recommendations answer, in order.
pub fn recommended_ids(body: &Value) -> Vec<String> {
    crate::sessions::ids(body, "/item/id")
}

fn probe(agent: &ureq::Agent, probes: &Mutex<Receiver<Probe>>, timeout: Duration) -> Freshness {
    let mut result =
        Freshness { fresh: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"), stale: 0 };
    loop {
        let next = probes.lock().expect("probe queue lock").recv();
        let Ok(probe) = next else { return result };
        loop {
            let answer =
                agent.get(&probe.recommendations).header("authorization", &format!("Bearer {}", probe.token)).call();
            let current =
                answer.ok().and_then(|mut r| r.body_mut().read_json::<Value>().ok()).map(|b| recommended_ids(&b));
            let waited = Instant::now().duration_since(probe.acknowledged);
            if current.is_some_and(|c| c != probe.before) {
                result.fresh.saturating_record(waited.as_micros().max(1) as u64);
                break;
            }
            if waited > timeout {
                result.stale += 1;
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Probers {
    pub fn start(agent: &ureq::Agent, timeout: Duration) -> Probers {
        let (queue, receiver) = channel();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = (0..PROBE_THREADS)
            .map(|_| {
                let (agent, receiver) = (agent.clone(), receiver.clone());
                thread::spawn(move || probe(&agent, &receiver, timeout))
            })
            .collect();
        Probers { queue, threads }
    }

    pub fn sender(&self) -> Sender<Probe> {
        self.queue.clone()
    }

    /// Waits for the pending probes (once every sender is dropped) and merges their results.
    pub fn finish(self) -> Freshness {
        drop(self.queue);
        let mut total =
            Freshness { fresh: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"), stale: 0 };
        for thread in self.threads {
            let part = thread.join().expect("probe threads do not panic");
            total.fresh.add(part.fresh).expect("same bounds");
            total.stale += part.stale;
        }
        total
    }
}

impl Freshness {
    fn ms(&self, q: f64) -> f64 {
        self.fresh.value_at_quantile(q) as f64 / 1000.0
    }

    pub fn print(&self, timeout_ms: u64) {
        println!(
            "freshness (event acknowledged -> recommendations changed): {} probes, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} unchanged after {timeout_ms} ms",
            self.fresh.len(),
            self.ms(0.5),
            self.ms(0.99),
            self.fresh.max() as f64 / 1000.0,
            self.stale
        );
    }

    pub fn json(&self) -> Value {
        json!({
            "probes": self.fresh.len(), "p50_ms": self.ms(0.5), "p90_ms": self.ms(0.9), "p99_ms": self.ms(0.99),
            "max_ms": self.fresh.max() as f64 / 1000.0, "stale": self.stale,
        })
    }
}
