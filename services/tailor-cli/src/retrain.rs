//! `tailor train` and `tailor models` beside a running `tailor serve` on the embedded log, which
//! one process owns: they ask the service's admin routes to act instead.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use tailor_config::Config;

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

/// Asks the service at `serve.addr` for a retrain (its route writes the request on the models
/// topic, and its in-process trainer acts on it), waits for the request to end, and returns the
/// version it published.
pub fn delegate_to_service(config: &Config) -> anyhow::Result<u64> {
    let (url, bearer) = admin_route(config, "retrain")?;
    println!("the embedded log is held by the running service; asking it for a retrain ({url})");
    let asked: serde_json::Value = ureq::post(&url)
        .header("Authorization", &bearer)
        .send_empty()
        .and_then(|mut response| response.body_mut().read_json())
        .with_context(|| format!("asking {url} for a retrain"))?;
    let request_id = asked["request_id"].as_str().context("the service named no request")?.to_owned();
    let started = Instant::now();
    while started.elapsed() < DELEGATED_TIMEOUT {
        thread::sleep(Duration::from_millis(500));
        let status: serde_json::Value = ureq::get(&url)
            .header("Authorization", &bearer)
            .call()
            .and_then(|mut response| response.body_mut().read_json())
            .with_context(|| format!("asking {url} how the retrain goes"))?;
        let requests = status["requests"].as_array().into_iter().flatten();
        let Some(request) = requests.rev().find(|r| r["request_id"] == request_id.as_str()) else { continue };
        match request["state"].as_str() {
            Some("published") => return request["version"].as_u64().context("a published request names no version"),
            Some("failed") => anyhow::bail!("the service's retrain failed: {}", request["detail"]),
            _ => {}
        }
    }
    anyhow::bail!("the retrain did not finish within {} s; see the service's log", DELEGATED_TIMEOUT.as_secs())
}
