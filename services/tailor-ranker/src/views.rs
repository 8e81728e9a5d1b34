//! The JSON shapes the API returns. Items are shown without their file paths: a photo is a URL
//! on this service.

use serde::Serialize;
use tailor_core::{Attributes, Item, Modality};

use tailor_engine::ServingCatalog;
use tailor_engine::{Reason, Recommendation};

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
    /// Why: the pick it is like, what the visitor described, or that it opens a first screen.
    pub reason: String,
}

#[derive(Serialize)]
pub struct RecommendationsView<'a> {
    pub items: Vec<RecommendationView<'a>>,
    /// Ids the request's rules excluded or pinned that the catalogue does not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_ids: Vec<String>,
}

impl<'a> RecommendationsView<'a> {
    pub fn of(catalog: &'a ServingCatalog, recommendations: Vec<Recommendation>) -> RecommendationsView<'a> {
        let items = recommendations
            .into_iter()
            .map(|r| RecommendationView {
                item: ItemView::of(catalog.item_at(r.row)),
                score: r.score,
                reason: match r.reason {
                    Reason::SimilarTo(row) => {
                        let pick = catalog.item_at(row);
                        format!("similar to {}", pick.title().unwrap_or(pick.id().as_str()))
                    }
                    Reason::Onboarding => "a first look across the catalogue".to_owned(),
                    Reason::Trending => "popular in the shop right now".to_owned(),
                    Reason::Pinned => "placed here by the shop".to_owned(),
                    Reason::Taste => "close to your picks taken together".to_owned(),
                    Reason::Described => "matches what you described".to_owned(),
                },
            })
            .collect();
        RecommendationsView { items, unknown_ids: Vec::new() }
    }

    pub fn with_unknown_ids(self, unknown_ids: Vec<String>) -> RecommendationsView<'a> {
        RecommendationsView { unknown_ids, ..self }
    }
}
