//! `tailor-load kafka`: persona visitors' interactions produced straight into the interactions
//! topic of a Kafka broker (Avro single-object encoding, keyed by visitor), in batches at a
//! target rate, bypassing the HTTP intake. It reports produce latency per batch (acknowledged by
//! all in-sync replicas) and throughput, and, through a `tailor serve` consuming the same broker,
//! freshness: from a like's acknowledgement until that visitor's recommendations change.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tailor_events::{Event, EventSource, Interaction, InteractionKind, SingleObject, SubjectKind, WireFormat};
use tailor_log::kafka::{KafkaConfig, KafkaLog};
use tailor_log::{EventLog, Message};

use crate::freshness::{Probe, Probers, recommended_ids};
use crate::report::{Recorder, write_json};

/// Persona events straight into Kafka.
#[derive(clap::Args)]
pub struct Args {
    /// The broker (loopback only), as `tailor serve` is configured with.
    #[arg(long, default_value = "127.0.0.1:9092")]
    brokers: String,
    #[arg(long, default_value = "tailor.interactions")]
    topic: String,
    /// The service consuming that broker: items to interact with, and freshness.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Events per second.
    #[arg(long, default_value_t = 5000)]
    rate: u32,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Events per produce call.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    #[arg(long, default_value_t = 2000)]
    visitors: usize,
    /// Probe freshness on every Nth batch (its first event is a like).
    #[arg(long, default_value_t = 10)]
    probe_every: u64,
    #[arg(long, default_value_t = 2000)]
    freshness_timeout_ms: u64,
    #[arg(long, default_value_t = 13)]
    seed: u64,
    #[arg(long)]
    output: Option<PathBuf>,
    /// The service's admin token, which reads of recommendations by user id need.
    #[arg(long, env = "TAILOR_SERVE__ADMIN_TOKEN")]
    admin_token: String,
}

fn catalogue_ids(agent: &ureq::Agent, url: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for offset in (0..1000).step_by(200) {
        let page: Value = agent
            .get(&format!("{url}/v1/items?limit=200&offset={offset}"))
            .call()
            .with_context(|| format!("is `tailor serve` running at {url}?"))?
            .body_mut()
            .read_json()?;
        ids.extend(page["items"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(str::to_owned)));
    }
    if ids.is_empty() {
        bail!("the service at {url} has no items");
    }
    Ok(ids)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::check_loopback(&args.url)?;
    crate::check_loopback_brokers(&args.brokers)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let items = catalogue_ids(&agent, &args.url)?;
    let log =
        Arc::new(KafkaLog::connect(&args.brokers, KafkaConfig::new("tailor-load")).context("connecting to Kafka")?);
    let wire = SingleObject;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let visitor = |n: usize| format!("load-{:x}-{n:05}", args.seed);
    let recommendations = |subject: &str| format!("{}/v1/users/{subject}/recommendations?k=10&kind=user", args.url);
    println!(
        "{} visitors over {} items; {} events/s in batches of {} for {} s into {} on {}",
        args.visitors,
        items.len(),
        args.rate,
        args.batch,
        args.seconds,
        args.topic,
        args.brokers
    );

    let recorder = Recorder::new();
    let probers = Probers::start(&agent, Duration::from_millis(args.freshness_timeout_ms));
    let probes = probers.sender();
    let interval = Duration::from_secs_f64(args.batch as f64 / f64::from(args.rate));
    let started = Instant::now();
    let end = started + Duration::from_secs(args.seconds);
    let (mut scheduled, mut batches, mut sent) = (started, 0u64, 0u64);
    while scheduled < end {
        if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let probed = batches % args.probe_every == 0;
        let mut events = Vec::with_capacity(args.batch);
        for k in 0..args.batch {
            let subject = visitor(rng.random_range(0..args.visitors));
            let kind = match (probed && k == 0, rng.random_range(0..10)) {
                (true, _) | (false, 0..=1) => InteractionKind::Like,
                (false, 2) => InteractionKind::Dislike,
                (false, 3) => InteractionKind::Click,
                _ => InteractionKind::View,
            };
            events.push(Interaction {
                event_id: format!("load-{:x}-{batches}-{k}", args.seed),
                subject,
                subject_kind: SubjectKind::User,
                item_id: items[rng.random_range(0..items.len())].clone(),
                kind,
                value: None,
                timestamp_ms: tailor_log::now_ms(),
                source: EventSource::LoadGenerator,
            });
        }
        let before = probed.then(|| {
            let answer = agent
                .get(&recommendations(&events[0].subject))
                .header("authorization", &format!("Bearer {}", args.admin_token))
                .call();
            answer
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .map(|b| recommended_ids(&b))
                .unwrap_or_default()
        });
        let messages = events
            .iter()
            .map(|e| Ok(Message::new(e.subject.clone().into_bytes(), wire.encode(&Event::Interaction(e.clone()))?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let appended = log.append(&args.topic, messages);
        recorder.record("produce batch", Instant::now().duration_since(scheduled), appended.is_ok());
        if appended.is_ok() {
            sent += args.batch as u64;
            if let Some(before) = before {
                let _ = probes.send(Probe {
                    recommendations: recommendations(&events[0].subject),
                    token: args.admin_token.clone(),
                    before,
                    acknowledged: Instant::now(),
                });
            }
        }
        batches += 1;
        scheduled += interval;
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(probes);
    let freshness = probers.finish();
    let operations = recorder.report(elapsed);
    println!("produced {sent} events in {elapsed:.1} s ({:.0} events/s)", sent as f64 / elapsed);
    freshness.print(args.freshness_timeout_ms);
    if let Some(path) = &args.output {
        let document = json!({
            "rate": args.rate, "seconds": elapsed, "events": sent, "events_per_second": sent as f64 / elapsed,
            "operations": operations, "freshness": freshness.json(),
        });
        write_json(path, &document)?;
    }
    Ok(())
}
