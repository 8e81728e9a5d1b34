//! Reading source files into rows of named fields, with the line each row starts on. CSV and
//! JSON Lines look the same to the layouts.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor};
use std::path::Path;
use std::rc::Rc;

use csv::{ByteRecord, StringRecord};

use crate::CatalogError;

/// One source row, or the reason it could not be read as one.
pub(crate) struct SourceRow {
    pub line: u64,
    pub fields: Result<Fields, String>,
}

/// A row's values by column name (names matched case-insensitively).
pub(crate) enum Fields {
    Csv { header: Rc<Header>, record: StringRecord },
    Json(HashMap<String, String>),
}

impl Fields {
    pub fn get(&self, column: &str) -> Option<&str> {
        match self {
            Fields::Csv { header, record } => header.position(column).and_then(|i| record.get(i)),
            Fields::Json(values) => values.get(column).map(String::as_str),
        }
    }
}

pub(crate) struct Header {
    names: Vec<String>,
    positions: HashMap<String, usize>,
}

impl Header {
    fn new(names: Vec<String>) -> Header {
        let positions = names.iter().enumerate().map(|(i, n)| (n.trim().to_lowercase(), i)).collect();
        Header { names, positions }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn position(&self, column: &str) -> Option<usize> {
        self.positions.get(column).copied()
    }
}

pub(crate) fn is_json_lines(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jsonl" | "ndjson" | "json"))
}

/// A CSV source: its header, then its rows. `overflow_into_last` joins surplus fields back into
/// the last column, for exports that left commas in a trailing free-text column unquoted.
pub(crate) struct CsvRows {
    reader: csv::Reader<Cursor<Vec<u8>>>,
    /// Byte offsets of every `\n`: the csv crate's own line count is one short after a `\r\n`.
    newlines: Vec<u64>,
    header: Rc<Header>,
    overflow_into_last: bool,
    path: std::path::PathBuf,
}

impl CsvRows {
    pub fn open(path: &Path, overflow_into_last: bool) -> Result<CsvRows, CatalogError> {
        let bytes = std::fs::read(path).map_err(|source| CatalogError::Read { path: path.into(), source })?;
        let newlines = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i as u64).collect();
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(Cursor::new(bytes));
        let names = reader
            .byte_headers()
            .map_err(|e| CatalogError::BadHeader { path: path.into(), reason: e.to_string() })?
            .iter()
            .map(|n| String::from_utf8(n.to_vec()).map(|n| n.trim().to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| CatalogError::BadHeader { path: path.into(), reason: "it is not valid UTF-8".into() })?;
        Ok(CsvRows { reader, newlines, header: Rc::new(Header::new(names)), overflow_into_last, path: path.into() })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    fn fields(&self, record: ByteRecord) -> Result<Fields, String> {
        let expected = self.header.names.len();
        let record = match record.len() {
            n if n == expected => record,
            n if n > expected && self.overflow_into_last => {
                let mut joined: ByteRecord = record.iter().take(expected - 1).collect();
                joined.push_field(&record.iter().skip(expected - 1).collect::<Vec<_>>().join(&b","[..]));
                joined
            }
            n => return Err(format!("row has {n} fields, the header has {expected}")),
        };
        let record = StringRecord::from_byte_record(record).map_err(|e| {
            let column = e.utf8_error().field();
            format!("column {:?} is not valid UTF-8", self.header.names.get(column).map_or("?", String::as_str))
        })?;
        Ok(Fields::Csv { header: Rc::clone(&self.header), record })
    }
}

impl Iterator for CsvRows {
    type Item = Result<SourceRow, CatalogError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = ByteRecord::new();
        match self.reader.read_byte_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                // A record that seems to start on a line break starts just after it.
                let start = record.position().map_or(0, |p| p.byte());
                let line = self.newlines.partition_point(|&n| n <= start) as u64 + 1;
                Some(Ok(SourceRow { line, fields: self.fields(record) }))
            }
            Err(e) => {
                let source = match e.into_kind() {
                    csv::ErrorKind::Io(io) => io,
                    other => std::io::Error::other(format!("{other:?}")),
                };
                Some(Err(CatalogError::Read { path: self.path.clone(), source }))
            }
        }
    }
}

/// A JSON Lines source: one object per line; blank lines are skipped.
pub(crate) struct JsonRows {
    lines: std::io::Split<BufReader<File>>,
    line: u64,
    path: std::path::PathBuf,
}

impl JsonRows {
    pub fn open(path: &Path) -> Result<JsonRows, CatalogError> {
        let file = File::open(path).map_err(|source| CatalogError::Read { path: path.into(), source })?;
        Ok(JsonRows { lines: BufReader::new(file).split(b'\n'), line: 0, path: path.into() })
    }
}

impl Iterator for JsonRows {
    type Item = Result<SourceRow, CatalogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let bytes = match self.lines.next()? {
                Ok(bytes) => bytes,
                Err(source) => return Some(Err(CatalogError::Read { path: self.path.clone(), source })),
            };
            self.line += 1;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(Ok(SourceRow { line: self.line, fields: json_fields(&bytes) }));
        }
    }
}

fn json_fields(bytes: &[u8]) -> Result<Fields, String> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut fields = HashMap::with_capacity(object.len());
    for (key, value) in object {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                return Err(format!("field {key:?} is a JSON array or object; expected text or a number"));
            }
        };
        fields.insert(key.trim().to_lowercase(), text);
    }
    Ok(Fields::Json(fields))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn csv_rows(content: &[u8], overflow_into_last: bool) -> Vec<(u64, Result<Vec<String>, String>)> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content).unwrap();
        let rows = CsvRows::open(file.path(), overflow_into_last).unwrap();
        let columns: Vec<String> = rows.header().names().to_vec();
        rows.map(|row| {
            let row = row.unwrap();
            let values =
                row.fields.map(|f| columns.iter().map(|c| f.get(&c.to_lowercase()).unwrap_or("").to_owned()).collect());
            (row.line, values)
        })
        .collect()
    }

    #[test]
    fn line_numbers_are_right_with_crlf_and_quoted_newlines() {
        let rows = csv_rows(b"id,title\r\n1,a\r\n2,\"two\r\nlines\"\r\n3,c\r\n", false);
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), vec![2, 3, 5]);
        assert_eq!(rows[1].1.as_ref().unwrap()[1], "two\r\nlines");
    }

    #[test]
    fn surplus_fields_join_the_last_column_only_when_asked() {
        let joined = csv_rows(b"id,name\n1,Shirt, blue, cotton\n", true);
        assert_eq!(joined[0].1.as_ref().unwrap(), &vec!["1".to_owned(), "Shirt, blue, cotton".to_owned()]);
        let refused = csv_rows(b"id,name\n1,Shirt, blue\n2\n", false);
        assert_eq!(refused[0].1, Err("row has 3 fields, the header has 2".into()));
        assert_eq!(refused[1].1, Err("row has 1 fields, the header has 2".into()));
    }

    #[test]
    fn invalid_utf8_names_the_column() {
        let rows = csv_rows(b"id,title\n1,ok\n2,bad\xff\n", false);
        assert!(rows[0].1.is_ok());
        assert_eq!(rows[1].1, Err("column \"title\" is not valid UTF-8".into()));
    }

    #[test]
    fn json_values_become_text_and_nesting_is_refused() {
        let Fields::Json(fields) = json_fields(br#"{"ID": 7, "price": 9.5, "title": "Shirt", "x": null}"#).unwrap()
        else {
            panic!("expected JSON fields")
        };
        assert_eq!(fields.get("id").map(String::as_str), Some("7"));
        assert_eq!(fields.get("price").map(String::as_str), Some("9.5"));
        assert!(!fields.contains_key("x"));
        assert!(json_fields(br#"{"title": ["a"]}"#).err().unwrap().contains("\"title\" is a JSON array or object"));
        assert!(json_fields(b"[1, 2]").err().unwrap().starts_with("not a JSON object"));
    }
}
