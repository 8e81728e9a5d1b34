//! The LLM rater against a small local HTTP server that answers like a chat-completions endpoint:
//! good answers, out-of-range ones, malformed ones, slow ones and failures.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tailor_core::Attributes;
use tailor_personas::{DEFAULT_PERSONAS, LlmConfig, LlmRater, PersonaError, PersonaFile};

/// Serves forever on a free port; answers depend on the product named in the prompt and on how
/// often it was asked. Returns the base URL and the request count per product.
fn serve() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let asked: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counts = asked.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let counts = counts.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let body = String::from_utf8(body).unwrap();
                let product = ["Good", "High", "Malformed", "Slow", "Broken"]
                    .into_iter()
                    .find(|p| body.contains(&format!("Product: {p}")))
                    .unwrap_or("Other");
                let n = {
                    let mut counts = counts.lock().unwrap();
                    let n = counts.entry(product.to_owned()).or_default();
                    *n += 1;
                    *n
                };
                let (status, content) = match (product, n) {
                    ("Good", _) => (200, r#"{"rating": 8}"#),
                    ("High", _) => (200, r#"{"rating": 14, "reason": "loves it"}"#),
                    ("Malformed", 1) => (200, "I would say 7 out of 10"),
                    ("Malformed", _) => (200, r#"{"rating": 6}"#),
                    ("Slow", 1) => {
                        thread::sleep(Duration::from_millis(1500));
                        (200, r#"{"rating": 2}"#)
                    }
                    ("Slow", _) => (200, r#"{"rating": 3}"#),
                    _ => (500, ""),
                };
                let payload = serde_json::json!({"choices": [{"message": {"role": "assistant", "content": content}}]})
                    .to_string();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
                    payload.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    (url, asked)
}

fn rater(url: &str, cache: &std::path::Path) -> LlmRater {
    let config = LlmConfig {
        endpoint: url.to_owned(),
        model: "mistral".into(),
        api_key: None,
        timeout: Duration::from_millis(500),
        attempts: 3,
        backoff: Duration::from_millis(10),
    };
    LlmRater::new(config, cache).unwrap()
}

#[test]
fn ratings_are_parsed_clipped_retried_and_cached() {
    let (url, asked) = serve();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("llm-ratings.jsonl");
    let persona = &PersonaFile::parse(DEFAULT_PERSONAS).unwrap().personas[0];
    let attributes = Attributes::default();
    let mut llm = rater(&url, &cache);

    assert_eq!(llm.rate(persona, "1", "Good Shirt", &attributes).unwrap(), 8.0);
    assert_eq!(llm.rate(persona, "2", "High Watch", &attributes).unwrap(), 10.0, "14 is clipped");
    assert_eq!(llm.counts.clipped, 1);
    assert_eq!(llm.rate(persona, "3", "Malformed Belt", &attributes).unwrap(), 6.0, "asked again after prose");
    assert_eq!(llm.counts.malformed, 1);
    assert_eq!(llm.rate(persona, "4", "Slow Shoe", &attributes).unwrap(), 3.0, "a timed-out request is retried");
    let error = llm.rate(persona, "5", "Broken Bag", &attributes).unwrap_err();
    assert!(matches!(error, PersonaError::Llm(_)) && error.to_string().contains("after 3 attempts"), "{error}");
    assert_eq!(asked.lock().unwrap()["Broken"], 3);

    // Cached: neither this rater nor a new one on the same file asks again.
    assert_eq!(llm.rate(persona, "1", "Good Shirt", &attributes).unwrap(), 8.0);
    let mut again = rater(&url, &cache);
    assert_eq!(again.rate(persona, "2", "High Watch", &attributes).unwrap(), 10.0);
    let counts = asked.lock().unwrap().clone();
    assert_eq!((counts["Good"], counts["High"]), (1, 1));
    assert_eq!(again.counts.requests, 0);
    // Another persona rates the same item afresh.
    let other = &PersonaFile::parse(DEFAULT_PERSONAS).unwrap().personas[1];
    again.rate(other, "1", "Good Shirt", &attributes).unwrap();
    assert_eq!(asked.lock().unwrap()["Good"], 2);
}
