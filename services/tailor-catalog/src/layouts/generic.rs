use std::path::Path;

use tailor_core::RawAttributes;

use crate::draft::{Draft, field};
use crate::images::ImageSource;
use crate::layouts::Layout;
use crate::records::Fields;

/// A shop's own export (ASOS-style CSV or JSON Lines). Each field accepts the column names such
/// exports commonly use; the first listed is the canonical one.
pub(crate) struct Generic;

const ID: &[&str] = &["id", "item_id", "product_id", "sku", "article_id"];
const TITLE: &[&str] = &["title", "name", "product_name", "productdisplayname", "prod_name"];

impl Layout for Generic {
    fn required_columns(&self) -> &'static [&'static [&'static str]] {
        &[ID, TITLE]
    }

    fn draft(&self, fields: &Fields, _source_dir: &Path) -> Draft {
        Draft {
            id: field(fields, ID),
            title: field(fields, TITLE),
            description: field(fields, &["description", "desc", "details", "detail_desc"]),
            image: field(fields, &["image", "image_path", "image_url", "image_uri", "photo"])
                .map(ImageSource::Declared),
            attributes: RawAttributes {
                gender: field(fields, &["gender"]),
                category: field(fields, &["category", "master_category", "department"]),
                sub_category: field(fields, &["sub_category", "subcategory"]),
                article_type: field(fields, &["article_type", "product_type", "type"]),
                colour: field(fields, &["colour", "color", "base_colour"]),
                season: field(fields, &["season"]),
                usage: field(fields, &["usage", "occasion"]),
                year: field(fields, &["year"]),
                price: field(fields, &["price"]),
                brand: field(fields, &["brand", "brand_name"]),
            },
        }
    }
}
