//! `tailor-load sessions`: persona visitors replayed over the HTTP API. Each session belongs to
//! one of the shipped personas and repeats: browse one of its article types, fetch
//! recommendations, like an item it browsed, fetch again, dislike another. Steps are scheduled
//! open loop at `--rate` over `--threads` threads, bounded by `--seconds` and `--max-steps`.
//!
//! Freshness: after each like is acknowledged (202, durably appended), a probe thread polls that
//! visitor's recommendations every few milliseconds until they differ from the ones fetched
//! before the like; the time from the acknowledgement is recorded, and a probe that sees no
//! change within `--freshness-timeout-ms` counts as stale.

use std::path::PathBuf;
use std::sync::Mutex;

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tailor_personas::{DEFAULT_PERSONAS, PersonaFile};

use crate::freshness::{Probe, Probers, recommended_ids};
use crate::report::{Recorder, write_json};

/// Persona visitors over the API, with freshness.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Session steps per second, all sessions together.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Seconds to run (after creating the sessions).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Stop after this many steps even if time is left.
    #[arg(long, default_value_t = 1_000_000)]
    max_steps: u64,
    /// Concurrent visitor sessions.
    #[arg(long, default_value_t = 400)]
    sessions: usize,
    #[arg(long, default_value_t = 8)]
    threads: usize,
    #[arg(long, default_value_t = 1000)]
    freshness_timeout_ms: u64,
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Write the figures as JSON here too.
    #[arg(long)]
    output: Option<PathBuf>,
}

struct Session {
    id: String,
    token: String,
    article_types: Vec<String>,
    step: usize,
    /// The last page browsed and the last recommendations seen.
    page: Vec<String>,
    recommended: Vec<String>,
}

const STEPS: [&str; 5] = ["browse", "recommend", "like", "recommend", "dislike"];

pub(crate) fn ids(body: &Value, path: &str) -> Vec<String> {
    body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.pointer(path).and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn create_session(agent: &ureq::Agent, url: &str, article_types: Vec<String>) -> anyhow::Result<Session> {
    let body: Value = agent
        .post(&format!("{url}/v1/sessions"))
        .send_empty()
        .with_context(|| format!("is `tailor serve` running at {url}?"))?
        .body_mut()
        .read_json()?;
    let field = |name: &str| body[name].as_str().map(str::to_owned).context("a session answer without its fields");
    Ok(Session {
        id: field("session_id")?,
        token: field("token")?,
        article_types,
        step: 0,
        page: Vec::new(),
        recommended: Vec::new(),
    })
}

/// Runs one step of `session`; returns the operation's name, whether it succeeded, and a
/// freshness probe after a like.
fn step(
    agent: &ureq::Agent,
    url: &str,
    session: &mut Session,
    rng: &mut StdRng,
) -> (&'static str, bool, Option<Probe>) {
    let operation = STEPS[session.step % STEPS.len()];
    session.step += 1;
    let ok = match operation {
        "browse" => {
            let article = (!session.article_types.is_empty())
                .then(|| session.article_types[rng.random_range(0..session.article_types.len())].clone());
            let offset = rng.random_range(0..4) * 24;
            let mut request =
                agent.get(&format!("{url}/v1/items")).query("limit", "24").query("offset", offset.to_string());
            if let Some(article) = &article {
                request = request.query("article_type", article);
            }
            let page = request.call();
            match page {
                Ok(mut response) if response.status() == 200 => {
                    let body: Value = response.body_mut().read_json().unwrap_or_default();
                    session.page = ids(&body, "/id");
                    true
                }
                // An article type this catalogue lacks: not browsed again (with none left, the
                // session browses everything).
                Ok(response) if response.status() == 400 && article.is_some() => {
                    session.article_types.retain(|a| Some(a) != article.as_ref());
                    true
                }
                _ => false,
            }
        }
        "recommend" => match agent
            .get(&format!("{url}/v1/users/{}/recommendations?k=10", session.id))
            .header("authorization", &format!("Bearer {}", session.token))
            .call()
        {
            Ok(mut response) if response.status() == 200 => {
                let body: Value = response.body_mut().read_json().unwrap_or_default();
                session.recommended = recommended_ids(&body);
                true
            }
            _ => false,
        },
        kind => {
            let Some(item) =
                (!session.page.is_empty()).then(|| session.page.swap_remove(rng.random_range(0..session.page.len())))
            else {
                return (operation, true, None);
            };
            let event = json!({"events": [{"subject": session.id, "item_id": item, "kind": kind}]});
            let answer = agent
                .post(&format!("{url}/v1/events"))
                .header("authorization", &format!("Bearer {}", session.token))
                .send_json(event);
            let ok = answer.is_ok_and(|r| r.status() == 202);
            let probe = (ok && kind == "like").then(|| Probe {
                recommendations: format!("{url}/v1/users/{}/recommendations?k=10", session.id),
                token: session.token.clone(),
                before: session.recommended.clone(),
                acknowledged: Instant::now(),
            });
            return (operation, ok, probe);
        }
    };
    (operation, ok, None)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::check_loopback(&args.url)?;
    if args.sessions < args.threads || args.threads == 0 {
        bail!("--sessions ({}) must be at least --threads ({}), which must be at least 1", args.sessions, args.threads);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let personas = PersonaFile::parse(DEFAULT_PERSONAS)?.personas;
    let mut sessions = Vec::with_capacity(args.sessions);
    for n in 0..args.sessions {
        sessions.push(create_session(&agent, &args.url, personas[n % personas.len()].article_types.clone())?);
    }
    println!(
        "{} persona sessions ready; {} steps/s for {} s (at most {} steps) from {} threads",
        sessions.len(),
        args.rate,
        args.seconds,
        args.max_steps,
        args.threads
    );

    let recorder = Recorder::new();
    let probers = Probers::start(&agent, Duration::from_millis(args.freshness_timeout_ms));
    let probes = probers.sender();
    let interval = Duration::from_secs_f64(args.threads as f64 / f64::from(args.rate));
    let started = Instant::now() + Duration::from_millis(50);
    let end = started + Duration::from_secs(args.seconds);
    let steps_per_thread = args.max_steps.div_ceil(args.threads as u64);
    let mut chunks: Vec<Vec<Session>> = (0..args.threads).map(|_| Vec::new()).collect();
    for (n, session) in sessions.into_iter().enumerate() {
        chunks[n % args.threads].push(session);
    }
    let sessions = Mutex::new(0usize);
    thread::scope(|scope| {
        for (t, mut own) in chunks.into_iter().enumerate() {
            let (agent, recorder, probes, args, sessions) =
                (agent.clone(), &recorder, probes.clone(), &args, &sessions);
            scope.spawn(move || {
                let mut rng = StdRng::seed_from_u64(args.seed ^ t as u64);
                let mut scheduled = started + interval.mul_f64(t as f64 / args.threads as f64);
                let mut done = 0;
                while scheduled < end && done < steps_per_thread {
                    if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                    let count = own.len();
                    let session = &mut own[done as usize % count];
                    let (operation, ok, probe) = step(&agent, &args.url, session, &mut rng);
                    recorder.record(operation, Instant::now().duration_since(scheduled), ok);
                    if let Some(probe) = probe {
                        let _ = probes.send(probe);
                    }
                    scheduled += interval;
                    done += 1;
                }
                *sessions.lock().expect("count lock") += own.len();
            });
        }
    });
    let elapsed = Instant::now().duration_since(started).as_secs_f64().min(args.seconds as f64).max(1e-3);
    drop(probes);
    let freshness = probers.finish();
    let operations = recorder.report(elapsed);
    freshness.print(args.freshness_timeout_ms);
    if let Some(path) = &args.output {
        let document = json!({
            "rate": args.rate, "seconds": elapsed, "sessions": sessions.into_inner().expect("count lock"),
            "operations": operations, "freshness": freshness.json(),
        });
        write_json(path, &document)?;
    }
    Ok(())
}
