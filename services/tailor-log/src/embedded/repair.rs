//! `tailor log check` and `tailor log repair`: what an operator runs when a partition will not
//! open because of damage the log will not cut off on its own.

use std::fs::{self, File};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::segment::{Damage, next_record, resume_point, scan, scan_bytes, segment_bases, segment_path};
use crate::LogError;

/// One partition as `check` found it.
#[derive(Clone, Debug)]
pub struct PartitionReport {
    pub topic: String,
    pub partition: u32,
    pub segments: usize,
    /// Valid records before any damage.
    pub records: u64,
    pub bytes: u64,
    /// The offset after the last valid record.
    pub end_offset: u64,
    /// At most one per segment: where it stops reading as records.
    pub damage: Vec<Damage>,
}

/// Every partition of every topic under `dir`, read without changing anything.
pub fn check(dir: &Path) -> Result<Vec<PartitionReport>, LogError> {
    let mut reports = Vec::new();
    for (topic, partition, partition_dir) in partition_dirs(dir)? {
        let bases = segment_bases(&partition_dir)?;
        let mut report = PartitionReport {
            topic,
            partition,
            segments: bases.len(),
            records: 0,
            bytes: 0,
            end_offset: 0,
            damage: Vec::new(),
        };
        for base in bases {
            let scanned = scan(segment_path(&partition_dir, base), base, false)?;
            report.records += scanned.records;
            report.bytes += scanned.damage.as_ref().map_or(scanned.segment.size, |d| d.file_len);
            report.end_offset = scanned.end;
            report.damage.extend(scanned.damage);
        }
        reports.push(report);
    }
    Ok(reports)
}

/// A damaged segment rewritten with every record that still reads.
#[derive(Clone, Debug)]
pub struct Repaired {
    pub path: PathBuf,
    /// The segment as it was, kept for the operator; `None` when only a torn tail was cut.
    pub backup: Option<PathBuf>,
    pub kept_records: u64,
    pub cuts: Vec<Cut>,
}

/// Bytes a repair removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    pub position: u64,
    pub bytes: u64,
    /// The offsets that were in those bytes; `None` at the end of the newest segment, where
    /// nothing tells how many records the bytes held.
    pub lost_offsets: Option<Range<u64>>,
}

/// Rewrites every damaged segment under `dir` with the records that still read, skipping each
/// damaged span to the next valid record; the original is kept beside it as `NAME.damaged`.
/// Needs the log's lock: no process may have it open.
pub fn repair(dir: &Path) -> Result<Vec<Repaired>, LogError> {
    let lock = File::create(dir.join(".lock")).map_err(LogError::io(format!("locking {}", dir.display())))?;
    lock.try_lock().map_err(|_| LogError::Locked { path: dir.to_path_buf() })?;
    let mut repaired = Vec::new();
    for (_, _, partition_dir) in partition_dirs(dir)? {
        let bases = segment_bases(&partition_dir)?;
        for (i, &base) in bases.iter().enumerate() {
            let next_base = bases.get(i + 1).copied();
            let path = segment_path(&partition_dir, base);
            let bytes = fs::read(&path).map_err(LogError::io(format!("reading {}", path.display())))?;
            let scanned = scan_bytes(&bytes, path.clone(), base);
            let Some(damage) = scanned.damage else { continue };
            if next_base.is_none() && damage.is_torn_tail() {
                super::partition::cut_torn_tail(&path, damage.position)?;
                let bytes = damage.file_len - damage.position;
                let cut = Cut { position: damage.position, bytes, lost_offsets: None };
                repaired.push(Repaired { path, backup: None, kept_records: scanned.records, cuts: vec![cut] });
                continue;
            }
            repaired.push(rewrite(&bytes, path, base, next_base)?);
        }
    }
    Ok(repaired)
}

fn rewrite(bytes: &[u8], path: PathBuf, base: u64, next_base: Option<u64>) -> Result<Repaired, LogError> {
    let mut kept = Vec::with_capacity(bytes.len());
    let mut cuts = Vec::new();
    let mut kept_records = 0;
    let mut position = 0;
    let mut min_offset = base;
    while position < bytes.len() {
        match next_record(bytes, position, min_offset) {
            Ok((offset, _, len)) => {
                kept.extend_from_slice(&bytes[position..position + len]);
                kept_records += 1;
                min_offset = offset + 1;
                position += len;
            }
            Err(_) => {
                let (end, lost_offsets) = match resume_point(bytes, position + 1, min_offset) {
                    Some((at, offset)) => (at as usize, Some(min_offset..offset)),
                    None => (bytes.len(), next_base.map(|next| min_offset..next)),
                };
                cuts.push(Cut { position: position as u64, bytes: (end - position) as u64, lost_offsets });
                position = end;
            }
        }
    }
    let context = |what: &str| format!("{what} {}", path.display());
    let temporary = path.with_extension(format!("repair-{}", std::process::id()));
    let mut file = File::create(&temporary).map_err(LogError::io(context("writing the repair of")))?;
    file.write_all(&kept).and_then(|()| file.sync_all()).map_err(LogError::io(context("writing the repair of")))?;
    let backup = unused_backup_path(&path);
    // A link, not a move: the segment's name never stops pointing at a whole file.
    fs::hard_link(&path, &backup).map_err(LogError::io(context("keeping a copy of")))?;
    fs::rename(&temporary, &path).map_err(LogError::io(context("replacing")))?;
    super::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    Ok(Repaired { path, backup: Some(backup), kept_records, cuts })
}

fn unused_backup_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (0..)
        .map(|n| path.with_file_name(if n == 0 { format!("{name}.damaged") } else { format!("{name}.damaged.{n}") }))
        .find(|candidate| !candidate.exists())
        .expect("some backup name is free")
}

/// (topic, partition, directory) for every partition directory under `dir`, in order.
fn partition_dirs(dir: &Path) -> Result<Vec<(String, u32, PathBuf)>, LogError> {
    let list = |dir: &Path| -> Result<Vec<(String, PathBuf)>, LogError> {
        let mut entries: Vec<(String, PathBuf)> = fs::read_dir(dir)
            .map_err(LogError::io(format!("listing {}", dir.display())))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
            .collect();
        entries.sort();
        Ok(entries)
    };
    let mut out = Vec::new();
    for (topic, topic_dir) in list(dir)? {
        let mut partitions: Vec<(u32, PathBuf)> = list(&topic_dir)?
            .into_iter()
            .filter_map(|(name, path)| Some((name.strip_prefix("partition-")?.parse().ok()?, path)))
            .collect();
        partitions.sort();
        out.extend(partitions.into_iter().map(|(p, path)| (topic.clone(), p, path)));
    }
    Ok(out)
}
