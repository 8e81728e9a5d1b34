use std::collections::HashMap;

use proptest::prelude::*;
use tailor_events::{
    Availability, Event, EventError, EventSource, Interaction, InteractionKind, ItemUpsert, ModelPublished, Retrain,
    RetrainState, SubjectKind, decode, encode,
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
        Event::Retrain(Retrain {
            request_id: "r-1".into(),
            state: RetrainState::Published,
            version: Some(3),
            detail: None,
            at_ms: 9,
        }),
    ];
    for event in events {
        let message = encode(&event);
        assert_eq!(&message[..2], &[0xC3, 0x01]);
        assert_eq!(decode(&message).unwrap(), event);
    }
}

/// An item's attributes survive the wire: out as an upsert event, back through the check
/// ingestion makes (the schema has no year).
#[test]
fn an_items_attributes_travel_as_an_upsert_and_check_back_the_same() {
    let attributes = tailor_core::Attributes {
        gender: Some(tailor_core::Gender::Women),
        article_type: Some("Dresses".into()),
        colour: Some("Red".into()),
        price: Some(tailor_core::Price::new(49.99).unwrap()),
        brand: Some("Aurora".into()),
        year: Some(2012),
        ..tailor_core::Attributes::default()
    };
    let id = tailor_core::ItemId::new("d-1").unwrap();
    let item = tailor_core::Item::new(id, Some("Red Wrap Dress".into()), None, None, attributes.clone()).unwrap();
    let event = Event::ItemUpsert(Box::new(ItemUpsert::of(&item, Some("d-1.jpg".into()), 5)));
    let Event::ItemUpsert(decoded) = decode(&encode(&event)).unwrap() else { panic!("an upsert") };
    let checked = decoded.raw_attributes().check().unwrap();
    assert_eq!((checked.attributes, checked.warnings), (attributes, vec![]));
    assert_eq!((decoded.title.as_deref(), decoded.image.as_deref()), (Some("Red Wrap Dress"), Some("d-1.jpg")));
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
    let mut far_future = interaction(InteractionKind::Like, None);
    far_future.timestamp_ms = i64::MAX;
    let err = decode(&encode(&Event::Interaction(far_future))).unwrap_err();
    assert!(err.to_string().contains("timestamp 9223372036854775807 is not a time from 1970 to 9999"), "{err}");
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
        timestamp_ms in 0..=tailor_core::LATEST_TIMESTAMP_MS, event_id in ".{0,30}",
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

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// Every schema in `schemas/` with the fingerprint the specification gives it, as fastavro 1.13
/// computes it (`fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO")`).
const SPECIFICATION_FINGERPRINTS: [(&str, &str); 8] = [
    ("history/item_upsert.v1.avsc", "4821c4e29a42b490"),
    ("history/item_upsert.v2.avsc", "0e579d302c008bca"),
    ("interaction.avsc", "d03ccf0037144f30"),
    ("item_removed.avsc", "d56787f402a6cb6f"),
    ("item_upsert.avsc", "41fce842f38f5ecc"),
    ("item_vector.avsc", "9a3d1ced0ff13f55"),
    ("model_published.avsc", "57c0b13f565739e7"),
    ("retrain.avsc", "929db7e3efe6ccfb"),
];

#[test]
fn every_schema_has_the_specifications_fingerprint_and_events_carry_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let mut files: Vec<String> = walk(&dir);
    files.sort();
    let expected: Vec<&str> = SPECIFICATION_FINGERPRINTS.iter().map(|(file, _)| *file).collect();
    assert_eq!(files, expected, "a new schema file needs its fingerprint here, computed by another implementation");
    for (file, fingerprint) in SPECIFICATION_FINGERPRINTS {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_eq!(tailor_events::Fingerprint::of_schema(&text).unwrap().to_string(), fingerprint, "{file}");
    }
    let like = encode(&Event::Interaction(interaction(InteractionKind::Like, None)));
    assert_eq!(like[2..10], hex("d03ccf0037144f30"));
}

/// `.avsc` files under `dir`, history included, relative to it.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let prefix = path.file_name().unwrap().to_string_lossy().into_owned();
            found.extend(walk(&path).into_iter().map(|file| format!("{prefix}/{file}")));
        } else if path.extension().is_some_and(|e| e == "avsc") {
            found.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    found
}

#[test]
fn events_another_implementation_wrote_are_read() {
    // fastavro 1.13's schemaless_writer after `C3 01` and the specification's fingerprint.
    let upsert = hex(concat!(
        "c3014821c4e29a42b4900a6e65772d3702164c696e656e2053686972740000000000020c536869727473",
        "000000020000000000803d400080a0bfe9d666"
    ));
    let Event::ItemUpsert(upsert) = decode(&upsert).unwrap() else { panic!("an item upsert") };
    assert_eq!(
        (upsert.item_id.as_str(), upsert.article_type.as_deref(), upsert.price),
        ("new-7", Some("Shirts"), Some(29.5))
    );
    // Version 2 (stock, no year) and the current version (with the year), sold out.
    for (written, id, year) in [
        (
            concat!(
                "c3010e579d302c008bca0a6e65772d3802164c696e656e2053686972740000000000020c536869727473",
                "000000020000000000003f400080b0fbe6d966020200"
            ),
            "new-8",
            None,
        ),
        (
            concat!(
                "c30141fce842f38f5ecc0a6e65772d3902164c696e656e2053686972740000000000020c536869727473",
                "000000020000000000003f400080b0fbe6d96602020002b81f"
            ),
            "new-9",
            Some(2012),
        ),
    ] {
        let Event::ItemUpsert(upsert) = decode(&hex(written)).unwrap() else { panic!("an item upsert") };
        assert_eq!(
            (upsert.item_id.as_str(), upsert.availability, upsert.price, upsert.year),
            (id, Some(Availability::SoldOut), Some(31.0), year)
        );
    }
    let message = hex(concat!(
        "c301d03ccf0037144f301a66726f6d2d666173746176726f1273686f707065722d37000a3135393730",
        "080080a0bfe9d66600"
    ));
    let Event::Interaction(event) = decode(&message).unwrap() else { panic!("an interaction") };
    assert_eq!(
        (event.event_id.as_str(), event.subject.as_str(), event.kind, event.subject_kind),
        ("from-fastavro", "shopper-7", InteractionKind::AddToCart, SubjectKind::User)
    );
}

#[test]
fn events_written_before_the_specifications_fingerprints_still_decode() {
    // Written by the build before (commit 50717d5), each with the fingerprint it used then.
    let interaction = hex(concat!(
        "c30125faf727eaffc8c01c6265666f72652d7468652d6669781473657373696f6e2d3432020a3135393730",
        "040080a0bfe9d66600"
    ));
    let Event::Interaction(event) = decode(&interaction).unwrap() else { panic!("an interaction") };
    assert_eq!((event.event_id.as_str(), event.kind), ("before-the-fix", InteractionKind::Like));
    let upsert = hex("c3019069b14be629667b0a6e65772d3102164c696e656e20536869727400000000000000000000000a");
    let Event::ItemUpsert(upsert) = decode(&upsert).unwrap() else { panic!("an item upsert") };
    assert_eq!(upsert.title.as_deref(), Some("Linen Shirt"));
    let published = hex("c30122968fcf7db44333040202187661722f6d6f64656c732f32000e");
    let Event::ModelPublished(published) = decode(&published).unwrap() else { panic!("a model announcement") };
    assert_eq!((published.version, published.parent), (2, Some(1)));
}
