use thiserror::Error;

/// Every way the domain refuses a value. Adapters wrap this in their own error types.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    #[error("{kind} id is empty")]
    EmptyId { kind: &'static str },
    #[error("{kind} id is {len} bytes long; the limit is {max}")]
    IdTooLong { kind: &'static str, len: usize, max: usize },
    #[error("{kind} id {id:?} contains {found:?}; allowed are ASCII letters, digits and - _ . :")]
    InvalidIdCharacter { kind: &'static str, id: String, found: char },
    #[error("item {id} has neither text (title or description) nor an image: nothing to embed")]
    ItemWithoutContent { id: String },
    #[error("price {0} is not a finite, non-negative number")]
    InvalidPrice(f64),
    #[error("{name} {value:?} is not {expected}")]
    MalformedAttribute { name: &'static str, value: String, expected: &'static str },
    #[error("gender {0:?} is not one of men, women, boys, girls, unisex")]
    UnknownGender(String),
    #[error("vector has dimension {found}, expected {expected}")]
    DimensionMismatch { expected: usize, found: usize },
    #[error("vector dimension must be at least 1")]
    ZeroDimension,
    #[error("vector component {index} is {value}, not a finite number")]
    NonFiniteComponent { index: usize, value: f32 },
    #[error("vector has zero length and cannot be normalised")]
    ZeroVector,
    #[error("vector has length {0}, but a unit vector was expected")]
    NotUnitLength(f32),
    #[error("weights and vectors differ in count: {weights} weights for {vectors} vectors")]
    WeightCountMismatch { weights: usize, vectors: usize },
    #[error("item {0} appears twice in the item matrix")]
    DuplicateItem(String),
    #[error("row {row} is past the item matrix's {rows} rows")]
    NoSuchRow { row: u32, rows: usize },
    #[error("timestamp {at_ms} is not a time from 1970 to 9999: milliseconds since the epoch, 0 to {latest}")]
    InvalidTimestamp { at_ms: i64, latest: i64 },
    #[error("rating {0:?} is not a number from 1 to 10")]
    InvalidRating(Option<f32>),
    #[error("no item has {field} = {value:?}")]
    UnknownAttributeValue { field: &'static str, value: String },
    #[error("the {0} block of a feature vocabulary is not sorted without duplicates")]
    UnsortedVocabulary(String),
}
