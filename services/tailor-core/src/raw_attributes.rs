//! An item's attributes as text, before they are checked: what a catalogue row and an item event
//! carry. One check turns them into [`Attributes`], so ingestion and catalogue events accept and
//! refuse the same values.

use crate::{Attributes, CoreError, Gender, Price};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawAttributes {
    pub gender: Option<String>,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub article_type: Option<String>,
    pub colour: Option<String>,
    pub season: Option<String>,
    pub usage: Option<String>,
    pub year: Option<String>,
    pub price: Option<String>,
    pub brand: Option<String>,
}

/// Checked attributes, and what was left out of them on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedAttributes {
    pub attributes: Attributes,
    pub warnings: Vec<String>,
}

impl RawAttributes {
    /// A malformed price (a currency sign before it is fine) or year is an error; a gender no
    /// shop spelling matches is left out, with a warning.
    pub fn check(self) -> Result<CheckedAttributes, CoreError> {
        let malformed = |name: &'static str, value: &str, expected: &'static str| CoreError::MalformedAttribute {
            name,
            value: value.to_owned(),
            expected,
        };
        let price = self
            .price
            .map(|p| {
                let value =
                    p.trim_start_matches(['$', '€', '£']).parse().map_err(|_| malformed("price", &p, "a number"))?;
                Price::new(value)
            })
            .transpose()?;
        let year = self.year.map(|y| y.parse::<u16>().map_err(|_| malformed("year", &y, "a year"))).transpose()?;
        let mut warnings = Vec::new();
        let gender = self
            .gender
            .and_then(|g| Gender::parse(&g).map_err(|e| warnings.push(format!("{e}: gender left empty"))).ok());
        let attributes = Attributes {
            gender,
            category: self.category,
            sub_category: self.sub_category,
            article_type: self.article_type,
            colour: self.colour,
            season: self.season,
            usage: self.usage,
            year,
            price,
            brand: self.brand,
        };
        Ok(CheckedAttributes { attributes, warnings })
    }
}

impl From<&Attributes> for RawAttributes {
    fn from(attributes: &Attributes) -> RawAttributes {
        RawAttributes {
            gender: attributes.gender.map(|g| g.as_str().to_owned()),
            category: attributes.category.clone(),
            sub_category: attributes.sub_category.clone(),
            article_type: attributes.article_type.clone(),
            colour: attributes.colour.clone(),
            season: attributes.season.clone(),
            usage: attributes.usage.clone(),
            year: attributes.year.map(|y| y.to_string()),
            price: attributes.price.map(|p| p.value().to_string()),
            brand: attributes.brand.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_attributes_read_back_as_the_same_text() {
        let raw = RawAttributes {
            gender: Some("men".into()),
            article_type: Some("Shirts".into()),
            year: Some("2012".into()),
            price: Some("19.5".into()),
            ..RawAttributes::default()
        };
        let checked = raw.clone().check().unwrap();
        assert!(checked.warnings.is_empty());
        assert_eq!(RawAttributes::from(&checked.attributes), raw);
    }

    #[test]
    fn malformed_values_are_named_and_an_unknown_gender_is_only_left_out() {
        let price = RawAttributes { price: Some("ten".into()), ..RawAttributes::default() }.check().unwrap_err();
        assert_eq!(price.to_string(), "price \"ten\" is not a number");
        let year = RawAttributes { year: Some("2O12".into()), ..RawAttributes::default() }.check().unwrap_err();
        assert_eq!(year.to_string(), "year \"2O12\" is not a year");
        assert!(RawAttributes { price: Some("-3".into()), ..RawAttributes::default() }.check().is_err());
        let checked =
            RawAttributes { gender: Some("robots".into()), price: Some("£5".into()), ..RawAttributes::default() }
                .check()
                .unwrap();
        assert_eq!((checked.attributes.gender, checked.attributes.price.map(Price::value)), (None, Some(5.0)));
        assert_eq!(checked.warnings.len(), 1, "{:?}", checked.warnings);
    }
}
