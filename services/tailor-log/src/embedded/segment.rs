//! One segment file read from its start: its records' index, where its valid records end, and
//! what damage (if any) stops them. Shared by opening a partition and by `check`/`repair`.

use std::fs;
use std::path::{Path, PathBuf};

use super::frame::{self, Decoded};
use crate::LogError;

/// A sparse index entry is added every this many bytes, so a seek scans at most this much.
pub(crate) const INDEX_INTERVAL_BYTES: u64 = 64 * 1024;

/// The most one append writes in a single call (appends split larger batches at record
/// boundaries), so a crash can tear at most this many bytes off a segment's end.
pub(crate) const MAX_WRITE_BYTES: u64 = (frame::HEADER_LEN + frame::MAX_BODY_LEN) as u64;

pub(crate) fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

/// The base offsets of the segments in a partition directory, ascending.
pub(crate) fn segment_bases(dir: &Path) -> Result<Vec<u64>, LogError> {
    let mut bases: Vec<u64> = fs::read_dir(dir)
        .map_err(LogError::io(format!("listing {}", dir.display())))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".log")?.parse().ok()
        })
        .collect();
    bases.sort_unstable();
    Ok(bases)
}

pub(crate) struct Segment {
    pub base: u64,
    pub path: PathBuf,
    pub size: u64,
    pub newest_ms: i64,
    /// (offset, byte position) pairs, ascending.
    pub index: Vec<(u64, u64)>,
}

impl Segment {
    pub fn position_for(&self, offset: u64) -> u64 {
        match self.index.partition_point(|&(o, _)| o <= offset) {
            0 => 0,
            i => self.index[i - 1].1,
        }
    }
}

/// Bytes at which a segment stops reading as records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    pub path: PathBuf,
    /// The first byte that does not read as the next record.
    pub position: u64,
    pub file_len: u64,
    pub reason: String,
    /// Where the next valid record after the damage starts, and its offset: records written
    /// after the damage that a cut would lose.
    pub resumes_at: Option<(u64, u64)>,
}

impl Damage {
    /// What a crash in the middle of an append leaves: damage that runs to the end of the file
    /// and is no longer than one write. Such records were never acknowledged.
    pub fn is_torn_tail(&self) -> bool {
        self.resumes_at.is_none() && self.file_len - self.position <= MAX_WRITE_BYTES
    }
}

/// A segment read up to its first damage.
pub(crate) struct Scanned {
    pub segment: Segment,
    /// The offset after the last valid record (the base when there is none).
    pub end: u64,
    pub records: u64,
    pub damage: Option<Damage>,
}

/// Reads the segment at `path`; a missing file reads as empty when `may_be_missing` (the
/// newest segment, created on the first append).
pub(crate) fn scan(path: PathBuf, base: u64, may_be_missing: bool) -> Result<Scanned, LogError> {
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_be_missing => Vec::new(),
        Err(e) => return Err(LogError::Io { context: format!("reading {}", path.display()), source: e }),
    };
    Ok(scan_bytes(&bytes, path, base))
}

pub(crate) fn scan_bytes(bytes: &[u8], path: PathBuf, base: u64) -> Scanned {
    let mut segment = Segment { base, path, size: 0, newest_ms: i64::MIN, index: Vec::new() };
    let mut position = 0usize;
    let mut end = base;
    let mut records = 0;
    let mut since_index = INDEX_INTERVAL_BYTES;
    let mut damage = None;
    while position < bytes.len() {
        match next_record(bytes, position, end) {
            Ok((offset, appended_at_ms, len)) => {
                if since_index >= INDEX_INTERVAL_BYTES {
                    segment.index.push((offset, position as u64));
                    since_index = 0;
                }
                since_index += len as u64;
                segment.newest_ms = segment.newest_ms.max(appended_at_ms);
                position += len;
                end = offset + 1;
                records += 1;
            }
            Err(reason) => {
                damage = Some(Damage {
                    path: segment.path.clone(),
                    position: position as u64,
                    file_len: bytes.len() as u64,
                    reason,
                    resumes_at: resume_point(bytes, position + 1, end),
                });
                break;
            }
        }
    }
    segment.size = position as u64;
    Scanned { segment, end, records, damage }
}

/// The record at `position`, which must carry an offset of at least `min_offset` (offsets only
/// grow; a repair may leave gaps): its offset, append time and length.
pub(crate) fn next_record(bytes: &[u8], position: usize, min_offset: u64) -> Result<(u64, i64, usize), String> {
    match frame::decode(&bytes[position..], 0) {
        Decoded::Record(record, len) if record.offset >= min_offset => Ok((record.offset, record.appended_at_ms, len)),
        Decoded::Record(record, _) => Err(format!("offset {} where at least {min_offset} was expected", record.offset)),
        Decoded::Incomplete => Err("the file ends inside a record".to_owned()),
        Decoded::Corrupt(reason) => Err(reason),
    }
}

/// The first position at or after `from` where a valid record with an offset of at least
/// `min_offset` starts, and that offset. The offset field is checked before the checksum, so
/// this costs little more than a pass over the bytes.
pub(crate) fn resume_point(bytes: &[u8], from: usize, min_offset: u64) -> Option<(u64, u64)> {
    // A record's offset cannot exceed the previous one by more than the records that fit between.
    let max_offset = min_offset.saturating_add(bytes.len() as u64);
    (from..bytes.len().saturating_sub(frame::HEADER_LEN + 16)).find_map(|position| {
        let field = bytes.get(position + frame::HEADER_LEN..position + frame::HEADER_LEN + 8)?;
        let offset = u64::from_le_bytes(field.try_into().ok()?);
        if !(min_offset..=max_offset).contains(&offset) {
            return None;
        }
        next_record(bytes, position, min_offset).ok().map(|_| (position as u64, offset))
    })
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: damaged at byte {} of {}: {}", self.path.display(), self.position, self.file_len, self.reason)?;
        match self.resumes_at {
            Some((position, offset)) => write!(f, "; a valid record (offset {offset}) follows at byte {position}"),
            None => Ok(()),
        }
    }
}
