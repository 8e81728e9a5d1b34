//! The trainer's pipelines on the configured data: one training run (read the log, train,
//! evaluate against the baselines, choose the served blend, publish through the model lifecycle)
//! and the evaluation of a stored version. The CLI and the in-process trainer of `tailor serve`
//! call them, and print what they report.

mod eval;
mod follow;
mod inputs;
mod picks;
mod run;
mod served;

use std::collections::BTreeMap;

use tailor_config::Config;
use tailor_embed::{EmbedError, FreeTextEncoder, SharedFreeTextEncoder};
use tailor_engine::{ActiveModel, ServingCatalog};

pub use eval::{EvalReport, evaluate_version};
pub use follow::{EmbedTopics, ItemEmbedder, follow_items};
pub use inputs::{Interactions, read_interactions};
pub use picks::{TRIALS, shortfalls};
pub use run::{TrainingReport, train_once};

use crate::{Dataset, EvalRow, Method, Split};
use served::PersonaCheck;

/// How many revealed interactions the evaluation gives each held-out user.
pub const REVEALED: [usize; 4] = [0, 1, 3, 5];
const EVAL_SEED: u64 = 17;

/// The free-text encoder over `tailor embed`'s joint space.
pub fn free_text_encoder(config: &Config) -> Result<SharedFreeTextEncoder, EmbedError> {
    let paths = config.paths();
    let encoder = FreeTextEncoder::load(&paths.joint_space(), config.embed.models_dir.as_deref(), config.embed.dim)?;
    Ok(SharedFreeTextEncoder::new(encoder))
}

/// The encoder when it loads; without it free text is neither tuned nor evaluated.
fn text_encoder(config: &Config, say: &mut dyn FnMut(String)) -> Option<SharedFreeTextEncoder> {
    free_text_encoder(config).inspect_err(|error| say(format!("free text is not evaluated: {error}"))).ok()
}

/// The Two-Tower rows as manifest figures, e.g. `new_users.k3.ndcg_at_10`.
fn metrics_of(rows: &[EvalRow]) -> BTreeMap<String, f64> {
    rows.iter()
        .filter(|row| row.method == Method::TwoTower)
        .flat_map(|row| {
            let key = |metric: &str| format!("{}.k{}.{metric}", row.slice.name(), row.k);
            [
                (key("ndcg_at_10"), row.ndcg_at_10),
                (key("recall_at_10"), row.recall_at_10),
                (key("hit_rate_at_10"), row.hit_rate_at_10),
                (key("coverage"), row.coverage),
            ]
        })
        .collect()
}

fn persona_check<'a>(
    config: &Config,
    catalog: &'a ServingCatalog,
    model: &'a ActiveModel,
    dataset: &'a Dataset,
    split: Split,
) -> PersonaCheck<'a> {
    let max_k = REVEALED.iter().copied().max().unwrap_or(0);
    PersonaCheck { catalog, model, ranking: config.serve.ranking.clone(), dataset, split, max_k, seed: EVAL_SEED }
}
