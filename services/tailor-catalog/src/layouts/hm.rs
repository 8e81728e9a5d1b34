use std::path::Path;

use tailor_core::RawAttributes;

use crate::draft::{Draft, field};
use crate::images::ImageSource;
use crate::layouts::Layout;
use crate::records::Fields;

/// `articles.csv` of the H&M personalised-recommendations data set, photos in
/// `images/0XX/0XXXXXXXXX.jpg` (the ten-digit id, grouped by its first three digits).
pub(crate) struct Hm;

impl Layout for Hm {
    fn required_columns(&self) -> &'static [&'static [&'static str]] {
        &[&["article_id"], &["prod_name"], &["product_type_name"], &["colour_group_name"], &["detail_desc"]]
    }

    fn draft(&self, fields: &Fields, source_dir: &Path) -> Draft {
        // Spreadsheets drop the leading zero of H&M's ten-digit ids.
        let id = field(fields, &["article_id"]).map(|id| format!("{id:0>10}"));
        Draft {
            image: id.as_ref().map(|id| {
                ImageSource::Conventional(source_dir.join("images").join(&id[..3]).join(format!("{id}.jpg")))
            }),
            title: field(fields, &["prod_name"]),
            description: field(fields, &["detail_desc"]),
            attributes: RawAttributes {
                gender: field(fields, &["index_group_name"]).and_then(|group| gender_of_index_group(&group)),
                category: field(fields, &["product_group_name"]),
                sub_category: field(fields, &["garment_group_name"]),
                article_type: field(fields, &["product_type_name"]),
                colour: field(fields, &["colour_group_name"]),
                brand: Some("H&M".to_owned()),
                ..RawAttributes::default()
            },
            id,
        }
    }
}

/// H&M's index groups are Ladieswear, Menswear, Divided (its young women's line),
/// Baby/Children and Sport; the last two say nothing about gender.
fn gender_of_index_group(group: &str) -> Option<String> {
    match group {
        "Ladieswear" | "Divided" => Some("women".into()),
        "Menswear" => Some("men".into()),
        _ => None,
    }
}
