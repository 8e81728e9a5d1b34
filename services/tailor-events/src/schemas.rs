//! The schemas this build reads and writes, parsed once, indexed by fingerprint.

use std::collections::HashMap;
use std::sync::LazyLock;

use apache_avro::Schema;

use crate::Fingerprint;

/// The event types, each with its current schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Interaction,
    ItemUpsert,
    ModelPublished,
    Retrain,
    ItemRemoved,
    ItemVector,
}

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Interaction, Kind::ItemUpsert, Kind::ModelPublished, Kind::Retrain, Kind::ItemRemoved, Kind::ItemVector];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Interaction => "interaction",
            Kind::ItemUpsert => "item_upsert",
            Kind::ModelPublished => "model_published",
            Kind::Retrain => "retrain",
            Kind::ItemRemoved => "item_removed",
            Kind::ItemVector => "item_vector",
        }
    }
}

struct Source {
    kind: Kind,
    text: &'static str,
    /// What builds before November 2026 wrote for this schema in place of its fingerprint: the
    /// Avro crate's canonical form, which keeps `{"type":"long"}` for the logical type, hashed.
    /// Still read, so that no event already in a log becomes undecodable.
    earlier_fingerprint: Option<Fingerprint>,
}

/// Every schema source: the current ones first, then earlier versions kept for old events.
const SOURCES: [Source; 8] = [
    Source {
        kind: Kind::Interaction,
        text: include_str!("../../../schemas/interaction.avsc"),
        earlier_fingerprint: Some(Fingerprint([0x25, 0xfa, 0xf7, 0x27, 0xea, 0xff, 0xc8, 0xc0])),
    },
    Source {
        kind: Kind::ItemUpsert,
        text: include_str!("../../../schemas/item_upsert.avsc"),
        earlier_fingerprint: None,
    },
    Source {
        kind: Kind::ModelPublished,
        text: include_str!("../../../schemas/model_published.avsc"),
        earlier_fingerprint: Some(Fingerprint([0x22, 0x96, 0x8f, 0xcf, 0x7d, 0xb4, 0x43, 0x33])),
    },
    Source { kind: Kind::Retrain, text: include_str!("../../../schemas/retrain.avsc"), earlier_fingerprint: None },
    Source {
        kind: Kind::ItemRemoved,
        text: include_str!("../../../schemas/item_removed.avsc"),
        earlier_fingerprint: None,
    },
    Source {
        kind: Kind::ItemVector,
        text: include_str!("../../../schemas/item_vector.avsc"),
        earlier_fingerprint: None,
    },
    // Earlier versions: their events resolve to the current schema.
    Source {
        kind: Kind::ItemUpsert,
        text: include_str!("../../../schemas/history/item_upsert.v2.avsc"),
        earlier_fingerprint: None,
    },
    Source {
        kind: Kind::ItemUpsert,
        text: include_str!("../../../schemas/history/item_upsert.v1.avsc"),
        earlier_fingerprint: Some(Fingerprint([0x90, 0x69, 0xb1, 0x4b, 0xe6, 0x29, 0x66, 0x7b])),
    },
];

pub(crate) struct Known {
    pub kind: Kind,
    pub schema: Schema,
    /// The `.avsc` text, docs included, for registering with a schema registry.
    pub source: &'static str,
}

pub(crate) struct Registry {
    by_fingerprint: HashMap<Fingerprint, Known>,
    current: HashMap<Kind, Fingerprint>,
}

impl Registry {
    pub fn writer(&self, fingerprint: Fingerprint) -> Option<&Known> {
        self.by_fingerprint.get(&fingerprint)
    }

    pub fn known(&self) -> impl Iterator<Item = (&Fingerprint, &Known)> {
        self.by_fingerprint.iter()
    }

    pub fn current(&self, kind: Kind) -> (Fingerprint, &Schema) {
        let fingerprint = self.current[&kind];
        (fingerprint, &self.by_fingerprint[&fingerprint].schema)
    }

    pub fn current_source(&self, kind: Kind) -> &'static str {
        self.by_fingerprint[&self.current[&kind]].source
    }
}

/// The schema files are part of the build, so a parse failure is a bug caught by every test.
pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut registry = Registry { by_fingerprint: HashMap::new(), current: HashMap::new() };
    for Source { kind, text, earlier_fingerprint } in SOURCES {
        let schema = Schema::parse_str(text).unwrap_or_else(|e| panic!("schema {} does not parse: {e}", kind.name()));
        let fingerprint = Fingerprint::of_schema(text).unwrap_or_else(|e| panic!("schema {}: {e}", kind.name()));
        registry.current.entry(kind).or_insert(fingerprint);
        for fingerprint in std::iter::once(fingerprint).chain(earlier_fingerprint) {
            registry.by_fingerprint.insert(fingerprint, Known { kind, schema: schema.clone(), source: text });
        }
    }
    registry
});
