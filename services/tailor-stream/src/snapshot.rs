//! Snapshots of the visitor states with the log positions to resume from. The file is
//! `TAILORSS`, a format version, a header, length-prefixed postcard entries, then the entry count
//! and a CRC-32 of everything before it; it is written beside the old one and renamed over it, so
//! a crash leaves either snapshot whole.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use tailor_core::{UserAggregate, temporary_beside};
use tailor_events::InteractionKind;

use crate::{StreamError, SubjectKey, VisitorState, VisitorStates};

const MAGIC: &[u8; 8] = b"TAILORSS";
/// 2: visitor states remember their latest items. 3: they remember the event ids of a time
/// window, and when they were last seen. Format 2 is still read.
const FORMAT_VERSION: u32 = 3;

/// A visitor state as format 2 wrote it (postcard: the fields in order).
#[derive(Deserialize)]
struct VisitorStateVersion2 {
    aggregate: UserAggregate,
    last_applied: (u32, u64),
    recent_event_ids: [u64; 8],
    _next_slot: u8,
    recent_items: Vec<(Box<str>, InteractionKind)>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Header {
    topic: String,
    dim: u32,
    positions: Vec<u64>,
    taken_at_ms: i64,
}

/// What a loaded snapshot says about where to resume.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub topic: String,
    /// Per partition, the offset to resume reading from.
    pub positions: Vec<u64>,
    pub taken_at_ms: i64,
    pub visitors: u64,
}

struct CrcWriter<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the states with `positions`, which must have been read before the states are visited:
/// every event before them is then in the snapshot, and later ones that also made it in are
/// recognised on replay by each visitor's last applied offset.
pub fn write_snapshot(
    path: &Path,
    topic: &str,
    positions: Vec<u64>,
    taken_at_ms: i64,
    states: &VisitorStates,
) -> Result<u64, StreamError> {
    let temporary = temporary_beside(path);
    let io = |what: &str| StreamError::io(format!("{what} {}", temporary.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(StreamError::io(format!("creating {}", parent.display())))?;
    }
    let file = File::create(&temporary).map_err(io("creating"))?;
    let mut out = CrcWriter { inner: BufWriter::with_capacity(1 << 20, file), crc: crc32fast::Hasher::new() };
    let header = Header { topic: topic.to_owned(), dim: states.dim() as u32, positions, taken_at_ms };
    out.write_all(MAGIC).map_err(io("writing"))?;
    out.write_all(&FORMAT_VERSION.to_le_bytes()).map_err(io("writing"))?;
    write_entry(&mut out, &header).map_err(io("writing"))?;
    let mut count = 0u64;
    let mut failure = None;
    let mut buf = Vec::new();
    states.for_each(|key, state| {
        if failure.is_none() {
            buf.clear();
            buf = postcard::to_extend(&(key, state), std::mem::take(&mut buf)).expect("states serialise");
            let written = out.write_all(&(buf.len() as u32).to_le_bytes()).and_then(|()| out.write_all(&buf));
            failure = written.err();
            count += 1;
        }
    });
    if let Some(e) = failure {
        return Err(io("writing")(e));
    }
    out.write_all(&count.to_le_bytes()).map_err(io("writing"))?;
    let crc = out.crc.clone().finalize();
    let mut file = out.inner.into_inner().map_err(|e| io("writing")(e.into_error()))?;
    file.write_all(&crc.to_le_bytes()).map_err(io("writing"))?;
    file.sync_all().map_err(io("syncing"))?;
    fs::rename(&temporary, path).map_err(StreamError::io(format!(
        "renaming {} over {}",
        temporary.display(),
        path.display()
    )))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(StreamError::io(format!("syncing {}", parent.display())))?;
    }
    Ok(count)
}

fn write_entry(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    let bytes = postcard::to_stdvec(value).expect("snapshot entries serialise");
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(&bytes)
}

/// Loads a snapshot into `states` (which should be empty) and returns where to resume; `None`
/// when there is no snapshot yet.
pub fn load_snapshot(path: &Path, states: &VisitorStates) -> Result<Option<Snapshot>, StreamError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StreamError::Io { context: format!("reading {}", path.display()), source: e }),
    };
    let bad = |reason: String| StreamError::Snapshot { path: path.to_path_buf(), reason };
    if bytes.len() < MAGIC.len() + 4 + 12 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not a Tailor snapshot".to_owned()));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err(bad("checksum mismatch: the file is damaged".to_owned()));
    }
    let version = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
    if !(2..=FORMAT_VERSION).contains(&version) {
        return Err(bad(format!("format version {version}; this build reads versions 2 to {FORMAT_VERSION}")));
    }
    let (entries, count) = body[12..].split_at(body.len() - 12 - 8);
    let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
    let mut rest = entries;
    let mut next = || -> Result<&[u8], StreamError> {
        let len = rest.get(..4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
        let entry =
            len.and_then(|len| rest.get(4..4 + len)).ok_or_else(|| bad("an entry overruns the file".to_owned()))?;
        rest = &rest[4 + entry.len()..];
        Ok(entry)
    };
    let header: Header = postcard::from_bytes(next()?).map_err(|e| bad(format!("header: {e}")))?;
    if header.dim as usize != states.dim() {
        return Err(bad(format!("visitor vectors have dimension {}, this consumer uses {}", header.dim, states.dim())));
    }
    for _ in 0..count {
        let entry = next()?;
        let (key, state): (SubjectKey, VisitorState) = match version {
            2 => {
                let (key, old): (SubjectKey, VisitorStateVersion2) =
                    postcard::from_bytes(entry).map_err(|e| bad(format!("visitor entry: {e}")))?;
                let state = VisitorState::from_version_2(
                    old.aggregate,
                    old.last_applied,
                    old.recent_event_ids,
                    old.recent_items,
                    header.taken_at_ms,
                );
                (key, state)
            }
            _ => postcard::from_bytes(entry).map_err(|e| bad(format!("visitor entry: {e}")))?,
        };
        states.restore(key, state)?;
    }
    if !rest.is_empty() {
        return Err(bad(format!("{} bytes follow the last of {count} entries", rest.len())));
    }
    Ok(Some(Snapshot {
        topic: header.topic,
        positions: header.positions,
        taken_at_ms: header.taken_at_ms,
        visitors: count,
    }))
}

#[cfg(test)]
mod tests {
    use tailor_core::{AggregateWeights, Embedding};
    use tailor_events::SubjectKind;

    use super::*;

    /// A format 2 file as the previous release wrote it: one visitor who liked `item`, whose
    /// event id hash is `id_hash`.
    fn version_2_snapshot(aggregate: &UserAggregate, id_hash: u64, taken_at_ms: i64) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&2u32.to_le_bytes());
        let header = Header { topic: "t".to_owned(), dim: 2, positions: vec![7], taken_at_ms };
        write_entry(&mut body, &header).unwrap();
        let ids = [id_hash, 0, 0, 0, 0, 0, 0, 0];
        let items: Vec<(Box<str>, InteractionKind)> = vec![("item".into(), InteractionKind::Like)];
        let state = (aggregate, (0u32, 6u64), ids, 1u8, items);
        write_entry(&mut body, &(SubjectKey::session("s1"), state)).unwrap();
        body.extend_from_slice(&1u64.to_le_bytes());
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn a_format_2_snapshot_loads_and_its_event_ids_still_catch_resends() {
        let item = Embedding::new(vec![1.0, 0.0], 2).unwrap();
        let weights = AggregateWeights::default();
        let mut aggregate = UserAggregate::new(2);
        aggregate.apply(&weights, InteractionKind::Like, None, 1_000, &item).unwrap();
        let like = tailor_events::Interaction {
            event_id: "e1".to_owned(),
            subject: "s1".to_owned(),
            subject_kind: SubjectKind::Session,
            item_id: "item".to_owned(),
            kind: InteractionKind::Like,
            value: None,
            timestamp_ms: 1_000,
            source: tailor_events::EventSource::App,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.snapshot");
        fs::write(&path, version_2_snapshot(&aggregate, crate::state::fnv1a(b"e1"), 50_000)).unwrap();

        let states = VisitorStates::new(2, weights);
        let loaded = load_snapshot(&path, &states).unwrap().unwrap();
        assert_eq!((loaded.positions, loaded.visitors), (vec![7], 1));
        let state = states.get(&SubjectKey::session("s1")).unwrap();
        assert_eq!(state.aggregate(), &aggregate);
        assert_eq!(state.last_applied(), (0, 6));
        let outcome = states.apply(0, 9, 60_000, &like, &item).unwrap();
        assert_eq!(outcome, crate::Outcome::Resent, "the id remembered by format 2 still counts");
    }
}
