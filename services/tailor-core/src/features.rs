//! Catalogue attributes as the item tower reads them. Content vectors ignore price and brand, and
//! blur colour and usage; the tower gets them as one-hot blocks, one per field, over a vocabulary
//! taken from the catalogue at training time and saved with the model, so serving encodes a new
//! item exactly as training did.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Attributes, CoreError, Price};

/// Price bands by catalogue terciles: the persona file and the item tower speak of these, not of
/// amounts, so one definition serves shops in any currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceBand {
    Budget,
    Mid,
    Premium,
}

/// The two prices that split a catalogue into thirds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceBands {
    lower: f64,
    upper: f64,
}

impl PriceBands {
    /// Terciles of the prices given; `None` when there are none.
    pub fn from_prices(prices: impl Iterator<Item = Price>) -> Option<PriceBands> {
        let mut values: Vec<f64> = prices.map(Price::value).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let at = |fraction: f64| values[((values.len() - 1) as f64 * fraction).round() as usize];
        Some(PriceBands { lower: at(1.0 / 3.0), upper: at(2.0 / 3.0) })
    }

    pub fn band(&self, price: Price) -> PriceBand {
        match price.value() {
            p if p < self.lower => PriceBand::Budget,
            p if p < self.upper => PriceBand::Mid,
            _ => PriceBand::Premium,
        }
    }
}

/// The attribute fields the item tower reads, in block order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureField {
    Gender,
    Category,
    SubCategory,
    ArticleType,
    Colour,
    Usage,
    Season,
    PriceBand,
    Brand,
}

impl FeatureField {
    pub const ALL: [FeatureField; 9] = [
        FeatureField::Gender,
        FeatureField::Category,
        FeatureField::SubCategory,
        FeatureField::ArticleType,
        FeatureField::Colour,
        FeatureField::Usage,
        FeatureField::Season,
        FeatureField::PriceBand,
        FeatureField::Brand,
    ];

    fn value(self, attributes: &Attributes, bands: Option<&PriceBands>) -> Option<String> {
        let text = |value: &Option<String>| value.as_deref().map(|v| v.trim().to_lowercase());
        match self {
            FeatureField::Gender => attributes.gender.map(|g| g.as_str().to_owned()),
            FeatureField::Category => text(&attributes.category),
            FeatureField::SubCategory => text(&attributes.sub_category),
            FeatureField::ArticleType => text(&attributes.article_type),
            FeatureField::Colour => text(&attributes.colour),
            FeatureField::Usage => text(&attributes.usage),
            FeatureField::Season => text(&attributes.season),
            FeatureField::PriceBand => {
                bands.zip(attributes.price).map(|(bands, price)| format!("{:?}", bands.band(price)).to_lowercase())
            }
            FeatureField::Brand => text(&attributes.brand),
        }
    }
}

/// For each field, the values common enough to get their own slot; every block also has a first
/// slot for "missing or rare", so unseen values still encode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureVocabulary {
    blocks: Vec<(FeatureField, Vec<String>)>,
    price_bands: Option<PriceBands>,
}

impl FeatureVocabulary {
    /// Values seen on at least `min_count` items get a slot; fields with no such value get none.
    pub fn from_catalogue<'a>(items: impl Iterator<Item = &'a Attributes> + Clone, min_count: usize) -> Self {
        let price_bands = PriceBands::from_prices(items.clone().filter_map(|a| a.price));
        let mut counts: Vec<HashMap<String, usize>> = vec![HashMap::new(); FeatureField::ALL.len()];
        for attributes in items {
            for (field, counts) in FeatureField::ALL.iter().zip(&mut counts) {
                if let Some(value) = field.value(attributes, price_bands.as_ref()) {
                    *counts.entry(value).or_default() += 1;
                }
            }
        }
        let blocks = FeatureField::ALL
            .iter()
            .zip(counts)
            .filter_map(|(&field, counts)| {
                let mut values: Vec<String> =
                    counts.into_iter().filter(|(_, n)| *n >= min_count).map(|(v, _)| v).collect();
                values.sort();
                (!values.is_empty()).then_some((field, values))
            })
            .collect();
        FeatureVocabulary { blocks, price_bands }
    }

    /// How many numbers [`FeatureVocabulary::encode`] appends.
    pub fn width(&self) -> usize {
        self.blocks.iter().map(|(_, values)| values.len() + 1).sum()
    }

    pub fn fields(&self) -> impl Iterator<Item = (FeatureField, usize)> + '_ {
        self.blocks.iter().map(|(field, values)| (*field, values.len()))
    }

    pub fn price_bands(&self) -> Option<&PriceBands> {
        self.price_bands.as_ref()
    }

    /// Appends one one-hot block per field to `out`.
    pub fn encode(&self, attributes: &Attributes, out: &mut Vec<f32>) {
        for (field, values) in &self.blocks {
            let slot = field
                .value(attributes, self.price_bands.as_ref())
                .and_then(|value| values.binary_search(&value).ok())
                .map_or(0, |index| index + 1);
            let start = out.len();
            out.resize(start + values.len() + 1, 0.0);
            out[start + slot] = 1.0;
        }
    }

    /// The item tower's input: the item's content vector followed by its attribute blocks.
    pub fn item_input(&self, content: &[f32], attributes: &Attributes) -> Vec<f32> {
        let mut input = Vec::with_capacity(content.len() + self.width());
        input.extend_from_slice(content);
        self.encode(attributes, &mut input);
        input
    }

    /// Checks a vocabulary read from a file: blocks sorted and without duplicates, as encoding
    /// relies on.
    pub fn check(self) -> Result<FeatureVocabulary, CoreError> {
        for (field, values) in &self.blocks {
            if values.windows(2).any(|pair| pair[0] >= pair[1]) {
                return Err(CoreError::UnsortedVocabulary(format!("{field:?}")));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gender;

    fn shirt(colour: &str, price: f64) -> Attributes {
        Attributes {
            gender: Some(Gender::Men),
            article_type: Some("Shirts".into()),
            colour: Some(colour.into()),
            price: Some(Price::new(price).unwrap()),
            ..Attributes::default()
        }
    }

    #[test]
    fn one_hot_blocks_with_a_slot_for_rare_and_missing_values() {
        let catalogue = [shirt("Navy", 10.0), shirt("Navy", 20.0), shirt("Red", 30.0)];
        let vocabulary = FeatureVocabulary::from_catalogue(catalogue.iter(), 2);
        // Blocks: gender [rare, men], article type [rare, shirts], colour [rare, navy], price
        // band [rare, premium]; fields without a value seen twice have no block.
        let fields: Vec<_> = vocabulary.fields().collect();
        assert_eq!(fields.len(), 4);
        assert_eq!(fields[0], (FeatureField::Gender, 1));
        assert_eq!(fields[2], (FeatureField::Colour, 1));
        let mut navy = Vec::new();
        vocabulary.encode(&catalogue[0], &mut navy);
        let mut red = Vec::new();
        vocabulary.encode(&catalogue[2], &mut red);
        assert_eq!(navy.len(), vocabulary.width());
        assert_eq!(navy.iter().sum::<f32>(), fields.len() as f32, "one slot set per block");
        assert_eq!(&navy[4..6], &[0.0, 1.0]);
        assert_eq!(&red[4..6], &[1.0, 0.0], "a colour seen once falls in the rare slot");
        let mut nothing = Vec::new();
        vocabulary.encode(&Attributes::default(), &mut nothing);
        assert_eq!(nothing.iter().sum::<f32>(), fields.len() as f32);
    }

    #[test]
    fn price_bands_are_terciles() {
        let prices = (1..=9).map(|p| Price::new(p as f64).unwrap());
        let bands = PriceBands::from_prices(prices).unwrap();
        assert_eq!(bands.band(Price::new(1.0).unwrap()), PriceBand::Budget);
        assert_eq!(bands.band(Price::new(5.0).unwrap()), PriceBand::Mid);
        assert_eq!(bands.band(Price::new(9.0).unwrap()), PriceBand::Premium);
        assert_eq!(PriceBands::from_prices(std::iter::empty()), None);
    }

    #[test]
    fn an_unsorted_vocabulary_is_refused() {
        let vocabulary = FeatureVocabulary {
            blocks: vec![(FeatureField::Colour, vec!["red".into(), "blue".into()])],
            price_bands: None,
        };
        assert_eq!(vocabulary.check(), Err(CoreError::UnsortedVocabulary("Colour".into())));
    }
}
