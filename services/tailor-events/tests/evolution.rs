//! The evolution rules of schemas/README.md, checked on the interaction schema: a field added with
//! a default is invisible to old readers, and old events read with the new schema get the default.
//! A field added without a default breaks new readers of old events.

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use tailor_events::{Event, EventSource, Interaction, InteractionKind, SubjectKind, decode, encode};

const CURRENT: &str = include_str!("../../../schemas/interaction.avsc");

fn with_added_field(field: &str) -> Schema {
    let mut json: serde_json::Value = serde_json::from_str(CURRENT).unwrap();
    json["fields"].as_array_mut().unwrap().push(serde_json::from_str(field).unwrap());
    Schema::parse(&json).unwrap()
}

fn event() -> Interaction {
    Interaction {
        event_id: "e-9".into(),
        subject: "u-1".into(),
        subject_kind: SubjectKind::User,
        item_id: "39386".into(),
        kind: InteractionKind::AddToCart,
        value: None,
        timestamp_ms: 1_764_000_000_123,
        source: EventSource::Persona,
    }
}

fn field<'a>(record: &'a Value, name: &str) -> &'a Value {
    let Value::Record(fields) = record else { panic!("expected a record, got {record:?}") };
    &fields.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no field {name}")).1
}

#[test]
fn old_readers_read_new_events() {
    let newer = with_added_field(r#"{"name": "dwell_ms", "type": ["null", "long"], "default": null}"#);
    let current = Schema::parse_str(CURRENT).unwrap();
    #[derive(serde::Serialize)]
    struct Newer {
        #[serde(flatten)]
        base: Interaction,
        dwell_ms: Option<i64>,
    }
    let datum = GenericDatumWriter::builder(&newer)
        .build()
        .unwrap()
        .write_ser_to_vec(&Newer { base: event(), dwell_ms: Some(1500) })
        .unwrap();
    let value =
        GenericDatumReader::builder(&newer).reader_schema(&current).build().unwrap().read_value(&mut &datum[..]);
    let value = value.unwrap();
    assert_eq!(field(&value, "item_id"), &Value::String("39386".into()));
    let Value::Record(fields) = &value else { unreachable!() };
    assert!(fields.iter().all(|(name, _)| name != "dwell_ms"));
}

#[test]
fn new_readers_read_old_events_with_defaults() {
    let old_message = encode(&Event::Interaction(event()));
    let newer = with_added_field(r#"{"name": "dwell_ms", "type": ["null", "long"], "default": null}"#);
    let current = Schema::parse_str(CURRENT).unwrap();
    let value = GenericDatumReader::builder(&current)
        .reader_schema(&newer)
        .build()
        .unwrap()
        .read_value(&mut &old_message[10..]);
    let value = value.unwrap();
    assert!(matches!(field(&value, "dwell_ms"), Value::Union(_, inner) if **inner == Value::Null));
    assert_eq!(decode(&old_message).unwrap(), Event::Interaction(event()));
}

#[test]
fn a_field_added_without_a_default_breaks_new_readers() {
    let old_message = encode(&Event::Interaction(event()));
    let careless = with_added_field(r#"{"name": "dwell_ms", "type": "long"}"#);
    let current = Schema::parse_str(CURRENT).unwrap();
    let result = GenericDatumReader::builder(&current)
        .reader_schema(&careless)
        .build()
        .and_then(|reader| reader.read_value(&mut &old_message[10..]));
    assert!(result.is_err());
}
