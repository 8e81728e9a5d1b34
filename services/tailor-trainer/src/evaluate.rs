//! The offline cold-start evaluation. For k revealed liked items per user, every method ranks the
//! candidates and is scored on the user's other liked items (rated at least
//! [`RELEVANT_RATING`]): NDCG@10 (binary gains), Recall@10, HitRate@10, and the share of the
//! candidates that appear in anyone's top 10 (coverage). Slices:
//! - new users: held-out users, ranking the whole catalogue;
//! - new items (text only / photo only): the items no rating was trained on, their vectors made
//!   from one modality, ranked for every user from that user's liked catalogue items.
//!
//! It runs the exported plain-Rust towers, exactly what serving runs.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tailor_core::vector::dot;
use tailor_core::{AggregateWeights, Attributes, Embedding};
use tailor_models::TwoTowerWeights;

use crate::dataset::{Dataset, RELEVANT_RATING, Role, Split, UserEvent};
use crate::{TrainerError, item_outputs};

const TOP: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slice {
    NewUsers,
    NewItemsTextOnly,
    NewItemsPhotoOnly,
}

impl Slice {
    pub fn name(self) -> &'static str {
        match self {
            Slice::NewUsers => "new_users",
            Slice::NewItemsTextOnly => "new_items_text_only",
            Slice::NewItemsPhotoOnly => "new_items_photo_only",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Random,
    Popularity,
    /// The mean of the revealed items' content vectors; popularity when nothing is revealed.
    Content,
    TwoTower,
    /// The ranking service's own ranking (the blend), scored from outside this crate; with
    /// nothing revealed, its first screen (trending items, then the spread).
    Served,
    /// The first screen before trending items: the catalogue's spread alone.
    OnboardingSpread,
}

impl Method {
    pub const ALL: [Method; 4] = [Method::Random, Method::Popularity, Method::Content, Method::TwoTower];

    pub fn name(self) -> &'static str {
        match self {
            Method::Random => "random",
            Method::Popularity => "popularity",
            Method::Content => "content",
            Method::TwoTower => "two_tower",
            Method::Served => "served",
            Method::OnboardingSpread => "onboarding_spread",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalRow {
    pub slice: Slice,
    pub k: usize,
    pub method: Method,
    pub users: usize,
    pub ndcg_at_10: f64,
    pub recall_at_10: f64,
    pub hit_rate_at_10: f64,
    pub coverage: f64,
}

/// Items' vectors from one modality only, in the content space, by item row.
#[derive(Clone, Debug, Default)]
pub struct ModalityVectors {
    pub text: HashMap<u32, Embedding>,
    pub photo: HashMap<u32, Embedding>,
}

/// A new user's case: their liked items in a seeded order, the first `k` revealed and the rest
/// relevant; `None` for a user with no more than `max_k` liked items.
fn new_user_case(liked: Vec<UserEvent>, k: usize, max_k: usize) -> Option<Case> {
    (liked.len() > max_k)
        .then(|| Case { revealed: liked[..k].to_vec(), relevant: liked[k..].iter().map(|e| e.item).collect() })
}

/// The new-users slice's cases for the users of `role`, as item rows: what each reveals and what
/// should come up, exactly as [`evaluate`] builds them, for scoring a ranking made elsewhere.
pub fn new_user_cases(
    dataset: &Dataset,
    split: &Split,
    role: Role,
    k: usize,
    max_k: usize,
    seed: u64,
) -> Vec<(Vec<u32>, HashSet<u32>)> {
    let is_new: Vec<bool> = dataset.items.iter().map(|id| split.is_new_item(id)).collect();
    dataset
        .users
        .iter()
        .enumerate()
        .filter(|(_, user)| split.role(&user.subject) == role)
        .filter_map(|(u, user)| {
            let mut liked = liked(&user.events);
            liked.sort_by_key(|e| hash(seed, u as u64, u64::from(e.item)));
            // Catalogue items first, then new ones, as the new-users slice orders them.
            liked.sort_by_key(|e| is_new[e.item as usize]);
            new_user_case(liked, k, max_k)
        })
        .map(|case| (case.revealed.iter().map(|e| e.item).collect(), case.relevant))
        .collect()
}

/// A top-10 list scored against what should have come up: NDCG@10 (binary gains), Recall@10,
/// and whether anything relevant is in it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopTen {
    pub ndcg: f64,
    pub recall: f64,
    pub hit: bool,
}

impl TopTen {
    pub fn of(ranked: &[u32], relevant: &HashSet<u32>) -> TopTen {
        let gains: Vec<bool> = ranked.iter().take(TOP).map(|row| relevant.contains(row)).collect();
        let dcg: f64 = gains.iter().enumerate().filter(|(_, g)| **g).map(|(p, _)| 1.0 / (p as f64 + 2.0).log2()).sum();
        let ideal: f64 = (0..relevant.len().min(TOP)).map(|p| 1.0 / (p as f64 + 2.0).log2()).sum();
        let found = gains.iter().filter(|g| **g).count();
        TopTen {
            ndcg: dcg / ideal.max(f64::MIN_POSITIVE),
            recall: found as f64 / relevant.len().max(1) as f64,
            hit: found > 0,
        }
    }
}

/// One user's case: what they reveal and what should come up.
struct Case {
    revealed: Vec<UserEvent>,
    relevant: HashSet<u32>,
}

/// The candidates of a slice with their vectors in both spaces.
struct Candidates {
    rows: Vec<u32>,
    content: Vec<f32>,
    model: Vec<f32>,
}

fn liked(events: &[UserEvent]) -> Vec<UserEvent> {
    // A re-rated item counts by its latest rating.
    let mut latest: HashMap<u32, UserEvent> = HashMap::new();
    for event in events.iter().filter(|e| e.kind == tailor_core::InteractionKind::Rating) {
        latest.insert(event.item, *event);
    }
    let mut liked: Vec<UserEvent> =
        latest.into_values().filter(|e| e.value.is_some_and(|v| v >= RELEVANT_RATING)).collect();
    liked.sort_by_key(|e| (e.at_ms, e.item));
    liked
}

fn hash(seed: u64, a: u64, b: u64) -> u64 {
    // SplitMix64 over the three: a stable pseudo-random number per (seed, user, item).
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs every slice, k and method. `model` is `None` to evaluate the baselines alone.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    dataset: &Dataset,
    attributes: &[&Attributes],
    split: &Split,
    model: Option<&TwoTowerWeights>,
    modalities: &ModalityVectors,
    ks: &[usize],
    seed: u64,
) -> Result<Vec<EvalRow>, TrainerError> {
    let is_new: Vec<bool> = dataset.items.iter().map(|id| split.is_new_item(id)).collect();
    let mut popularity = vec![0f32; dataset.items.len()];
    for user in dataset.users.iter().filter(|u| split.role(&u.subject) != Role::Test) {
        for event in liked(&user.events).iter().filter(|e| !is_new[e.item as usize]) {
            popularity[event.item as usize] += 1.0;
        }
    }
    let model_rows = model.map(|weights| item_outputs(weights, dataset, attributes)).transpose()?;
    let model_dim = model.map_or(0, |w| w.item.output());
    let max_k = ks.iter().copied().max().unwrap_or(0);

    let mut rows = Vec::new();
    for slice in [Slice::NewUsers, Slice::NewItemsTextOnly, Slice::NewItemsPhotoOnly] {
        let replacement = match slice {
            Slice::NewUsers => None,
            Slice::NewItemsTextOnly => Some(&modalities.text),
            Slice::NewItemsPhotoOnly => Some(&modalities.photo),
        };
        let candidate_rows: Vec<u32> = match replacement {
            None => (0..dataset.items.len() as u32).collect(),
            Some(vectors) => {
                (0..dataset.items.len() as u32).filter(|r| is_new[*r as usize] && vectors.contains_key(r)).collect()
            }
        };
        let mut candidates = Candidates { rows: candidate_rows, content: Vec::new(), model: Vec::new() };
        for &row in &candidates.rows {
            let content = match replacement {
                Some(vectors) => vectors[&row].as_slice(),
                None => dataset.content(row),
            };
            candidates.content.extend_from_slice(content);
            if let (Some(weights), Some(model_rows)) = (model, &model_rows) {
                match replacement {
                    Some(_) => {
                        let vector = weights.item_vector(content, attributes[row as usize])?;
                        candidates.model.extend_from_slice(vector.as_slice());
                    }
                    None => {
                        let start = row as usize * model_dim;
                        candidates.model.extend_from_slice(&model_rows[start..start + model_dim]);
                    }
                }
            }
        }
        let candidate_set: HashSet<u32> = candidates.rows.iter().copied().collect();
        for &k in ks {
            let cases: Vec<Case> = dataset
                .users
                .iter()
                .enumerate()
                .filter_map(|(u, user)| {
                    let mut liked = liked(&user.events);
                    // A seeded shuffle picks what is revealed.
                    liked.sort_by_key(|e| hash(seed, u as u64, u64::from(e.item)));
                    let (warm, new): (Vec<UserEvent>, Vec<UserEvent>) =
                        liked.into_iter().partition(|e| !is_new[e.item as usize]);
                    match slice {
                        Slice::NewUsers => (split.role(&user.subject) == Role::Test)
                            .then(|| new_user_case(warm.into_iter().chain(new).collect(), k, max_k))
                            .flatten(),
                        Slice::NewItemsTextOnly | Slice::NewItemsPhotoOnly => {
                            let relevant: HashSet<u32> =
                                new.iter().map(|e| e.item).filter(|i| candidate_set.contains(i)).collect();
                            (warm.len() >= max_k && !relevant.is_empty())
                                .then(|| Case { revealed: warm[..k].to_vec(), relevant })
                        }
                    }
                })
                .collect();
            for method in Method::ALL {
                if method == Method::TwoTower && model.is_none() {
                    continue;
                }
                rows.push(score_method(dataset, model, &candidates, &popularity, &cases, method, slice, k, seed)?);
            }
        }
    }
    Ok(rows)
}

#[allow(clippy::too_many_arguments)]
fn score_method(
    dataset: &Dataset,
    model: Option<&TwoTowerWeights>,
    candidates: &Candidates,
    popularity: &[f32],
    cases: &[Case],
    method: Method,
    slice: Slice,
    k: usize,
    seed: u64,
) -> Result<EvalRow, TrainerError> {
    let weights = AggregateWeights::default();
    let (mut ndcg, mut recall, mut hits) = (0.0, 0.0, 0.0);
    let mut shown = HashSet::new();
    let mut input = Vec::new();
    for (u, case) in cases.iter().enumerate() {
        let revealed: HashSet<u32> = case.revealed.iter().map(|e| e.item).collect();
        let tiebreak = |row: u32| (hash(seed, u as u64, u64::from(row)) >> 40) as f32 / (1u64 << 24) as f32;
        let popular = |i: usize| popularity[candidates.rows[i] as usize] + 1e-3 * tiebreak(candidates.rows[i]);
        let scores: Vec<f32> = match method {
            Method::Random => candidates.rows.iter().map(|&r| tiebreak(r)).collect(),
            Method::Content if k > 0 => {
                let mut mean = vec![0f32; dataset.dim];
                for event in &case.revealed {
                    tailor_core::vector::add_scaled(&mut mean, 1.0, dataset.content(event.item));
                }
                candidates.content.chunks_exact(dataset.dim).map(|row| dot(&mean, row)).collect()
            }
            Method::Popularity | Method::Content => (0..candidates.rows.len()).map(popular).collect(),
            Method::Served | Method::OnboardingSpread => {
                return Err(TrainerError::Data("the served ranking is scored by the ranking service".into()));
            }
            Method::TwoTower => {
                let weights_model = model.expect("two-tower rows only with a model");
                input.clear();
                dataset.user_input(&weights, &case.revealed, &mut input)?;
                let user = weights_model.user.forward(&input)?;
                let dim = weights_model.user.output();
                candidates.model.chunks_exact(dim).map(|row| dot(user.as_slice(), row)).collect()
            }
        };
        let mut order: Vec<usize> =
            (0..candidates.rows.len()).filter(|&i| !revealed.contains(&candidates.rows[i])).collect();
        let top = TOP.min(order.len());
        if top == 0 {
            continue;
        }
        order.select_nth_unstable_by(top - 1, |&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order.truncate(top);
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let ranked: Vec<u32> = order.iter().map(|&i| candidates.rows[i]).collect();
        let scored = TopTen::of(&ranked, &case.relevant);
        ndcg += scored.ndcg;
        recall += scored.recall;
        hits += f64::from(scored.hit);
        shown.extend(ranked);
    }
    let users = cases.len().max(1) as f64;
    Ok(EvalRow {
        slice,
        k,
        method,
        users: cases.len(),
        ndcg_at_10: ndcg / users,
        recall_at_10: recall / users,
        hit_rate_at_10: hits / users,
        coverage: shown.len() as f64 / candidates.rows.len().max(1) as f64,
    })
}
