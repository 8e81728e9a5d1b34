//! The schemas this build reads and writes, parsed once, indexed by fingerprint.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use apache_avro::Schema;
use apache_avro::rabin::Rabin;

/// A schema's CRC-64-AVRO (Rabin) fingerprint, as carried in single-object headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 8]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The event types, each with its current schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Interaction,
    ItemUpsert,
    ModelPublished,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Interaction, Kind::ItemUpsert, Kind::ModelPublished];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Interaction => "interaction",
            Kind::ItemUpsert => "item_upsert",
            Kind::ModelPublished => "model_published",
        }
    }
}

/// Every schema source: the current ones first, then earlier versions kept for old events.
const SOURCES: [(Kind, &str); 3] = [
    (Kind::Interaction, include_str!("../../../schemas/interaction.avsc")),
    (Kind::ItemUpsert, include_str!("../../../schemas/item_upsert.avsc")),
    (Kind::ModelPublished, include_str!("../../../schemas/model_published.avsc")),
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

fn fingerprint(schema: &Schema) -> Fingerprint {
    let bytes = schema.fingerprint::<Rabin>().bytes;
    Fingerprint(bytes.try_into().expect("a Rabin fingerprint is 8 bytes"))
}

/// The schema files are part of the build, so a parse failure is a bug caught by every test.
pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut registry = Registry { by_fingerprint: HashMap::new(), current: HashMap::new() };
    for (kind, source) in SOURCES {
        let schema = Schema::parse_str(source).unwrap_or_else(|e| panic!("schema {} does not parse: {e}", kind.name()));
        let fingerprint = fingerprint(&schema);
        registry.current.entry(kind).or_insert(fingerprint);
        registry.by_fingerprint.insert(fingerprint, Known { kind, schema, source });
    }
    registry
});
