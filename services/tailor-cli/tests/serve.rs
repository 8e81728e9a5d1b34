//! `tailor serve` as a user runs it after ingesting and embedding: recommendations that change
//! after a like posted over HTTP, counters that move, and a clean stop on SIGTERM.

use std::path::Path;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

mod common;

fn tailor(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tailor").unwrap();
    cmd.arg("--data-dir").arg(data_dir).env_remove("TAILOR_DATA_DIR").env_remove("TAILOR_CONFIG");
    cmd
}

fn get(url: &str) -> serde_json::Value {
    ureq::get(url).call().unwrap().body_mut().read_json().unwrap()
}

#[test]
fn serves_recommendations_that_follow_a_like() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        "a,Navy Blue Checked Shirt,images/portrait.png,Shirts",
        "b,Blue Striped Shirt,images/landscape.png,Shirts",
        "c,Black Running Shoes,images/square.png,Shoes",
        "d,White Sports Shoes,,Shoes",
        "e,Gold Analog Watch,,Watches",
        "f,Silver Digital Watch,,Watches",
    ];
    let csv = common::write_shop(dir.path(), "id,title,image,article_type", &rows);
    let data = dir.path().join("data");
    let ingest = tailor(&data).args(["ingest", "--format", "generic"]).arg(&csv).stdout(Stdio::null()).status();
    assert!(ingest.unwrap().success());
    let embed = tailor(&data).arg("embed").stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(embed.unwrap().success());

    let (mut server, base) = common::start_server(tailor(&data));

    assert_eq!(get(&format!("{base}/v1/items"))["total"], 6);
    let not_ready = ureq::get(&format!("{base}/readyz")).call();
    assert!(matches!(not_ready, Err(ureq::Error::StatusCode(503))), "no model yet: {not_ready:?}");
    let first = get(&format!("{base}/v1/users/someone/recommendations?k=3"));
    assert_eq!(first["items"][0]["reason"], "a first look across the catalogue");
    let session: serde_json::Value =
        ureq::post(&format!("{base}/v1/sessions")).send_empty().unwrap().body_mut().read_json().unwrap();
    let (visitor, token) = (session["session_id"].as_str().unwrap(), session["token"].as_str().unwrap());
    let response = ureq::post(&format!("{base}/v1/events"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({"events": [{"subject": visitor, "item_id": "e", "kind": "like"}]}))
        .unwrap();
    assert_eq!(response.status(), 202);
    // The consumer applies the event within moments.
    let mut after = serde_json::Value::Null;
    for _ in 0..50 {
        after = get(&format!("{base}/v1/users/{visitor}/recommendations?k=3"));
        if after["items"][0]["reason"] != "a first look across the catalogue" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(after["items"][0]["reason"], "similar to Gold Analog Watch", "{after}");
    assert_eq!(after["items"][0]["item"]["id"], "f", "the other watch comes first: {after}");
    let metrics = ureq::get(&format!("{base}/metrics")).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(metrics.contains("tailor_events_accepted_total 1"), "{metrics}");
    assert!(metrics.contains("tailor_stream_events_total{outcome=\"applied\"} 1"), "{metrics}");

    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    assert!(server.wait().unwrap().success());
    assert!(data.join("stream/visitors.snapshot").is_file());
}
