//! Tailor's events as Rust types, and their wire format: Avro single-object encoding against the
//! schemas in the repository's `schemas/` directory.

mod codec;
mod error;
mod events;
mod schemas;

pub use codec::{Event, decode, encode};
pub use error::EventError;
pub use events::{EventSource, Interaction, InteractionKind, ItemUpsert, ModelPublished, SubjectKind};
pub use schemas::Fingerprint;
