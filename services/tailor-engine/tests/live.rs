//! The live catalogue: items added, changed, sold out, expired and removed while serving, with
//! the approximate index built, leave every answer at once and appear in searches at once.

use std::collections::{BTreeMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::{
    AttributeFilter, Attributes, Dense, Embedding, FeatureVocabulary, Gender, InteractionKind, Item, ItemId,
    RatingHead, Tower,
};
use tailor_engine::{
    ActiveModel, ItemEvent, LiveCatalogue, NO_RULES, RankingConfig, Request, SearchConfig, Serving, ServingCatalog,
    Signals, recommend, taste_from,
};
use tailor_events::Availability;
use tailor_models::{ItemVectors, LoadedModel, TwoTowerWeights};

const DIM: usize = 8;

/// A stable pseudo-random vector per seed: 400 of them in 8 dimensions are seldom near-duplicates.
fn vector(seed: u64) -> Embedding {
    let mut rng = StdRng::seed_from_u64(seed);
    Embedding::new((0..DIM).map(|_| rng.random_range(-1.0..1.0)).collect(), DIM).unwrap()
}

/// The rows nearest `query` through the catalogue's search (the graph, and rows it lacks).
fn nearest(serving: &Serving, query: &Embedding, k: usize) -> Vec<String> {
    let matrix = serving.catalog.matrix();
    let none = serving.catalog.withdrawn_rows();
    let (found, _) = serving.catalog.search().top_k(matrix, query.as_slice(), k, &none, &Default::default()).unwrap();
    found.iter().map(|s| matrix.id(s.row).to_string()).collect()
}

fn item(id: &str, article: &str) -> Item {
    let attributes =
        Attributes { gender: Some(Gender::Women), article_type: Some(article.into()), ..Attributes::default() };
    Item::new(ItemId::new(id).unwrap(), Some(format!("{id} {article}")), None, None, attributes).unwrap()
}

/// 400 items around the 8 directions, searched through an approximate index (built).
fn shop() -> Serving {
    let (mut items, mut vectors) = (Vec::new(), ItemVectors::new(DIM));
    for i in 0..400 {
        let id = format!("i{i}");
        items.push(item(&id, if i % 8 == 0 { "Watches" } else { "Shirts" }));
        vectors.insert(ItemId::new(id).unwrap(), vector(i)).unwrap();
    }
    let catalog =
        ServingCatalog::new(items, &vectors, SearchConfig { approximate_above: 100, ..SearchConfig::default() })
            .unwrap();
    catalog.build_index().unwrap();
    assert!(catalog.search().is_approximate());
    Serving::new(catalog)
}

fn similar(serving: &Serving, id: &str, k: usize) -> Vec<String> {
    let signals = Signals { items: vec![(id, InteractionKind::Like)] };
    let taste = taste_from(&serving.catalog, &signals, None, &Default::default()).unwrap();
    let filter = AttributeFilter::default();
    let request = Request {
        taste: taste.as_ref(),
        signals: &signals,
        described: false,
        k,
        filter: &filter,
        diversity: 0.0,
        prefer_photos: false,
        trending: &[],
        rules: &NO_RULES,
    };
    let found = recommend(&serving.catalog, None, &RankingConfig::default(), &request).unwrap();
    found.iter().map(|r| serving.catalog.item_at(r.row).id().to_string()).collect()
}

fn upsert(item: Item, availability: Availability) -> ItemEvent {
    ItemEvent::Upsert { item: Box::new(item), availability, expires_at_ms: None }
}

#[test]
fn a_new_item_serves_once_its_upsert_and_vector_have_both_arrived_in_either_order() {
    let mut live = LiveCatalogue::new();
    let serving = shop();
    // The vector first: nothing serves yet.
    let vector_first = ItemEvent::Vector { id: ItemId::new("new-1").unwrap(), vector: vector(1_001) };
    let applied = live.apply(&serving, vec![vector_first], 0).unwrap();
    assert!(applied.is_none(), "a vector alone changes nothing");
    assert_eq!(live.counts(), (1, 0));
    let applied =
        live.apply(&serving, vec![upsert(item("new-1", "Shirts"), Availability::InStock)], 0).unwrap().unwrap();
    let serving = applied.serving;
    assert_eq!(applied.vectors.len(), 1, "the consumer hears of the vector");
    assert!(serving.catalog.served_item("new-1").is_ok());
    // The upsert first, then the vector, in one batch: a look-alike's search finds it.
    let events = vec![
        upsert(item("new-2", "Shirts"), Availability::InStock),
        ItemEvent::Vector { id: ItemId::new("new-2").unwrap(), vector: vector(1_002) },
    ];
    let serving = live.apply(&serving, events, 0).unwrap().unwrap().serving;
    assert_eq!(serving.catalog.matrix().len(), 402);
    assert!(serving.catalog.search().is_approximate(), "the snapshot shares the graph");
    for (id, seed) in [("new-1", 1_001), ("new-2", 1_002)] {
        assert_eq!(nearest(&serving, &vector(seed), 3)[0], id);
    }
    // A changed title keeps the row and the vector.
    let row = serving.catalog.matrix().row_of("new-2").unwrap();
    let renamed =
        Item::new(ItemId::new("new-2").unwrap(), Some("Renamed".into()), None, None, Attributes::default()).unwrap();
    let serving = live.apply(&serving, vec![upsert(renamed, Availability::InStock)], 0).unwrap().unwrap().serving;
    assert_eq!(serving.catalog.matrix().row_of("new-2"), Some(row));
    assert_eq!(serving.catalog.item("new-2").unwrap().title(), Some("Renamed"));
    assert_eq!(nearest(&serving, &vector(1_002), 1), ["new-2"]);
}

#[test]
fn sold_out_expired_and_removed_items_leave_every_answer_and_come_back_when_restocked() {
    let mut live = LiveCatalogue::new();
    let serving = shop();
    let before = similar(&serving, "i2", 20);
    let gone: Vec<String> = before[..3].to_vec();
    let events = vec![
        upsert(serving.catalog.item(&gone[0]).unwrap().clone(), Availability::SoldOut),
        ItemEvent::Upsert {
            item: Box::new(serving.catalog.item(&gone[1]).unwrap().clone()),
            availability: Availability::InStock,
            expires_at_ms: Some(1_000),
        },
        ItemEvent::Removed(ItemId::new(gone[2].as_str()).unwrap()),
    ];
    let serving = live.apply(&serving, events, 500).unwrap().unwrap().serving;
    let after = similar(&serving, "i2", 20);
    assert!(after.contains(&gone[1]), "not expired yet");
    assert!(!after.contains(&gone[0]) && !after.contains(&gone[2]), "{after:?}");
    assert!(live.sweep(&serving, 999).is_none());
    let serving = live.sweep(&serving, 1_000).expect("one expires");
    let after: HashSet<String> = similar(&serving, "i2", 20).into_iter().collect();
    assert!(gone.iter().all(|id| !after.contains(id)), "{after:?}");
    for (id, why) in gone.iter().zip(["sold out", "expired", "removed"]) {
        let error = serving.catalog.served_item(id).unwrap_err().to_string();
        assert!(error.contains(why), "{error}");
        assert!(nearest(&serving, &vector(id[1..].parse().unwrap()), 5).iter().all(|found| found != id));
    }
    let first_screen: Vec<u32> = serving.catalog.onboarding().collect();
    assert!(first_screen.iter().all(|&row| !gone.contains(&serving.catalog.item_at(row).id().to_string())));
    // Back in stock: served again.
    let restocked = upsert(serving.catalog.item(&gone[0]).unwrap().clone(), Availability::InStock);
    let serving = live.apply(&serving, vec![restocked], 2_000).unwrap().unwrap().serving;
    assert!(serving.catalog.served_item(&gone[0]).is_ok());
    assert!(similar(&serving, "i2", 20).contains(&gone[0]));
    // A new item that arrives sold out, with its vector in the same batch, is never served.
    let events = vec![
        upsert(item("new-sold", "Shirts"), Availability::SoldOut),
        ItemEvent::Vector { id: ItemId::new("new-sold").unwrap(), vector: vector(3_001) },
    ];
    let serving = live.apply(&serving, events, 2_000).unwrap().unwrap().serving;
    assert!(serving.catalog.matrix().row_of("new-sold").is_some());
    assert!(serving.catalog.served_item("new-sold").unwrap_err().to_string().contains("sold out"));
    assert!(!nearest(&serving, &vector(3_001), 5).contains(&"new-sold".to_owned()));
}

/// A model whose item tower reads the article type: random weights, as the rows only need to
/// follow the tower.
fn with_model(serving: &Serving) -> Serving {
    let mut rng = StdRng::seed_from_u64(5);
    let attributes: Vec<Attributes> =
        (0..serving.catalog.len() as u32).map(|row| serving.catalog.item_at(row).attributes().clone()).collect();
    let vocabulary = FeatureVocabulary::from_catalogue(attributes.iter(), 1);
    let mut tower = |input: usize| {
        let weights = (0..DIM * input).map(|_| rng.random_range(-1.0..1.0)).collect();
        Tower::new(vec![Dense::new(weights, vec![0.0; DIM], input).unwrap()]).unwrap()
    };
    let towers = TwoTowerWeights {
        user: tower(DIM),
        item: tower(DIM + vocabulary.width()),
        head: RatingHead::new(1.0, 0.0).unwrap(),
        vocabulary: Some(vocabulary),
    };
    let manifest = tailor_testkit::models::manifest(BTreeMap::new());
    let loaded = LoadedModel { manifest, towers, item_vectors: ItemVectors::new(DIM) };
    serving.with_model(ActiveModel::new(&serving.catalog, loaded).unwrap())
}

#[test]
fn the_model_computes_rows_only_for_what_its_item_tower_reads() {
    let mut live = LiveCatalogue::new();
    let serving = with_model(&shop());
    let model = serving.model.clone().unwrap();
    let tower_row = |serving: &Serving, id: &str| {
        let model = serving.model.as_ref().unwrap();
        model.matrix.row(model.matrix.row_of(id).unwrap()).to_vec()
    };
    let expected = |serving: &Serving, id: &str| {
        let (content, item) = (serving.catalog.matrix(), serving.catalog.item(id).unwrap());
        let towers = &serving.model.as_ref().unwrap().towers;
        towers.item_vector(content.row(content.row_of(id).unwrap()), item.attributes()).unwrap().as_slice().to_vec()
    };
    let retitled = Item::new(
        ItemId::new("i1").unwrap(),
        Some("A new title".into()),
        None,
        None,
        serving.catalog.item("i1").unwrap().attributes().clone(),
    )
    .unwrap();
    let events = vec![
        upsert(retitled, Availability::InStock),
        upsert(item("i2", "Watches"), Availability::InStock),
        upsert(item("new-1", "Watches"), Availability::InStock),
        ItemEvent::Vector { id: ItemId::new("new-1").unwrap(), vector: vector(2_001) },
    ];
    let changed = live.apply(&serving, events, 0).unwrap().unwrap().serving;
    let followed = changed.model.as_ref().unwrap();
    assert_eq!(followed.computed_rows, model.computed_rows + 2, "i2 and new-1, not the retitled i1");
    assert_eq!(tower_row(&changed, "i1"), tower_row(&serving, "i1"));
    assert_ne!(tower_row(&changed, "i2"), tower_row(&serving, "i2"), "its article type changed");
    for id in ["i2", "new-1"] {
        assert_eq!(tower_row(&changed, id), expected(&changed, id), "{id}");
    }
    assert_eq!(followed.matrix.len(), changed.catalog.matrix().len());
}
