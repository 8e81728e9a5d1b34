//! `tailor serve` as a user runs it after ingesting and embedding: recommendations that change
//! after a like posted over HTTP, counters that move, and a clean stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::tailor;

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
    let session: serde_json::Value =
        ureq::post(&format!("{base}/v1/sessions")).send_empty().unwrap().body_mut().read_json().unwrap();
    let (visitor, token) = (session["session_id"].as_str().unwrap(), session["token"].as_str().unwrap());
    // A session's recommendations are read with its token.
    let recommendations = |k: usize| -> serde_json::Value {
        let url = format!("{base}/v1/users/{visitor}/recommendations?k={k}");
        let mut response = ureq::get(&url).header("Authorization", &format!("Bearer {token}")).call().unwrap();
        response.body_mut().read_json().unwrap()
    };
    let first = recommendations(3);
    assert_eq!(first["items"][0]["reason"], "a first look across the catalogue");
    let response = ureq::post(&format!("{base}/v1/events"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({"events": [{"subject": visitor, "item_id": "e", "kind": "like"}]}))
        .unwrap();
    assert_eq!(response.status(), 202);
    // The consumer applies the event within moments.
    let mut after = serde_json::Value::Null;
    for _ in 0..50 {
        after = recommendations(3);
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

/// The consumer stops when the schema registry stays unreachable: events written with a schema id
/// this process has not seen cannot be read. The service then says so on /healthz and /readyz and
/// exits with an error for its supervisor to restart it, instead of serving states that no longer
/// follow events.
#[test]
fn a_stopped_consumer_makes_the_service_unhealthy_then_exit() {
    let dir = tempfile::tempdir().unwrap();
    let csv = common::write_shirts_and_watches(dir.path());
    let data = dir.path().join("data");
    assert!(
        tailor(&data)
            .args(["ingest", "--format", "generic"])
            .arg(&csv)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
    );
    let embed = tailor(&data).arg("embed").stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(embed.unwrap().success());

    // One event framed with the id a registry gave, then the snapshot lost: a restart reads it again.
    let (registry, _) = tailor_testkit::registry::serve();
    let mut with_registry = tailor(&data);
    with_registry.env("TAILOR_EVENTS__SCHEMA_REGISTRY_URL", &registry);
    let (mut server, base) = common::start_server(with_registry);
    let session: serde_json::Value =
        ureq::post(&format!("{base}/v1/sessions")).send_empty().unwrap().body_mut().read_json().unwrap();
    let response = ureq::post(&format!("{base}/v1/events"))
        .header("Authorization", &format!("Bearer {}", session["token"].as_str().unwrap()))
        .send_json(serde_json::json!({"events": [{"subject": session["session_id"], "item_id": "i2", "kind": "like"}]}))
        .unwrap();
    assert_eq!(response.status(), 202);
    Command::new("kill").arg("-TERM").arg(server.id().to_string()).status().unwrap();
    assert!(server.wait().unwrap().success());
    std::fs::remove_file(data.join("stream/visitors.snapshot")).unwrap();

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut unreachable = tailor(&data);
    unreachable.env("TAILOR_EVENTS__SCHEMA_REGISTRY_URL", format!("http://127.0.0.1:{closed}"));
    let (mut server, base) = common::start_server(unreachable);
    let error_code = |route: &str| -> Option<String> {
        match ureq::get(&format!("{base}{route}")).call() {
            Err(ureq::Error::StatusCode(503)) => {
                // ureq hides the body of an error status; ask again without treating it as one.
                let mut response =
                    ureq::get(&format!("{base}{route}")).config().http_status_as_error(false).build().call().ok()?;
                let body: serde_json::Value = response.body_mut().read_json().ok()?;
                body["error"]["code"].as_str().map(str::to_owned)
            }
            _ => None,
        }
    };
    assert_eq!(error_code("/healthz"), None, "healthy while the consumer waits for the registry");
    // The consumer gives the registry 30 s before it stops.
    let deadline = Instant::now() + Duration::from_secs(60);
    while error_code("/healthz").is_none() {
        assert!(Instant::now() < deadline, "/healthz never reported the stopped consumer");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(error_code("/healthz").as_deref(), Some("consumer_stopped"));
    assert_eq!(error_code("/readyz").as_deref(), Some("consumer_stopped"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the service did not exit after its consumer stopped");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!status.success(), "it exits with an error: {status}");
}
