//! Models in the ranking service: readiness, admin routes behind their token, activation and
//! rollback, refusal of a corrupt version, and requests in flight finishing on their model.

use std::collections::BTreeMap;
use tailor_log::EventLog;

use axum::http::StatusCode;
use tailor_core::{Dense, Embedding, RatingHead, Tower};
use tailor_events::RetrainState;
use tailor_models::{Blend, ItemVectors, Manifest, ModelNews, PublishedModel, TwoTowerWeights};
use tailor_ranker::Service;

mod common;

use common::{ADMIN_TOKEN, DIM, Fixture, MODELS_TOPIC, call, call_as, error_code, fixture, fixture_with_admin_token};

const OUT: usize = 8;

fn tower(input: usize, seed: f32) -> Tower {
    let weights = (0..OUT * input).map(|i| ((i as f32 + 1.0) * seed).sin()).collect();
    Tower::new(vec![Dense::new(weights, vec![0.0; OUT], input).unwrap()]).unwrap()
}

/// Publishes a one-layer model whose item matrix is its item tower over the served vectors.
fn publish(service: &Service, seed: f32) -> u64 {
    publish_reading(service, seed, DIM)
}

/// The same, with a user tower that reads `user_input` numbers.
fn publish_reading(service: &Service, seed: f32, user_input: usize) -> u64 {
    let towers = TwoTowerWeights {
        user: tower(user_input, seed),
        item: tower(DIM, seed * 1.7),
        head: RatingHead::new(1.0, 0.0).unwrap(),
        vocabulary: None,
    };
    let serving = service.serving();
    let content = serving.catalog.matrix();
    let mut item_vectors = ItemVectors::new(OUT);
    // One item is left out, as an item added after training would be: serving computes its row.
    for row in 1..content.len() as u32 {
        item_vectors.insert(content.id(row).clone(), towers.item.forward(content.row(row)).unwrap()).unwrap();
    }
    let metrics = BTreeMap::from([("new_users.k3.ndcg_at_10".to_owned(), f64::from(seed))]);
    // All the weight on the model, so its ranking shows through.
    let blend = Blend { model_weight: vec![1.0], attribute_weight: vec![0.0] };
    let manifest = Manifest { blend: Some(blend), ..tailor_testkit::models::manifest(metrics) };
    service.admin.lifecycle.store().publish(PublishedModel { manifest, towers, item_vectors }).unwrap().version
}

async fn admin(f: &Fixture, method: &str, uri: &str) -> (StatusCode, serde_json::Value) {
    call_as(f, Some(ADMIN_TOKEN), method, uri, None).await
}

#[tokio::test]
async fn admin_routes_need_the_token_and_do_nothing_without_it() {
    let f = fixture();
    publish(&f.service, 0.3);
    let routes = [
        ("GET", "/v1/admin/models"),
        ("POST", "/v1/admin/models/1/activate"),
        ("POST", "/v1/admin/models/rollback"),
        ("POST", "/v1/admin/retrain"),
        ("GET", "/v1/admin/retrain"),
    ];
    for (method, uri) in routes {
        let (status, body) = call(&f, method, uri, None).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "admin_token_required"), "{uri}");
        let (status, _) = call_as(&f, Some("a wrong token"), method, uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    assert_eq!(f.log.end_offsets(MODELS_TOPIC).unwrap(), [0], "nothing was announced or asked for");
    assert!(f.service.serving().model.is_none(), "nothing was activated");

    let disabled = fixture_with_admin_token(None);
    let (status, body) = call_as(&disabled, Some(ADMIN_TOKEN), "GET", "/v1/admin/models", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "admin_disabled"));
}

#[tokio::test]
async fn activation_and_rollback_swap_the_ranking_model() {
    let f = fixture();
    let (status, _) = call(&f, "GET", "/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (first, second) = (publish(&f.service, 0.3), publish(&f.service, 0.9));
    assert_eq!((first, second), (1, 2));

    let (status, body) = admin(&f, "POST", "/v1/admin/models/1/activate").await;
    assert_eq!((status, body["active"].as_u64()), (StatusCode::OK, Some(1)));
    let (status, body) = call(&f, "GET", "/readyz", None).await;
    assert_eq!((status, body["model_version"].as_u64()), (StatusCode::OK, Some(1)));
    let model = f.service.serving().model.clone().unwrap();
    assert_eq!(model.computed_rows, 1, "the item missing from the published matrix was computed");

    // A cold-start request ranks by the user tower against the model's item matrix (the blend
    // gives it all the weight), among the picked gender's items.
    let (_, body) = call(&f, "POST", "/v1/recommendations", Some(r#"{"liked": ["item-2"], "k": 1}"#)).await;
    let serving = f.service.serving();
    let content = serving.catalog.matrix();
    let taste = Embedding::from_unit(content.row(content.row_of("item-2").unwrap()).to_vec(), DIM).unwrap();
    let query = model.query(&taste).unwrap();
    let best = (0..model.matrix.len() as u32)
        .filter(|&row| model.matrix.id(row).as_str() != "item-2")
        .filter(|&row| serving.catalog.item_at(row).attributes().gender == Some(tailor_core::Gender::Men))
        .max_by(|&a, &b| {
            let score = |row: u32| tailor_core::vector::dot(query.as_slice(), model.matrix.row(row));
            score(a).total_cmp(&score(b))
        })
        .unwrap();
    assert_eq!(body["items"][0]["item"]["id"], model.matrix.id(best).as_str());

    let (_, listed) = admin(&f, "GET", "/v1/admin/models").await;
    assert_eq!(listed["serving"], 1);
    assert_eq!(listed["versions"].as_array().unwrap().len(), 2);
    let (status, body) = admin(&f, "POST", "/v1/admin/models/rollback").await;
    assert_eq!((status, body["active"].as_u64()), (StatusCode::OK, Some(2)));
    assert_eq!(f.service.serving().model.as_ref().unwrap().version, 2);
    let (status, body) = admin(&f, "POST", "/v1/admin/models/7/activate").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "unknown_model"));

    let (_, metrics) = call(&f, "GET", "/metrics", None).await;
    let metrics = metrics.as_str().unwrap();
    // The recorder is the process's, shared with tests running beside this one: presence only.
    assert!(metrics.contains("tailor_model_version "), "{metrics}");
    assert!(
        metrics.contains("tailor_model_evaluation{slice=\"new_users\",k=\"3\",metric=\"ndcg_at_10\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_corrupt_version_is_refused_and_the_serving_one_stays() {
    let f = fixture();
    publish(&f.service, 0.3);
    publish(&f.service, 0.9);
    admin(&f, "POST", "/v1/admin/models/1/activate").await;
    let towers = f.service.admin.lifecycle.store().version_dir(2).join("towers.safetensors");
    std::fs::write(&towers, b"not safetensors").unwrap();
    let (status, body) = admin(&f, "POST", "/v1/admin/models/2/activate").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "model_refused"));
    assert!(body["error"]["message"].as_str().unwrap().contains("towers.safetensors"), "{body}");
    assert_eq!(f.service.serving().model.as_ref().unwrap().version, 1);
    assert_eq!(f.service.admin.lifecycle.store().active().unwrap(), Some(1));
    assert!(f.service.load_version(2).is_err());
    assert_eq!(f.service.serving().model.as_ref().unwrap().version, 1);
}

#[tokio::test]
async fn a_version_that_does_not_fit_the_catalogue_leaves_the_store_as_it_was() {
    let f = fixture();
    publish(&f.service, 0.3);
    // A well-formed version, trained on item vectors of another dimension.
    publish_reading(&f.service, 0.9, DIM + 1);
    publish(&f.service, 0.5);
    admin(&f, "POST", "/v1/admin/models/1/activate").await;
    let (status, body) = admin(&f, "POST", "/v1/admin/models/2/activate").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "model_refused"));
    assert!(body["error"]["message"].as_str().unwrap().contains("user tower reads"), "{body}");
    // Checked before the pointer moved, so a restart still serves version 1.
    assert_eq!(f.service.admin.lifecycle.store().active().unwrap(), Some(1));
    assert_eq!(f.service.serving().model.as_ref().unwrap().version, 1);
    // A rollback whose target does not fit is refused the same way.
    let store = f.service.admin.lifecycle.store();
    store.activate(2).unwrap();
    store.activate(3).unwrap();
    f.service.load_version(3).unwrap();
    let (status, body) = admin(&f, "POST", "/v1/admin/models/rollback").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "model_refused"), "{body}");
    assert_eq!(store.active().unwrap(), Some(3));
    assert_eq!(f.service.serving().model.as_ref().unwrap().version, 3);
}

#[tokio::test]
async fn a_request_in_flight_finishes_on_the_model_it_started_with() {
    let f = fixture();
    publish(&f.service, 0.3);
    publish(&f.service, 0.9);
    f.service.load_version(1).unwrap();
    let in_flight = f.service.serving().model.clone().unwrap();
    f.service.load_version(2).unwrap();
    assert_eq!(f.service.serving().model.as_ref().unwrap().version, 2, "new requests see the new model");
    assert_eq!(in_flight.version, 1, "the old one lives until its last request ends");
    let taste = Embedding::new(vec![1.0; DIM], DIM).unwrap();
    assert!(in_flight.query(&taste).is_ok());
    drop(in_flight);
    let _ = f.dir.path();
}

/// Real requests race activations back and forth: every answer is whole, and is the ranking of
/// one version or the other, never a failure or a mix of the two.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_racing_activations_each_get_one_models_ranking() {
    let f = fixture();
    publish(&f.service, 0.3);
    publish(&f.service, 0.9);
    // One router, as the running service has, shared by every task.
    let router = tailor_ranker::router(f.service.clone(), None);
    let recommend = r#"{"liked": ["item-2", "item-5"], "k": 8}"#;
    let mut rankings = Vec::new();
    for version in [1, 2] {
        assert_eq!(send(&router, &format!("/v1/admin/models/{version}/activate"), None).await.0, StatusCode::OK);
        rankings.push(common::ids(&send(&router, "/v1/recommendations", Some(recommend)).await.1));
    }
    assert_ne!(rankings[0], rankings[1], "the two versions must rank differently for the race to show");

    let flipper = tokio::spawn({
        let router = router.clone();
        async move {
            for flip in 0..40 {
                let (status, body) = send(&router, &format!("/v1/admin/models/{}/activate", 1 + flip % 2), None).await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
    });
    let askers: Vec<_> = (0..8)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for _ in 0..25 {
                    let (status, body) = send(&router, "/v1/recommendations", Some(recommend)).await;
                    assert_eq!(status, StatusCode::OK, "{body}");
                    answers.push(common::ids(&body));
                }
                answers
            })
        })
        .collect();
    flipper.await.unwrap();
    let mut seen = [0; 2];
    for asker in askers {
        for answer in asker.await.unwrap() {
            let version = rankings.iter().position(|r| *r == answer);
            seen[version.unwrap_or_else(|| panic!("{answer:?} is neither version's ranking {rankings:?}"))] += 1;
        }
    }
    assert_eq!(seen.iter().sum::<usize>(), 200);
    eprintln!("answers by version: {seen:?}");
}

/// A POST through `router`, with the admin token.
async fn send(router: &axum::Router, uri: &str, body: Option<&str>) -> (StatusCode, serde_json::Value) {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .body(body.map_or_else(axum::body::Body::empty, |b| axum::body::Body::from(b.to_owned())))
        .unwrap();
    let response = tower::ServiceExt::oneshot(router.clone(), request).await.unwrap();
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

/// The route asks for a retrain on the models topic, for the trainer process to act on; the
/// status shows what the replica has read there.
#[tokio::test]
async fn a_retrain_is_asked_for_on_the_models_topic() {
    let f = fixture();
    let (status, body) = admin(&f, "GET", "/v1/admin/retrain").await;
    assert_eq!(
        (status, body["running"].as_bool(), body["requests"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(false), Some(0))
    );
    let (status, body) = admin(&f, "POST", "/v1/admin/retrain").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let request_id = body["request_id"].as_str().unwrap();
    let history = f.service.admin.lifecycle.history().unwrap();
    let [ModelNews::Retrain(asked)] = &history[..] else { panic!("one retrain event: {history:?}") };
    assert_eq!((asked.request_id.as_str(), asked.state), (request_id, RetrainState::Requested));
    assert_eq!(asked.detail.as_deref(), Some("the admin route"));

    f.service.admin.retrains.lock().unwrap().apply(asked);
    let (_, body) = admin(&f, "GET", "/v1/admin/retrain").await;
    assert_eq!((body["running"].as_bool(), body["requests"][0]["state"].as_str()), (Some(true), Some("requested")));
}
