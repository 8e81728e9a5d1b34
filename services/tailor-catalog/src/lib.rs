//! Catalogue ingestion and storage. Source layouts (Myntra, H&M, a generic CSV/JSON Lines export)
//! are mapped onto one draft row, validated into `tailor_core::Item`s and upserted into an
//! embedded store under the data directory.

mod draft;
mod error;
mod format;
mod images;
mod ingest;
mod layouts;
mod records;
mod report;
mod store;

pub use draft::{Accepted, check_item};
pub use error::CatalogError;
pub use format::SourceFormat;
pub use ingest::ingest;
pub use report::{IngestReport, IssueOutcome, RowIssue};
pub use store::{CatalogStore, UpsertCounts};
