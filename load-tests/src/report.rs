//! Latency per operation, kept in HdrHistograms (microseconds), printed as a table and written
//! as JSON.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

pub struct Operation {
    latencies: Histogram<u64>,
    errors: u64,
}

/// Operations by name, shared by the sending threads.
pub struct Recorder {
    operations: Mutex<BTreeMap<&'static str, Operation>>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder { operations: Mutex::new(BTreeMap::new()) }
    }

    pub fn record(&self, name: &'static str, latency: Duration, ok: bool) {
        let mut operations = self.operations.lock().expect("recorder lock");
        let operation = operations.entry(name).or_insert_with(|| Operation {
            latencies: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds"),
            errors: 0,
        });
        operation.latencies.saturating_record(latency.as_micros().max(1) as u64);
        operation.errors += u64::from(!ok);
    }

    /// Prints one row per operation and returns the same figures as JSON.
    pub fn report(&self, seconds: f64) -> Value {
        let operations = self.operations.lock().expect("recorder lock");
        println!(
            "{:<16} {:>8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "operation", "count", "errors", "per s", "p50 ms", "p99 ms", "p99.9 ms", "max ms"
        );
        let mut rows = serde_json::Map::new();
        for (name, operation) in operations.iter() {
            let h = &operation.latencies;
            let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
            println!(
                "{name:<16} {:>8} {:>7} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
                h.len(),
                operation.errors,
                h.len() as f64 / seconds,
                ms(0.5),
                ms(0.99),
                ms(0.999),
                h.max() as f64 / 1000.0
            );
            rows.insert(
                (*name).to_owned(),
                json!({
                    "count": h.len(), "errors": operation.errors, "per_second": h.len() as f64 / seconds,
                    "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "p999_ms": ms(0.999),
                    "max_ms": h.max() as f64 / 1000.0,
                }),
            );
        }
        Value::Object(rows)
    }
}

pub fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_vec_pretty(value)?).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
