//! A shop's business rules, per request and as configured defaults: boost or bury items by an
//! attribute's value, pin items at positions, leave items out, cap results per value of an
//! attribute, and keep to a price range. They apply after filters and withdrawals and around
//! the ranking: leaving out and the price range shape the candidates, boosts their scores, the
//! cap the selection, and pins the final order.

use std::collections::HashMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tailor_core::{FilterField, RowSet};

use crate::{EngineError, Recommendation, ServingCatalog};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Added to the score of every item whose `field` is `value` (case aside); negative buries.
    #[serde(deserialize_with = "objects")]
    pub boosts: Vec<Boost>,
    /// Items placed at positions of the answer (0 first) when they are served and pass the
    /// request's filter, whatever their score.
    #[serde(deserialize_with = "objects")]
    pub pins: Vec<Pin>,
    /// Items never returned. Ids the catalogue does not hold are reported, not refused.
    pub exclude: Vec<String>,
    /// At most `count` results share a value of `field`.
    #[serde(deserialize_with = "object")]
    pub max_per_value: Option<MaxPerValue>,
    /// Only items priced in this range; items without a price are left out when it is set.
    #[serde(deserialize_with = "object")]
    pub price: Option<PriceRange>,
}

/// serde reads a struct from an array of its fields too; a rule is an object, as the API's
/// document says, so anything else is refused.
fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Option<T>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(value) => from_object(value).map(Some).map_err(D::Error::custom),
    }
}

fn objects<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Vec::<Value>::deserialize(deserializer)?
        .into_iter()
        .map(from_object)
        .collect::<Result<_, _>>()
        .map_err(D::Error::custom)
}

fn from_object<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    match value {
        Value::Object(_) => serde_json::from_value(value).map_err(|e| e.to_string()),
        other => Err(format!("a rule is an object, not {other}")),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boost {
    pub field: FilterField,
    pub value: String,
    pub weight: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub item_id: String,
    pub position: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxPerValue {
    pub field: FilterField,
    pub count: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriceRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// No rules: what the evaluations rank with.
pub static NO_RULES: Rules =
    Rules { boosts: Vec::new(), pins: Vec::new(), exclude: Vec::new(), max_per_value: None, price: None };

/// Largest weight a boost may carry: scores are cosines and shares, within a few units.
const MAX_BOOST: f32 = 10.0;

impl Rules {
    /// The configured defaults with a request's rules on top: lists add up, and the request's
    /// cap and price range replace the defaults'.
    pub fn merged(&self, request: &Rules) -> Rules {
        let joined = |a: &[Boost], b: &[Boost]| a.iter().chain(b).cloned().collect();
        Rules {
            boosts: joined(&self.boosts, &request.boosts),
            pins: self.pins.iter().chain(&request.pins).cloned().collect(),
            exclude: self.exclude.iter().chain(&request.exclude).cloned().collect(),
            max_per_value: request.max_per_value.or(self.max_per_value),
            price: request.price.or(self.price),
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Rules::default()
    }

    /// Refuses what cannot be meant: weights that are not finite or beyond ±10, a cap of 0, a
    /// price range upside down.
    pub fn check(&self) -> Result<(), EngineError> {
        let bad = |reason: String| EngineError::BadInput { name: "rules", reason };
        if let Some(boost) = self.boosts.iter().find(|b| !b.weight.is_finite() || b.weight.abs() > MAX_BOOST) {
            return Err(bad(format!("boost weight {} is not a number from -{MAX_BOOST} to {MAX_BOOST}", boost.weight)));
        }
        if self.max_per_value.is_some_and(|cap| cap.count == 0) {
            return Err(bad("max_per_value.count must be at least 1".to_owned()));
        }
        if let Some(PriceRange { min: Some(min), max: Some(max) }) = self.price
            && min > max
        {
            return Err(bad(format!("price.min {min} is above price.max {max}")));
        }
        Ok(())
    }

    /// The excluded and pinned ids the catalogue does not hold, for the answer to report.
    pub fn unknown_ids(&self, catalog: &ServingCatalog) -> Vec<String> {
        let ids = self.exclude.iter().chain(self.pins.iter().map(|pin| &pin.item_id));
        ids.filter(|id| catalog.item(id).is_none()).cloned().collect()
    }

    /// Adds the rows no candidate may be to `exclude`: excluded items, pinned ones (they are
    /// placed, not ranked) and those outside the price range.
    pub(crate) fn exclude_rows(&self, catalog: &ServingCatalog, exclude: &mut RowSet) {
        let matrix = catalog.matrix();
        let ids = self.exclude.iter().chain(self.pins.iter().map(|pin| &pin.item_id));
        ids.filter_map(|id| matrix.row_of(id)).for_each(|row| exclude.insert(row));
        if let Some(range) = self.price {
            for row in 0..matrix.len() as u32 {
                if !range.contains(catalog.item_at(row).attributes().price.map(|p| p.value())) {
                    exclude.insert(row);
                }
            }
        }
    }

    /// What the boosts add to a row's score.
    pub(crate) fn boost(&self, catalog: &ServingCatalog, row: u32) -> f32 {
        self.boosts
            .iter()
            .filter(|boost| {
                catalog.attribute(row, boost.field).is_some_and(|v| v.eq_ignore_ascii_case(boost.value.trim()))
            })
            .fold(0.0, |sum, boost| sum + boost.weight)
    }

    /// Keeps candidates, best first, while their value of the capped field has room.
    pub(crate) fn capped<'a>(&'a self, catalog: &'a ServingCatalog) -> impl FnMut(u32) -> bool + 'a {
        let mut seen: HashMap<Option<String>, usize> = HashMap::new();
        move |row| match self.max_per_value {
            None => true,
            Some(cap) => {
                let count = seen.entry(catalog.attribute(row, cap.field)).or_default();
                *count += 1;
                *count <= cap.count
            }
        }
    }

    /// Places the pinned rows that may be shown at their positions in `ranked`, keeping `k`.
    pub(crate) fn pin(
        &self,
        catalog: &ServingCatalog,
        shown: impl Fn(u32) -> bool,
        ranked: &mut Vec<Recommendation>,
        k: usize,
        pinned: impl Fn(u32) -> Recommendation,
    ) {
        let mut pins: Vec<(usize, u32)> = self
            .pins
            .iter()
            .filter_map(|pin| catalog.matrix().row_of(&pin.item_id).map(|row| (pin.position, row)))
            .filter(|&(_, row)| shown(row))
            .collect();
        pins.sort_by_key(|&(position, _)| position);
        pins.dedup_by_key(|&mut (_, row)| row);
        for (position, row) in pins {
            ranked.retain(|r| r.row != row);
            ranked.insert(position.min(ranked.len()), pinned(row));
        }
        ranked.truncate(k);
    }
}

impl PriceRange {
    fn contains(&self, price: Option<f64>) -> bool {
        match price {
            Some(price) => self.min.is_none_or(|min| price >= min) && self.max.is_none_or(|max| price <= max),
            None => false,
        }
    }
}
