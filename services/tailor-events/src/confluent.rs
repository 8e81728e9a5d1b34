//! The Confluent wire format: a zero byte, the writer schema's registry id (4 bytes, big-endian),
//! then the Avro binary datum. Subjects follow the record-name strategy
//! (`tailor.events.Interaction`), so one topic may carry several event types. A writer schema this
//! build has never seen is fetched from the registry and resolved against the current schema, as
//! long as it is one of Tailor's event records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;

use crate::codec::{datum_reader, decode_datum, encode_datum};
use crate::schemas::{Kind, REGISTRY};
use crate::{Event, EventError, Fingerprint, WireFormat};

const MAGIC: u8 = 0;
const HEADER_LEN: usize = 5;

/// The registry's two operations Tailor uses; `tailor_config::HttpSchemaRegistry` speaks them over HTTP.
pub trait SchemaRegistry: Send + Sync {
    /// Registers `schema` under `subject` (registering an existing schema again is a no-op) and
    /// returns its id.
    fn register(&self, subject: &str, schema: &str) -> Result<u32, String>;
    /// The schema text registered under `id`; `Ok(None)` when the registry has no such id.
    fn schema(&self, id: u32) -> Result<Option<String>, String>;
}

/// A registry client shared by several codecs.
impl<R: SchemaRegistry + ?Sized> SchemaRegistry for Arc<R> {
    fn register(&self, subject: &str, schema: &str) -> Result<u32, String> {
        (**self).register(subject, schema)
    }

    fn schema(&self, id: u32) -> Result<Option<String>, String> {
        (**self).schema(id)
    }
}

pub struct Confluent {
    registry: Box<dyn SchemaRegistry>,
    writer_ids: Mutex<HashMap<Kind, u32>>,
    readers: RwLock<HashMap<u32, (Kind, Arc<GenericDatumReader<'static>>)>>,
}

impl Confluent {
    pub fn new(registry: Box<dyn SchemaRegistry>) -> Confluent {
        Confluent { registry, writer_ids: Mutex::new(HashMap::new()), readers: RwLock::new(HashMap::new()) }
    }

    fn writer_id(&self, kind: Kind) -> Result<u32, EventError> {
        if let Some(&id) = self.writer_ids.lock().expect("writer ids").get(&kind) {
            return Ok(id);
        }
        let (_, schema) = REGISTRY.current(kind);
        let id =
            self.registry.register(&subject(schema), REGISTRY.current_source(kind)).map_err(EventError::Registry)?;
        self.writer_ids.lock().expect("writer ids").insert(kind, id);
        // Messages this process writes decode without asking the registry.
        let reader = GenericDatumReader::builder(schema).build().expect("the current schemas resolve");
        self.readers.write().expect("readers").insert(id, (kind, Arc::new(reader)));
        Ok(id)
    }

    fn reader(&self, id: u32) -> Result<(Kind, Arc<GenericDatumReader<'static>>), EventError> {
        if let Some((kind, reader)) = self.readers.read().expect("readers").get(&id) {
            return Ok((*kind, reader.clone()));
        }
        let text = self.registry.schema(id).map_err(EventError::Registry)?.ok_or(EventError::UnknownSchemaId(id))?;
        let foreign = |reason: String| EventError::ForeignSchema { id, reason };
        let writer = Schema::parse_str(&text).map_err(|e| foreign(e.to_string()))?;
        let name = writer.name().map(|n| n.fullname(None)).unwrap_or_default();
        let kind = Kind::ALL
            .into_iter()
            .find(|&kind| subject(REGISTRY.current(kind).1) == name)
            .ok_or_else(|| foreign(format!("record {name:?} is not one of Tailor's events")))?;
        let fingerprint = Fingerprint::of_schema(&text).map_err(|e| foreign(e.to_string()))?;
        // Leaked on purpose: a process meets a handful of schema versions, and the reader must
        // borrow its writer schema for as long as it is cached.
        let writer: &'static Schema = Box::leak(Box::new(writer));
        let reader = datum_reader(kind, writer, fingerprint).map_err(|e| foreign(e.to_string()))?;
        let reader = Arc::new(reader);
        self.readers.write().expect("readers").insert(id, (kind, reader.clone()));
        Ok((kind, reader))
    }
}

/// The record-name subject strategy.
fn subject(schema: &Schema) -> String {
    schema.name().map(|n| n.fullname(None)).expect("Tailor's events are named records")
}

impl WireFormat for Confluent {
    fn encode(&self, event: &Event) -> Result<Vec<u8>, EventError> {
        let (kind, datum) = encode_datum(event);
        let id = self.writer_id(kind)?;
        let mut message = Vec::with_capacity(HEADER_LEN + datum.len());
        message.push(MAGIC);
        message.extend_from_slice(&id.to_be_bytes());
        message.extend_from_slice(&datum);
        Ok(message)
    }

    fn decode(&self, message: &[u8]) -> Result<Event, EventError> {
        if message.len() < HEADER_LEN {
            return Err(EventError::TooShortForConfluent(message.len()));
        }
        if message[0] != MAGIC {
            return Err(EventError::NotConfluent(message[0]));
        }
        let id = u32::from_be_bytes(message[1..HEADER_LEN].try_into().expect("4 bytes"));
        let (kind, reader) = self.reader(id)?;
        decode_datum(kind, &reader, &message[HEADER_LEN..])
    }
}
