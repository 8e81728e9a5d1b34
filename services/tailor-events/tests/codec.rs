use std::collections::HashMap;

use proptest::prelude::*;
use tailor_events::{
    Event, EventError, EventSource, Interaction, InteractionKind, ItemUpsert, ModelPublished, SubjectKind, decode,
    encode,
};

fn interaction(kind: InteractionKind, value: Option<f32>) -> Interaction {
    Interaction {
        event_id: "e-1".into(),
        subject: "session-42".into(),
        subject_kind: SubjectKind::Session,
        item_id: "15970".into(),
        kind,
        value,
        timestamp_ms: 1_764_000_000_000,
        source: EventSource::App,
    }
}

#[test]
fn every_event_type_round_trips() {
    let events = [
        Event::Interaction(interaction(InteractionKind::Like, None)),
        Event::Interaction(interaction(InteractionKind::Rating, Some(7.5))),
        Event::ItemUpsert(Box::new(ItemUpsert {
            item_id: "new-1".into(),
            title: Some("Linen Shirt".into()),
            image: Some("/photos/new-1.jpg".into()),
            price: Some(29.9),
            timestamp_ms: 5,
            ..ItemUpsert::default()
        })),
        Event::ModelPublished(ModelPublished {
            version: 2,
            parent: Some(1),
            location: "var/models/2".into(),
            metrics: HashMap::from([("ndcg_at_10".to_owned(), 0.31)]),
            created_at_ms: 7,
        }),
    ];
    for event in events {
        let message = encode(&event);
        assert_eq!(&message[..2], &[0xC3, 0x01]);
        assert_eq!(decode(&message).unwrap(), event);
    }
}

#[test]
fn malformed_messages_are_errors_naming_the_problem() {
    let good = encode(&Event::Interaction(interaction(InteractionKind::Click, None)));
    assert!(matches!(decode(&good[..5]), Err(EventError::TooShort(5))));
    let mut not_single_object = good.clone();
    not_single_object[0] = 0;
    assert!(matches!(decode(&not_single_object), Err(EventError::NotSingleObject)));
    let mut unknown = good.clone();
    unknown[2] ^= 0xFF;
    let err = decode(&unknown).unwrap_err();
    assert!(err.to_string().starts_with("unknown writer schema fingerprint "), "{err}");
    let truncated = &good[..good.len() - 3];
    assert!(matches!(decode(truncated), Err(EventError::Undecodable { schema: "interaction", .. })));
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(matches!(decode(&trailing), Err(EventError::TrailingBytes { trailing: 1, .. })));
}

#[test]
fn events_the_schema_cannot_police_are_checked() {
    let out_of_range = encode(&Event::Interaction(interaction(InteractionKind::Rating, Some(11.0))));
    assert_eq!(
        decode(&out_of_range).unwrap_err().to_string(),
        "interaction event is invalid: rating Some(11.0) is not a number from 1 to 10"
    );
    let missing = encode(&Event::Interaction(interaction(InteractionKind::Rating, None)));
    assert!(decode(&missing).is_err());
    let mut bad_id = interaction(InteractionKind::Like, None);
    bad_id.item_id = "no spaces".into();
    let err = decode(&encode(&Event::Interaction(bad_id))).unwrap_err();
    assert!(err.to_string().contains("item id \"no spaces\" contains ' '"), "{err}");
}

fn kind() -> impl Strategy<Value = (InteractionKind, Option<f32>)> {
    prop_oneof![
        Just((InteractionKind::View, None)),
        Just((InteractionKind::Dislike, None)),
        Just((InteractionKind::Purchase, None)),
        (1.0f32..=10.0).prop_map(|r| (InteractionKind::Rating, Some(r))),
    ]
}

proptest! {
    #[test]
    fn interactions_round_trip(
        (kind, value) in kind(), subject in "[a-z0-9-]{1,40}", item in "[A-Za-z0-9_.:-]{1,20}",
        timestamp_ms in any::<i64>(), event_id in ".{0,30}",
    ) {
        let event = Event::Interaction(Interaction {
            subject, item_id: item, kind, value, timestamp_ms, event_id, ..interaction(kind, value)
        });
        prop_assert_eq!(decode(&encode(&event)).unwrap(), event);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn corrupted_bodies_never_panic(
        position in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()
    ) {
        let mut message = encode(&Event::Interaction(interaction(InteractionKind::Rating, Some(3.0))));
        let at = 10 + position.index(message.len() - 10);
        message[at] = byte;
        message.truncate(10 + cut.index(message.len() - 9));
        let _ = decode(&message);
    }
}
