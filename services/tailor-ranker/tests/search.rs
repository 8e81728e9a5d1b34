//! Above the configured catalogue size the service searches an approximate index: the same
//! routes answer as the exact scan does, and the metrics say which method answered.

use axum::http::StatusCode;
use tailor_engine::SearchConfig;

mod common;

use common::{ADMIN_TOKEN, call, fixture, fixture_with};

#[tokio::test]
async fn above_the_configured_size_the_index_answers_as_the_exact_scan_does() {
    let exact = fixture();
    let approximate =
        fixture_with(Some(ADMIN_TOKEN), SearchConfig { approximate_above: 10, ..SearchConfig::default() });
    let serving = approximate.service.serving();
    let catalog = &serving.catalog;
    assert!(!catalog.search().is_approximate(), "exact until the index is built");
    catalog.build_index().unwrap();
    assert!(catalog.search().is_approximate());
    let cold_start = r#"{"liked": ["item-1", "item-2"], "disliked": ["item-7"], "k": 8}"#;
    let requests = [
        ("GET", "/v1/items/item-3/similar?k=5", None),
        ("GET", "/v1/items/item-4/similar?k=5&gender=men", None),
        ("POST", "/v1/recommendations", Some(cold_start)),
    ];
    for (method, uri, body) in requests {
        let expected = call(&exact, method, uri, body).await;
        assert_eq!(expected.0, StatusCode::OK, "{uri}: {}", expected.1);
        assert_eq!(call(&approximate, method, uri, body).await, expected, "{method} {uri}");
    }
    let (_, metrics) = call(&approximate, "GET", "/metrics", None).await;
    let metrics = metrics.as_str().unwrap();
    assert!(metrics.contains(r#"tailor_searches_total{matrix="content",method="approximate"} 3"#), "{metrics}");
    assert!(metrics.contains(r#"tailor_index_rows{matrix="content"} 30"#), "{metrics}");
}
