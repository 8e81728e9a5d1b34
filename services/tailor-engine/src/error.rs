//! Every way ranking can fail, in the categories a caller maps once: bad input, not found, a
//! model refused, and internal failures whose details are for the log.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    /// The request asks for what cannot be; `name` is the parameter at fault.
    #[error("invalid {name}: {reason}")]
    BadInput { name: &'static str, reason: String },
    /// The request names an item the catalogue does not hold.
    #[error("no item {0:?} in the catalogue")]
    UnknownItem(String),
    /// The catalogue holds the item but serves it no more.
    #[error("item {id:?} is {}", why.as_str())]
    Withdrawn { id: String, why: crate::Withdrawal },
    /// A model version this catalogue cannot be ranked with; the one serving stays.
    #[error("model version {version} does not fit the served catalogue: {reason}")]
    ModelMismatch { version: u64, reason: String },
    /// Damaged data or a bug.
    #[error("{0}")]
    Internal(String),
}

impl From<tailor_core::CoreError> for EngineError {
    fn from(error: tailor_core::CoreError) -> Self {
        EngineError::Internal(error.to_string())
    }
}

impl EngineError {
    pub(crate) fn bad_input(name: &'static str) -> impl Fn(tailor_core::CoreError) -> EngineError {
        move |error| EngineError::BadInput { name, reason: error.to_string() }
    }
}
