//! The streaming side of Tailor: a consumer reads interaction events from the event log and keeps
//! every visitor's taste aggregate in memory, so a click changes that visitor's recommendations
//! within milliseconds.
//!
//! Exactly-once comes from idempotent apply, not from the log: each visitor's state records the
//! offset of the last event applied to it (a visitor's events all sit in one partition, in order)
//! and the ids of its events within a time window, so a redelivered or re-sent event changes
//! nothing. Idle visitors are dropped after a while, and the least recently seen past a maximum. Snapshots
//! are taken while events keep flowing; a restart loads one and replays from the positions it
//! holds, skipping what each visitor already contains.

mod consumer;
mod dead_letters;
mod error;
mod items;
pub mod metrics;
mod replay;
mod run;
mod snapshot;
mod state;
mod trending;

pub use consumer::{BatchSummary, DEAD_LETTER_REASON, DEAD_LETTER_SOURCE, Snapshotter, Source, StreamConsumer};
pub use dead_letters::{DeadLetterRange, REPLAYED_FROM, Replayed, replay_dead_letters};
pub use error::StreamError;
pub use items::LiveItemVectors;
pub use replay::replay;
pub use run::{consume, stop_on_signals};
pub use snapshot::{Snapshot, load_snapshot, write_snapshot};
pub use state::{Evicted, Outcome, StateLimits, SubjectKey, VisitorState, VisitorStates};
pub use tailor_models::ItemVectors;
pub use trending::{Ranked, Trending, TrendingWeights};
