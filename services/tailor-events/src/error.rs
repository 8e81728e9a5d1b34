use thiserror::Error;

use crate::Fingerprint;

/// Why a message is not a usable event. The consumer sends such messages to the dead-letter topic
/// with this text as the reason.
#[derive(Debug, Error)]
pub enum EventError {
    #[error("message is {0} bytes long, shorter than the 10-byte single-object header")]
    TooShort(usize),
    #[error("message does not start with the Avro single-object marker C3 01")]
    NotSingleObject,
    #[error("unknown writer schema fingerprint {0}")]
    UnknownFingerprint(Fingerprint),
    #[error("{schema} event cannot be decoded: {reason}")]
    Undecodable { schema: &'static str, reason: String },
    #[error("{schema} event has {trailing} trailing bytes after the datum")]
    TrailingBytes { schema: &'static str, trailing: usize },
    #[error("{schema} event is invalid: {reason}")]
    Invalid { schema: &'static str, reason: String },
    #[error("message is {0} bytes long, shorter than the 5-byte Confluent header")]
    TooShortForConfluent(usize),
    #[error("message starts with byte {0:#04x}, not the Confluent magic byte 0x00")]
    NotConfluent(u8),
    #[error("the schema registry has no schema with id {0}")]
    UnknownSchemaId(u32),
    #[error("registry schema {id} cannot be read as an event: {reason}")]
    ForeignSchema { id: u32, reason: String },
    #[error("schema is not valid Avro: {0}")]
    InvalidSchema(String),
    /// The registry could not be asked; unlike the others, this says nothing about the message.
    #[error("schema registry: {0}")]
    Registry(String),
}

impl EventError {
    /// Whether the message itself may be fine and decoding may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            EventError::Registry(_) => true,
            EventError::TooShort(_)
            | EventError::NotSingleObject
            | EventError::UnknownFingerprint(_)
            | EventError::Undecodable { .. }
            | EventError::TrailingBytes { .. }
            | EventError::Invalid { .. }
            | EventError::TooShortForConfluent(_)
            | EventError::NotConfluent(_)
            | EventError::UnknownSchemaId(_)
            | EventError::ForeignSchema { .. }
            | EventError::InvalidSchema(_) => false,
        }
    }
}
