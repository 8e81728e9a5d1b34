use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CoreError, ItemId};

/// Which modalities an item can be embedded from. Items with one modality are the cold-start
/// cases the recommender must still serve well, so they are kept and flagged, never dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    TextAndImage,
    TextOnly,
    ImageOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Men,
    Women,
    Boys,
    Girls,
    Unisex,
}

impl Gender {
    pub const ALL: [Gender; 5] = [Gender::Men, Gender::Women, Gender::Boys, Gender::Girls, Gender::Unisex];

    /// Accepts the spellings shops use (`Men`, `male`, `Menswear`, `ladies`, ...), case-insensitively.
    pub fn parse(value: &str) -> Result<Gender, CoreError> {
        let gender = match value.trim().to_ascii_lowercase().as_str() {
            "men" | "man" | "male" | "mens" | "men's" | "menswear" | "m" => Gender::Men,
            "women" | "woman" | "female" | "womens" | "women's" | "womenswear" | "ladies" | "ladieswear" | "w"
            | "f" => Gender::Women,
            "boys" | "boy" => Gender::Boys,
            "girls" | "girl" => Gender::Girls,
            "unisex" | "all" => Gender::Unisex,
            _ => return Err(CoreError::UnknownGender(value.to_owned())),
        };
        Ok(gender)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Men => "men",
            Gender::Women => "women",
            Gender::Boys => "boys",
            Gender::Girls => "girls",
            Gender::Unisex => "unisex",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A price in the shop's currency.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Price(f64);

impl Price {
    pub fn new(value: f64) -> Result<Price, CoreError> {
        if value.is_finite() && value >= 0.0 { Ok(Price(value)) } else { Err(CoreError::InvalidPrice(value)) }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Price {
    type Error = CoreError;
    fn try_from(value: f64) -> Result<Price, CoreError> {
        Price::new(value)
    }
}

impl From<Price> for f64 {
    fn from(price: Price) -> f64 {
        price.0
    }
}

/// Where an item's photo is. Paths are absolute so that every stage finds the photo whatever its
/// working directory; the dimensions come from the file's header, read at ingestion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageRef {
    File { path: String, width: u32, height: u32 },
    Url { url: String },
}

impl ImageRef {
    /// The path or URL, as item events and the admin routes name a photo.
    pub fn reference(&self) -> &str {
        match self {
            ImageRef::File { path, .. } => path,
            ImageRef::Url { url } => url,
        }
    }
}

/// Catalogue attributes used for filtering, onboarding diversity and the item tower.
/// Free-text values are kept as the shop spells them; matching is case-insensitive.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    pub gender: Option<Gender>,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub article_type: Option<String>,
    pub colour: Option<String>,
    pub season: Option<String>,
    pub usage: Option<String>,
    pub year: Option<u16>,
    pub price: Option<Price>,
    pub brand: Option<String>,
}

/// One normalised catalogue item, whatever layout it came from. It always has text, a photo, or
/// both: an item with neither cannot be embedded and is refused at construction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedItem")]
pub struct Item {
    id: ItemId,
    title: Option<String>,
    description: Option<String>,
    image: Option<ImageRef>,
    attributes: Attributes,
}

/// The serialised shape of [`Item`]; deserialising goes through [`Item::new`] so stored or
/// received items obey the same rules as freshly ingested ones.
#[derive(Deserialize)]
struct UncheckedItem {
    id: ItemId,
    title: Option<String>,
    description: Option<String>,
    image: Option<ImageRef>,
    attributes: Attributes,
}

impl TryFrom<UncheckedItem> for Item {
    type Error = CoreError;
    fn try_from(item: UncheckedItem) -> Result<Item, CoreError> {
        Item::new(item.id, item.title, item.description, item.image, item.attributes)
    }
}

impl Item {
    /// Builds an item; text is trimmed with inner white space collapsed, and blank text counts as
    /// absent.
    pub fn new(
        id: ItemId,
        title: Option<String>,
        description: Option<String>,
        image: Option<ImageRef>,
        attributes: Attributes,
    ) -> Result<Item, CoreError> {
        let title = title.and_then(|t| tidy_text(&t));
        let description = description.and_then(|d| tidy_text(&d));
        if title.is_none() && description.is_none() && image.is_none() {
            return Err(CoreError::ItemWithoutContent { id: id.to_string() });
        }
        Ok(Item { id, title, description, image, attributes })
    }

    pub fn id(&self) -> &ItemId {
        &self.id
    }

    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn image(&self) -> Option<&ImageRef> {
        self.image.as_ref()
    }

    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }

    pub fn modality(&self) -> Modality {
        let has_text = self.title.is_some() || self.description.is_some();
        match (has_text, self.image.is_some()) {
            (true, true) => Modality::TextAndImage,
            (true, false) => Modality::TextOnly,
            // `new` guarantees at least one of the two.
            (false, _) => Modality::ImageOnly,
        }
    }
}

fn tidy_text(text: &str) -> Option<String> {
    let tidy = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!tidy.is_empty()).then_some(tidy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ItemId {
        ItemId::new(s).unwrap()
    }

    fn photo() -> ImageRef {
        ImageRef::File { path: "/img/1.jpg".into(), width: 60, height: 80 }
    }

    #[test]
    fn modality_follows_content() {
        let both = Item::new(id("1"), Some("Blue Shirt".into()), None, Some(photo()), Attributes::default());
        assert_eq!(both.unwrap().modality(), Modality::TextAndImage);
        let text = Item::new(id("2"), None, Some("A description".into()), None, Attributes::default());
        assert_eq!(text.unwrap().modality(), Modality::TextOnly);
        let image = Item::new(id("3"), Some("   ".into()), None, Some(photo()), Attributes::default());
        let image = image.unwrap();
        assert_eq!(image.modality(), Modality::ImageOnly);
        assert_eq!(image.title(), None);
    }

    #[test]
    fn item_without_content_is_refused() {
        let err = Item::new(id("9"), Some(" ".into()), Some("".into()), None, Attributes::default());
        assert_eq!(err, Err(CoreError::ItemWithoutContent { id: "9".into() }));
    }

    #[test]
    fn text_is_tidied() {
        let item = Item::new(id("1"), Some("  Navy \t Blue\nShirt ".into()), None, None, Attributes::default());
        assert_eq!(item.unwrap().title(), Some("Navy Blue Shirt"));
    }

    #[test]
    fn gender_spellings() {
        assert_eq!(Gender::parse("Menswear"), Ok(Gender::Men));
        assert_eq!(Gender::parse(" LADIES "), Ok(Gender::Women));
        assert_eq!(Gender::parse("Girls"), Ok(Gender::Girls));
        assert_eq!(Gender::parse("robots"), Err(CoreError::UnknownGender("robots".into())));
    }

    #[test]
    fn price_must_be_finite_and_non_negative() {
        assert!(Price::new(0.0).is_ok());
        assert_eq!(Price::new(-1.0), Err(CoreError::InvalidPrice(-1.0)));
        assert!(Price::new(f64::NAN).is_err());
    }

    #[test]
    fn deserialising_enforces_the_content_rule() {
        let json = r#"{"id":"1","title":null,"description":null,"image":null,"attributes":{}}"#;
        assert!(serde_json::from_str::<Item>(json).is_err());
        let item = Item::new(id("1"), Some("Shirt".into()), None, Some(photo()), Attributes::default()).unwrap();
        let round_trip: Item = serde_json::from_str(&serde_json::to_string(&item).unwrap()).unwrap();
        assert_eq!(round_trip, item);
    }
}
