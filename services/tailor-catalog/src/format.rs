use std::fmt;
use std::path::{Path, PathBuf};

use crate::CatalogError;

/// The catalogue layouts Tailor reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// `styles.csv` with photos in `images/ID.jpg` (Kaggle "Fashion Product Images").
    Myntra,
    /// `articles.csv` with photos in `images/0XX/0XXXXXXXXX.jpg` (H&M personalised recommendations).
    Hm,
    /// A shop export as CSV or JSON Lines with id, title, description, image, ... columns.
    Generic,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 3] = [SourceFormat::Myntra, SourceFormat::Hm, SourceFormat::Generic];

    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Myntra => "myntra",
            SourceFormat::Hm => "hm",
            SourceFormat::Generic => "generic",
        }
    }

    /// The data file to read: `path` itself, or for a directory the layout's conventional file.
    pub(crate) fn data_file(self, path: &Path) -> Result<PathBuf, CatalogError> {
        if !path.is_dir() {
            return Ok(path.to_path_buf());
        }
        let expected = match self {
            SourceFormat::Myntra => "styles.csv",
            SourceFormat::Hm => "articles.csv",
            SourceFormat::Generic => {
                return Err(CatalogError::MissingSourceFile {
                    path: path.into(),
                    expected: "a .csv or .jsonl file: name the file",
                });
            }
        };
        let file = path.join(expected);
        if file.is_file() { Ok(file) } else { Err(CatalogError::MissingSourceFile { path: path.into(), expected }) }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
