//! The event types. Field names and enum symbols match the schemas in `schemas/`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
pub use tailor_core::InteractionKind;
use tailor_core::{Item, ItemId, RawAttributes, SessionId, UserId, check_rating, check_timestamp};

use crate::EventError;
use crate::schemas::Kind;

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

impl Interaction {
    /// Checks what the schema cannot express: well-formed subject and item ids, a timestamp from
    /// 1970 to 9999, and a rating from 1 to 10 on rating events. Every decoded event passes here, and so does every event
    /// the ranking service accepts.
    pub fn check(self) -> Result<Interaction, EventError> {
        let invalid = |reason: String| EventError::Invalid { schema: Kind::Interaction.name(), reason };
        match self.subject_kind {
            SubjectKind::User => UserId::new(self.subject.as_str()).map(drop),
            SubjectKind::Session => SessionId::new(self.subject.as_str()).map(drop),
        }
        .map_err(|e| invalid(e.to_string()))?;
        ItemId::new(self.item_id.as_str()).map_err(|e| invalid(e.to_string()))?;
        check_timestamp(self.timestamp_ms).map_err(|e| invalid(e.to_string()))?;
        if self.kind == InteractionKind::Rating {
            check_rating(self.value).map_err(|e| invalid(e.to_string()))?;
        }
        Ok(self)
    }
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

impl ItemUpsert {
    /// The event of `item` as it is now; its photo is named by `image`.
    pub fn of(item: &Item, image: Option<String>, timestamp_ms: i64) -> ItemUpsert {
        let raw = RawAttributes::from(item.attributes());
        ItemUpsert {
            item_id: item.id().as_str().to_owned(),
            title: item.title().map(str::to_owned),
            description: item.description().map(str::to_owned),
            image,
            gender: raw.gender,
            category: raw.category,
            sub_category: raw.sub_category,
            article_type: raw.article_type,
            colour: raw.colour,
            season: raw.season,
            usage: raw.usage,
            price: item.attributes().price.map(|p| p.value()),
            brand: raw.brand,
            timestamp_ms,
        }
    }

    /// The attributes as the event carries them, for the same check ingestion makes.
    pub fn raw_attributes(&self) -> RawAttributes {
        RawAttributes {
            gender: self.gender.clone(),
            category: self.category.clone(),
            sub_category: self.sub_category.clone(),
            article_type: self.article_type.clone(),
            colour: self.colour.clone(),
            season: self.season.clone(),
            usage: self.usage.clone(),
            year: None,
            price: self.price.map(|p| p.to_string()),
            brand: self.brand.clone(),
        }
    }
}

/// Where a retrain request stands; each state is one event on the models topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetrainState {
    Requested,
    Started,
    Published,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Retrain {
    pub request_id: String,
    pub state: RetrainState,
    /// The version published, when `state` is `Published`.
    pub version: Option<i64>,
    /// Who asked (`Requested`), or why the run failed (`Failed`).
    pub detail: Option<String>,
    pub at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelPublished {
    pub version: i64,
    pub parent: Option<i64>,
    pub location: String,
    pub metrics: HashMap<String, f64>,
    pub created_at_ms: i64,
}
