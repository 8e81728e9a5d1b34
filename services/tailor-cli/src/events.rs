//! Every interaction in the log up to now, as training and evaluation read it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tailor_config::Config;
use tailor_events::{Event, Interaction, WireFormat};
use tailor_log::EventLog;

/// Every interaction in the log up to its end when called, the end offsets (the data window),
/// and how many messages could not be decoded (left out, counted).
pub struct Interactions {
    pub events: Vec<Interaction>,
    pub end_offsets: BTreeMap<u32, u64>,
    pub undecodable: u64,
}

/// Reading stops when a partition makes no progress for this long before its recorded end.
const READ_STALL: Duration = Duration::from_secs(30);

pub fn read_interactions(config: &Config, log: &dyn EventLog, wire: &dyn WireFormat) -> anyhow::Result<Interactions> {
    let topic = &config.events.interactions.name;
    let ends = log.end_offsets(topic)?;
    let mut next = vec![0u64; ends.len()];
    let mut reader = log.reader(topic, &next)?;
    let mut read = Interactions { events: Vec::new(), end_offsets: BTreeMap::new(), undecodable: 0 };
    let mut progress = Instant::now();
    while next.iter().zip(&ends).any(|(n, e)| n < e) {
        let records = reader.poll(4096, Duration::from_millis(200))?;
        if records.is_empty() {
            anyhow::ensure!(
                progress.elapsed() < READ_STALL,
                "reading {topic}: stuck at offsets {next:?} before the ends {ends:?}"
            );
            continue;
        }
        progress = Instant::now();
        for record in records {
            let partition = record.partition as usize;
            if record.offset >= ends[partition] {
                continue;
            }
            next[partition] = record.offset + 1;
            match wire.decode(&record.message.payload) {
                Ok(Event::Interaction(interaction)) => read.events.push(interaction),
                Ok(_) | Err(_) => read.undecodable += 1,
            }
        }
    }
    read.end_offsets = ends.iter().enumerate().map(|(p, &end)| (p as u32, end)).collect();
    Ok(read)
}
