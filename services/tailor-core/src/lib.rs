//! Tailor's pure domain: catalogue items, identifiers, L2-normalised embeddings, vector maths and
//! exact top-K search over a contiguous item matrix. Nothing here performs I/O; adapters (catalogue
//! store, event log, HTTP, libtorch) live in other crates and depend on this one.

mod aggregate;
mod error;
mod features;
mod filter;
mod ids;
mod item;
mod matrix;
mod mmr;
mod raw_attributes;
mod temporary;
mod text_query;
mod top_k;
mod tower;
pub mod vector;

pub use aggregate::{
    AggregateWeights, InteractionKind, LATEST_TIMESTAMP_MS, POSITIVE_RATING, RATING_MAX, RATING_MIN, UserAggregate,
    check_rating, check_timestamp,
};
pub use error::CoreError;
pub use features::{FeatureField, FeatureVocabulary, PriceBand, PriceBands};
pub use filter::{AttributeFilter, FilterField, ResolvedFilter};
pub use ids::{ItemId, SessionId, UserId};
pub use item::{Attributes, Gender, ImageRef, Item, Modality, Price};
pub use matrix::{ItemMatrix, ItemMatrixBuilder, RowSet};
pub use mmr::mmr;
pub use raw_attributes::{CheckedAttributes, RawAttributes};
pub use temporary::temporary_beside;
pub use text_query::{TextQuery, TextQueryError};
pub use top_k::{Scored, top_k};
pub use tower::{Dense, RatingHead, Tower};
pub use vector::Embedding;
