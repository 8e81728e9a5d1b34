//! Replaying dead letters after a fix: each dead-lettered message in a range goes back to the
//! topic it was read from, as it was, marked with where it was dead-lettered. A message already
//! replayed (its mark is on the source topic) is not replayed again, so a replay can be run
//! twice, or resumed after a failure, without applying anything twice.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tailor_log::{EventLog, Message, read_to_end};

use crate::{DEAD_LETTER_SOURCE, StreamError};

/// Header on a replayed message: where it sat on the dead-letter topic (`topic/partition/offset`).
pub const REPLAYED_FROM: &str = "tailor.replayed-from";

/// How long reading a topic waits for a partition that returns nothing.
const STALL: Duration = Duration::from_secs(10);

/// Which dead letters to replay.
pub struct DeadLetterRange<'a> {
    pub topic: &'a str,
    pub partition: u32,
    /// From this offset, up to `to` (exclusive; the end when `None`).
    pub from: u64,
    pub to: Option<u64>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Replayed now, by the topic they went back to.
    pub replayed: BTreeMap<String, u64>,
    /// Replayed before.
    pub already: u64,
    /// Without a source header, or naming a topic the log does not have: left where they are.
    pub skipped: Vec<(u64, String)>,
}

/// Replays the dead letters of `range`; with `dry_run`, only says what it would do.
pub fn replay_dead_letters(
    log: &dyn EventLog,
    range: &DeadLetterRange<'_>,
    dry_run: bool,
) -> Result<Replayed, StreamError> {
    let mut letters = Vec::new();
    read_to_end(log, range.topic, STALL, &mut |record| {
        let wanted = record.partition == range.partition
            && record.offset >= range.from
            && range.to.is_none_or(|to| record.offset < to);
        if wanted {
            letters.push(record);
        }
    })?;
    let mut outcome = Replayed::default();
    let mut by_topic: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for record in letters {
        let mark = format!("{}/{}/{}", range.topic, record.partition, record.offset);
        let source = record.message.header(DEAD_LETTER_SOURCE).map(|s| String::from_utf8_lossy(s).into_owned());
        let Some(topic) = source.as_deref().and_then(|s| s.rsplitn(3, '/').nth(2)).map(str::to_owned) else {
            outcome.skipped.push((record.offset, "no source header".to_owned()));
            continue;
        };
        if log.partitions(&topic).is_err() {
            outcome.skipped.push((record.offset, format!("its source topic {topic:?} does not exist")));
            continue;
        }
        let message =
            Message::new(record.message.key.clone(), record.message.payload.clone()).with_header(REPLAYED_FROM, mark);
        by_topic.entry(topic).or_default().push(message);
    }
    for (topic, messages) in by_topic {
        let done = replayed_marks(log, &topic)?;
        let (again, new): (Vec<Message>, Vec<Message>) =
            messages.into_iter().partition(|m| m.header(REPLAYED_FROM).is_some_and(|mark| done.contains(mark)));
        outcome.already += again.len() as u64;
        if new.is_empty() {
            continue;
        }
        *outcome.replayed.entry(topic.clone()).or_default() += new.len() as u64;
        if !dry_run {
            log.append(&topic, new)?;
        }
    }
    Ok(outcome)
}

/// The marks of the messages already replayed onto `topic`.
fn replayed_marks(log: &dyn EventLog, topic: &str) -> Result<HashSet<Vec<u8>>, StreamError> {
    let mut marks = HashSet::new();
    read_to_end(log, topic, STALL, &mut |record| {
        if let Some(mark) = record.message.header(REPLAYED_FROM) {
            marks.insert(mark.to_vec());
        }
    })?;
    Ok(marks)
}
