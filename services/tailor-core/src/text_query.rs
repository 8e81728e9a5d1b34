//! The seam between ranking and the free-text encoder: ranking asks for a vector in the item
//! vectors' space and does not know whether libtorch runs in this process or another one.

use thiserror::Error;

use crate::Embedding;

/// Free text to a vector in the item vectors' space (the joint space of `tailor embed`).
pub trait TextQuery: Send + Sync {
    fn embed(&self, text: &str) -> Result<Embedding, TextQueryError>;
}

#[derive(Debug, Error)]
pub enum TextQueryError {
    /// The encoder is away or failing: the request may succeed later.
    #[error("the text encoder is unavailable: {0}")]
    Unavailable(String),
    /// This text cannot be embedded.
    #[error("{0}")]
    Refused(String),
}
