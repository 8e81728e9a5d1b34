//! Schema fingerprints as the Avro specification defines them for single-object encoding: the
//! CRC-64-AVRO (Rabin) fingerprint of the schema's Parsing Canonical Form, 8 bytes little-endian.
//! Both are written out here from the specification ("Parsing Canonical Form for Schemas" and
//! "Schema Fingerprints") rather than taken from the Avro crate, whose canonical form keeps a
//! logical type's `{"type":"long"}` where the specification reduces it to `"long"`.

use std::fmt;

use serde_json::{Map, Value};

use crate::EventError;

/// A schema's fingerprint as carried in single-object headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 8]);

impl Fingerprint {
    /// The fingerprint of a schema given as its JSON text.
    pub fn of_schema(schema_json: &str) -> Result<Fingerprint, EventError> {
        Ok(Fingerprint::of_canonical_form(&parsing_canonical_form(schema_json)?))
    }

    /// The CRC-64-AVRO fingerprint of text already in Parsing Canonical Form.
    fn of_canonical_form(canonical: &str) -> Fingerprint {
        Fingerprint(crc64_avro(canonical.as_bytes()).to_le_bytes())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The specification's `EMPTY` value, also the polynomial.
const EMPTY: u64 = 0xc15d_213a_a4d7_a795;

const TABLE: [u64; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        let mut fp = i as u64;
        let mut bit = 0;
        while bit < 8 {
            fp = (fp >> 1) ^ (EMPTY & (fp & 1).wrapping_neg());
            bit += 1;
        }
        table[i] = fp;
        i += 1;
    }
    table
};

fn crc64_avro(bytes: &[u8]) -> u64 {
    bytes.iter().fold(EMPTY, |fp, &byte| (fp >> 8) ^ TABLE[((fp ^ byte as u64) & 0xff) as usize])
}

const PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/// The schema in Parsing Canonical Form: primitives in their simple form, full names and no
/// namespaces, only the attributes that matter for parsing, in the specification's order, no
/// whitespace.
fn parsing_canonical_form(schema_json: &str) -> Result<String, EventError> {
    let schema: Value =
        serde_json::from_str(schema_json).map_err(|e| EventError::InvalidSchema(format!("not JSON: {e}")))?;
    let mut out = String::new();
    write_schema(&schema, "", &mut out)?;
    Ok(out)
}

fn invalid(reason: String) -> EventError {
    EventError::InvalidSchema(reason)
}

fn write_schema(schema: &Value, namespace: &str, out: &mut String) -> Result<(), EventError> {
    match schema {
        Value::String(name) if PRIMITIVES.contains(&name.as_str()) => write_string(name, out),
        Value::String(reference) => write_string(&full_name(reference, namespace), out),
        Value::Array(branches) => {
            out.push('[');
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_schema(branch, namespace, out)?;
            }
            out.push(']');
        }
        Value::Object(attributes) => write_complex(attributes, namespace, out)?,
        other => return Err(invalid(format!("{other} is not a schema"))),
    }
    Ok(())
}

fn write_complex(attributes: &Map<String, Value>, namespace: &str, out: &mut String) -> Result<(), EventError> {
    let kind = match attributes.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        // `{"type": {...}}` and `{"type": [...]}` wrap a schema.
        Some(inner) => return write_schema(inner, namespace, out),
        None => return Err(invalid(format!("{} has no type", Value::Object(attributes.clone())))),
    };
    let required = |name: &str| attributes.get(name).ok_or_else(|| invalid(format!("a {kind} schema needs {name}")));
    match kind {
        // A primitive with other attributes (a logical type, say) is the primitive alone.
        _ if PRIMITIVES.contains(&kind) => write_string(kind, out),
        "record" | "error" | "enum" | "fixed" => {
            let name = required("name")?.as_str().ok_or_else(|| invalid(format!("a {kind}'s name is a string")))?;
            let own_namespace = attributes.get("namespace").and_then(Value::as_str).unwrap_or(namespace);
            let full = full_name(name, own_namespace);
            out.push_str("{\"name\":");
            write_string(&full, out);
            out.push_str(",\"type\":");
            match kind {
                "enum" => {
                    out.push_str("\"enum\",\"symbols\":");
                    out.push_str(&serde_json::to_string(required("symbols")?).expect("JSON values serialise"));
                }
                "fixed" => {
                    let size = required("size")?;
                    let size = size
                        .as_u64()
                        .or_else(|| size.as_str().and_then(|s| s.parse().ok()))
                        .ok_or_else(|| invalid(format!("fixed {full}'s size {size} is not a count")))?;
                    out.push_str(&format!("\"fixed\",\"size\":{size}"));
                }
                _ => {
                    out.push_str("\"record\",\"fields\":[");
                    let fields = required("fields")?
                        .as_array()
                        .ok_or_else(|| invalid(format!("record {full}'s fields are a list")))?;
                    // A record's fields take the namespace of its full name.
                    let inner = full.rsplit_once('.').map_or("", |(namespace, _)| namespace);
                    for (i, field) in fields.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let name = field.get("name").and_then(Value::as_str);
                        let (Some(name), Some(schema)) = (name, field.get("type")) else {
                            return Err(invalid(format!("a field of {full} needs a name and a type")));
                        };
                        out.push_str("{\"name\":");
                        write_string(name, out);
                        out.push_str(",\"type\":");
                        write_schema(schema, inner, out)?;
                        out.push('}');
                    }
                    out.push(']');
                }
            }
            out.push('}');
        }
        "array" => {
            out.push_str("{\"type\":\"array\",\"items\":");
            write_schema(required("items")?, namespace, out)?;
            out.push('}');
        }
        "map" => {
            out.push_str("{\"type\":\"map\",\"values\":");
            write_schema(required("values")?, namespace, out)?;
            out.push('}');
        }
        reference => write_string(&full_name(reference, namespace), out),
    }
    Ok(())
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() { name.to_owned() } else { format!("{namespace}.{name}") }
}

/// A JSON string literal with characters as themselves, not escaped, where JSON allows it.
fn write_string(text: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(text).expect("strings serialise"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(schema: &str) -> String {
        parsing_canonical_form(schema).unwrap()
    }

    #[test]
    fn primitives_names_attributes_and_order_follow_the_specification() {
        assert_eq!(canonical(r#"{"type": "int"}"#), r#""int""#);
        assert_eq!(canonical(r#"{"type": "long", "logicalType": "timestamp-millis"}"#), r#""long""#);
        let record = r#"{
            "doc": "stripped", "type": "record", "namespace": "shop", "name": "Order",
            "aliases": ["Old"],
            "fields": [
                {"type": {"type": "array", "items": "Line"}, "name": "lines", "default": []},
                {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["open", "paid"], "default": "open"}},
                {"name": "hash", "type": {"type": "fixed", "name": "other.Hash", "size": "016"}},
                {"name": "again", "type": ["null", "Status", "other.Hash", {"type": "map", "values": "double"}]}
            ]
        }"#;
        assert_eq!(
            canonical(record),
            concat!(
                r#"{"name":"shop.Order","type":"record","fields":["#,
                r#"{"name":"lines","type":{"type":"array","items":"shop.Line"}},"#,
                r#"{"name":"status","type":{"name":"shop.Status","type":"enum","symbols":["open","paid"]}},"#,
                r#"{"name":"hash","type":{"name":"other.Hash","type":"fixed","size":16}},"#,
                r#"{"name":"again","type":["null","shop.Status","other.Hash",{"type":"map","values":"double"}]}]}"#
            )
        );
        assert_eq!(canonical(r#""caf\u00e9""#), "\"café\"", "escapes become the characters");
    }

    #[test]
    fn fingerprints_match_the_specifications_known_values() {
        // As fastavro computes them (signed, 8247732601305521295 and 7195948357588979594).
        let int = Fingerprint::of_canonical_form("\"int\"");
        assert_eq!(u64::from_le_bytes(int.0), 0x7275_d51a_3f39_5c8f);
        let null = Fingerprint::of_canonical_form("\"null\"");
        assert_eq!(u64::from_le_bytes(null.0), 0x63dd_24e7_cc25_8f8a);
    }

    /// `schema` as JSON text with each object's attributes, a doc added, in an order drawn from
    /// `seed`, and a line break after every comma when `spread`. (serde_json's own maps would
    /// sort the keys.)
    fn rewritten(schema: &Value, seed: &mut u64, spread: bool) -> String {
        let comma = if spread { ",\n  " } else { "," };
        match schema {
            Value::Object(attributes) => {
                let mut entries: Vec<String> = attributes
                    .iter()
                    .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), rewritten(v, seed, spread)))
                    .collect();
                entries.push(format!("\"doc\": \"note {seed}\""));
                for i in (1..entries.len()).rev() {
                    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    entries.swap(i, (*seed >> 33) as usize % (i + 1));
                }
                format!("{{{}}}", entries.join(comma))
            }
            Value::Array(values) => {
                let values: Vec<String> = values.iter().map(|v| rewritten(v, seed, spread)).collect();
                format!("[{}]", values.join(comma))
            }
            other => other.to_string(),
        }
    }

    proptest::proptest! {
        #[test]
        fn attribute_order_docs_and_whitespace_leave_the_form_unchanged(mut seed: u64, spread: bool) {
            for text in [
                include_str!("../../../schemas/interaction.avsc"),
                include_str!("../../../schemas/item_upsert.avsc"),
                include_str!("../../../schemas/model_published.avsc"),
            ] {
                let changed = rewritten(&serde_json::from_str(text).unwrap(), &mut seed, spread);
                proptest::prop_assert_eq!(canonical(&changed), canonical(text));
            }
        }
    }

    #[test]
    fn schemas_that_are_not_schemas_are_errors_naming_the_problem() {
        let error = |schema: &str| parsing_canonical_form(schema).unwrap_err().to_string();
        assert!(error("{").contains("not JSON"));
        assert!(error(r#"{"type": "record", "name": "R"}"#).contains("a record schema needs fields"));
        assert!(error(r#"{"name": "x"}"#).contains("has no type"));
        assert!(error("3").contains("3 is not a schema"));
    }
}
