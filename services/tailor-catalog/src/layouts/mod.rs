//! Per-layout column mappings onto [`Draft`]. Everything after the mapping is shared.

mod generic;
mod hm;
mod myntra;

use std::path::Path;

use crate::SourceFormat;
use crate::draft::Draft;
use crate::records::{Fields, Header};

pub(crate) trait Layout {
    /// The fields a header must carry, each as the column names that may carry it.
    fn required_columns(&self) -> &'static [&'static [&'static str]];

    /// Whether surplus fields belong to the last column (commas left unquoted in a trailing
    /// free-text column).
    fn overflow_into_last_column(&self) -> bool {
        false
    }

    /// Maps one row; `source_dir` is the absolute directory of the data file.
    fn draft(&self, fields: &Fields, source_dir: &Path) -> Draft;
}

pub(crate) fn layout(format: SourceFormat) -> &'static dyn Layout {
    match format {
        SourceFormat::Myntra => &myntra::Myntra,
        SourceFormat::Hm => &hm::Hm,
        SourceFormat::Generic => &generic::Generic,
    }
}

/// The required columns `header` lacks for `format`, by their first name.
pub(crate) fn missing_columns(format: SourceFormat, header: &Header) -> Vec<String> {
    layout(format)
        .required_columns()
        .iter()
        .filter(|names| names.iter().all(|n| header.position(n).is_none()))
        .map(|names| names[0].to_owned())
        .collect()
}
