//! Avro single-object encoding: `C3 01`, the writer schema's fingerprint (8 bytes, little-endian),
//! then the binary datum. Events written with any known schema version are resolved to the
//! current one.

use std::collections::HashMap;
use std::sync::LazyLock;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::{AvroResult, Schema, from_value};
use serde::de::DeserializeOwned;

use crate::events::{Interaction, ItemRemoved, ItemUpsert, ItemVector, ModelPublished, Retrain};
use crate::schemas::{Kind, REGISTRY};
use crate::{EventError, Fingerprint};

const MARKER: [u8; 2] = [0xC3, 0x01];
const HEADER_LEN: usize = MARKER.len() + 8;

/// A reader per known writer schema, resolving to the current schema; building one costs more
/// than decoding an event, so they are built once.
static READERS: LazyLock<HashMap<Fingerprint, GenericDatumReader<'static>>> = LazyLock::new(|| {
    REGISTRY
        .known()
        .map(|(fingerprint, known)| {
            let reader = datum_reader(known.kind, &known.schema, *fingerprint);
            (*fingerprint, reader.unwrap_or_else(|e| panic!("{} does not resolve: {e}", known.kind.name())))
        })
        .collect()
});

/// A reader of what `writer` (of `fingerprint`) wrote, giving values of `kind`'s current schema.
/// Resolving a value against the schema that wrote it changes nothing and costs an allocation
/// per field: only other writers are resolved.
pub(crate) fn datum_reader(
    kind: Kind,
    writer: &'static Schema,
    fingerprint: Fingerprint,
) -> AvroResult<GenericDatumReader<'static>> {
    let (current_fingerprint, current) = REGISTRY.current(kind);
    let builder = GenericDatumReader::builder(writer);
    if fingerprint == current_fingerprint { builder.build() } else { builder.reader_schema(current).build() }
}

static WRITERS: LazyLock<HashMap<Kind, GenericDatumWriter<'static>>> = LazyLock::new(|| {
    Kind::ALL
        .into_iter()
        .map(|kind| {
            (kind, GenericDatumWriter::builder(REGISTRY.current(kind).1).build().expect("the current schemas resolve"))
        })
        .collect()
});

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Interaction(Interaction),
    /// Boxed: upserts are rare and large, interactions are the hot path.
    ItemUpsert(Box<ItemUpsert>),
    ModelPublished(ModelPublished),
    Retrain(Retrain),
    ItemRemoved(ItemRemoved),
    ItemVector(Box<ItemVector>),
}

impl Event {
    fn kind(&self) -> Kind {
        match self {
            Event::Interaction(_) => Kind::Interaction,
            Event::ItemUpsert(_) => Kind::ItemUpsert,
            Event::ModelPublished(_) => Kind::ModelPublished,
            Event::Retrain(_) => Kind::Retrain,
            Event::ItemRemoved(_) => Kind::ItemRemoved,
            Event::ItemVector(_) => Kind::ItemVector,
        }
    }
}

/// Encodes an event with its current schema.
pub fn encode(event: &Event) -> Vec<u8> {
    let (kind, datum) = encode_datum(event);
    let (fingerprint, _) = REGISTRY.current(kind);
    let mut message = Vec::with_capacity(HEADER_LEN + datum.len());
    message.extend_from_slice(&MARKER);
    message.extend_from_slice(&fingerprint.0);
    message.extend_from_slice(&datum);
    message
}

/// The event's kind and its Avro binary datum in the current schema.
pub(crate) fn encode_datum(event: &Event) -> (Kind, Vec<u8>) {
    let kind = event.kind();
    let writer = &WRITERS[&kind];
    let datum = match event {
        Event::Interaction(e) => writer.write_ser_to_vec(e),
        Event::ItemUpsert(e) => writer.write_ser_to_vec(e),
        Event::ModelPublished(e) => writer.write_ser_to_vec(e),
        Event::Retrain(e) => writer.write_ser_to_vec(e),
        Event::ItemRemoved(e) => writer.write_ser_to_vec(e),
        Event::ItemVector(e) => writer.write_ser_to_vec(e),
    }
    // The Rust types mirror the schemas; the round-trip tests keep it that way.
    .unwrap_or_else(|e| panic!("{} does not match its schema: {e}", kind.name()));
    (kind, datum)
}

/// Decodes a message written with any known schema version and checks what the schema cannot
/// express (ids, rating range).
pub fn decode(message: &[u8]) -> Result<Event, EventError> {
    if message.len() < HEADER_LEN {
        return Err(EventError::TooShort(message.len()));
    }
    if message[..2] != MARKER {
        return Err(EventError::NotSingleObject);
    }
    let fingerprint = Fingerprint(message[2..HEADER_LEN].try_into().expect("8 bytes"));
    let known = REGISTRY.writer(fingerprint).ok_or(EventError::UnknownFingerprint(fingerprint))?;
    decode_datum(known.kind, &READERS[&fingerprint], &message[HEADER_LEN..])
}

/// Decodes an Avro binary datum with `reader` (writer schema resolved to the current one).
pub(crate) fn decode_datum(kind: Kind, reader: &GenericDatumReader<'_>, datum: &[u8]) -> Result<Event, EventError> {
    let schema_name = kind.name();
    let undecodable = |e: apache_avro::Error| EventError::Undecodable { schema: schema_name, reason: e.to_string() };
    let mut body = datum;
    let value = reader.read_value(&mut body).map_err(undecodable)?;
    if !body.is_empty() {
        return Err(EventError::TrailingBytes { schema: schema_name, trailing: body.len() });
    }
    fn typed<T: DeserializeOwned>(value: &apache_avro::types::Value, schema: &'static str) -> Result<T, EventError> {
        from_value(value).map_err(|e| EventError::Undecodable { schema, reason: e.to_string() })
    }
    let event = match kind {
        Kind::Interaction => Event::Interaction(typed::<Interaction>(&value, schema_name)?.check()?),
        Kind::ItemUpsert => Event::ItemUpsert(Box::new(typed::<ItemUpsert>(&value, schema_name)?.check()?)),
        Kind::ModelPublished => Event::ModelPublished(typed(&value, schema_name)?),
        Kind::Retrain => Event::Retrain(typed(&value, schema_name)?),
        Kind::ItemRemoved => Event::ItemRemoved(typed::<ItemRemoved>(&value, schema_name)?.check()?),
        Kind::ItemVector => Event::ItemVector(Box::new(typed::<ItemVector>(&value, schema_name)?.check()?)),
    };
    Ok(event)
}
