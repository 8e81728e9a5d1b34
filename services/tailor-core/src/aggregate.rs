//! The user vector: a time-decayed, weighted sum of the vectors of the items a visitor interacted
//! with. The streaming consumer updates it one event at a time and the trainer builds user-tower
//! inputs with the same code, so serving and training agree.

use serde::{Deserialize, Serialize};

use crate::vector::{add_scaled, check_finite};
use crate::{CoreError, Embedding};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InteractionKind {
    View,
    Click,
    Like,
    Dislike,
    AddToCart,
    Purchase,
    /// An explicit rating from 1 to 10.
    Rating,
}

/// How much each kind of interaction pulls the user vector towards (or, negative, away from) the
/// item, and how fast old interactions fade.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateWeights {
    pub view: f32,
    pub click: f32,
    pub like: f32,
    pub dislike: f32,
    pub add_to_cart: f32,
    pub purchase: f32,
    /// Applied to the centred rating, which runs from -1 (rated 1) to +1 (rated 10).
    pub rating: f32,
    /// An interaction this old counts half as much as a new one; `None` never fades.
    pub half_life_ms: Option<f64>,
}

impl Default for AggregateWeights {
    fn default() -> Self {
        AggregateWeights {
            view: 0.1,
            click: 0.3,
            like: 1.0,
            dislike: -1.0,
            add_to_cart: 1.5,
            purchase: 2.0,
            rating: 1.5,
            half_life_ms: Some(7.0 * 24.0 * 3600.0 * 1000.0),
        }
    }
}

/// A rating at or above this says the user wants the item.
pub const POSITIVE_RATING: f32 = 7.0;

impl InteractionKind {
    /// Whether the interaction says the user wants the item: a like, an add to cart, a purchase,
    /// or a rating (`value`) of at least [`POSITIVE_RATING`]; a rating without its value is not.
    pub fn is_positive(self, value: Option<f32>) -> bool {
        match self {
            InteractionKind::Like | InteractionKind::AddToCart | InteractionKind::Purchase => true,
            InteractionKind::Rating => value.is_some_and(|v| v >= POSITIVE_RATING),
            InteractionKind::View | InteractionKind::Click | InteractionKind::Dislike => false,
        }
    }
}

pub const RATING_MIN: f32 = 1.0;
pub const RATING_MAX: f32 = 10.0;

/// The rating an interaction of kind [`InteractionKind::Rating`] must carry: 1 to 10.
pub fn check_rating(value: Option<f32>) -> Result<f32, CoreError> {
    match value {
        Some(rating) if (RATING_MIN..=RATING_MAX).contains(&rating) => Ok(rating),
        other => Err(CoreError::InvalidRating(other)),
    }
}

impl AggregateWeights {
    /// The weight of one interaction; `value` is the rating for [`InteractionKind::Rating`] and
    /// ignored otherwise.
    pub fn weight(&self, kind: InteractionKind, value: Option<f32>) -> Result<f32, CoreError> {
        Ok(match kind {
            InteractionKind::View => self.view,
            InteractionKind::Click => self.click,
            InteractionKind::Like => self.like,
            InteractionKind::Dislike => self.dislike,
            InteractionKind::AddToCart => self.add_to_cart,
            InteractionKind::Purchase => self.purchase,
            InteractionKind::Rating => {
                let middle = (RATING_MIN + RATING_MAX) / 2.0;
                self.rating * (check_rating(value)? - middle) / (RATING_MAX - middle)
            }
        })
    }

    /// The factor by which something `age_ms` old has faded.
    fn decay(&self, age_ms: f64) -> f32 {
        self.half_life_ms.map_or(1.0, |half_life| 0.5f64.powf(age_ms / half_life) as f32)
    }
}

/// The latest timestamp any event may carry: 9999-12-31T23:59:59.999Z. With every timestamp from
/// 0 to this, the difference of two never overflows.
pub const LATEST_TIMESTAMP_MS: i64 = 253_402_300_799_999;

/// Whether `at_ms` (milliseconds since the epoch) can be an event's time at all; how far from
/// now an event may be is the intake's decision.
pub fn check_timestamp(at_ms: i64) -> Result<(), CoreError> {
    if (0..=LATEST_TIMESTAMP_MS).contains(&at_ms) {
        Ok(())
    } else {
        Err(CoreError::InvalidTimestamp { at_ms, latest: LATEST_TIMESTAMP_MS })
    }
}

/// The running aggregate for one visitor. Its value depends only on the set of interactions
/// applied, not on their order: the sum is kept as of the newest timestamp seen, and an event
/// older than that enters already faded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserAggregate {
    sum: Vec<f32>,
    as_of_ms: Option<i64>,
    interactions: u64,
}

impl UserAggregate {
    pub fn new(dim: usize) -> UserAggregate {
        UserAggregate { sum: vec![0.0; dim], as_of_ms: None, interactions: 0 }
    }

    /// Folds in one interaction with `item` at `at_ms` (milliseconds since the epoch), in O(d).
    pub fn apply(
        &mut self,
        weights: &AggregateWeights,
        kind: InteractionKind,
        value: Option<f32>,
        at_ms: i64,
        item: &Embedding,
    ) -> Result<(), CoreError> {
        if item.dim() != self.sum.len() {
            return Err(CoreError::DimensionMismatch { expected: self.sum.len(), found: item.dim() });
        }
        check_timestamp(at_ms)?;
        let mut weight = weights.weight(kind, value)?;
        // Both timestamps are checked, so their difference cannot overflow.
        match self.as_of_ms {
            Some(as_of) if at_ms < as_of => weight *= weights.decay((as_of - at_ms) as f64),
            Some(as_of) => {
                let fade = weights.decay((at_ms - as_of) as f64);
                self.sum.iter_mut().for_each(|x| *x *= fade);
                self.as_of_ms = Some(at_ms);
            }
            None => self.as_of_ms = Some(at_ms),
        }
        add_scaled(&mut self.sum, weight, item.as_slice());
        check_finite(&self.sum)?;
        self.interactions += 1;
        Ok(())
    }

    /// The direction of the user's taste, or `None` while the interactions cancel out (or there
    /// are none).
    pub fn vector(&self) -> Option<Embedding> {
        Embedding::new(self.sum.clone(), self.sum.len()).ok()
    }

    pub fn dim(&self) -> usize {
        self.sum.len()
    }

    pub fn interactions(&self) -> u64 {
        self.interactions
    }

    pub fn as_of_ms(&self) -> Option<i64> {
        self.as_of_ms
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DAY_MS: i64 = 24 * 3600 * 1000;

    fn unit(values: &[f32]) -> Embedding {
        Embedding::new(values.to_vec(), values.len()).unwrap()
    }

    #[test]
    fn likes_carts_purchases_and_high_ratings_are_positive() {
        use InteractionKind::*;
        assert!([Like, AddToCart, Purchase].iter().all(|k| k.is_positive(None)));
        assert!([View, Click, Dislike].iter().all(|k| !k.is_positive(Some(10.0))));
        assert!(Rating.is_positive(Some(POSITIVE_RATING)) && Rating.is_positive(Some(10.0)));
        assert!(!Rating.is_positive(Some(6.0)) && !Rating.is_positive(None));
    }

    #[test]
    fn likes_pull_and_dislikes_push() {
        let weights = AggregateWeights::default();
        let mut user = UserAggregate::new(2);
        assert_eq!(user.vector(), None);
        user.apply(&weights, InteractionKind::Like, None, 0, &unit(&[1.0, 0.0])).unwrap();
        user.apply(&weights, InteractionKind::Dislike, None, 0, &unit(&[0.0, 1.0])).unwrap();
        let v = user.vector().unwrap();
        assert!(v.as_slice()[0] > 0.0 && v.as_slice()[1] < 0.0);
        assert_eq!(user.interactions(), 2);
    }

    #[test]
    fn ratings_are_centred_and_checked() {
        let weights = AggregateWeights { rating: 1.0, ..AggregateWeights::default() };
        assert_eq!(weights.weight(InteractionKind::Rating, Some(10.0)), Ok(1.0));
        assert_eq!(weights.weight(InteractionKind::Rating, Some(1.0)), Ok(-1.0));
        assert_eq!(weights.weight(InteractionKind::Rating, Some(5.5)), Ok(0.0));
        assert_eq!(weights.weight(InteractionKind::Rating, Some(11.0)), Err(CoreError::InvalidRating(Some(11.0))));
        assert_eq!(weights.weight(InteractionKind::Rating, None), Err(CoreError::InvalidRating(None)));
        assert!(weights.weight(InteractionKind::Rating, Some(f32::NAN)).is_err());
    }

    #[test]
    fn timestamps_outside_the_calendar_are_refused_and_change_nothing() {
        let weights = AggregateWeights::default();
        let mut aggregate = UserAggregate::new(2);
        aggregate.apply(&weights, InteractionKind::Like, None, 1_000, &unit(&[1.0, 0.0])).unwrap();
        let before = aggregate.clone();
        // i64::MAX then -1 once overflowed the decay arithmetic (a panic in debug builds).
        for at_ms in [i64::MAX, -1, i64::MIN, LATEST_TIMESTAMP_MS + 1] {
            let error = aggregate.apply(&weights, InteractionKind::Like, None, at_ms, &unit(&[0.0, 1.0])).unwrap_err();
            assert_eq!(error, CoreError::InvalidTimestamp { at_ms, latest: LATEST_TIMESTAMP_MS });
        }
        assert_eq!(aggregate, before);
        aggregate.apply(&weights, InteractionKind::Like, None, LATEST_TIMESTAMP_MS, &unit(&[0.0, 1.0])).unwrap();
        aggregate.apply(&weights, InteractionKind::Like, None, 0, &unit(&[0.0, 1.0])).unwrap();
        assert!(aggregate.vector().is_some());
    }

    #[test]
    fn an_interaction_one_half_life_old_counts_half() {
        let weights = AggregateWeights { half_life_ms: Some(DAY_MS as f64), ..AggregateWeights::default() };
        let mut user = UserAggregate::new(2);
        user.apply(&weights, InteractionKind::Like, None, 0, &unit(&[1.0, 0.0])).unwrap();
        user.apply(&weights, InteractionKind::Like, None, DAY_MS, &unit(&[0.0, 1.0])).unwrap();
        let v = user.vector().unwrap();
        assert!((v.as_slice()[1] / v.as_slice()[0] - 2.0).abs() < 1e-5, "{v:?}");
    }

    #[test]
    fn refuses_a_vector_of_another_dimension() {
        let mut user = UserAggregate::new(3);
        let err = user.apply(&AggregateWeights::default(), InteractionKind::Like, None, 0, &unit(&[1.0, 0.0]));
        assert_eq!(err, Err(CoreError::DimensionMismatch { expected: 3, found: 2 }));
        assert_eq!(user.interactions(), 0);
    }

    fn kind() -> impl Strategy<Value = (InteractionKind, Option<f32>)> {
        prop_oneof![
            Just((InteractionKind::View, None)),
            Just((InteractionKind::Click, None)),
            Just((InteractionKind::Like, None)),
            Just((InteractionKind::Dislike, None)),
            Just((InteractionKind::AddToCart, None)),
            Just((InteractionKind::Purchase, None)),
            (1.0f32..=10.0).prop_map(|r| (InteractionKind::Rating, Some(r))),
        ]
    }

    proptest! {
        #[test]
        fn order_of_events_does_not_matter(
            events in prop::collection::vec(
                (kind(), 0i64..30 * DAY_MS, prop::collection::vec(-1.0f32..1.0, 4)
                    .prop_filter("non-zero", |v| v.iter().any(|x| x.abs() > 0.1))),
                1..30,
            ),
            seed in any::<u64>(),
        ) {
            let weights = AggregateWeights::default();
            let apply_all = |order: &[usize]| {
                let mut user = UserAggregate::new(4);
                for &i in order {
                    let ((kind, value), at, ref v) = events[i];
                    user.apply(&weights, kind, value, at, &unit(v)).unwrap();
                }
                user
            };
            let forward: Vec<usize> = (0..events.len()).collect();
            let mut shuffled = forward.clone();
            // A seeded Fisher-Yates shuffle keeps the case reproducible.
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            let (a, b) = (apply_all(&forward), apply_all(&shuffled));
            prop_assert_eq!(a.as_of_ms, b.as_of_ms);
            for (x, y) in a.sum.iter().zip(&b.sum) {
                prop_assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{:?} vs {:?}", a.sum, b.sum);
            }
        }
    }
}
