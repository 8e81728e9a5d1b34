//! How events travel: Avro single-object encoding by default, the Confluent framing when a schema
//! registry is configured. Producers and the consumer hold a `dyn WireFormat` and do not care
//! which.

use crate::{Event, EventError, decode, encode};

pub trait WireFormat: Send + Sync {
    fn encode(&self, event: &Event) -> Result<Vec<u8>, EventError>;
    fn decode(&self, message: &[u8]) -> Result<Event, EventError>;
}

/// `C3 01`, the writer schema's fingerprint, the datum: needs no registry, since this build
/// knows every schema version it accepts.
pub struct SingleObject;

impl WireFormat for SingleObject {
    fn encode(&self, event: &Event) -> Result<Vec<u8>, EventError> {
        Ok(encode(event))
    }

    fn decode(&self, message: &[u8]) -> Result<Event, EventError> {
        decode(message)
    }
}
