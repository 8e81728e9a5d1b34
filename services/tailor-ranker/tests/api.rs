//! The HTTP API end to end in process: every route, and every kind of bad input answered with a
//! 4xx and a JSON error naming the problem.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tailor_config::TimestampWindow;
use tailor_ranker::MAX_BODY_BYTES;

mod common;

use common::{ADMIN_TOKEN, Fixture, call, call_as, error_code, fixture, fixture_with_admin_token, ids, session_keys};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let f = fixture();
    assert_eq!(call(&f, "GET", "/healthz", None).await, (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = call(&f, "GET", "/readyz", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "not_ready"), "no model yet");
    call(&f, "GET", "/v1/items/item-1", None).await;
    let (status, text) = call(&f, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains("tailor_http_requests_total{route=\"/v1/items/{id}\",status=\"200\"}"), "{text}");
    assert!(text.contains("tailor_catalog_items 30"), "{text}");
}

#[tokio::test]
async fn browsing_filters_and_pages() {
    let f = fixture();
    let (status, body) = call(&f, "GET", "/v1/items?gender=women&article_type=jeans&limit=2&offset=1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 5);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["attributes"]["gender"] == "women" && i["attributes"]["article_type"] == "Jeans"));
    assert_eq!(items[0]["image_url"], format!("/v1/items/{}/image", items[0]["id"].as_str().unwrap()));

    let (_, photos) = call(&f, "GET", "/v1/items?with_photo=true&limit=200", None).await;
    assert_eq!(photos["total"], 20, "items 0-19 have photos");
    let (_, found) = call(&f, "GET", "/v1/items?q=ITEM%2012", None).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], "item-12");
    let (status, body) = call(&f, "GET", "/v1/items?with_photo=maybe", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_parameter"));

    let (status, body) = call(&f, "GET", "/v1/items/item-3", None).await;
    assert_eq!((status, body["title"].as_str()), (StatusCode::OK, Some("Item 3")));
    let (status, body) = call(&f, "GET", "/v1/items/item-3/image", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(&f, "GET", "/v1/items/item-25/image", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "no_image"));
}

#[tokio::test]
async fn bad_queries_get_named_4xx_errors() {
    let f = fixture();
    let cases = [
        ("/v1/items/nope", StatusCode::NOT_FOUND, "unknown_item"),
        ("/v1/items/nope/similar", StatusCode::NOT_FOUND, "unknown_item"),
        ("/v1/items?colur=red", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items?gender=aliens", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items?limit=0", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items?limit=100000", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items?offset=-1", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items/item-1/similar?k=0", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items/item-1/similar?k=101", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items/item-1/similar?k=ten", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/users/s1/recommendations?kind=robot", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/users/u1/recommendations?kind=user&diversity=2", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v1/items/item-1/similar?diversity=much", StatusCode::BAD_REQUEST, "invalid_parameter"),
        // Below 0 by less than the smallest f32: Schemathesis found it accepted once.
        ("/v1/items/item-1/similar?diversity=-1e-323", StatusCode::BAD_REQUEST, "invalid_parameter"),
        ("/v2/everything", StatusCode::NOT_FOUND, "no_route"),
    ];
    let long_query = format!("/v1/items?q={}", "a".repeat(201));
    let cases = cases.into_iter().chain([(long_query.as_str(), StatusCode::BAD_REQUEST, "invalid_parameter")]);
    for (uri, status, code) in cases {
        // With the admin token, so that reads by user id get as far as their parameters.
        let (got, body) = call_as(&f, Some(ADMIN_TOKEN), "GET", uri, None).await;
        assert_eq!((got, error_code(&body)), (status, code), "{uri}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn similar_items_leave_out_the_item_and_respect_filters() {
    let f = fixture();
    let (status, body) = call(&f, "GET", "/v1/items/item-4/similar?k=5&gender=men", None).await;
    assert_eq!(status, StatusCode::OK);
    let found = ids(&body);
    assert_eq!(found.len(), 5);
    assert!(!found.contains(&"item-4".to_owned()));
    let scores: Vec<f64> = body["items"].as_array().unwrap().iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(body["items"].as_array().unwrap().iter().all(|r| r["item"]["attributes"]["gender"] == "men"));
}

#[tokio::test]
async fn cold_start_from_the_request_alone() {
    let f = fixture();
    // Nothing known: a spread over article types, never empty.
    let (status, body) = call(&f, "POST", "/v1/recommendations", Some("{}")).await;
    assert_eq!(status, StatusCode::OK);
    let first = ids(&body);
    assert_eq!(first.len(), 10);
    let types: std::collections::HashSet<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item"]["attributes"]["article_type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 3);

    let (status, body) =
        call(&f, "POST", "/v1/recommendations", Some(r#"{"liked": ["item-2"], "disliked": ["item-5"], "k": 4}"#)).await;
    assert_eq!(status, StatusCode::OK);
    let found = ids(&body);
    assert_eq!(found.len(), 4);
    assert!(!found.contains(&"item-2".to_owned()) && !found.contains(&"item-5".to_owned()));
    assert_eq!(body["items"][0]["reason"], "similar to Item 2");
    for result in body["items"].as_array().unwrap() {
        assert_eq!(result["item"]["attributes"]["gender"], "men", "item-2 is men's: {result}");
        if result["reason"] == "similar to Item 2" {
            assert_eq!(result["item"]["attributes"]["article_type"], "Watches", "as item-2: {result}");
        }
    }

    let cases = [
        (r#"{"liked": ["missing"]}"#, StatusCode::NOT_FOUND, "unknown_item"),
        (r#"{"liked": "item-1"}"#, StatusCode::BAD_REQUEST, "invalid_body"),
        (r#"{"likes": ["item-1"]}"#, StatusCode::BAD_REQUEST, "invalid_body"),
        ("{not json", StatusCode::BAD_REQUEST, "invalid_body"),
        (r#"{"k": 0}"#, StatusCode::BAD_REQUEST, "invalid_parameter"),
        (r#"{"liked": ["item-1"], "diversity": -0.5}"#, StatusCode::BAD_REQUEST, "invalid_parameter"),
        (r#"{"filter": {"gender": "aliens"}}"#, StatusCode::BAD_REQUEST, "invalid_parameter"),
    ];
    for (request, status, code) in cases {
        let (got, body) = call(&f, "POST", "/v1/recommendations", Some(request)).await;
        assert_eq!((got, error_code(&body)), (status, code), "{request}: {body}");
    }
    let huge = format!(r#"{{"liked": ["{}"]}}"#, "x".repeat(MAX_BODY_BYTES));
    let (status, body) = call(&f, "POST", "/v1/recommendations", Some(&huge)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
}

/// A new session: its id and token.
async fn session(f: &Fixture) -> (String, String) {
    let (status, body) = call(f, "POST", "/v1/sessions", None).await;
    assert_eq!(status, StatusCode::CREATED);
    (body["session_id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_like_changes_the_visitors_recommendations() {
    let mut f = fixture();
    let (visitor, token) = session(&f).await;
    let recommendations = format!("/v1/users/{visitor}/recommendations?k=5");
    let (status, before) = call_as(&f, Some(&token), "GET", &recommendations, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["items"][0]["reason"], "a first look across the catalogue");

    let events = json!({"events": [{"subject": visitor, "item_id": "item-7", "kind": "like"},
                                   {"subject": visitor, "item_id": "item-8", "kind": "rating", "value": 9}]});
    let (status, body) = call_as(&f, Some(&token), "POST", "/v1/events", Some(&events.to_string())).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({"accepted": 2})));
    let applied = f.consumer.poll(100, Duration::from_secs(5)).unwrap();
    assert_eq!(applied.applied, 2);

    let (status, after) = call_as(&f, Some(&token), "GET", &recommendations, None).await;
    assert_eq!(status, StatusCode::OK);
    let found = ids(&after);
    assert_eq!(found.len(), 5);
    assert!(!found.contains(&"item-7".to_owned()) && !found.contains(&"item-8".to_owned()));
    assert_eq!(after["items"][0]["reason"], "similar to Item 7");
    assert_ne!(ids(&before), found);
}

#[tokio::test]
async fn a_visitors_recommendations_are_read_with_its_token_and_a_users_with_the_admin_token() {
    let f = fixture();
    let (visitor, token) = session(&f).await;
    let (_, other_token) = session(&f).await;
    let of_session = format!("/v1/users/{visitor}/recommendations");
    let expired = session_keys(1).issue(tailor_log::now_ms() - 1000);
    let of_expired = format!("/v1/users/{}/recommendations", expired.session_id);
    let of_user = "/v1/users/shopper-1/recommendations?kind=user";
    let cases = [
        (&of_session, Some(token.as_str()), StatusCode::OK, None),
        (&of_session, None, StatusCode::UNAUTHORIZED, Some("missing_session_token")),
        (&of_session, Some(other_token.as_str()), StatusCode::FORBIDDEN, Some("forbidden")),
        (&of_session, Some(ADMIN_TOKEN), StatusCode::FORBIDDEN, Some("forbidden")),
        (&of_expired, Some(expired.token.as_str()), StatusCode::UNAUTHORIZED, Some("session_expired")),
        (&of_user.to_owned(), Some(ADMIN_TOKEN), StatusCode::OK, None),
        (&of_user.to_owned(), None, StatusCode::UNAUTHORIZED, Some("admin_token_required")),
        (&of_user.to_owned(), Some(token.as_str()), StatusCode::UNAUTHORIZED, Some("admin_token_required")),
    ];
    for (uri, given, status, code) in cases {
        let (got, body) = call_as(&f, given, "GET", uri, None).await;
        assert_eq!(got, status, "{uri} with {given:?}: {body}");
        if let Some(code) = code {
            assert_eq!(error_code(&body), code, "{uri}: {body}");
        }
    }
    // Without an admin token configured, reads by user id are off for everyone.
    let without_admin = fixture_with_admin_token(None);
    let (status, body) = call_as(&without_admin, Some(ADMIN_TOKEN), "GET", of_user, None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "admin_disabled"));
}

#[tokio::test]
async fn a_new_session_says_when_its_token_expires() {
    let f = fixture();
    let before = tailor_log::now_ms();
    let (status, body) = call(&f, "POST", "/v1/sessions", None).await;
    assert_eq!(status, StatusCode::CREATED);
    let expires = body["expires_at_ms"].as_i64().unwrap();
    assert!(expires >= before + tailor_config::DEFAULT_SESSION_TTL_MS, "{body}");
    assert!(body["token"].as_str().unwrap().starts_with(&format!("{expires}.")), "{body}");
}

#[tokio::test]
async fn a_beacon_carries_its_token_in_a_text_body() {
    let mut f = fixture();
    let (visitor, token) = session(&f).await;
    let beacon = json!({"events": [{"subject": visitor, "item_id": "item-3", "kind": "view"}], "token": token});
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/events")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(axum::body::Body::from(beacon.to_string()))
        .unwrap();
    let response = tower::ServiceExt::oneshot(tailor_ranker::router(f.service.clone(), None), request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(f.consumer.poll(100, Duration::from_secs(5)).unwrap().applied, 1);
    let huge = format!(r#"{{"events": [], "token": "{}"}}"#, "x".repeat(tailor_ranker::MAX_BODY_BYTES));
    let (status, body) = call_as(&f, Some(&token), "POST", "/v1/events", Some(&huge)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
    let forged = json!({"events": [{"subject": visitor, "item_id": "item-3", "kind": "view"}], "token": "forged"});
    let (status, body) = call(&f, "POST", "/v1/events", Some(&forged.to_string())).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
}

#[tokio::test]
async fn bad_events_are_refused_and_nothing_is_appended() {
    let mut f = fixture();
    let (s, token) = session(&f).await;
    let like = |fields: &str| format!(r#"{{"events": [{{"subject": "{s}", {fields}}}]}}"#);
    let cases = [
        (r#"{"events": []}"#.to_owned(), StatusCode::BAD_REQUEST, "invalid_parameter"),
        (like(r#""item_id": "nope", "kind": "like""#), StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
        (
            like(r#""item_id": "item-1", "kind": "rating", "value": 11"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (like(r#""item_id": "item-1", "kind": "rating""#), StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
        (like(r#""item_id": "item-1", "kind": "like", "value": 3"#), StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
        (like(r#""item_id": "item-1", "kind": "wink""#), StatusCode::BAD_REQUEST, "invalid_body"),
        (like(r#""item_id": "item-1", "kind": "rating", "value": "NaN""#), StatusCode::BAD_REQUEST, "invalid_body"),
        (r#"{"events": {"subject": "s"}}"#.to_owned(), StatusCode::BAD_REQUEST, "invalid_body"),
        // Only the token's own session: not another one, nor a user.
        (
            r#"{"events": [{"subject": "someone-else", "item_id": "item-1", "kind": "like"}]}"#.to_owned(),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (like(r#""subject_kind": "user", "item_id": "item-1", "kind": "like""#), StatusCode::FORBIDDEN, "forbidden"),
        // i64::MAX, then an hour before the epoch: once an overflow in the decay arithmetic.
        (
            like(r#""item_id": "item-1", "kind": "like", "timestamp_ms": 9223372036854775807"#),
            StatusCode::BAD_REQUEST,
            "invalid_timestamp",
        ),
        (
            like(r#""item_id": "item-1", "kind": "like", "timestamp_ms": -3600000"#),
            StatusCode::BAD_REQUEST,
            "invalid_timestamp",
        ),
    ];
    for (request, status, code) in &cases {
        let (got, body) = call_as(&f, Some(&token), "POST", "/v1/events", Some(request)).await;
        assert_eq!((got, error_code(&body)), (*status, *code), "{request}: {body}");
    }
    let valid = like(r#""item_id": "item-1", "kind": "like""#);
    let (status, body) = call(&f, "POST", "/v1/events", Some(&valid)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "missing_session_token"));
    let (_, other_token) = session(&f).await;
    let (status, body) = call_as(&f, Some(&other_token), "POST", "/v1/events", Some(&valid)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    // A batch with one bad event is refused whole: the good event before it is not stored.
    let mixed = format!(
        r#"{{"events": [{{"subject": "{s}", "item_id": "item-1", "kind": "like"}},
                        {{"subject": "{s}", "item_id": "nope", "kind": "like"}}]}}"#
    );
    let (status, body) = call_as(&f, Some(&token), "POST", "/v1/events", Some(&mixed)).await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("event 1: no item \"nope\" in the catalogue"))
    );
    // The window is the service's clock give or take serve.timestamps, and the message says so.
    let now = tailor_log::now_ms();
    let (earliest, latest) = TimestampWindow::default().bounds(now);
    let too_new = like(&format!(r#""item_id": "item-1", "kind": "like", "timestamp_ms": {}"#, latest + 60_000));
    let (status, body) = call_as(&f, Some(&token), "POST", "/v1/events", Some(&too_new)).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let window = |message: &str| -> Vec<i64> {
        let bounds = message.rsplit_once("accepts, ").unwrap().1;
        bounds.split(" to ").map(|b| b.parse().unwrap()).collect()
    };
    let bounds = window(message);
    assert!((bounds[0] - earliest).abs() < 60_000 && (bounds[1] - latest).abs() < 60_000, "{message}");
    let in_window = like(&format!(r#""item_id": "item-1", "kind": "like", "timestamp_ms": {}"#, now - 86_400_000));
    assert_eq!(call_as(&f, Some(&token), "POST", "/v1/events", Some(&in_window)).await.0, StatusCode::ACCEPTED);
    assert_eq!(f.consumer.poll(100, Duration::from_millis(100)).unwrap().records(), 1, "only the one in the window");
}

#[tokio::test]
async fn every_documented_route_exists_and_every_route_is_documented() {
    let f = fixture();
    let (status, document) = call(&f, "GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = document["paths"].as_object().unwrap();
    for (path, methods) in paths {
        for method in methods.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "item-1").replace("{version}", "1");
            let (status, body) = call(&f, &method.to_uppercase(), &uri, Some("{}")).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(body["error"]["code"] != "no_route", "{method} {path} is documented but not served");
        }
    }
    let source = include_str!("../src/service.rs");
    let served: Vec<&str> = source.split(".route(\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
    assert_eq!(served.len(), paths.len());
    for path in served {
        assert!(paths.contains_key(path), "{path} is served but not in openapi.json");
    }
}

/// The codes the error mapping answers, the OpenAPI document's `Error.code` and the README's
/// table of errors name the same set.
#[tokio::test]
async fn every_error_code_is_documented_and_every_documented_code_is_answered() {
    let f = fixture();
    let (_, document) = call(&f, "GET", "/openapi.json", None).await;
    let documented: std::collections::BTreeSet<&str> =
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap())
            .collect();
    let mapping = include_str!("../src/error.rs");
    let answered: std::collections::BTreeSet<&str> = mapping
        .split("StatusCode::")
        .skip(1)
        .filter_map(|rest| rest.split_once(", \"").map(|(_, code)| code.split('"').next().unwrap()))
        .collect();
    assert_eq!(answered, documented, "error.rs against openapi.json");
    let readme = include_str!("../../../README.md");
    let table = readme.split("**Errors.**").nth(1).unwrap().split("\n\n").nth(1).unwrap();
    let in_readme: std::collections::BTreeSet<&str> = table
        .lines()
        .filter_map(|row| row.split('|').nth(2))
        .flat_map(|codes| codes.split('`').skip(1).step_by(2))
        .collect();
    assert_eq!(in_readme, documented, "the README's table against openapi.json");
}

#[tokio::test]
async fn diversity_trades_relevance_for_variety() {
    let f = fixture();
    let relevance =
        |body: &Value| -> f64 { body["items"].as_array().unwrap().iter().map(|r| r["score"].as_f64().unwrap()).sum() };
    let (_, plain) = call(&f, "GET", "/v1/items/item-4/similar?k=5", None).await;
    let (status, varied) = call(&f, "GET", "/v1/items/item-4/similar?k=5&diversity=0.7", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&varied).len(), 5);
    assert_eq!(ids(&plain)[0], ids(&varied)[0], "the most relevant item still comes first");
    assert_ne!(ids(&plain), ids(&varied));
    assert!(relevance(&varied) < relevance(&plain));
}

/// Maps a text to the vector of the item it names ("like item-N"), as a stand-in for the
/// libtorch encoder the real service loads.
struct ItemNamedInText(Vec<(String, tailor_core::Embedding)>);

impl tailor_core::TextQuery for ItemNamedInText {
    fn embed(&self, text: &str) -> Result<tailor_core::Embedding, tailor_core::TextQueryError> {
        self.0
            .iter()
            .find(|(id, _)| text.ends_with(id.as_str()))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| tailor_core::TextQueryError::Refused("unknown".into()))
    }
}

#[tokio::test]
async fn a_typed_description_counts_as_a_liked_item() {
    let f = fixture();
    let (status, body) = call(&f, "POST", "/v1/recommendations", Some(r#"{"text": "like item-5"}"#)).await;
    let no_encoder = (StatusCode::SERVICE_UNAVAILABLE, "text_encoder_unavailable");
    assert_eq!((status, error_code(&body)), no_encoder, "no encoder configured");
    assert!(body["error"]["message"].as_str().unwrap().contains("text encoder"), "{body}");

    let serving = f.service.serving();
    let matrix = serving.catalog.matrix();
    let vectors = (0..matrix.len() as u32)
        .map(|row| {
            (
                matrix.id(row).to_string(),
                tailor_core::Embedding::from_unit(matrix.row(row).to_vec(), matrix.dim()).unwrap(),
            )
        })
        .collect();
    let mut service = std::sync::Arc::into_inner(f.service).unwrap();
    service.text_query = Some(Box::new(ItemNamedInText(vectors)));
    let f = common::Fixture { service: std::sync::Arc::new(service), ..f };
    let (_, by_text) = call(&f, "POST", "/v1/recommendations", Some(r#"{"text": "like item-5", "k": 3}"#)).await;
    // Text brings a vector and nothing else (no gender, no attributes): the nearest items to it,
    // item-5 itself first, since the visitor has not seen it.
    let serving = f.service.serving();
    let matrix = serving.catalog.matrix();
    let described = matrix.row(matrix.row_of("item-5").unwrap());
    let mut nearest: Vec<u32> = (0..matrix.len() as u32).collect();
    nearest.sort_by(|&a, &b| {
        let score = |row: u32| tailor_core::vector::dot(described, matrix.row(row));
        score(b).total_cmp(&score(a))
    });
    let expected: Vec<String> = nearest[..3].iter().map(|&row| matrix.id(row).to_string()).collect();
    assert_eq!(ids(&by_text), expected);
    assert!(by_text["items"].as_array().unwrap().iter().all(|r| r["reason"] == "matches what you described"));
    let long = format!(r#"{{"text": "{}"}}"#, "a".repeat(501));
    let (status, _) = call(&f, "POST", "/v1/recommendations", Some(&long)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_client_creating_sessions_too_fast_is_told_when_to_come_back() {
    let mut f = fixture();
    let limits = tailor_config::RequestLimits { sessions_per_second: 1, sessions_burst: 3, ..Default::default() };
    std::sync::Arc::get_mut(&mut f.service).expect("only the fixture holds it").limits = limits;
    // One router, as a running service has: its allowance is kept between requests.
    let router = tailor_ranker::router(f.service.clone(), None);
    let create = || {
        let request = axum::http::Request::builder().method("POST").uri("/v1/sessions").body(axum::body::Body::empty());
        tower::ServiceExt::oneshot(router.clone(), request.unwrap())
    };
    for _ in 0..3 {
        assert_eq!(create().await.unwrap().status(), StatusCode::CREATED);
    }
    let refused = create().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body = http_body_util::BodyExt::collect(refused.into_body()).await.unwrap().to_bytes();
    assert_eq!(error_code(&serde_json::from_slice(&body).unwrap()), "rate_limited");
    // Other routes are not limited by it.
    let browse = axum::http::Request::builder().uri("/v1/items").body(axum::body::Body::empty()).unwrap();
    assert_eq!(tower::ServiceExt::oneshot(router.clone(), browse).await.unwrap().status(), StatusCode::OK);
}
