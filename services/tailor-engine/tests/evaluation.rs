//! Pick consistency on a synthetic shop whose vectors follow its attributes and whose titles
//! repeat: the served ranking follows the picks without repeats and with true reasons, the
//! baselines come out where they should, and a model that ignores the picks gets little weight.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::{AggregateWeights, Attributes, Dense, Embedding, Gender, ImageRef, Item, ItemId, RatingHead, Tower};
use tailor_engine::evaluation::{Path, PickConsistency, Score, summarise};
use tailor_engine::{ActiveModel, RankingConfig, SearchConfig, ServingCatalog};
use tailor_models::{ItemVectors, LoadedModel, TwoTowerWeights};

const TYPES: [&str; 3] = ["Shirts", "Jeans", "Watches"];
const COLOURS: [&str; 2] = ["Black", "Blue"];
const USAGES: [&str; 2] = ["Casual", "Formal"];
const BRANDS: [&str; 5] = ["Acme", "Brio", "Corvo", "Dune", "Elan"];
/// One direction per attribute value, then noise.
const VALUES: usize = 2 + TYPES.len() + COLOURS.len() + USAGES.len();
const DIM: usize = VALUES + 16;

fn shop() -> ServingCatalog {
    let mut rng = StdRng::seed_from_u64(5);
    let (mut items, mut vectors) = (Vec::new(), ItemVectors::new(DIM));
    let photo = ImageRef::File { path: "/nowhere/photo.jpg".into(), width: 1, height: 1 };
    for (g, gender) in [Gender::Men, Gender::Women].into_iter().enumerate() {
        for (t, article) in TYPES.iter().enumerate() {
            for (c, colour) in COLOURS.iter().enumerate() {
                for (u, usage) in USAGES.iter().enumerate() {
                    for n in 0..10 {
                        let id = ItemId::new(format!("{g}{t}{c}{u}-{n}")).unwrap();
                        // Items 0 and 1 of every ten share a title and colour: a listing the shop repeats.
                        let title = format!("{} {} {gender} {colour} {article}", BRANDS[n % BRANDS.len()], n.max(1));
                        let attributes = Attributes {
                            gender: Some(gender),
                            article_type: Some((*article).into()),
                            colour: Some((*colour).into()),
                            usage: Some((*usage).into()),
                            ..Attributes::default()
                        };
                        let image = (n % 2 == 0).then(|| photo.clone());
                        items.push(Item::new(id.clone(), Some(title), None, image, attributes).unwrap());
                        let mut v = vec![0.0f32; DIM];
                        v[g] = 0.6;
                        v[2 + t] = 1.0;
                        v[5 + c] = 0.6;
                        v[7 + u] = 0.4;
                        v[VALUES..].iter_mut().for_each(|x| *x = rng.random_range(-0.25..0.25));
                        vectors.insert(id, Embedding::new(v, DIM).unwrap()).unwrap();
                    }
                }
            }
        }
    }
    ServingCatalog::new(items, &vectors, SearchConfig::default()).unwrap()
}

fn evaluation<'a>(catalog: &'a ServingCatalog, model: Option<&'a ActiveModel>) -> PickConsistency<'a> {
    let mut rng = StdRng::seed_from_u64(9);
    PickConsistency {
        catalog,
        model,
        ranking: RankingConfig::default(),
        weights: AggregateWeights::default(),
        text: None,
        popularity: (0..catalog.matrix().len()).map(|_| rng.random_range(0.0..10.0)).collect(),
        trials: 25,
        seed: 3,
    }
}

fn average(scores: &[Score], path: Path, picks: usize) -> Score {
    summarise(scores)
        .into_iter()
        .find(|s| s.path == path && s.picks == picks)
        .unwrap_or_else(|| panic!("no {path:?} at {picks}"))
}

#[test]
fn the_served_ranking_follows_the_picks_without_repeats_and_with_true_reasons() {
    let catalog = shop();
    let scores = evaluation(&catalog, None).evaluate().unwrap();
    for picks in [1, 3, 5] {
        let (served, content, popular) = (
            average(&scores, Path::Picks, picks),
            average(&scores, Path::Content, picks),
            average(&scores, Path::Popularity, picks),
        );
        assert!(served.precision_at_10.mean >= 0.85, "{served:?}");
        // The baseline's repeats count as relevant; leaving them out costs at most their share.
        let floor = content.precision_at_10.mean - content.duplicates;
        assert!(served.precision_at_10.mean >= floor, "{served:?} {content:?}");
        assert!(served.distinct_precision_at_10.mean > content.distinct_precision_at_10.mean, "{served:?} {content:?}");
        assert!(popular.precision_at_10.mean < served.precision_at_10.mean - 0.3, "{popular:?}");
        assert_eq!(served.duplicates, 0.0, "{served:?}");
        assert!(content.duplicates > 0.0, "the baseline shows the shop's repeats: {content:?}");
        assert_eq!(served.true_reasons, Some(1.0));
        assert_eq!(content.true_reasons, None, "the baseline gives no reasons");
        let session = average(&scores, Path::Session, picks);
        assert!((session.precision_at_10.mean - served.precision_at_10.mean).abs() < 0.05, "{session:?}");
        assert!(served.precision_at_10.half_width > 0.0 && served.precision_at_10.half_width < 0.1);
    }
    let (app, picks) = (average(&scores, Path::App, 3), average(&scores, Path::Picks, 3));
    assert!(app.with_photo > picks.with_photo + 0.2, "the app prefers photos: {app:?} {picks:?}");
    assert!(scores.iter().any(|s| s.path == Path::Similar && s.picks == 1));
    assert!(!scores.iter().any(|s| s.path == Path::ModelOnly || s.path == Path::Text), "no model, no encoder");
    let groups: std::collections::BTreeSet<&str> = scores.iter().map(|s| s.group.as_str()).collect();
    assert!(groups.len() >= 3, "{groups:?}");
}

/// A model whose user tower ignores what the picks are: random weights.
fn random_model(catalog: &ServingCatalog) -> ActiveModel {
    let mut rng = StdRng::seed_from_u64(11);
    let mut tower = |input: usize| {
        let weights = (0..8 * input).map(|_| rng.random_range(-1.0..1.0)).collect();
        Tower::new(vec![Dense::new(weights, vec![0.0; 8], input).unwrap()]).unwrap()
    };
    let towers = TwoTowerWeights {
        user: tower(DIM),
        item: tower(DIM),
        head: RatingHead::new(1.0, 0.0).unwrap(),
        vocabulary: None,
    };
    let manifest = tailor_testkit::models::manifest(BTreeMap::new());
    ActiveModel::new(catalog, LoadedModel { manifest, towers, item_vectors: ItemVectors::new(8) }).unwrap()
}

#[test]
fn a_model_that_ignores_the_picks_gets_little_weight() {
    let catalog = shop();
    let model = random_model(&catalog);
    let blend = evaluation(&catalog, Some(&model)).choose_blend(&mut |_, _| Ok(true)).unwrap();
    assert_eq!(blend.model_weight.len(), 6);
    assert!(blend.model_weight.iter().all(|&w| w <= 0.3), "{blend:?}");
    let model = ActiveModel { blend, ..model };
    let scores = evaluation(&catalog, Some(&model)).evaluate().unwrap();
    let (served, content, alone) =
        (average(&scores, Path::Picks, 3), average(&scores, Path::Content, 3), average(&scores, Path::ModelOnly, 3));
    assert!(served.precision_at_10.mean >= content.precision_at_10.mean - 0.05, "{served:?} {content:?}");
    assert!(alone.precision_at_10.mean < served.precision_at_10.mean - 0.2, "{alone:?}");
}

#[test]
fn the_blend_is_the_best_that_a_constraint_accepts() {
    let catalog = shop();
    let model = random_model(&catalog);
    let evaluation = evaluation(&catalog, Some(&model));
    let free = evaluation.choose_blend(&mut |_, _| Ok(true)).unwrap();
    // Say the persona evaluation needed at least half the weight on the model.
    let mut asked = 0;
    let bound = evaluation
        .choose_blend(&mut |_, weights| {
            asked += 1;
            Ok(weights.model >= 0.5)
        })
        .unwrap();
    assert!(bound.model_weight.iter().all(|&w| w >= 0.5), "{bound:?}");
    assert!(asked > 3, "weights it did not accept were passed over");
    assert_ne!(free, bound);
    let none = evaluation.choose_blend(&mut |_, _| Ok(false)).unwrap();
    assert_eq!(none, free, "with nothing accepted, the best by pick consistency");
}
