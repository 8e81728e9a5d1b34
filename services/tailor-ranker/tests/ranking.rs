//! What a visitor sees after a few picks, on a shop whose vectors are laid out by hand: items of
//! the picked gender only, no product twice, reasons that are true, photos first when preferred,
//! and a first screen that spreads over the shelves.

use std::collections::HashSet;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tailor_core::{Attributes, Embedding, Gender, Item, ItemId};
use tailor_engine::SearchConfig;
use tailor_stream::ItemVectors;

mod common;

use common::{Fixture, call, call_as, fixture_of, ids, photo};

const DIM: usize = 24;
/// Directions: sports shoes, t-shirts, white; from 3 on, one direction of its own per item, so no
/// two items are near-identical unless made so.
const SHOE: usize = 0;
const TEE: usize = 1;
const WHITE: usize = 2;

struct Shop {
    dir: tempfile::TempDir,
    items: Vec<Item>,
    vectors: ItemVectors,
}

impl Shop {
    /// Adds an item; its vector is `base` plus `own` along a direction no other item has, unless
    /// `copy_of` gives another item's vector.
    fn add(&mut self, id: &str, title: &str, kind: (Gender, &str), base: [f32; 3], own: f32, with_photo: bool) {
        let mut vector = vec![0.0; DIM];
        vector[..3].copy_from_slice(&base);
        vector[3 + self.items.len()] = own;
        self.add_vector(id, title, kind, vector, with_photo);
    }

    fn add_vector(
        &mut self,
        id: &str,
        title: &str,
        (gender, article): (Gender, &str),
        vector: Vec<f32>,
        with_photo: bool,
    ) {
        let attributes = Attributes {
            gender: Some(gender),
            article_type: Some(article.into()),
            colour: Some("White".into()),
            category: Some(if article == "Sports Shoes" { "Footwear" } else { "Apparel" }.into()),
            ..Attributes::default()
        };
        let image = with_photo.then(|| photo(&self.dir));
        let id = ItemId::new(id).unwrap();
        self.items.push(Item::new(id.clone(), Some(title.into()), None, image, attributes).unwrap());
        self.vectors.insert(id, Embedding::new(vector, DIM).unwrap()).unwrap();
    }
}

fn shop() -> Fixture {
    let mut shop = Shop { dir: tempfile::tempdir().unwrap(), items: Vec::new(), vectors: ItemVectors::new(DIM) };
    let mut shoe = [0.0; 3];
    shoe[SHOE] = 1.0;
    shoe[WHITE] = 0.3;
    for n in 0..6 {
        shop.add(
            &format!("m-shoe-{n}"),
            &format!("Runner {n} Men White Sports Shoes"),
            (Gender::Men, "Sports Shoes"),
            shoe,
            0.35,
            true,
        );
    }
    for n in 0..4 {
        shop.add(
            &format!("w-shoe-{n}"),
            &format!("Runner {n} Women White Sports Shoes"),
            (Gender::Women, "Sports Shoes"),
            shoe,
            0.35,
            true,
        );
    }
    // One product listed twice, and m-shoe-0 listed again under another title.
    shop.add("dup-a", "Nike Men White Sports Shoes", (Gender::Men, "Sports Shoes"), shoe, 0.35, true);
    shop.add("dup-b", "Nike Men White Sports Shoes", (Gender::Men, "Sports Shoes"), shoe, 0.35, true);
    let again = shop.vectors.get("m-shoe-0").unwrap().as_slice().to_vec();
    shop.add_vector("twin", "Runner Zero Again", (Gender::Men, "Sports Shoes"), again, true);
    // Closer to the picks than any other shoe (cosine 0.96 against 0.93), but without a photo.
    for n in 0..3 {
        shop.add(
            &format!("plain-{n}"),
            &format!("Plain {n} Men White Sports Shoes"),
            (Gender::Men, "Sports Shoes"),
            shoe,
            0.2,
            false,
        );
    }
    let mut tee = [0.0; 3];
    tee[TEE] = 1.0;
    tee[SHOE] = 0.5;
    for n in 0..5 {
        shop.add(&format!("tee-{n}"), &format!("Tee {n} Men White Tshirt"), (Gender::Men, "Tshirts"), tee, 0.3, true);
    }
    fixture_of(shop.dir, shop.items, shop.vectors, None, SearchConfig::default())
}

async fn recommend(f: &Fixture, request: Value) -> Value {
    let (status, body) = call(f, "POST", "/v1/recommendations", Some(&request.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn field<'a>(body: &'a Value, pointer: &str) -> Vec<&'a str> {
    body["items"].as_array().unwrap().iter().map(|r| r.pointer(pointer).and_then(Value::as_str).unwrap_or("")).collect()
}

const PICKS: [&str; 3] = ["m-shoe-0", "m-shoe-1", "m-shoe-2"];

#[tokio::test]
async fn three_mens_shoes_bring_mens_shoes_once_each_with_true_reasons() {
    let f = shop();
    let body = recommend(&f, json!({"liked": PICKS, "k": 12})).await;
    let found = ids(&body);
    assert!(field(&body, "/item/attributes/gender").iter().all(|g| *g == "men"), "{found:?}");
    assert!(!found.contains(&"twin".to_owned()), "the same vector as a pick is the pick again: {found:?}");
    let titles = field(&body, "/item/title");
    assert_eq!(titles.iter().collect::<HashSet<_>>().len(), titles.len(), "a title repeats: {titles:?}");
    assert!(found.contains(&"dup-a".to_owned()) ^ found.contains(&"dup-b".to_owned()), "{found:?}");
    // The nearest shoes first (the photo-less ones are closest), the t-shirts last.
    assert!(found[..3].iter().all(|id| id.starts_with("plain-")), "{found:?}");
    let pick_titles =
        ["Runner 0 Men White Sports Shoes", "Runner 1 Men White Sports Shoes", "Runner 2 Men White Sports Shoes"];
    for (id, reason) in found.iter().zip(field(&body, "/reason")) {
        if id.starts_with("tee-") {
            assert_eq!(reason, "close to your picks taken together", "{id} is not a shoe");
        } else {
            let named = reason.strip_prefix("similar to ").unwrap_or_else(|| panic!("{id}: {reason}"));
            assert!(pick_titles.contains(&named), "{id}: {reason}");
        }
    }
}

#[tokio::test]
async fn photos_come_first_when_preferred() {
    let f = shop();
    let body = recommend(&f, json!({"liked": PICKS, "k": 8, "prefer_photos": true})).await;
    let found = ids(&body);
    // The four photo shoes left (m-shoe-3..5 and one Nike) before the closer photo-less ones,
    // and those before the t-shirts.
    assert!(found[..4].iter().all(|id| id.starts_with("m-shoe-") || id.starts_with("dup-")), "{found:?}");
    assert!(found[4..7].iter().all(|id| id.starts_with("plain-")), "{found:?}");
    let (status, body) = call(&f, "GET", "/v1/items/m-shoe-0/similar?k=3&prefer_photos=yes", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")));
}

#[tokio::test]
async fn a_pick_of_each_gender_keeps_both() {
    let f = shop();
    let body = recommend(&f, json!({"liked": ["m-shoe-0", "w-shoe-0"], "k": 12})).await;
    let genders: HashSet<&str> = field(&body, "/item/attributes/gender").into_iter().collect();
    assert_eq!(genders, HashSet::from(["men", "women"]));
    // A gender filter overrides the rule.
    let body = recommend(&f, json!({"liked": PICKS, "k": 3, "filter": {"gender": "women"}})).await;
    assert_eq!(field(&body, "/item/attributes/gender"), ["women"; 3]);
}

#[tokio::test]
async fn browsing_in_spread_order_takes_each_shelf_in_turn() {
    let f = shop();
    let (status, body) = call(&f, "GET", "/v1/items?order=spread&limit=3", None).await;
    assert_eq!(status, StatusCode::OK);
    let shelves: HashSet<(String, String)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["attributes"]["gender"].to_string(), i["attributes"]["article_type"].to_string()))
        .collect();
    assert_eq!(shelves.len(), 3, "{body}");
    let (_, all) = call(&f, "GET", "/v1/items?order=spread&limit=200", None).await;
    assert_eq!(all["total"], 21, "every item once");
    let (status, body) = call(&f, "GET", "/v1/items?order=sideways", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")));
    // The first screen spreads too: both genders among the first three.
    let body = recommend(&f, json!({"k": 3})).await;
    assert_eq!(field(&body, "/item/attributes/gender").into_iter().collect::<HashSet<_>>().len(), 2, "{body}");
}

#[tokio::test]
async fn a_live_session_keeps_its_picks_after_many_views() {
    let mut f = shop();
    let (_, session) = call(&f, "POST", "/v1/sessions", None).await;
    let (visitor, token) = (session["session_id"].as_str().unwrap(), session["token"].as_str().unwrap());
    let mut events: Vec<Value> =
        PICKS.iter().map(|id| json!({"subject": visitor, "item_id": id, "kind": "like"})).collect();
    // The app records a view of every result it shows: more than the state's recent items hold.
    for id in ["tee-0", "tee-1", "tee-2", "tee-3", "tee-4", "w-shoe-0", "w-shoe-1", "dup-a"].iter().cycle().take(20) {
        events.push(json!({"subject": visitor, "item_id": id, "kind": "view"}));
    }
    let (status, _) =
        call_as(&f, Some(token), "POST", "/v1/events", Some(&json!({"events": events}).to_string())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(f.consumer.poll(100, Duration::from_secs(5)).unwrap().applied, 23);
    let (status, body) =
        call_as(&f, Some(token), "GET", &format!("/v1/users/{visitor}/recommendations?k=4"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(field(&body, "/reason").iter().all(|r| r.starts_with("similar to Runner")), "{body}");
    assert!(field(&body, "/item/attributes/gender").iter().all(|g| *g == "men"), "{body}");
}
