//! The live catalogue as a shop runs it with `tailor serve` (embedder in process): an item added
//! through the admin route is served and recommended within moments, and while recommendations
//! are hammered from several threads, items removed one by one are never in an answer that
//! started after their removal was applied. Bounded: about 15 s after the small shop is trained.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod common;

const ADMIN_TOKEN: &str = "the live catalogue test's admin token";

fn status(url: &str) -> u16 {
    match ureq::get(url).call() {
        Ok(response) => response.status().as_u16(),
        Err(ureq::Error::StatusCode(code)) => code,
        Err(error) => panic!("{url}: {error}"),
    }
}

fn recommended(base: &str, liked: &str) -> Vec<String> {
    let body = serde_json::json!({"liked": [liked], "k": 20});
    let answer: serde_json::Value =
        ureq::post(&format!("{base}/v1/recommendations")).send_json(body).unwrap().body_mut().read_json().unwrap();
    answer["items"].as_array().unwrap().iter().map(|r| r["item"]["id"].as_str().unwrap().to_owned()).collect()
}

/// Waits until `done` holds, at most ten seconds.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn items_arrive_and_leave_while_recommendations_are_hammered() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tailor = || {
        let mut command = common::tailor(&data);
        command.env("TAILOR_SERVE__ADMIN_TOKEN", ADMIN_TOKEN);
        command
    };
    common::train_small_shop(dir.path(), tailor);
    let (server, base) = common::Server::start(tailor());
    let bearer = format!("Bearer {ADMIN_TOKEN}");

    // A new watch, title only: served, and recommended beside the shop's gold watches.
    let watch = serde_json::json!({"title": "Gold Analog Watch with a Steel Strap", "article_type": "Watches", "gender": "Men"});
    let response =
        ureq::put(&format!("{base}/v1/admin/items/new-watch")).header("Authorization", &bearer).send_json(watch);
    assert_eq!(response.unwrap().status(), 202);
    until("the new watch to be served", || status(&format!("{base}/v1/items/new-watch")) == 200);
    until("the new watch to be recommended", || recommended(&base, "i2").contains(&"new-watch".to_owned()));

    // Hammering while removing: every answer, with when it was asked, and when each removal was
    // seen applied.
    let answers: Mutex<Vec<(Instant, Vec<String>)>> = Mutex::default();
    let applied: Mutex<HashMap<String, Instant>> = Mutex::default();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for liked in ["i0", "i1", "i2"] {
            let (answers, stop, base) = (&answers, &stop, &base);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let asked = Instant::now();
                    let found = recommended(base, liked);
                    answers.lock().unwrap().push((asked, found));
                }
            });
        }
        for id in ["i4", "i5", "i6", "i7", "i8", "i9", "i10", "i11", "new-watch"] {
            let response = ureq::delete(&format!("{base}/v1/admin/items/{id}")).header("Authorization", &bearer).call();
            assert_eq!(response.unwrap().status(), 202);
            until("the removal to apply", || status(&format!("{base}/v1/items/{id}")) == 410);
            applied.lock().unwrap().insert(id.to_owned(), Instant::now());
        }
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
    });
    let (answers, applied) = (answers.into_inner().unwrap(), applied.into_inner().unwrap());
    let late: Vec<_> = answers
        .iter()
        .filter(|(asked, found)| found.iter().any(|id| applied.get(id).is_some_and(|at| at < asked)))
        .collect();
    assert!(answers.len() > 50, "only {} answers", answers.len());
    assert!(late.is_empty(), "{} of {} answers held a removed item: {:?}", late.len(), answers.len(), late.first());
    server.stop();
}
