//! Any message off the wire decodes to an event or an error: never a panic, never an abort.
//! Inputs starting with an even byte get a valid interaction header in front, so the fuzzer
//! explores Avro bodies rather than stopping at the fingerprint check.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tailor_events::{Event, EventSource, Interaction, InteractionKind, SubjectKind, decode, encode};

static HEADER: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let sample = Interaction {
        event_id: String::new(),
        subject: "s".into(),
        subject_kind: SubjectKind::Session,
        item_id: "i".into(),
        kind: InteractionKind::View,
        value: None,
        timestamp_ms: 0,
        source: EventSource::App,
    };
    encode(&Event::Interaction(sample))[..10].to_vec()
});

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((selector, body)) if selector % 2 == 0 => {
            let _ = decode(&[HEADER.as_slice(), body].concat());
        }
        _ => {
            let _ = decode(data);
        }
    }
});
