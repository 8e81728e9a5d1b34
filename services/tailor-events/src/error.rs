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
}
