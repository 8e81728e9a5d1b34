//! `tailor-load recommendations`: `GET /v1/users/{id}/recommendations` at a fixed rate from
//! several threads; latency percentiles and the rate achieved.
//!
//! Before measuring it creates `--visitors` sessions and posts a like for each, so the requests
//! hit visitors with real state.

use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;

/// `GET /v1/users/{id}/recommendations` at a fixed rate.
#[derive(clap::Args)]
pub struct Args {
    /// The service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Requests per second to send.
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// Seconds to measure, after a one-second warm-up.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Sending threads, each with its own keep-alive connection.
    #[arg(long, default_value_t = 8)]
    threads: u32,
    /// Visitors to create and spread the requests over.
    #[arg(long, default_value_t = 200)]
    visitors: usize,
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Attribute filters for every request, as query parameters (`category=footwear&gender=women`).
    #[arg(long)]
    filter: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::check_loopback(&args.url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let visitors = create_visitors(&agent, &args)?;
    println!(
        "{} visitors ready; sending {} req/s for {} s from {} threads",
        visitors.len(),
        args.rate,
        args.seconds,
        args.threads
    );

    let histogram = Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?);
    let errors = Mutex::new(0u64);
    let interval = Duration::from_secs_f64(args.threads as f64 / args.rate as f64);
    let warm_up = Duration::from_secs(1);
    let started = Instant::now() + Duration::from_millis(100);
    let end = started + warm_up + Duration::from_secs(args.seconds);
    thread::scope(|scope| {
        for t in 0..args.threads {
            let (agent, visitors, histogram, errors, args) = (agent.clone(), &visitors, &histogram, &errors, &args);
            scope.spawn(move || {
                // Threads start staggered, so together they send evenly.
                let mut scheduled = started + interval.mul_f64(t as f64 / args.threads as f64);
                let mut n = t as usize;
                while scheduled < end {
                    if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    let (visitor, token) = &visitors[n % visitors.len()];
                    let mut url = format!("{}/v1/users/{visitor}/recommendations?k={}", args.url, args.k);
                    if let Some(filter) = &args.filter {
                        url = format!("{url}&{filter}");
                    }
                    let ok = agent
                        .get(&url)
                        .header("authorization", &format!("Bearer {token}"))
                        .call()
                        .is_ok_and(|mut r| r.status() == 200 && r.body_mut().read_to_vec().is_ok());
                    let latency = Instant::now().duration_since(scheduled);
                    if scheduled >= started + warm_up {
                        histogram
                            .lock()
                            .expect("histogram")
                            .record(latency.as_micros().max(1) as u64)
                            .expect("in bounds");
                        if !ok {
                            *errors.lock().expect("errors") += 1;
                        }
                    }
                    scheduled += interval;
                    n += args.threads as usize;
                }
            });
        }
    });
    let histogram = histogram.into_inner().expect("histogram");
    let errors = errors.into_inner().expect("errors");
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "requests {} ({:.0}/s), errors {errors}; latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2}",
        histogram.len(),
        histogram.len() as f64 / args.seconds as f64,
        ms(0.50),
        ms(0.90),
        ms(0.99),
        ms(0.999),
        histogram.max() as f64 / 1000.0
    );
    Ok(())
}

/// Sessions with one like each, on items from the first page of the catalogue: their ids and the
/// tokens that read them.
fn create_visitors(agent: &ureq::Agent, args: &Args) -> anyhow::Result<Vec<(String, String)>> {
    let page: serde_json::Value = agent
        .get(&format!("{}/v1/items?limit=200", args.url))
        .call()
        .with_context(|| format!("is `tailor serve` running at {}?", args.url))?
        .body_mut()
        .read_json()?;
    let items: Vec<&str> = page["items"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str()).collect();
    if items.is_empty() {
        bail!("the service at {} has no items to recommend", args.url);
    }
    let mut visitors = Vec::with_capacity(args.visitors);
    for n in 0..args.visitors {
        let session: serde_json::Value =
            agent.post(&format!("{}/v1/sessions", args.url)).send_empty()?.body_mut().read_json()?;
        let (id, token) =
            (session["session_id"].as_str().unwrap_or_default(), session["token"].as_str().unwrap_or_default());
        let event = serde_json::json!({"events": [{"subject": id, "item_id": items[n % items.len()], "kind": "like"}]});
        let response = agent
            .post(&format!("{}/v1/events", args.url))
            .header("authorization", &format!("Bearer {token}"))
            .send_json(event)?;
        if response.status() != 202 {
            bail!("posting a like answered {}", response.status());
        }
        visitors.push((id.to_owned(), token.to_owned()));
    }
    // Let the consumer apply the likes before measuring.
    thread::sleep(Duration::from_millis(500));
    Ok(visitors)
}
