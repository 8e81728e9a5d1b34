use std::path::Path;

use tailor_core::RawAttributes;

use crate::draft::{Draft, field};
use crate::images::ImageSource;
use crate::layouts::Layout;
use crate::records::Fields;

/// `styles.csv` of the Kaggle "Fashion Product Images" data set, photos in `images/ID.jpg`.
pub(crate) struct Myntra;

const TITLE: &str = "productdisplayname";

impl Layout for Myntra {
    fn required_columns(&self) -> &'static [&'static [&'static str]] {
        &[
            &["id"],
            &["gender"],
            &["mastercategory"],
            &["subcategory"],
            &["articletype"],
            &["basecolour"],
            &["season"],
            &["year"],
            &["usage"],
            &[TITLE],
        ]
    }

    /// The original Kaggle file has product names with unquoted commas.
    fn overflow_into_last_column(&self) -> bool {
        true
    }

    fn draft(&self, fields: &Fields, source_dir: &Path) -> Draft {
        let id = field(fields, &["id"]);
        let title = field(fields, &[TITLE]);
        Draft {
            image: id.as_ref().map(|id| ImageSource::Conventional(source_dir.join("images").join(format!("{id}.jpg")))),
            attributes: RawAttributes {
                brand: title.as_deref().and_then(brand_from_title),
                gender: field(fields, &["gender"]),
                category: field(fields, &["mastercategory"]),
                sub_category: field(fields, &["subcategory"]),
                article_type: field(fields, &["articletype"]),
                colour: field(fields, &["basecolour"]),
                season: field(fields, &["season"]),
                usage: field(fields, &["usage"]),
                year: field(fields, &["year"]),
                ..RawAttributes::default()
            },
            id,
            title,
            ..Draft::default()
        }
    }
}

/// Myntra names read "<Brand> <Gender> <description>" ("Peter England Men Party Blue Jeans"), so
/// the brand is the words before the gender word, when there are one to four of them.
fn brand_from_title(title: &str) -> Option<String> {
    const GENDER_WORDS: [&str; 11] =
        ["men", "men's", "mens", "women", "women's", "womens", "boys", "girls", "boy", "girl", "unisex"];
    let words: Vec<&str> = title.split_whitespace().collect();
    let gender_at = words.iter().position(|w| {
        let w = w.trim_end_matches([',', ';', ':']);
        GENDER_WORDS.iter().any(|g| w.eq_ignore_ascii_case(g))
    })?;
    (1..=4).contains(&gender_at).then(|| words[..gender_at].join(" "))
}

#[cfg(test)]
mod tests {
    use super::brand_from_title;

    #[test]
    fn brand_is_the_words_before_the_gender_word() {
        assert_eq!(brand_from_title("Peter England Men Party Blue Jeans").as_deref(), Some("Peter England"));
        assert_eq!(brand_from_title("Nike Women's EM Tempo 3.5\" Pink Short").as_deref(), Some("Nike"));
        assert_eq!(brand_from_title("Men Blue Shirt"), None);
        assert_eq!(brand_from_title("Blue Shirt"), None);
        assert_eq!(brand_from_title("A B C D E Men Shirt"), None);
    }
}
