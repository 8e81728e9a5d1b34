//! The streaming consumer: reads interaction events, folds each into its visitor's state, sends
//! what it cannot use to the dead-letter topic with the reason, and carries on.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tailor_events::{Event, EventError, Interaction, WireFormat};
use tailor_log::{EventLog, LogReader, Message, Record, now_ms};

use crate::{
    ItemVectors, LiveItemVectors, Outcome, Snapshot, StreamError, Trending, TrendingWeights, VisitorStates,
    load_snapshot, metrics, write_snapshot,
};

/// Header naming why a message was dead-lettered.
pub const DEAD_LETTER_REASON: &str = "tailor.reason";
/// Header naming where a dead-lettered message was read: `topic/partition/offset`.
pub const DEAD_LETTER_SOURCE: &str = "tailor.source";

/// Per partition, the offset after the last record applied. Shared with the snapshot writer.
pub(crate) struct Positions(Box<[AtomicU64]>);

impl Positions {
    fn new(from: &[u64]) -> Positions {
        Positions(from.iter().map(|&o| AtomicU64::new(o)).collect())
    }

    pub fn get(&self) -> Vec<u64> {
        self.0.iter().map(|o| o.load(Ordering::Acquire)).collect()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub applied: u64,
    pub redelivered: u64,
    pub resent: u64,
    pub dead_lettered: u64,
    /// Set aside until their item arrives.
    pub parked: u64,
}

impl BatchSummary {
    pub fn records(&self) -> u64 {
        self.applied + self.redelivered + self.resent + self.dead_lettered + self.parked
    }
}

impl std::ops::AddAssign for BatchSummary {
    fn add_assign(&mut self, other: BatchSummary) {
        self.applied += other.applied;
        self.redelivered += other.redelivered;
        self.resent += other.resent;
        self.dead_lettered += other.dead_lettered;
        self.parked += other.parked;
    }
}

/// Where the consumer reads from and how messages are framed.
#[derive(Clone)]
pub struct Source {
    pub log: Arc<dyn EventLog>,
    pub wire: Arc<dyn WireFormat>,
    pub topic: String,
    pub dead_letter_topic: String,
}

/// How long decoding waits for an unreachable schema registry before the consumer gives up (and
/// a restart resumes from the snapshot).
const REGISTRY_PATIENCE: Duration = Duration::from_secs(30);

pub struct StreamConsumer {
    log: Arc<dyn EventLog>,
    wire: Arc<dyn WireFormat>,
    topic: String,
    dead_letter_topic: String,
    reader: Box<dyn LogReader>,
    states: Arc<VisitorStates>,
    items: Arc<LiveItemVectors>,
    trending: Arc<Trending>,
    /// Interactions whose item has not arrived yet, oldest first, and the item generation they
    /// were last looked at in. The positions stay at the oldest one's, so a restart reads it again.
    parked: VecDeque<Parked>,
    parked_seen_generation: u64,
    /// Per partition, the offset after the last record read; the positions stay behind it while
    /// a record before it is parked.
    read: Vec<u64>,
    positions: Arc<Positions>,
    snapshot_path: PathBuf,
}

struct Parked {
    record: Record,
    interaction: Interaction,
    since: Instant,
}

/// What became of one record.
enum Fate {
    Done(Outcome),
    Park(Interaction),
    DeadLetter(String),
}

impl StreamConsumer {
    /// Loads the snapshot at `snapshot_path` into `states` when there is one and starts reading
    /// `topic` where it left off (from the beginning otherwise).
    pub fn start(
        source: Source,
        states: Arc<VisitorStates>,
        items: Arc<ItemVectors>,
        snapshot_path: &Path,
    ) -> Result<(StreamConsumer, Option<Snapshot>), StreamError> {
        if items.dim() != states.dim() {
            let mismatch = tailor_core::CoreError::DimensionMismatch { expected: states.dim(), found: items.dim() };
            return Err(mismatch.into());
        }
        let Source { log, wire, topic, dead_letter_topic } = source;
        let partitions = log.partitions(&topic)? as usize;
        let snapshot = load_snapshot(snapshot_path, &states)?;
        let mut from = vec![0; partitions];
        if let Some(snapshot) = &snapshot {
            let bad = |reason: String| StreamError::Snapshot { path: snapshot_path.to_path_buf(), reason };
            if snapshot.topic != topic {
                return Err(bad(format!("taken from topic {:?}, not {topic:?}", snapshot.topic)));
            }
            if snapshot.positions.len() > partitions {
                return Err(bad(format!("{} partitions, the topic has {partitions}", snapshot.positions.len())));
            }
            // A snapshot past the log's end (a log restored from an older backup, or recreated)
            // would silently skip the next events written at those offsets.
            let ends = log.end_offsets(&topic)?;
            if let Some((p, (at, end))) =
                snapshot.positions.iter().zip(&ends).enumerate().find(|(_, (at, end))| at > end)
            {
                return Err(bad(format!(
                    "resumes partition {p} of {topic:?} at offset {at}, past the log's end {end}; the log is older than \
                     the snapshot, so move the snapshot aside to rebuild the visitors from the log"
                )));
            }
            // Partitions added since start from their beginning.
            from[..snapshot.positions.len()].copy_from_slice(&snapshot.positions);
        }
        let reader = log.reader(&topic, &from)?;
        let consumer = StreamConsumer {
            log,
            wire,
            topic,
            dead_letter_topic,
            reader,
            states,
            items: Arc::new(LiveItemVectors::new(items)),
            trending: Arc::new(Trending::load(&trending_path(snapshot_path), TrendingWeights::default())?),
            parked: VecDeque::new(),
            parked_seen_generation: 0,
            read: from.clone(),
            positions: Arc::new(Positions::new(&from)),
            snapshot_path: snapshot_path.to_path_buf(),
        };
        Ok((consumer, snapshot))
    }

    pub fn states(&self) -> &Arc<VisitorStates> {
        &self.states
    }

    pub fn positions(&self) -> Vec<u64> {
        self.positions.get()
    }

    /// The item vectors this consumer folds events with; items added while serving go here.
    pub fn item_vectors(&self) -> &Arc<LiveItemVectors> {
        &self.items
    }

    /// What is popular now, by the events this consumer applied.
    pub fn trending(&self) -> &Arc<Trending> {
        &self.trending
    }

    /// Counts interactions with `weights`.
    pub fn with_trending(mut self, weights: TrendingWeights) -> Result<StreamConsumer, StreamError> {
        self.trending = Arc::new(Trending::load(&trending_path(&self.snapshot_path), weights)?);
        Ok(self)
    }

    /// Reads and applies up to `max` records, waiting at most `timeout` for the first.
    pub fn poll(&mut self, max: usize, timeout: Duration) -> Result<BatchSummary, StreamError> {
        let records = self.reader.poll(max, timeout)?;
        self.apply(&records)
    }

    /// Applies records, parks those whose item has not arrived, dead-letters the unusable ones,
    /// and only then advances the positions (to no further than the oldest parked record).
    pub fn apply(&mut self, records: &[Record]) -> Result<BatchSummary, StreamError> {
        let mut summary = BatchSummary::default();
        let mut dead_letters = Vec::new();
        let before = self.positions.get();
        let now = now_ms();
        for record in records {
            match self.apply_one(record)? {
                Fate::Done(Outcome::Applied) => summary.applied += 1,
                Fate::Done(Outcome::Redelivered) => summary.redelivered += 1,
                Fate::Done(Outcome::Resent) => summary.resent += 1,
                Fate::Park(interaction) if self.parked.len() < self.states.limits().max_parked => {
                    summary.parked += 1;
                    self.parked.push_back(Parked { record: record.clone(), interaction, since: Instant::now() });
                }
                Fate::Park(interaction) => {
                    let limit = self.states.limits().max_parked;
                    let reason =
                        format!("unknown item {:?}; {limit} events already wait for theirs", interaction.item_id);
                    dead_letters.push(self.dead_letter(record, reason));
                }
                Fate::DeadLetter(reason) => dead_letters.push(self.dead_letter(record, reason)),
            }
            let slot = &mut self.read[record.partition as usize];
            *slot = (*slot).max(record.offset + 1);
            metrics::record_append_to_apply((now - record.appended_at_ms).max(0) as f64 / 1000.0);
        }
        self.unpark(&mut summary, &mut dead_letters)?;
        let mut next = self.read.clone();
        for parked in &self.parked {
            let slot = &mut next[parked.record.partition as usize];
            *slot = (*slot).min(parked.record.offset);
        }
        summary.dead_lettered = dead_letters.len() as u64;
        if !dead_letters.is_empty() {
            self.log.append(&self.dead_letter_topic, dead_letters)?;
        }
        for (position, offset) in self.positions.0.iter().zip(&next) {
            position.store(*offset, Ordering::Release);
        }
        if next != before {
            self.reader.commit(&next)?;
        }
        // Past the maximum, evict now rather than at the next snapshot: a flood of new visitors
        // must not outgrow the memory bound in between.
        if self.states.len() > self.states.limits().max_visitors {
            metrics::record_eviction(&self.states.evict(now));
        }
        metrics::record_batch(&summary, self.states.len(), self.parked.len());
        Ok(summary)
    }

    /// Applies the parked events whose item has arrived, and dead-letters those that waited
    /// too long.
    fn unpark(&mut self, summary: &mut BatchSummary, dead_letters: &mut Vec<Message>) -> Result<(), StreamError> {
        let generation = self.items.generation();
        let max_wait = Duration::from_millis(self.states.limits().max_park_ms);
        if self.parked.is_empty()
            || (generation == self.parked_seen_generation && self.parked[0].since.elapsed() < max_wait)
        {
            return Ok(());
        }
        self.parked_seen_generation = generation;
        let mut still = VecDeque::with_capacity(self.parked.len());
        for parked in std::mem::take(&mut self.parked) {
            let Parked { record, interaction, since } = &parked;
            let applied = self.items.with_vector(&interaction.item_id, |item| {
                self.states.apply_late(record.partition, record.offset, record.appended_at_ms, interaction, item)
            });
            match applied {
                Some(Ok(Outcome::Applied)) => {
                    summary.applied += 1;
                    self.trending.record(interaction, record.appended_at_ms);
                }
                Some(Ok(_)) => summary.resent += 1,
                Some(Err(error)) => dead_letters.push(self.dead_letter(record, error.to_string())),
                None if since.elapsed() >= max_wait => {
                    let reason = format!(
                        "unknown item {:?}: it did not arrive within {} s",
                        interaction.item_id,
                        max_wait.as_secs()
                    );
                    dead_letters.push(self.dead_letter(record, reason));
                }
                None => still.push_back(parked),
            }
        }
        self.parked = still;
        Ok(())
    }

    /// What becomes of the record; an error only when the schema registry stays unreachable.
    fn apply_one(&self, record: &Record) -> Result<Fate, StreamError> {
        Ok(match self.decode(&record.message.payload)? {
            Ok(event) => self.apply_event(record, event),
            Err(e) => Fate::DeadLetter(e.to_string()),
        })
    }

    fn decode(&self, payload: &[u8]) -> Result<Result<Event, EventError>, StreamError> {
        let started = Instant::now();
        loop {
            match self.wire.decode(payload) {
                Err(e) if e.is_transient() && started.elapsed() < REGISTRY_PATIENCE => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) if e.is_transient() => return Err(StreamError::Event(e)),
                decoded => return Ok(decoded),
            }
        }
    }

    fn apply_event(&self, record: &Record, event: Event) -> Fate {
        let interaction = match event {
            Event::Interaction(interaction) => interaction,
            Event::ItemUpsert(_) | Event::ItemRemoved(_) | Event::ItemVector(_) => {
                return Fate::DeadLetter(format!("an item event does not belong on topic {}", self.topic));
            }
            Event::ModelPublished(_) | Event::Retrain(_) => {
                return Fate::DeadLetter(format!("a model event does not belong on topic {}", self.topic));
            }
        };
        // Redelivery detection relies on all of a visitor's events sharing one partition.
        if record.message.key != interaction.subject.as_bytes() {
            return Fate::DeadLetter(format!(
                "message key {:?} is not the event's subject {:?}",
                String::from_utf8_lossy(&record.message.key),
                interaction.subject
            ));
        }
        let applied = self.items.with_vector(&interaction.item_id, |item| {
            self.states.apply(record.partition, record.offset, record.appended_at_ms, &interaction, item)
        });
        match applied {
            Some(Ok(outcome)) => {
                if outcome == Outcome::Applied {
                    self.trending.record(&interaction, record.appended_at_ms);
                }
                Fate::Done(outcome)
            }
            Some(Err(error)) => Fate::DeadLetter(error.to_string()),
            None => Fate::Park(interaction),
        }
    }

    fn dead_letter(&self, record: &Record, reason: String) -> Message {
        let source = format!("{}/{}/{}", self.topic, record.partition, record.offset);
        Message::new(record.message.key.clone(), record.message.payload.clone())
            .with_header(DEAD_LETTER_REASON, reason)
            .with_header(DEAD_LETTER_SOURCE, source)
    }

    /// Publishes the lag of each partition and returns the total.
    pub fn report_lag(&self) -> Result<u64, StreamError> {
        let ends = self.log.end_offsets(&self.topic)?;
        let mut total = 0;
        for (partition, (end, position)) in ends.iter().zip(self.positions.get()).enumerate() {
            let lag = end.saturating_sub(position);
            metrics::record_lag(partition, lag);
            total += lag;
        }
        Ok(total)
    }

    /// Something that writes snapshots of this consumer's states from another thread while it
    /// keeps applying events.
    pub fn snapshotter(&self) -> Snapshotter {
        Snapshotter {
            path: self.snapshot_path.clone(),
            topic: self.topic.clone(),
            positions: self.positions.clone(),
            states: self.states.clone(),
            trending: self.trending.clone(),
        }
    }
}

/// Where the trending counts are kept: beside the snapshot, written with it.
fn trending_path(snapshot_path: &Path) -> PathBuf {
    snapshot_path.with_extension("trending")
}

#[derive(Clone)]
pub struct Snapshotter {
    path: PathBuf,
    topic: String,
    positions: Arc<Positions>,
    states: Arc<VisitorStates>,
    trending: Arc<Trending>,
}

impl Snapshotter {
    /// Drops idle visitors (and any past the maximum), then writes a snapshot of the rest and
    /// returns how many visitors it holds.
    pub fn write(&self) -> Result<u64, StreamError> {
        metrics::record_eviction(&self.states.evict(now_ms()));
        let started = Instant::now();
        // Read before the states are visited; see `write_snapshot`.
        let positions = self.positions.get();
        let visitors = write_snapshot(&self.path, &self.topic, positions, now_ms(), &self.states)?;
        // Right after the snapshot: a restart replays the events since its positions, which
        // counts the few applied in between twice, at most a moment's worth.
        self.trending.save(&trending_path(&self.path))?;
        metrics::record_snapshot(started.elapsed().as_secs_f64());
        Ok(visitors)
    }
}
