//! `tailor-load live-catalogue`: catalogue changes while the service serves, timed from each
//! change's `202` to what visitors see.
//!
//! - adds: items with a photo (a copy of `--photo`) and items with a title only, each a
//!   look-alike of `--look-alike`; timed until `GET /v1/items/{id}` answers and until the item is
//!   among the look-alike's similar items.
//! - withdrawals: items among the look-alike's similar items marked sold out; timed until
//!   `/v1/items/{id}` answers 410 and the similar items leave it out (then restocked).
//! - hammer: recommendation requests from several threads while items seen in their answers are
//!   sold out one by one; afterwards every answer that started after a sale was seen applied is
//!   checked for the item. Any found is a failure. The items are restocked at the end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::report::{Recorder, write_json};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The service's admin token [default: TAILOR_SERVE__ADMIN_TOKEN].
    #[arg(long, env = "TAILOR_SERVE__ADMIN_TOKEN", hide_env_values = true)]
    admin_token: String,
    /// The item the added items look like.
    #[arg(long)]
    look_alike: String,
    /// A photo the serving machine can read (an absolute path) for the items added with one.
    #[arg(long)]
    photo: String,
    /// Items added with a photo, and as many with a title only.
    #[arg(long, default_value_t = 20)]
    adds: usize,
    /// Items marked sold out (and restocked).
    #[arg(long, default_value_t = 50)]
    withdrawals: usize,
    /// Seconds of hammering while removing.
    #[arg(long, default_value_t = 20)]
    hammer_seconds: u64,
    /// How long a change may take to show before it counts as lost.
    #[arg(long, default_value_t = 30)]
    patience_seconds: u64,
    /// Where to write the figures as JSON.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
}

struct Client {
    agent: ureq::Agent,
    url: String,
    bearer: String,
    patience: Duration,
}

impl Client {
    fn status(&self, path: &str) -> u16 {
        self.agent.get(&format!("{}{path}", self.url)).call().map_or(0, |r| r.status().as_u16())
    }

    fn json(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.agent.get(&format!("{}{path}", self.url)).call()?.body_mut().read_json()?)
    }

    /// The ids of `id`'s similar items.
    fn similar(&self, id: &str) -> anyhow::Result<Vec<String>> {
        let answer = self.json(&format!("/v1/items/{id}/similar?k=10"))?;
        Ok(ids(&answer))
    }

    /// Sends an admin change and returns when its `202` came.
    fn change(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Instant> {
        let url = format!("{}/v1/admin/{path}", self.url);
        let request = ureq::http::Request::builder().method(method).uri(&url).header("authorization", &self.bearer);
        let response = match body {
            Some(body) => self.agent.run(request.header("content-type", "application/json").body(body.to_string())?)?,
            None => self.agent.run(request.body(())?)?,
        };
        if response.status() != 202 {
            bail!("{method} {url} answered {}", response.status());
        }
        Ok(Instant::now())
    }

    /// Waits until `done` holds, and returns how long after `since` it first did.
    fn until(&self, since: Instant, mut done: impl FnMut() -> bool) -> Option<Duration> {
        while since.elapsed() < self.patience {
            if done() {
                return Some(since.elapsed());
            }
            thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

fn ids(answer: &Value) -> Vec<String> {
    let items = answer["items"].as_array().into_iter().flatten();
    items.filter_map(|entry| entry["item"]["id"].as_str().map(str::to_owned)).collect()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::check_loopback(&args.url)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let client = Client {
        agent,
        url: args.url.clone(),
        bearer: format!("Bearer {}", args.admin_token),
        patience: Duration::from_secs(args.patience_seconds),
    };
    let original = client.json(&format!("/v1/items/{}", args.look_alike)).context("reading the look-alike")?;
    let title = original["title"].as_str().context("the look-alike has no title")?.to_owned();
    let recorder = Recorder::new();
    let started = Instant::now();
    adds(&client, &args, &original, &title, &recorder)?;
    withdrawals(&client, &args, &recorder)?;
    let (answers, violations) = hammer(&client, &args, &recorder)?;
    let mut figures = recorder.report(started.elapsed().as_secs_f64());
    figures["hammer"] = json!({ "answers": answers, "removed_items_served_after_removal": violations });
    println!("hammer: {answers} answers checked; {violations} held an item after its removal applied");
    if let Some(path) = &args.output {
        write_json(path, &figures)?;
    }
    if violations > 0 {
        bail!("{violations} answers held an item after its removal was applied");
    }
    Ok(())
}

fn adds(client: &Client, args: &Args, original: &Value, title: &str, recorder: &Recorder) -> anyhow::Result<()> {
    let attributes = &original["attributes"];
    let run = std::process::id();
    for n in 0..args.adds * 2 {
        let with_photo = n % 2 == 0;
        let id = format!("live-{run}-{n}");
        let mut item = json!({ "title": format!("{title} {run}-{n}"), "price": 999 });
        for field in ["gender", "category", "sub_category", "article_type", "colour", "usage", "brand"] {
            if let Some(value) = attributes[field].as_str() {
                item[field] = json!(value);
            }
        }
        if with_photo {
            item["image"] = json!(args.photo);
        }
        let accepted = client.change("PUT", &format!("items/{id}"), Some(item))?;
        let served = client.until(accepted, || client.status(&format!("/v1/items/{id}")) == 200);
        let similar = client.until(accepted, || client.similar(&args.look_alike).is_ok_and(|s| s.contains(&id)));
        let (served_name, similar_name) =
            if with_photo { ("photo: served", "photo: similar") } else { ("title: served", "title: similar") };
        recorder.record(served_name, served.unwrap_or(client.patience), served.is_some());
        recorder.record(similar_name, similar.unwrap_or(client.patience), similar.is_some());
        if similar.is_none() {
            eprintln!(
                "{id} never came among {}'s similar items: {:?}",
                args.look_alike,
                client.similar(&args.look_alike)?
            );
        }
        let removed = client.change("DELETE", &format!("items/{id}"), None)?;
        client.until(removed, || client.status(&format!("/v1/items/{id}")) == 410);
    }
    Ok(())
}

fn withdrawals(client: &Client, args: &Args, recorder: &Recorder) -> anyhow::Result<()> {
    for _ in 0..args.withdrawals {
        let Some(id) = client.similar(&args.look_alike)?.into_iter().next() else { bail!("no similar items") };
        let patch = |availability: &str| {
            let body = json!({ "availability": availability });
            client.change("PATCH", &format!("items/{id}/availability"), Some(body))
        };
        let accepted = patch("sold_out")?;
        let gone = client.until(accepted, || {
            client.status(&format!("/v1/items/{id}")) == 410
                && client.similar(&args.look_alike).is_ok_and(|s| !s.contains(&id))
        });
        recorder.record("sold out: gone", gone.unwrap_or(client.patience), gone.is_some());
        let restocked = patch("in_stock")?;
        client.until(restocked, || client.status(&format!("/v1/items/{id}")) == 200);
    }
    Ok(())
}

/// Answers checked and answers holding an item removed before they started.
fn hammer(client: &Client, args: &Args, recorder: &Recorder) -> anyhow::Result<(usize, usize)> {
    let queries: Vec<String> = client.similar(&args.look_alike)?;
    let applied: Mutex<HashMap<String, Instant>> = Mutex::new(HashMap::new());
    let answers: Mutex<Vec<(Instant, Vec<String>)>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let end = Instant::now() + Duration::from_secs(args.hammer_seconds);
    thread::scope(|scope| {
        for t in 0..4 {
            let (queries, answers, stop) = (&queries, &answers, &stop);
            scope.spawn(move || {
                let mut n = t;
                while !stop.load(Ordering::Relaxed) {
                    let query = &queries[n % queries.len()];
                    n += 1;
                    let asked = Instant::now();
                    let body = json!({ "liked": [query], "k": 20 });
                    let answer = client
                        .agent
                        .post(&format!("{}/v1/recommendations", client.url))
                        .send_json(body)
                        .ok()
                        .and_then(|mut r| r.body_mut().read_json::<Value>().ok());
                    let similar = client.json(&format!("/v1/items/{query}/similar?k=20")).ok();
                    let found = answer.iter().chain(&similar).flat_map(ids).collect();
                    answers.lock().expect("answers").push((asked, found));
                }
            });
        }
        let removing = scope.spawn(|| -> anyhow::Result<()> {
            while Instant::now() < end {
                let candidates: Vec<String> = client.similar(&queries[0])?;
                let taken = applied.lock().expect("applied").keys().cloned().collect::<Vec<_>>();
                let Some(id) = candidates.into_iter().find(|c| !taken.contains(c) && !queries.contains(c)) else {
                    thread::sleep(Duration::from_millis(50));
                    continue;
                };
                let body = json!({ "availability": "sold_out" });
                let accepted = client.change("PATCH", &format!("items/{id}/availability"), Some(body))?;
                let seen = client.until(accepted, || client.status(&format!("/v1/items/{id}")) == 410);
                recorder.record("hammer: 410", seen.unwrap_or(client.patience), seen.is_some());
                applied.lock().expect("applied").insert(id, Instant::now());
            }
            Ok(())
        });
        let removed = removing.join().expect("the removing thread does not panic");
        stop.store(true, Ordering::Relaxed);
        removed
    })?;
    let applied = applied.into_inner().expect("applied");
    let answers = answers.into_inner().expect("answers");
    let violations = answers
        .iter()
        .filter(|(asked, found)| found.iter().any(|id| applied.get(id).is_some_and(|at| at < asked)))
        .count();
    // Back in stock, so the shop is as it was.
    for id in applied.keys() {
        let body = json!({ "availability": "in_stock" });
        client.change("PATCH", &format!("items/{id}/availability"), Some(body))?;
    }
    Ok((answers.len(), violations))
}
