//! The one Prometheus set-up every process uses: histograms (not summaries) with the buckets the
//! dashboard's quantiles read, and every metric family described. A process either renders them
//! itself (the ranking service's `/metrics`) or has them served on an address of their own (the
//! standalone consumer's `stream.metrics_addr`).

use std::net::SocketAddr;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::ConfigError;

/// Latency buckets, in seconds, for every `*_seconds` histogram.
const SECONDS_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
        .expect("non-empty buckets")
}

/// The process-wide recorder, installed on first use, for a process that renders its own
/// `/metrics`; `describe` names the families it records.
pub fn metrics_recorder(describe: &[fn()]) -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = builder().install_recorder().expect("the only recorder of the process");
            describe.iter().for_each(|describe| describe());
            handle
        })
        .clone()
}

/// Installs the recorder with an HTTP listener serving `/metrics` on `addr`.
pub fn serve_metrics(addr: SocketAddr, describe: &[fn()]) -> Result<(), ConfigError> {
    builder()
        .with_http_listener(addr)
        .install()
        .map_err(|e| ConfigError::Metrics(format!("serving metrics on {addr}: {e}")))?;
    describe.iter().for_each(|describe| describe());
    Ok(())
}
