//! The fixture the API tests share: a small catalogue with synthetic vectors, an embedded log, a
//! streaming consumer, a model store, and helpers to call the router in process.

#![allow(dead_code, reason = "each test file uses its part of the fixture")]

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tailor_config::TimestampWindow;
use tailor_core::{AggregateWeights, Attributes, Gender, ImageRef, Item, ItemId};
use tailor_engine::{SearchConfig, ServingCatalog};
use tailor_events::SingleObject;
use tailor_log::{DEFAULT_SEGMENT_BYTES, EmbeddedLog, TopicConfig};
use tailor_models::{ModelLifecycle, ModelStore};
use tailor_ranker::{Admin, Intake, Service, SessionKeys, router};
use tailor_stream::{ItemVectors, Source, StreamConsumer, VisitorStates};
use tailor_testkit::synthetic;
use tower::ServiceExt;

pub const ADMIN_TOKEN: &str = "an admin token for the tests";

/// The fixture's session keys, or keys with its secret and another token lifetime.
pub fn session_keys(ttl_ms: i64) -> SessionKeys {
    SessionKeys::new(b"a test secret of sufficient length".to_vec(), ttl_ms)
}
pub const MODELS_TOPIC: &str = "models";
/// Where the admin item routes append (the service's default).
pub const ITEMS_TOPIC: &str = "tailor.items";

pub const DIM: usize = 16;
pub const TYPES: [&str; 3] = ["Shirts", "Jeans", "Watches"];

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub service: Arc<Service>,
    pub consumer: StreamConsumer,
    /// The log the service appends to; its models topic is `MODELS_TOPIC`.
    pub log: Arc<EmbeddedLog>,
}

pub fn fixture() -> Fixture {
    fixture_with_admin_token(Some(ADMIN_TOKEN))
}

pub fn fixture_with_admin_token(token: Option<&str>) -> Fixture {
    fixture_with(token, SearchConfig::default())
}

pub fn fixture_with(token: Option<&str>, search: SearchConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<Item> = (0..30)
        .map(|i| {
            let attributes = Attributes {
                gender: Some(if i % 2 == 0 { Gender::Men } else { Gender::Women }),
                article_type: Some(TYPES[i % 3].to_owned()),
                ..Attributes::default()
            };
            let image = (i < 20).then(|| photo(&dir));
            Item::new(ItemId::new(format!("item-{i}")).unwrap(), Some(format!("Item {i}")), None, image, attributes)
                .unwrap()
        })
        .collect();
    fixture_of(dir, items, synthetic::item_vectors(30, DIM, 3), token, search)
}

/// A photo file in the fixture's directory (its bytes are never decoded).
pub fn photo(dir: &tempfile::TempDir) -> ImageRef {
    let path = dir.path().join("photo.png");
    std::fs::write(&path, b"\x89PNG not really").unwrap();
    ImageRef::File { path: path.display().to_string(), width: 1, height: 1 }
}

/// The service over a given catalogue and item vectors, kept in `dir`.
pub fn fixture_of(
    dir: tempfile::TempDir,
    items: Vec<Item>,
    vectors: ItemVectors,
    token: Option<&str>,
    search: SearchConfig,
) -> Fixture {
    let vectors = Arc::new(vectors);
    let dim = vectors.dim();
    let topics = [
        TopicConfig::new("interactions", 2),
        TopicConfig::new("dead-letters", 1),
        TopicConfig::new(MODELS_TOPIC, 1),
        TopicConfig::new(ITEMS_TOPIC, 1),
    ];
    let log = Arc::new(EmbeddedLog::open(&dir.path().join("log"), &topics, DEFAULT_SEGMENT_BYTES).unwrap());
    let visitors = Arc::new(VisitorStates::new(dim, AggregateWeights::default()));
    let source = Source {
        log: log.clone(),
        wire: Arc::new(SingleObject),
        topic: "interactions".to_owned(),
        dead_letter_topic: "dead-letters".to_owned(),
    };
    let (consumer, _) =
        StreamConsumer::start(source, visitors.clone(), vectors.clone(), &dir.path().join("snapshot")).unwrap();
    let catalog = ServingCatalog::new(items, &vectors, search).unwrap();
    let intake = Intake {
        log: log.clone(),
        wire: Arc::new(SingleObject),
        topic: "interactions".to_owned(),
        timestamps: TimestampWindow::default(),
    };
    let sessions = session_keys(tailor_config::DEFAULT_SESSION_TTL_MS);
    let store = ModelStore::open(&dir.path().join("models")).unwrap();
    let lifecycle = ModelLifecycle::new(store, log.clone(), Arc::new(SingleObject), MODELS_TOPIC);
    let admin = Admin { token: token.map(str::to_owned), lifecycle, retrains: Mutex::default() };
    let service = Arc::new(Service::new(catalog, visitors, intake, sessions, admin));
    Fixture { dir, service, consumer, log }
}

pub async fn call(fixture: &Fixture, method: &str, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
    call_as(fixture, None, method, uri, body).await
}

pub async fn call_as(
    fixture: &Fixture,
    token: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned()))).unwrap();
    let response = router(fixture.service.clone(), None).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error body: {body}"))
}

pub fn ids(body: &Value) -> Vec<String> {
    body["items"].as_array().unwrap().iter().map(|r| r["item"]["id"].as_str().unwrap().to_owned()).collect()
}
