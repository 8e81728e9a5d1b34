use std::collections::HashMap;
use std::path::Path;

use tailor_core::{Item, ItemId, Modality};

use crate::layouts::{Layout, layout, missing_columns};
use crate::records::{CsvRows, JsonRows, SourceRow, is_json_lines};
use crate::{CatalogError, CatalogStore, IngestReport, IssueOutcome, RowIssue, SourceFormat};

/// Rows per store transaction: large enough to amortise the commit, small enough that an
/// interrupted run keeps most of its work.
const BATCH_ROWS: usize = 5_000;

/// Reads `path` (a data file, or for Myntra and H&M the directory holding it) in the given layout
/// and upserts every valid row into `store`. Bad rows are reported in the returned report; only
/// an unreadable file, an unknown column layout or a store failure is an error, and batches
/// committed before such an error stay committed.
pub fn ingest(path: &Path, format: SourceFormat, store: &CatalogStore) -> Result<IngestReport, CatalogError> {
    let file = format.data_file(path)?;
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let source_dir = parent.canonicalize().map_err(|source| CatalogError::Read { path: parent.into(), source })?;
    let layout = layout(format);
    let rows: Box<dyn Iterator<Item = Result<SourceRow, CatalogError>>> =
        if format == SourceFormat::Generic && is_json_lines(&file) {
            Box::new(JsonRows::open(&file)?)
        } else {
            let rows = CsvRows::open(&file, layout.overflow_into_last_column())?;
            check_layout(&file, format, &rows)?;
            Box::new(rows)
        };

    let mut run = Run { report: IngestReport { file: file.clone(), ..IngestReport::default() }, ..Run::default() };
    for row in rows {
        run.row(row?, layout, &source_dir);
        if run.batch.len() >= BATCH_ROWS {
            run.flush(store)?;
        }
    }
    run.flush(store)?;
    Ok(run.report)
}

fn check_layout(file: &Path, format: SourceFormat, rows: &CsvRows) -> Result<(), CatalogError> {
    let missing = missing_columns(format, rows.header());
    if missing.is_empty() {
        return Ok(());
    }
    let looks_like =
        SourceFormat::ALL.into_iter().find(|&f| f != format && missing_columns(f, rows.header()).is_empty());
    Err(CatalogError::UnknownLayout {
        path: file.into(),
        format,
        missing,
        found: rows.header().names().to_vec(),
        looks_like,
    })
}

#[derive(Default)]
struct Run {
    report: IngestReport,
    batch: Vec<Item>,
    first_seen: HashMap<ItemId, u64>,
}

impl Run {
    fn row(&mut self, row: SourceRow, layout: &dyn Layout, source_dir: &Path) {
        self.report.read += 1;
        let accepted = row.fields.and_then(|fields| layout.draft(&fields, source_dir).validate(source_dir));
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(reason) => return self.issue(row.line, IssueOutcome::Rejected, reason),
        };
        if let Some(first) = self.first_seen.get(accepted.item.id()) {
            let reason = format!("duplicate id {}: first seen at line {first}", accepted.item.id());
            return self.issue(row.line, IssueOutcome::Rejected, reason);
        }
        self.first_seen.insert(accepted.item.id().clone(), row.line);
        for warning in accepted.warnings {
            self.issue(row.line, IssueOutcome::Kept, warning);
        }
        match accepted.item.modality() {
            Modality::TextAndImage => self.report.with_image += 1,
            Modality::ImageOnly => {
                self.report.with_image += 1;
                self.report.image_only += 1;
            }
            Modality::TextOnly => self.report.text_only += 1,
        }
        self.batch.push(accepted.item);
    }

    fn issue(&mut self, line: u64, outcome: IssueOutcome, reason: String) {
        if outcome == IssueOutcome::Rejected {
            self.report.rejected += 1;
        }
        self.report.issues.push(RowIssue { file: self.report.file.clone(), line, outcome, reason });
    }

    fn flush(&mut self, store: &CatalogStore) -> Result<(), CatalogError> {
        let counts = store.upsert(&self.batch)?;
        self.report.new += counts.new;
        self.report.updated += counts.updated;
        self.report.unchanged += counts.unchanged;
        let changed: std::collections::HashSet<usize> = counts.changed.into_iter().collect();
        let batch = std::mem::take(&mut self.batch).into_iter().enumerate();
        self.report.changed.extend(batch.filter(|(position, _)| changed.contains(position)).map(|(_, item)| item));
        Ok(())
    }
}
