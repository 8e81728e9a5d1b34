//! A schema registry for tests: a small HTTP server that answers like Confluent's registry.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

/// Serves `POST /subjects/S/versions` and `GET /schemas/ids/N` from memory.
pub fn serve() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let schemas = Arc::new(Mutex::new(Vec::<String>::new()));
    let store = schemas.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let parts: Vec<&str> = request_line.split_whitespace().collect();
            let (status, reply) = match (parts[0], parts[1].split('/').collect::<Vec<_>>().as_slice()) {
                ("POST", ["", "subjects", _, "versions"]) => {
                    let schema = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["schema"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    let mut schemas = store.lock().unwrap();
                    let id = schemas.iter().position(|s| *s == schema).unwrap_or_else(|| {
                        schemas.push(schema);
                        schemas.len() - 1
                    }) + 1;
                    ("200 OK", serde_json::json!({ "id": id }))
                }
                ("GET", ["", "schemas", "ids", id]) => {
                    match store.lock().unwrap().get(id.parse::<usize>().unwrap() - 1) {
                        Some(schema) => ("200 OK", serde_json::json!({ "schema": schema })),
                        None => {
                            ("404 Not Found", serde_json::json!({ "error_code": 40403, "message": "Schema not found" }))
                        }
                    }
                }
                _ => ("404 Not Found", serde_json::json!({})),
            };
            let reply = reply.to_string();
            write!(stream, "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len()).unwrap();
        }
    });
    (url, schemas)
}
