//! Reading a topic from its start to where it ends now: what training, the models topic's
//! history and tools need, as against a consumer that follows the topic as it grows.

use std::time::{Duration, Instant};

use crate::{EventLog, LogError, Record};

/// How far [`read_to_end`] got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadToEnd {
    /// Each partition's end offset when the read began; records at or past it were left out.
    pub ends: Vec<u64>,
    /// Each partition's next offset when the read stopped.
    pub reached: Vec<u64>,
}

impl ReadToEnd {
    /// Whether every partition was read to its end.
    pub fn complete(&self) -> bool {
        self.reached.iter().zip(&self.ends).all(|(reached, end)| reached >= end)
    }
}

/// Hands every record of `topic` from the oldest retained up to the end offsets at the call to
/// `each`, in each partition's order (offsets a repair removed are stepped over). Stops early,
/// incomplete, when no record arrives for `stall`: retention or a repair may have removed a
/// partition's last records.
pub fn read_to_end(
    log: &dyn EventLog,
    topic: &str,
    stall: Duration,
    each: &mut dyn FnMut(Record),
) -> Result<ReadToEnd, LogError> {
    let ends = log.end_offsets(topic)?;
    let mut read = ReadToEnd { reached: vec![0; ends.len()], ends };
    let mut reader = log.reader(topic, &read.reached)?;
    let mut progress = Instant::now();
    while !read.complete() && progress.elapsed() < stall {
        let records = reader.poll(4096, Duration::from_millis(200))?;
        if !records.is_empty() {
            progress = Instant::now();
        }
        for record in records.into_iter().filter(|r| r.offset < read.ends[r.partition as usize]) {
            read.reached[record.partition as usize] = record.offset + 1;
            each(record);
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EmbeddedLog, Message, TopicConfig};

    #[test]
    fn reads_every_partition_to_the_ends_at_the_call_and_says_when_it_got_there() {
        let dir = tempfile::tempdir().unwrap();
        let log = EmbeddedLog::open(dir.path(), &[TopicConfig::new("t", 2)], 1 << 20).unwrap();
        let messages = (0..10).map(|i| Message::new(format!("k{i}"), vec![i])).collect();
        log.append("t", messages).unwrap();
        let mut seen = Vec::new();
        let read = read_to_end(&log, "t", Duration::from_secs(5), &mut |r| seen.push(r.message.payload[0])).unwrap();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<u8>>());
        assert!(read.complete());
        assert_eq!(read.reached, read.ends);
        assert_eq!(read.ends.iter().sum::<u64>(), 10);
        let unfinished = ReadToEnd { ends: vec![3, 1], reached: vec![3, 0] };
        assert!(!unfinished.complete());
    }
}
