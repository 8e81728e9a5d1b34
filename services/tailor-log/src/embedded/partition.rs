//! One partition of the embedded log: a directory of segment files named by their first offset.
//! Appends go to the newest segment under a lock; durability is a group commit (whoever syncs
//! covers every append written before it), and readers only see what is durable.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::Notifier;
use super::frame::{self, Decoded};
use crate::{LogError, Message, Record, TopicConfig};

/// A sparse index entry is added every this many bytes, so a seek scans at most this much.
const INDEX_INTERVAL_BYTES: u64 = 64 * 1024;
const READ_CHUNK: usize = 256 * 1024;

struct Segment {
    base: u64,
    path: PathBuf,
    size: u64,
    newest_ms: i64,
    /// (offset, byte position) pairs, ascending.
    index: Vec<(u64, u64)>,
}

impl Segment {
    fn position_for(&self, offset: u64) -> u64 {
        match self.index.partition_point(|&(o, _)| o <= offset) {
            0 => 0,
            i => self.index[i - 1].1,
        }
    }
}

struct Writer {
    file: File,
    next_offset: u64,
    bytes_since_index: u64,
}

pub struct Partition {
    id: u32,
    dir: PathBuf,
    segment_bytes: u64,
    retention_ms: Option<u64>,
    retention_bytes: Option<u64>,
    writer: Mutex<Writer>,
    segments: RwLock<Vec<Segment>>,
    durable_end: AtomicU64,
    sync_lock: Mutex<()>,
    notifier: Arc<Notifier>,
}

fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

impl Partition {
    /// Opens (or creates) the partition, checking every record and cutting a torn write off the
    /// newest segment; such a write was never acknowledged, so nothing acknowledged is lost.
    pub fn open(
        dir: PathBuf,
        id: u32,
        topic: &TopicConfig,
        segment_bytes: u64,
        notifier: Arc<Notifier>,
    ) -> Result<Partition, LogError> {
        fs::create_dir_all(&dir).map_err(LogError::io(format!("creating {}", dir.display())))?;
        let mut bases: Vec<u64> = fs::read_dir(&dir)
            .map_err(LogError::io(format!("listing {}", dir.display())))?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".log")?.parse().ok()
            })
            .collect();
        bases.sort_unstable();
        if bases.is_empty() {
            bases.push(0);
        }
        let mut segments = Vec::with_capacity(bases.len());
        let mut next_offset = bases[0];
        for (i, &base) in bases.iter().enumerate() {
            let path = segment_path(&dir, base);
            if base != next_offset {
                return Err(LogError::Corrupt {
                    path,
                    position: 0,
                    reason: format!("segment starts at offset {base}, the previous one ends at {next_offset}"),
                });
            }
            let (segment, end) = scan(path, base, i + 1 == bases.len())?;
            next_offset = end;
            segments.push(segment);
        }
        let active = segments.last().expect("at least one segment");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&active.path)
            .map_err(LogError::io(format!("opening {}", active.path.display())))?;
        Ok(Partition {
            id,
            dir,
            segment_bytes,
            retention_ms: topic.retention_ms,
            retention_bytes: topic.retention_bytes,
            writer: Mutex::new(Writer { file, next_offset, bytes_since_index: 0 }),
            segments: RwLock::new(segments),
            durable_end: AtomicU64::new(next_offset),
            sync_lock: Mutex::new(()),
            notifier,
        })
    }

    pub fn end_offset(&self) -> u64 {
        self.durable_end.load(Ordering::Acquire)
    }

    /// Writes `messages` and returns the offset of the first, then the end offset to sync to.
    pub fn write(&self, messages: &[&Message], appended_at_ms: i64) -> Result<(u64, u64), LogError> {
        let mut writer = self.writer.lock().expect("writer lock");
        self.roll_if_full(&mut writer)?;
        let first = writer.next_offset;
        let mut buf = Vec::with_capacity(messages.iter().map(|m| frame::HEADER_LEN + frame::body_len(m)).sum());
        let mut new_index = Vec::new();
        let size_before = self.segments.read().expect("segments lock").last().expect("active segment").size;
        let mut since_index = writer.bytes_since_index;
        for (i, message) in messages.iter().enumerate() {
            let offset = first + i as u64;
            if since_index >= INDEX_INTERVAL_BYTES {
                new_index.push((offset, size_before + buf.len() as u64));
                since_index = 0;
            }
            let start = buf.len();
            frame::encode(&mut buf, offset, appended_at_ms, message);
            since_index += (buf.len() - start) as u64;
        }
        if let Err(source) = writer.file.write_all(&buf) {
            // Leave no partial record behind for the next append to follow.
            let _ = writer.file.set_len(size_before);
            return Err(LogError::Io { context: format!("appending to {}", self.dir.display()), source });
        }
        writer.next_offset = first + messages.len() as u64;
        writer.bytes_since_index = since_index;
        let mut segments = self.segments.write().expect("segments lock");
        let active = segments.last_mut().expect("active segment");
        active.size += buf.len() as u64;
        active.newest_ms = active.newest_ms.max(appended_at_ms);
        active.index.extend(new_index);
        Ok((first, writer.next_offset))
    }

    /// Returns once everything before `end` is on disk and visible to readers.
    pub fn sync_to(&self, end: u64) -> Result<(), LogError> {
        let _sync = self.sync_lock.lock().expect("sync lock");
        if self.durable_end.load(Ordering::Acquire) >= end {
            return Ok(());
        }
        let (file, target) = {
            let writer = self.writer.lock().expect("writer lock");
            let file = writer.file.try_clone().map_err(LogError::io(format!("syncing {}", self.dir.display())))?;
            (file, writer.next_offset)
        };
        file.sync_data().map_err(LogError::io(format!("syncing {}", self.dir.display())))?;
        self.durable_end.store(target, Ordering::Release);
        self.notifier.notify();
        Ok(())
    }

    fn roll_if_full(&self, writer: &mut Writer) -> Result<(), LogError> {
        let full =
            self.segments.read().expect("segments lock").last().expect("active segment").size >= self.segment_bytes;
        if !full {
            return Ok(());
        }
        // Synced here so that syncing the new segment later covers everything before it.
        writer.file.sync_data().map_err(LogError::io(format!("syncing {}", self.dir.display())))?;
        let path = segment_path(&self.dir, writer.next_offset);
        writer.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(LogError::io(format!("creating {}", path.display())))?;
        writer.bytes_since_index = 0;
        let mut segments = self.segments.write().expect("segments lock");
        segments.push(Segment { base: writer.next_offset, path, size: 0, newest_ms: i64::MIN, index: Vec::new() });
        self.apply_retention(&mut segments);
        Ok(())
    }

    /// Deletes the oldest closed segments that are past the age limit or over the size limit.
    fn apply_retention(&self, segments: &mut Vec<Segment>) {
        let now = crate::now_ms();
        let mut total: u64 = segments.iter().map(|s| s.size).sum();
        while segments.len() > 1 {
            let oldest = &segments[0];
            let too_old = self.retention_ms.is_some_and(|ms| now.saturating_sub(oldest.newest_ms) > ms as i64);
            let too_big = self.retention_bytes.is_some_and(|limit| total > limit);
            if !(too_old || too_big) {
                break;
            }
            // Readers holding the file keep reading it; a failed delete is retried at the next roll.
            if fs::remove_file(&oldest.path).is_err() {
                break;
            }
            total -= oldest.size;
            segments.remove(0);
        }
    }

    /// Reads durable records from `cursor` on, at most `max - out.len()` of them.
    pub fn read(&self, cursor: &mut Cursor, max: usize, out: &mut Vec<Record>) -> Result<(), LogError> {
        let end = self.end_offset();
        while out.len() < max && cursor.next < end {
            if cursor.file.is_none() {
                self.locate(cursor)?;
            }
            let file = cursor.file.as_ref().expect("located");
            let filled = file
                .read_at(&mut cursor.buf, cursor.position)
                .map_err(LogError::io(format!("reading partition {}", self.dir.display())))?;
            let mut used = 0;
            let mut progressed = false;
            while out.len() < max && cursor.next < end {
                match frame::decode(&cursor.buf[used..filled], self.id) {
                    Decoded::Record(record, len) => {
                        used += len;
                        progressed = true;
                        if record.offset >= cursor.next {
                            cursor.next = record.offset + 1;
                            out.push(record);
                        }
                    }
                    Decoded::Incomplete => break,
                    Decoded::Corrupt(reason) => {
                        return Err(LogError::Corrupt {
                            path: cursor.path.clone(),
                            position: cursor.position + used as u64,
                            reason,
                        });
                    }
                }
            }
            cursor.position += used as u64;
            if !progressed {
                if filled == cursor.buf.len() {
                    // One record larger than the buffer.
                    cursor.buf.resize(cursor.buf.len() * 2, 0);
                } else if self.has_segment_after(cursor.base) {
                    // The end of a closed segment: the next record starts the next one.
                    cursor.file = None;
                } else {
                    break;
                }
            }
        }
        Ok(())
    }

    fn has_segment_after(&self, base: u64) -> bool {
        self.segments.read().expect("segments lock").last().is_some_and(|s| s.base > base)
    }

    /// Points `cursor` at the segment and byte position from which `cursor.next` can be found,
    /// moving it up to the oldest retained offset if retention deleted what it wanted.
    fn locate(&self, cursor: &mut Cursor) -> Result<(), LogError> {
        let segments = self.segments.read().expect("segments lock");
        let first = segments.first().expect("at least one segment");
        cursor.next = cursor.next.max(first.base);
        let i = segments.partition_point(|s| s.base <= cursor.next) - 1;
        let segment = &segments[i];
        cursor.file =
            Some(File::open(&segment.path).map_err(LogError::io(format!("opening {}", segment.path.display())))?);
        cursor.path = segment.path.clone();
        cursor.base = segment.base;
        cursor.position = segment.position_for(cursor.next);
        Ok(())
    }

    pub fn cursor(&self, from: u64) -> Cursor {
        Cursor { next: from, base: 0, position: 0, path: PathBuf::new(), file: None, buf: vec![0; READ_CHUNK] }
    }
}

/// A reader's place in one partition.
pub struct Cursor {
    pub next: u64,
    base: u64,
    position: u64,
    path: PathBuf,
    file: Option<File>,
    buf: Vec<u8>,
}

/// Reads a segment at open, building its index. A bad record in the newest segment is a torn
/// write and is cut off; anywhere else it is corruption and an error.
fn scan(path: PathBuf, base: u64, newest: bool) -> Result<(Segment, u64), LogError> {
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && newest => Vec::new(),
        Err(e) => return Err(LogError::Io { context: format!("reading {}", path.display()), source: e }),
    };
    let mut segment = Segment { base, path, size: 0, newest_ms: i64::MIN, index: Vec::new() };
    let mut position = 0usize;
    let mut expected = base;
    let mut since_index = INDEX_INTERVAL_BYTES;
    while position < bytes.len() {
        let failure = match frame::decode(&bytes[position..], 0) {
            Decoded::Record(record, len) if record.offset == expected => {
                if since_index >= INDEX_INTERVAL_BYTES {
                    segment.index.push((record.offset, position as u64));
                    since_index = 0;
                }
                since_index += len as u64;
                segment.newest_ms = segment.newest_ms.max(record.appended_at_ms);
                position += len;
                expected += 1;
                continue;
            }
            Decoded::Record(record, _) => format!("offset {} where {expected} was expected", record.offset),
            Decoded::Incomplete => "the file ends inside a record".to_owned(),
            Decoded::Corrupt(reason) => reason,
        };
        if !newest {
            return Err(LogError::Corrupt { path: segment.path, position: position as u64, reason: failure });
        }
        let file = OpenOptions::new()
            .write(true)
            .open(&segment.path)
            .map_err(LogError::io(format!("repairing {}", segment.path.display())))?;
        file.set_len(position as u64).map_err(LogError::io(format!("repairing {}", segment.path.display())))?;
        file.sync_all().map_err(LogError::io(format!("repairing {}", segment.path.display())))?;
        break;
    }
    segment.size = position as u64;
    Ok((segment, expected))
}
