//! `tailor-load flood`: as many new visitors as fast as the service takes them, each a new
//! session and one like, from `--threads` threads; every `--report-every` visitors it prints the
//! rate, the answers other than 201 and 202, and the service's resident memory read from
//! /proc (`--pid`, this machine only), current and peak. It checks that a flood of visitors stays
//! within `stream.limits.max_visitors` and the memory that implies while the service answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// New visitors in all.
    #[arg(long, default_value_t = 1_000_000)]
    visitors: u64,
    #[arg(long, default_value_t = 8)]
    threads: u64,
    /// The service's process id, whose memory is reported.
    #[arg(long)]
    pid: u32,
    #[arg(long, default_value_t = 50_000)]
    report_every: u64,
}

/// Resident memory now and at its peak, in MiB, from /proc/PID/status.
fn resident_mib(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("no process {pid}"))?;
    let field = |name: &str| -> f64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::check_loopback(&args.url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let page: serde_json::Value =
        agent.get(&format!("{}/v1/items?limit=200", args.url)).call()?.body_mut().read_json()?;
    let items: Vec<String> =
        page["items"].as_array().into_iter().flatten().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect();
    anyhow::ensure!(!items.is_empty(), "the service at {} has no items", args.url);
    let (before, _) = resident_mib(args.pid)?;
    println!(
        "flooding {} with {} new visitors from {} threads; service at {before:.0} MiB",
        args.url, args.visitors, args.threads
    );
    let (done, refused, next) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..args.threads {
            let (agent, items, args, done, refused, next) = (agent.clone(), &items, &args, &done, &refused, &next);
            scope.spawn(move || {
                loop {
                    let visitor = next.fetch_add(1, Ordering::Relaxed);
                    if visitor >= args.visitors {
                        break;
                    }
                    let item = &items[visitor as usize % items.len()];
                    let ok = visit(&agent, &args.url, item).unwrap_or(false);
                    refused.fetch_add(u64::from(!ok), Ordering::Relaxed);
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % args.report_every == 0 {
                        let (now, peak) = resident_mib(args.pid).unwrap_or_default();
                        let rate = n as f64 / started.elapsed().as_secs_f64();
                        println!(
                            "{n} visitors, {rate:.0}/s, {} refused; service {now:.0} MiB, peak {peak:.0} MiB",
                            refused.load(Ordering::Relaxed)
                        );
                    }
                }
            });
        }
    });
    thread::sleep(Duration::from_secs(2));
    let (now, peak) = resident_mib(args.pid)?;
    let answering = agent.get(&format!("{}/v1/items?limit=1", args.url)).call().is_ok_and(|r| r.status() == 200);
    println!(
        "done: {} visitors in {:.0} s, {} refused; service {now:.0} MiB, peak {peak:.0} MiB; still answering: {answering}",
        args.visitors,
        started.elapsed().as_secs_f64(),
        refused.load(Ordering::Relaxed)
    );
    Ok(())
}

/// One new session and a like of `item`; whether both were accepted.
fn visit(agent: &ureq::Agent, url: &str, item: &str) -> anyhow::Result<bool> {
    let mut created = agent.post(&format!("{url}/v1/sessions")).send_empty()?;
    if created.status() != 201 {
        return Ok(false);
    }
    let session: serde_json::Value = created.body_mut().read_json()?;
    let id = session["session_id"].as_str().unwrap_or_default();
    let event = serde_json::json!({"events": [{"subject": id, "item_id": item, "kind": "like"}]});
    let token = session["token"].as_str().unwrap_or_default();
    let posted =
        agent.post(&format!("{url}/v1/events")).header("authorization", &format!("Bearer {token}")).send_json(event)?;
    Ok(posted.status() == 202)
}
