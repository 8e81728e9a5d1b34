//! The Confluent framing against an in-memory registry that behaves like Confluent's: ids are
//! global, registering the same schema under a subject again returns its id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use apache_avro::Schema;
use apache_avro::writer::datum::GenericDatumWriter;
use tailor_events::{
    Confluent, Event, EventError, EventSource, Interaction, InteractionKind, ModelPublished, SchemaRegistry,
    SubjectKind, WireFormat,
};

#[derive(Default)]
struct Registry {
    schemas: Mutex<Vec<(String, String)>>,
    registrations: Mutex<u32>,
    down: Mutex<bool>,
}

impl SchemaRegistry for Registry {
    fn register(&self, subject: &str, schema: &str) -> Result<u32, String> {
        if *self.down.lock().unwrap() {
            return Err("connection refused".to_owned());
        }
        *self.registrations.lock().unwrap() += 1;
        let mut schemas = self.schemas.lock().unwrap();
        if let Some(i) = schemas.iter().position(|(s, text)| s == subject && text == schema) {
            return Ok(i as u32 + 1);
        }
        schemas.push((subject.to_owned(), schema.to_owned()));
        Ok(schemas.len() as u32)
    }

    fn schema(&self, id: u32) -> Result<Option<String>, String> {
        if *self.down.lock().unwrap() {
            return Err("connection refused".to_owned());
        }
        Ok(self.schemas.lock().unwrap().get(id as usize - 1).map(|(_, text)| text.clone()))
    }
}

fn interaction() -> Interaction {
    Interaction {
        event_id: "e-1".into(),
        subject: "session-42".into(),
        subject_kind: SubjectKind::Session,
        item_id: "15970".into(),
        kind: InteractionKind::Rating,
        value: Some(9.0),
        timestamp_ms: 1_764_000_000_000,
        source: EventSource::App,
    }
}

fn codec() -> (Arc<Registry>, Confluent) {
    let registry = Arc::new(Registry::default());
    (registry.clone(), Confluent::new(Box::new(registry)))
}

#[test]
fn events_round_trip_and_each_schema_is_registered_once() {
    let (registry, codec) = codec();
    let model = Event::ModelPublished(ModelPublished {
        version: 3,
        parent: None,
        location: "var/models/3".into(),
        metrics: HashMap::new(),
        created_at_ms: 1,
    });
    for _ in 0..3 {
        for event in [Event::Interaction(interaction()), model.clone()] {
            let message = codec.encode(&event).unwrap();
            assert_eq!(message[0], 0);
            assert_eq!(codec.decode(&message).unwrap(), event);
        }
    }
    assert_eq!(*registry.registrations.lock().unwrap(), 2);
    let subjects: Vec<String> = registry.schemas.lock().unwrap().iter().map(|(s, _)| s.clone()).collect();
    assert_eq!(subjects, ["tailor.events.Interaction", "tailor.events.ModelPublished"]);
    // A second codec (another process) decodes by fetching the writer schema from the registry.
    let other = Confluent::new(Box::new(registry.clone()));
    let message = codec.encode(&Event::Interaction(interaction())).unwrap();
    assert_eq!(other.decode(&message).unwrap(), Event::Interaction(interaction()));
}

#[test]
fn a_newer_writer_schema_from_the_registry_is_resolved_to_the_current_one() {
    let (registry, codec) = codec();
    let mut json: serde_json::Value = serde_json::from_str(include_str!("../../../schemas/interaction.avsc")).unwrap();
    json["fields"].as_array_mut().unwrap().push(serde_json::json!({"name": "dwell_ms", "type": "long", "default": 0}));
    let newer = Schema::parse(&json).unwrap();
    let id = registry.register("tailor.events.Interaction", &json.to_string()).unwrap();
    #[derive(serde::Serialize)]
    struct Newer {
        #[serde(flatten)]
        base: Interaction,
        dwell_ms: i64,
    }
    let datum = GenericDatumWriter::builder(&newer)
        .build()
        .unwrap()
        .write_ser_to_vec(&Newer { base: interaction(), dwell_ms: 1500 })
        .unwrap();
    let message = [&[0u8][..], &id.to_be_bytes(), &datum].concat();
    assert_eq!(codec.decode(&message).unwrap(), Event::Interaction(interaction()));
}

#[test]
fn bad_messages_and_registry_trouble_are_told_apart() {
    let (registry, codec) = codec();
    let message = codec.encode(&Event::Interaction(interaction())).unwrap();

    assert!(matches!(codec.decode(&message[..3]), Err(EventError::TooShortForConfluent(3))));
    assert!(matches!(codec.decode(&[0xC3, 1, 0, 0, 0, 0]), Err(EventError::NotConfluent(0xC3))));
    let unknown = [&[0u8][..], &77u32.to_be_bytes(), &message[5..]].concat();
    assert!(matches!(codec.decode(&unknown), Err(EventError::UnknownSchemaId(77))));
    let foreign = r#"{"type": "record", "name": "Thing", "namespace": "other", "fields": []}"#;
    let id = registry.register("other.Thing", foreign).unwrap();
    let err = codec.decode(&[&[0u8][..], &id.to_be_bytes()].concat()).unwrap_err();
    assert!(err.to_string().contains("\"other.Thing\" is not one of Tailor's events"), "{err}");
    assert!(!err.is_transient());

    *registry.down.lock().unwrap() = true;
    // Known ids are cached; a new one needs the registry, and its absence is not the message's fault.
    assert!(codec.decode(&message).is_ok());
    let err = codec.decode(&[&[0u8][..], &99u32.to_be_bytes()].concat()).unwrap_err();
    assert!(matches!(err, EventError::Registry(_)) && err.is_transient(), "{err}");
}
