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
    /// `None` reads as in stock.
    pub availability: Option<Availability>,
    /// From this time on the item is not served.
    pub expires_at_ms: Option<i64>,
    pub year: Option<i32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    InStock,
    SoldOut,
}

/// Checks what every item event's schema cannot express: a well-formed item id and timestamps.
fn check_item_event(schema: Kind, item_id: &str, timestamps: &[i64]) -> Result<(), EventError> {
    let invalid = |reason: String| EventError::Invalid { schema: schema.name(), reason };
    ItemId::new(item_id).map_err(|e| invalid(e.to_string()))?;
    timestamps.iter().try_for_each(|&at| check_timestamp(at).map_err(|e| invalid(e.to_string())))
}

impl ItemUpsert {
    pub fn check(self) -> Result<ItemUpsert, EventError> {
        check_item_event(Kind::ItemUpsert, &self.item_id, &[self.timestamp_ms])?;
        check_item_event(Kind::ItemUpsert, &self.item_id, self.expires_at_ms.as_slice())?;
        Ok(self)
    }

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
            availability: None,
            expires_at_ms: None,
            year: item.attributes().year.map(i32::from),
        }
    }

    /// A digest of what the content vector is computed from (title, description, photo), so
    /// that a change of price or stock is not embedded again.
    pub fn content(&self) -> String {
        let parts = [&self.title, &self.description, &self.image];
        let bytes = parts.iter().flat_map(|p| p.as_deref().unwrap_or("").bytes().chain([0]));
        let hash = bytes.fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        format!("{hash:016x}")
    }

    /// The item's whole state as the admin item routes take it (`ItemState` in the OpenAPI
    /// document): the event's fields with `id` for `item_id`, no timestamp and no nulls.
    pub fn item_state(&self) -> serde_json::Value {
        let mut state = serde_json::to_value(self).expect("an upsert always serialises");
        let object = state.as_object_mut().expect("an upsert is an object");
        if let Some(id) = object.remove("item_id") {
            object.insert("id".to_owned(), id);
        }
        object.remove("timestamp_ms");
        object.retain(|_, value| !value.is_null());
        state
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
            year: self.year.map(|year| year.to_string()),
            price: self.price.map(|p| p.to_string()),
            brand: self.brand.clone(),
        }
    }
}

/// An item withdrawn for good; a tombstone under the item's key means the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemRemoved {
    pub item_id: String,
    pub reason: Option<String>,
    pub timestamp_ms: i64,
}

impl ItemRemoved {
    pub fn check(self) -> Result<ItemRemoved, EventError> {
        check_item_event(Kind::ItemRemoved, &self.item_id, &[self.timestamp_ms])?;
        Ok(self)
    }
}

/// An item's content vector, computed from the content `content` digests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemVector {
    pub item_id: String,
    pub content: String,
    pub vector: Vec<f32>,
    pub from_photo: bool,
    pub problem: Option<String>,
    pub timestamp_ms: i64,
}

impl ItemVector {
    pub fn check(self) -> Result<ItemVector, EventError> {
        check_item_event(Kind::ItemVector, &self.item_id, &[self.timestamp_ms])?;
        if self.vector.is_empty() || !self.vector.iter().all(|v| v.is_finite()) {
            let reason = format!("the vector of item {:?} is empty or not finite", self.item_id);
            return Err(EventError::Invalid { schema: Kind::ItemVector.name(), reason });
        }
        Ok(self)
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
