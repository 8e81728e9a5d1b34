//! The layout-independent row: what each layout maps its columns onto, and the rules that turn it
//! into an item or a rejection.

use std::path::Path;

use tailor_core::{Attributes, Gender, Item, ItemId, Modality, Price};

use crate::images::{ImageSource, Probe, probe};
use crate::records::Fields;

#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub image: Option<ImageSource>,
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

/// A valid row: the item, and what was noticed but did not stop it.
pub(crate) struct Accepted {
    pub item: Item,
    pub warnings: Vec<String>,
}

/// The first present, non-placeholder value among `columns`. Exports write missing values as
/// empty cells, `NA`, `N/A` or `null`.
pub(crate) fn field(fields: &Fields, columns: &[&str]) -> Option<String> {
    columns.iter().filter_map(|c| fields.get(c)).map(str::trim).find(|v| !is_placeholder(v)).map(str::to_owned)
}

fn is_placeholder(value: &str) -> bool {
    value.is_empty() || ["na", "n/a", "null", "nan"].iter().any(|p| value.eq_ignore_ascii_case(p))
}

impl Draft {
    /// Present-but-malformed values (id, price, year) reject the row; a missing or unusable photo
    /// or an unrecognised gender only drop that value, with a warning.
    pub fn validate(self, base_dir: &Path) -> Result<Accepted, String> {
        let id = ItemId::new(self.id.ok_or("id is empty")?).map_err(|e| e.to_string())?;
        let price = self
            .price
            .map(|p| {
                let value: f64 = p
                    .trim_start_matches(['$', '€', '£'])
                    .parse()
                    .map_err(|_| format!("price {p:?} is not a number"))?;
                Price::new(value).map_err(|e| e.to_string())
            })
            .transpose()?;
        let year = self.year.map(|y| y.parse::<u16>().map_err(|_| format!("year {y:?} is not a year"))).transpose()?;

        let mut warnings = Vec::new();
        let gender = self
            .gender
            .and_then(|g| Gender::parse(&g).map_err(|e| warnings.push(format!("{e}: gender left empty"))).ok());
        let image = match probe(self.image.unwrap_or(ImageSource::None), base_dir) {
            Probe::Found(image) => Some(image),
            Probe::Absent => None,
            Probe::Unusable(reason) => {
                warnings.push(format!("{reason}: item kept without a photo"));
                None
            }
        };
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
        let item =
            Item::new(id, self.title, self.description, image, attributes).map_err(|e| match warnings.as_slice() {
                [] => e.to_string(),
                noticed => format!("{e} ({})", noticed.join("; ")),
            })?;
        if item.modality() == Modality::ImageOnly {
            warnings.push("title is empty: kept as an image-only item".into());
        }
        Ok(Accepted { item, warnings })
    }
}
