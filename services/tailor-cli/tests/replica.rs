//! The serving binaries by role: `tailor-serve` serves a trained shop with its model and answers
//! free text through the embedder process (`tailor text-encoder`), with a clear 503 once that
//! process is away; the all-in-one `tailor` links libtorch and the replica does not.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{Server, run, tailor};

/// `tailor-serve`, beside the `tailor` binary: `cargo test --workspace` builds both (the check on
/// its dynamic dependencies is `tailor-serve`'s own test).
fn tailor_serve_binary() -> PathBuf {
    let binary = Path::new(env!("CARGO_BIN_EXE_tailor")).with_file_name("tailor-serve");
    assert!(binary.is_file(), "{} is missing: build it with `cargo build -p tailor-serve`", binary.display());
    binary
}

#[test]
fn the_all_in_one_binary_links_libtorch_and_the_replica_does_not() {
    let ldd = |binary: &Path| run(Command::new("ldd").arg(binary));
    assert!(ldd(Path::new(env!("CARGO_BIN_EXE_tailor"))).contains("libtorch"));
    assert!(!ldd(&tailor_serve_binary()).contains("libtorch"));
}

fn recommend(base: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut response = agent.post(&format!("{base}/v1/recommendations")).send_json(body).unwrap();
    (response.status().as_u16(), response.body_mut().read_json().unwrap())
}

#[test]
fn the_replica_serves_the_model_and_free_text_through_the_embedder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::train_small_shop(dir.path(), || tailor(&data));

    let mut encoder_command = tailor(&data);
    encoder_command.arg("text-encoder").env("TAILOR_EMBED__TEXT_ENCODER_ADDR", "127.0.0.1:0");
    let (encoder, encoder_url) = Server::listening(encoder_command, "answering free-text queries at ");
    let encoder_base = encoder_url.trim_end_matches(tailor_ranker::TEXT_VECTOR_ROUTE).to_owned();

    let mut replica_command = Command::new(tailor_serve_binary());
    replica_command
        .arg("--data-dir")
        .arg(&data)
        .env_remove("TAILOR_CONFIG")
        .env("TAILOR_SERVE__ADDR", "127.0.0.1:0")
        .env("TAILOR_SERVE__TEXT_ENCODER_URL", &encoder_base)
        .env("TAILOR_SERVE__TEXT_ENCODER_TIMEOUT_MS", "1000");
    let (replica, base) = Server::listening(replica_command, "listening on ");

    // Ready means a model is loaded: the one `tailor train` published.
    let started = Instant::now();
    while ureq::get(&format!("{base}/readyz")).call().is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the replica never became ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, liked) = recommend(&base, serde_json::json!({"liked": ["i2"], "k": 5}));
    assert_eq!(status, 200, "{liked}");
    let is_watch = |r: &serde_json::Value| r["item"]["title"].as_str().is_some_and(|t| t.contains("Watch"));
    let watches = liked["items"].as_array().unwrap().iter().filter(|r| is_watch(r)).count();
    assert!(watches >= 4, "a liked watch brings watches: {liked}");

    let (status, described) = recommend(&base, serde_json::json!({"text": "a gold analog watch", "k": 5}));
    assert_eq!(status, 200, "{described}");
    assert!(is_watch(&described["items"][0]), "the text went through the embedder: {described}");

    encoder.stop();
    let started = Instant::now();
    let (status, refused) = recommend(&base, serde_json::json!({"text": "a gold analog watch"}));
    assert_eq!((status, refused["error"]["code"].as_str()), (503, Some("text_encoder_unavailable")), "{refused}");
    assert!(started.elapsed() < Duration::from_secs(3), "answered within the timeout");
    let (status, _) = recommend(&base, serde_json::json!({"liked": ["i2"]}));
    assert_eq!(status, 200, "the rest of the service goes on");
    replica.stop();
}
