//! The layout-independent row: what each layout maps its columns onto, and the rules that turn it
//! into an item or a rejection.

use std::path::Path;

use tailor_core::{CheckedAttributes, ImageRef, Item, ItemId, Modality, RawAttributes};

use crate::images::{ImageSource, Probe, probe};
use crate::records::Fields;

#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub image: Option<ImageSource>,
    pub attributes: RawAttributes,
}

/// A valid row: the item, and what was noticed but did not stop it.
#[derive(Debug)]
pub struct Accepted {
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
        let CheckedAttributes { attributes, mut warnings } = self.attributes.check().map_err(|e| e.to_string())?;
        let image = match probe(self.image.unwrap_or(ImageSource::None), base_dir) {
            Probe::Found(image) => Some(image),
            Probe::Absent => None,
            Probe::Unusable(reason) => {
                warnings.push(format!("{reason}: item kept without a photo"));
                None
            }
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

/// An item as an event or an admin request describes it, checked by the rules ingestion applies
/// to a row: its photo is an absolute path or an http(s) URL. `known_photo` is the photo the
/// catalogue already holds for the item: named again, it is kept without reading its file, so a
/// change of price or stock costs no disk read.
pub fn check_item(
    id: &str,
    title: Option<String>,
    description: Option<String>,
    image: Option<String>,
    attributes: RawAttributes,
    known_photo: Option<&ImageRef>,
) -> Result<Accepted, String> {
    let image = image.map(|reference| match known_photo {
        Some(known) if known.reference() == reference => ImageSource::Probed(known.clone()),
        _ => ImageSource::Declared(reference),
    });
    let draft = Draft { id: Some(id.to_owned()), title, description, image, attributes };
    draft.validate(Path::new("/"))
}

#[cfg(test)]
mod tests {
    use tailor_core::{ImageRef, RawAttributes};

    use super::check_item;

    #[test]
    fn a_photo_the_catalogue_holds_is_not_read_again_and_any_other_is() {
        let gone = "/nonexistent/tailor/photo.jpg";
        let known = ImageRef::File { path: gone.to_owned(), width: 60, height: 80 };
        let check = |image: &str, known_photo| {
            check_item("i1", Some("Blue shirt".into()), None, Some(image.into()), RawAttributes::default(), known_photo)
                .unwrap()
        };
        // The same reference: kept as the catalogue holds it, the missing file never looked at.
        let kept = check(gone, Some(&known));
        assert_eq!(kept.item.image(), Some(&known));
        assert!(kept.warnings.is_empty(), "{:?}", kept.warnings);
        // Another reference, or none known: read, and dropped with a warning when unreadable.
        for known_photo in [None, Some(&known)] {
            let other = check("/nonexistent/tailor/other.jpg", known_photo);
            assert_eq!(other.item.image(), None);
            assert!(other.warnings.iter().any(|w| w.contains("not found")), "{:?}", other.warnings);
        }
    }
}
