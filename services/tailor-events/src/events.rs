//! The event types. Field names and enum symbols match the schemas in `schemas/`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
pub use tailor_core::InteractionKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    User,
    Session,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    App,
    Persona,
    LoadGenerator,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub event_id: String,
    pub subject: String,
    pub subject_kind: SubjectKind,
    pub item_id: String,
    pub kind: InteractionKind,
    pub value: Option<f32>,
    pub timestamp_ms: i64,
    pub source: EventSource,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemUpsert {
    pub item_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub image: Option<String>,
    pub gender: Option<String>,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub article_type: Option<String>,
    pub colour: Option<String>,
    pub season: Option<String>,
    pub usage: Option<String>,
    pub price: Option<f64>,
    pub brand: Option<String>,
    pub timestamp_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelPublished {
    pub version: i64,
    pub parent: Option<i64>,
    pub location: String,
    pub metrics: HashMap<String, f64>,
    pub created_at_ms: i64,
}
