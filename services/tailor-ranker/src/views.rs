//! The JSON shapes the API returns. Items are shown without their file paths: a photo is a URL
//! on this service.

use serde::Serialize;
use tailor_core::{Attributes, Item, Modality};

use crate::ServingCatalog;
use crate::recommend::{Reason, Recommendation};

#[derive(Serialize)]
pub struct ItemView<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub image_url: Option<String>,
    pub modality: &'static str,
    pub attributes: &'a Attributes,
}

impl<'a> ItemView<'a> {
    pub fn of(item: &'a Item) -> ItemView<'a> {
        ItemView {
            id: item.id().as_str(),
            title: item.title(),
            description: item.description(),
            image_url: item.image().map(|_| format!("/v1/items/{}/image", item.id())),
            modality: match item.modality() {
                Modality::TextAndImage => "text_and_image",
                Modality::TextOnly => "text_only",
                Modality::ImageOnly => "image_only",
            },
            attributes: item.attributes(),
        }
    }
}

#[derive(Serialize)]
pub struct RecommendationView<'a> {
    pub item: ItemView<'a>,
    pub score: f32,
    /// Why: the liked item this one is closest to, or that it opens a first screen.
    pub reason: String,
}

#[derive(Serialize)]
pub struct RecommendationsView<'a> {
    pub items: Vec<RecommendationView<'a>>,
}

impl<'a> RecommendationsView<'a> {
    pub fn of(catalog: &'a ServingCatalog, recommendations: Vec<Recommendation>) -> RecommendationsView<'a> {
        let matrix = catalog.matrix();
        let item = |row: u32| catalog.item(matrix.id(row).as_str()).expect("matrix rows are catalogue items");
        let items = recommendations
            .into_iter()
            .map(|r| RecommendationView {
                item: ItemView::of(item(r.row)),
                score: r.score,
                reason: match r.reason {
                    Reason::SimilarTo(row) => {
                        format!("similar to {}", item(row).title().unwrap_or(matrix.id(row).as_str()))
                    }
                    Reason::Onboarding => "a first look across the catalogue".to_owned(),
                    Reason::Taste => "matches your taste so far".to_owned(),
                },
            })
            .collect();
        RecommendationsView { items }
    }
}
