//! Tailor's ranking engine, apart from HTTP, in the manner of qdrant's `segment` crate: the
//! served catalogue with its filter rows, exact and approximate top-K over the content and the
//! model's matrices, the active Two-Tower model run in plain Rust, the ranking that blends it with
//! what a visitor picked, and the pick-consistency evaluation that chooses that blend. Callers
//! (the HTTP service, the trainer, the evaluation) map [`EngineError`] once.

mod browse;
mod catalog;
mod error;
pub mod evaluation;
mod live;
pub mod metrics;
mod model;
mod recommend;
mod rules;
mod search;
mod serving;

pub use browse::{Browse, Order, Page};
pub use catalog::{ItemChange, ServingCatalog, Withdrawal};
pub use error::EngineError;
pub use live::{Applied, ItemEvent, LiveCatalogue};
pub use model::ActiveModel;
pub use recommend::{Pool, RankingConfig, Reason, Recommendation, Request, Signals, Weights, recommend, taste_from};
pub use rules::{Boost, MaxPerValue, NO_RULES, Pin, PriceRange, Rules};
pub use search::{GraphPrecision, MatrixSearch, SearchConfig, SearchMethod};
pub use serving::Serving;
