//! The admin item routes append checked item events, and business rules shape answers.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{ADMIN_TOKEN, ITEMS_TOPIC, call, call_as, error_code, fixture, ids};
use tailor_events::{Availability, Event, decode};
use tailor_log::EventLog;

/// Every event on the items topic, oldest first.
fn item_events(f: &common::Fixture) -> Vec<(String, Event)> {
    let records = f.log.reader(ITEMS_TOPIC, &[0]).unwrap().poll(100, Duration::from_millis(200)).unwrap();
    records
        .into_iter()
        .map(|r| (String::from_utf8(r.message.key).unwrap(), decode(&r.message.payload).unwrap()))
        .collect()
}

#[tokio::test]
async fn item_routes_append_checked_item_events_keyed_by_item() {
    let f = fixture();
    let admin = |method, uri, body| call_as(&f, Some(ADMIN_TOKEN), method, uri, body);
    let (status, body) = admin(
        "PUT",
        "/v1/admin/items/new-1",
        Some(r#"{"title": "Linen Shirt", "article_type": "Shirts", "price": 30, "year": 2012}"#),
    )
    .await;
    assert_eq!((status, body["item_id"].as_str()), (StatusCode::ACCEPTED, Some("new-1")), "{body}");
    let (status, body) = admin("PUT", "/v1/admin/items/new-2", Some(r#"{"title": "Shirt", "price": -1}"#)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_item"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("price"), "{body}");
    let (status, body) = admin("PUT", "/v1/admin/items/new-2", Some(r#"{"title": "Shirt", "year": -5}"#)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_item"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("year"), "{body}");
    let (status, body) = admin("PUT", "/v1/admin/items/new-3", Some(r#"{"id": "other", "title": "Shirt"}"#)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"));
    let (status, _) = call(&f, "PUT", "/v1/admin/items/new-4", Some(r#"{"title": "Shirt"}"#)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "admin only");

    let sold_out = Some(r#"{"availability": "sold_out"}"#);
    let (status, body) = admin("PATCH", "/v1/admin/items/item-1/availability", sold_out).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = admin("PATCH", "/v1/admin/items/no-such/availability", sold_out).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "unknown_item"));
    let (status, _) = admin("DELETE", "/v1/admin/items/item-2", None).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let batch = "{\"id\": \"b-1\", \"title\": \"Denim Jacket\"}\n\n{\"id\": \"b-2\"}\n{\"id\": \"b-3\", \"title\": \"Belt\", \"colour\": \"Tan\"}\nnot json";
    let (status, report) = admin("POST", "/v1/admin/items:batch", Some(batch)).await;
    assert_eq!((status, report["accepted"].as_u64()), (StatusCode::ACCEPTED, Some(2)), "{report}");
    let rejected: Vec<u64> =
        report["rejected"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(rejected, [3, 5], "by line number, blank lines counted: {report}");
    let (status, body) = admin("POST", "/v1/admin/items:batch", Some("{\"id\": \"b-4\"}")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"), "nothing valid");

    let events = item_events(&f);
    let keys: Vec<&str> = events.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys, ["new-1", "item-1", "item-2", "b-1", "b-3"]);
    let Event::ItemUpsert(new) = &events[0].1 else { panic!("an upsert") };
    assert_eq!(
        (new.title.as_deref(), new.price, new.year, new.availability),
        (Some("Linen Shirt"), Some(30.0), Some(2012), Some(Availability::InStock))
    );
    let Event::ItemUpsert(patched) = &events[1].1 else { panic!("an upsert") };
    assert_eq!(
        (patched.title.as_deref(), patched.availability),
        (Some("Item 1"), Some(Availability::SoldOut)),
        "the whole state"
    );
    assert!(matches!(&events[2].1, Event::ItemRemoved(removed) if removed.item_id == "item-2"));
}

#[tokio::test]
async fn rules_pin_exclude_cap_and_report_unknown_ids() {
    let f = fixture();
    let request = r#"{"liked": ["item-0"], "k": 6, "rules": {
        "pins": [{"item_id": "item-29", "position": 0}],
        "exclude": ["item-3", "no-such-item"],
        "max_per_value": {"field": "article_type", "count": 2},
        "boosts": [{"field": "article_type", "value": "jeans", "weight": 5}]
    }}"#;
    let (status, body) = call(&f, "POST", "/v1/recommendations", Some(request)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = ids(&body);
    assert_eq!(found[0], "item-29", "pinned first: {body}");
    assert_eq!(body["items"][0]["reason"], "placed here by the shop");
    assert!(!found.contains(&"item-3".to_owned()));
    assert_eq!(body["unknown_ids"], serde_json::json!(["no-such-item"]));
    let types: Vec<&str> = body["items"].as_array().unwrap()[1..]
        .iter()
        .map(|r| r["item"]["attributes"]["article_type"].as_str().unwrap())
        .collect();
    for article in common::TYPES {
        assert!(types.iter().filter(|t| **t == article).count() <= 2, "{types:?}");
    }
    assert_eq!(types[..2], ["Jeans", "Jeans"], "the boost puts jeans first, two at most: {found:?}");
    let (status, body) = call(
        &f,
        "POST",
        "/v1/recommendations",
        Some(r#"{"liked": ["item-0"], "rules": {"price": {"min": 5, "max": 1}}}"#),
    )
    .await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_parameter"));
    let as_array = r#"{"liked": ["item-0"], "rules": {"price": [1, 2]}}"#;
    let (status, body) = call(&f, "POST", "/v1/recommendations", Some(as_array)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_body"), "a rule is an object: {body}");
    let (status, body) = call(&f, "GET", "/v1/items/trending?k=3", None).await;
    assert_eq!((status, body["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "no events yet");
}
