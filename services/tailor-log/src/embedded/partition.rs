//! One partition of the embedded log: a directory of segment files named by their first offset.
//! Appends go to the newest segment under a lock; durability is a group commit (whoever syncs
//! covers every append written before it), and readers only see what is durable. After a write or
//! sync fails the partition refuses appends: what reached the disk is then unknown, and a later
//! "success" must not be reported over records that may be lost.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::Notifier;
use super::frame::{self, Decoded};
use super::segment::{INDEX_INTERVAL_BYTES, MAX_WRITE_BYTES, Segment, scan, segment_bases, segment_path};
use crate::{LogError, Message, Record, TopicConfig};

const READ_CHUNK: usize = 256 * 1024;

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
    /// Set by the first failed write or sync; every later append is refused with it.
    failure: OnceLock<String>,
}

impl Partition {
    /// Opens (or creates) the partition, checking every record. A torn tail on the newest
    /// segment (see [`Damage::is_torn_tail`](super::Damage::is_torn_tail)) is cut off: it was
    /// never acknowledged. Any other damage is an error, since acknowledged records may follow it.
    pub fn open(
        dir: PathBuf,
        id: u32,
        topic: &TopicConfig,
        segment_bytes: u64,
        notifier: Arc<Notifier>,
    ) -> Result<Partition, LogError> {
        super::create_dir_durably(&dir)?;
        let mut bases = segment_bases(&dir)?;
        if bases.is_empty() {
            bases.push(0);
        }
        let mut segments = Vec::with_capacity(bases.len());
        let mut next_offset = bases[0];
        for (i, &base) in bases.iter().enumerate() {
            let newest = i + 1 == bases.len();
            let path = segment_path(&dir, base);
            if base < next_offset {
                return Err(LogError::Corrupt {
                    path,
                    position: 0,
                    reason: format!("segment starts at offset {base}, the previous one ends at {next_offset}"),
                });
            }
            let scanned = scan(path, base, newest)?;
            if let Some(damage) = scanned.damage {
                if !(newest && damage.is_torn_tail()) {
                    return Err(LogError::Damaged(Box::new(damage)));
                }
                cut_torn_tail(&damage.path, damage.position)?;
            }
            next_offset = scanned.end;
            segments.push(scanned.segment);
        }
        let active = segments.last().expect("at least one segment");
        let file = open_for_append(&active.path)?;
        super::sync_dir(&dir)?;
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
            failure: OnceLock::new(),
        })
    }

    pub fn end_offset(&self) -> u64 {
        self.durable_end.load(Ordering::Acquire)
    }

    /// Writes `messages` and returns the offset of the first, then the end offset to sync to.
    pub fn write(&self, messages: &[&Message], appended_at_ms: i64) -> Result<(u64, u64), LogError> {
        let mut writer = self.lock_writer()?;
        self.refuse_after_failure()?;
        self.roll_if_full(&mut writer)?;
        let first = writer.next_offset;
        let mut buf = Vec::with_capacity(messages.iter().map(|m| frame::HEADER_LEN + frame::body_len(m)).sum());
        let mut new_index = Vec::new();
        let size_before = self.read_segments().last().expect("active segment").size;
        let mut since_index = writer.bytes_since_index;
        // Record boundaries at which the batch is split into writes of at most MAX_WRITE_BYTES.
        let mut write_starts = vec![0];
        for (i, message) in messages.iter().enumerate() {
            let offset = first + i as u64;
            if since_index >= INDEX_INTERVAL_BYTES {
                new_index.push((offset, size_before + buf.len() as u64));
                since_index = 0;
            }
            let start = buf.len();
            frame::encode(&mut buf, offset, appended_at_ms, message);
            if start > write_starts[write_starts.len() - 1]
                && (buf.len() - write_starts[write_starts.len() - 1]) as u64 > MAX_WRITE_BYTES
            {
                write_starts.push(start);
            }
            since_index += (buf.len() - start) as u64;
        }
        write_starts.push(buf.len());
        for chunk in write_starts.windows(2) {
            if let Err(source) = write_durably(&mut writer.file, &buf[chunk[0]..chunk[1]]) {
                // Leave no partial record behind for the next append to follow; if even that
                // fails, the segment's end is unknown and the partition takes no more appends.
                if let Err(e) = writer.file.set_len(size_before) {
                    self.fail(format!("cutting a failed write off: {e}"));
                }
                return Err(LogError::Io { context: format!("appending to {}", self.dir.display()), source });
            }
        }
        writer.next_offset = first + messages.len() as u64;
        writer.bytes_since_index = since_index;
        let mut segments = self.write_segments();
        let active = segments.last_mut().expect("active segment");
        active.size += buf.len() as u64;
        active.newest_ms = active.newest_ms.max(appended_at_ms);
        active.index.extend(new_index);
        Ok((first, writer.next_offset))
    }

    /// Returns once everything before `end` is on disk and visible to readers.
    pub fn sync_to(&self, end: u64) -> Result<(), LogError> {
        let _sync = self.sync_lock.lock().map_err(|_| self.fail("an earlier sync panicked".to_owned()))?;
        self.refuse_after_failure()?;
        if self.durable_end.load(Ordering::Acquire) >= end {
            return Ok(());
        }
        let (file, target) = {
            let writer = self.lock_writer()?;
            let file = writer.file.try_clone().map_err(LogError::io(format!("syncing {}", self.dir.display())))?;
            (file, writer.next_offset)
        };
        if let Err(source) = sync_data(&file) {
            self.fail(format!("fsync failed: {source}"));
            return Err(LogError::Io { context: format!("syncing {}", self.dir.display()), source });
        }
        self.durable_end.store(target, Ordering::Release);
        self.notifier.notify();
        Ok(())
    }

    /// Marks the partition failed (the first reason wins) and returns the error appends now get.
    fn fail(&self, reason: String) -> LogError {
        let reason = self.failure.get_or_init(|| reason);
        LogError::Failed { path: self.dir.clone(), reason: reason.clone() }
    }

    fn refuse_after_failure(&self) -> Result<(), LogError> {
        match self.failure.get() {
            Some(reason) => Err(LogError::Failed { path: self.dir.clone(), reason: reason.clone() }),
            None => Ok(()),
        }
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Writer>, LogError> {
        self.writer.lock().map_err(|_| self.fail("an earlier append panicked".to_owned()))
    }

    // The segment list is only changed by complete pushes and removals, so a panic elsewhere
    // while it was locked leaves it whole and poisoning can be ignored.
    fn read_segments(&self) -> RwLockReadGuard<'_, Vec<Segment>> {
        self.segments.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_segments(&self) -> RwLockWriteGuard<'_, Vec<Segment>> {
        self.segments.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn roll_if_full(&self, writer: &mut Writer) -> Result<(), LogError> {
        let full = self.read_segments().last().expect("active segment").size >= self.segment_bytes;
        if !full {
            return Ok(());
        }
        // Synced here so that syncing the new segment later covers everything before it.
        if let Err(source) = sync_data(&writer.file) {
            self.fail(format!("fsync failed: {source}"));
            return Err(LogError::Io { context: format!("syncing {}", self.dir.display()), source });
        }
        let path = segment_path(&self.dir, writer.next_offset);
        writer.file = open_for_append(&path)?;
        writer.bytes_since_index = 0;
        {
            let mut segments = self.write_segments();
            segments.push(Segment { base: writer.next_offset, path, size: 0, newest_ms: i64::MIN, index: Vec::new() });
            self.apply_retention(&mut segments);
        }
        // The new segment's directory entry must survive a crash as its records do; if it may
        // not, records appended to it could vanish with it.
        super::sync_dir(&self.dir).map_err(|e| self.fail(format!("new segment not durable: {e}")))
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
                } else if let Some(next_base) = self.segment_after(cursor.base) {
                    // The end of a closed segment: the next record starts the next one (a
                    // repair may have left a gap before it).
                    cursor.next = cursor.next.max(next_base);
                    cursor.file = None;
                } else {
                    break;
                }
            }
        }
        Ok(())
    }

    fn segment_after(&self, base: u64) -> Option<u64> {
        self.read_segments().iter().map(|s| s.base).find(|&b| b > base)
    }

    /// Points `cursor` at the segment and byte position from which `cursor.next` can be found,
    /// moving it up to the oldest retained offset if retention deleted what it wanted.
    fn locate(&self, cursor: &mut Cursor) -> Result<(), LogError> {
        let segments = self.read_segments();
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

fn open_for_append(path: &Path) -> Result<File, LogError> {
    OpenOptions::new().create(true).append(true).open(path).map_err(LogError::io(format!("opening {}", path.display())))
}

pub(super) fn cut_torn_tail(path: &Path, position: u64) -> Result<(), LogError> {
    let context = || format!("cutting a torn write off {}", path.display());
    let file = OpenOptions::new().write(true).open(path).map_err(LogError::io(context()))?;
    file.set_len(position).map_err(LogError::io(context()))?;
    file.sync_all().map_err(LogError::io(context()))
}

fn write_durably(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(test)]
    faults::check(&faults::FAIL_WRITE)?;
    file.write_all(bytes)
}

fn sync_data(file: &File) -> std::io::Result<()> {
    #[cfg(test)]
    faults::check(&faults::FAIL_SYNC)?;
    file.sync_data()
}

/// Failures the tests inject on their own thread, where the disk will not fail on demand.
#[cfg(test)]
pub(super) mod faults {
    use std::cell::Cell;

    thread_local! {
        pub static FAIL_WRITE: Cell<bool> = const { Cell::new(false) };
        pub static FAIL_SYNC: Cell<bool> = const { Cell::new(false) };
    }

    pub fn check(fault: &'static std::thread::LocalKey<Cell<bool>>) -> std::io::Result<()> {
        match fault.get() {
            true => Err(std::io::Error::other("injected failure")),
            false => Ok(()),
        }
    }
}
