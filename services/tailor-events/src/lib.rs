//! Tailor's events as Rust types, and their wire formats: Avro single-object encoding against the
//! schemas in the repository's `schemas/` directory, or the Confluent framing with a schema
//! registry.

mod codec;
mod confluent;
mod error;
mod events;
mod fingerprint;
mod schemas;
mod wire;

pub use codec::{Event, decode, encode};
pub use confluent::{Confluent, SchemaRegistry};
pub use error::EventError;
pub use events::{
    Availability, EventSource, Interaction, InteractionKind, ItemRemoved, ItemUpsert, ItemVector, ModelPublished,
    Retrain, RetrainState, SubjectKind,
};
pub use fingerprint::Fingerprint;
pub use wire::{SingleObject, WireFormat};
