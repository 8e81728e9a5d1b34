use std::fmt;
use std::path::PathBuf;

use tailor_core::Item;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueOutcome {
    /// The row was not ingested.
    Rejected,
    /// The row was ingested without the value the reason names.
    Kept,
}

/// A problem with one source row, located by file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowIssue {
    pub file: PathBuf,
    pub line: u64,
    pub outcome: IssueOutcome,
    pub reason: String,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match self.outcome {
            IssueOutcome::Rejected => "rejected",
            IssueOutcome::Kept => "kept",
        };
        write!(f, "{}:{}: {outcome}: {}", self.file.display(), self.line, self.reason)
    }
}

/// What one ingestion run did. `with_image`, `text_only` and `image_only` count the accepted rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IngestReport {
    pub file: PathBuf,
    pub read: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub with_image: u64,
    pub text_only: u64,
    pub image_only: u64,
    pub issues: Vec<RowIssue>,
    /// The new and updated items, as the store now holds them: what a running system needs to
    /// hear of.
    pub changed: Vec<Item>,
}

impl IngestReport {
    pub fn ingested(&self) -> u64 {
        self.new + self.updated + self.unchanged
    }
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.file.display())?;
        writeln!(
            f,
            "  read {}, ingested {} (new {}, updated {}, unchanged {}), rejected {}",
            self.read,
            self.ingested(),
            self.new,
            self.updated,
            self.unchanged,
            self.rejected
        )?;
        write!(f, "  with image {}, text only {}, image only {}", self.with_image, self.text_only, self.image_only)
    }
}
