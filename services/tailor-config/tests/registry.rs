//! The registry client against a small HTTP server that answers like Confluent's registry.

use std::net::TcpListener;

use tailor_config::HttpSchemaRegistry;
use tailor_events::{
    Confluent, Event, EventSource, Interaction, InteractionKind, SchemaRegistry, SubjectKind, WireFormat,
};
use tailor_testkit::registry::serve;

#[test]
fn registers_fetches_and_serves_the_confluent_codec() {
    let (url, schemas) = serve();
    let registry = HttpSchemaRegistry::new(&format!("{url}/"));
    assert_eq!(registry.schema(5).unwrap(), None);

    let codec = Confluent::new(Box::new(HttpSchemaRegistry::new(&url)));
    let event = Event::Interaction(Interaction {
        event_id: "e-1".into(),
        subject: "s-1".into(),
        subject_kind: SubjectKind::Session,
        item_id: "i-1".into(),
        kind: InteractionKind::Like,
        value: None,
        timestamp_ms: 1,
        source: EventSource::App,
    });
    let message = codec.encode(&event).unwrap();
    assert_eq!(&message[..5], &[0, 0, 0, 0, 1]);
    assert!(schemas.lock().unwrap()[0].contains("\"doc\""), "the schema is registered with its docs");
    // Another process, with nothing cached, fetches the writer schema by id.
    let reader = Confluent::new(Box::new(HttpSchemaRegistry::new(&url)));
    assert_eq!(reader.decode(&message).unwrap(), event);
}

#[test]
fn an_unreachable_registry_is_an_error_naming_the_url() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let registry = HttpSchemaRegistry::new(&format!("http://127.0.0.1:{port}"));
    let err = registry.schema(1).unwrap_err();
    assert!(err.contains(&format!("127.0.0.1:{port}/schemas/ids/1")), "{err}");
}
