//! Synthetic shoppers for a catalogue that has no history yet: personas read from a versioned
//! TOML file, and seeded generation of their users' ratings and interactions.

mod generate;
mod llm;
mod persona;

pub use generate::{CatalogueItem, GenerateOptions, Generated, GenerationSummary, generate};
pub use llm::{LlmConfig, LlmCounts, LlmRater, parse_answer};
pub use persona::{DEFAULT_PERSONAS, Persona, PersonaFile};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PersonaError {
    #[error("persona file: {0}")]
    Unreadable(String),
    #[error("persona file version {found} is not supported; this build reads version {supported}")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("persona {name:?}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("persona {name:?} matches no item of the catalogue: no item has its genders and article types")]
    NoMatchingItems { name: String },
    #[error("{0} personas but {1} description vectors")]
    VectorCountMismatch(usize, usize),
    #[error("the catalogue has no items with vectors to rate")]
    EmptyCatalogue,
    #[error("LLM rater: {0}")]
    Llm(String),
    #[error(transparent)]
    Core(#[from] tailor_core::CoreError),
}
