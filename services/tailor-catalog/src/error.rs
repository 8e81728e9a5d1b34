use std::path::PathBuf;

use thiserror::Error;

use crate::SourceFormat;

/// Failures that stop a whole operation. Problems with single rows are not errors: they are
/// reported as [`crate::RowIssue`]s while the good rows are ingested.
#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} does not contain {expected}")]
    MissingSourceFile { path: PathBuf, expected: &'static str },
    #[error(
        "{path}: not the {format} layout: missing column(s) {missing}; the header has {found}{hint}",
        missing = .missing.join(", "),
        found = .found.join(", "),
        hint = .looks_like.map(|f| format!("; it looks like the {f} layout, try --format {f}")).unwrap_or_default()
    )]
    UnknownLayout {
        path: PathBuf,
        format: SourceFormat,
        missing: Vec<String>,
        found: Vec<String>,
        looks_like: Option<SourceFormat>,
    },
    #[error("{path}: the header cannot be read: {reason}")]
    BadHeader { path: PathBuf, reason: String },
    #[error("catalogue store {path}: {source}")]
    Store { path: PathBuf, source: redb::Error },
    #[error("catalogue store {path} has format version {found}; this build reads version {supported}")]
    UnsupportedStoreVersion { path: PathBuf, found: u64, supported: u64 },
    #[error("catalogue store {path}: item {id} cannot be decoded: {reason}")]
    CorruptItem { path: PathBuf, id: String, reason: String },
}
