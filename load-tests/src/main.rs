//! `tailor-load`: load generators for Tailor's ranking service, open loop (each request has a
//! scheduled start and its latency counts from then, so a slow server cannot hide its queueing by
//! slowing the generator down). Loopback only: it refuses any other host.
//!
//! - `recommendations`: `GET /v1/users/{id}/recommendations` at a fixed rate.
//! - `sessions`: persona visitors replayed over the API (browse, like, dislike, recommendations),
//!   with latency per operation and freshness (from a like's acknowledgement to the visitor's
//!   recommendations changing).
//! - `kafka`: persona visitors' events produced straight into Kafka, with produce latency and
//!   freshness through a service consuming that broker.
//! - `item-changes`: a nightly diff's worth of item changes produced into Kafka's items topic.
//! - `catalogue`: a synthetic shop of any size written into a data directory, to serve and load.
//! - `live-catalogue`: items added, sold out and removed while serving, timed from each `202` to
//!   what visitors see, and recommendations hammered while items sell out.
//! - `flood`: new visitors (a session and a like each) as fast as the service takes them, with
//!   the service's resident memory.

mod catalogue;
mod changes;
mod flood;
mod freshness;
mod kafka;
mod live;
mod recommendations;
mod report;
mod sessions;

use anyhow::bail;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Open-loop load tests of Tailor's ranking service (loopback only)")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    Recommendations(recommendations::Args),
    Sessions(sessions::Args),
    Kafka(kafka::Args),
    Catalogue(catalogue::Args),
    Flood(flood::Args),
    LiveCatalogue(live::Args),
    ItemChanges(changes::Args),
}

/// A broker address (`host:port`, comma-separated) on this machine only.
pub fn check_loopback_brokers(brokers: &str) -> anyhow::Result<()> {
    for broker in brokers.split(',') {
        check_loopback(&format!("http://{}", broker.trim()))?;
    }
    Ok(())
}

/// The generator only ever talks to this machine.
pub fn check_loopback(url: &str) -> anyhow::Result<()> {
    let host = url.strip_prefix("http://").unwrap_or("").split(['/', ':']).next().unwrap_or("");
    let bracketed = url.strip_prefix("http://[::1]").is_some();
    if !(bracketed || host == "127.0.0.1" || host == "localhost") {
        bail!("{url}: the load generator only targets http://127.0.0.1, http://localhost or http://[::1]");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().scenario {
        Scenario::Recommendations(args) => recommendations::run(args),
        Scenario::Sessions(args) => sessions::run(args),
        Scenario::Kafka(args) => kafka::run(args),
        Scenario::Catalogue(args) => catalogue::run(args),
        Scenario::Flood(args) => flood::run(args),
        Scenario::LiveCatalogue(args) => live::run(args),
        Scenario::ItemChanges(args) => changes::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::check_loopback;

    #[test]
    fn only_loopback_urls_are_accepted() {
        for url in ["http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:8080"] {
            assert!(check_loopback(url).is_ok(), "{url}");
        }
        for url in ["http://10.0.0.1:8080", "http://example.com", "https://127.0.0.1", "http://127.0.0.1.evil.com"] {
            assert!(check_loopback(url).is_err(), "{url}");
        }
    }
}
