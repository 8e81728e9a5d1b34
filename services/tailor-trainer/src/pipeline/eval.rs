//! The evaluation of a stored version (or of the baselines alone, before the first) on the
//! events in the log now: the persona rows with the served ranking beside them, and pick
//! consistency on every ranking path.

use std::time::Instant;

use tailor_config::Config;
use tailor_core::TextQuery;
use tailor_engine::ActiveModel;
use tailor_engine::evaluation::Score;
use tailor_log::EventLog;
use tailor_models::{Blend, ModelStore};

use super::inputs::TrainingInputs;
use super::{EVAL_SEED, REVEALED, persona_check, picks, served, text_encoder};
use crate::{EvalRow, Split, TrainerError, evaluate};

pub struct EvalReport {
    /// The version evaluated; `None` before the first, with the baselines alone.
    pub version: Option<u64>,
    pub rows: Vec<EvalRow>,
    pub rows_seconds: f64,
    pub scores: Vec<Score>,
    pub scores_seconds: f64,
    /// The version's served blend.
    pub blend: Option<Blend>,
}

/// Evaluates `version` (the active one when `None`) with `trials` pick-consistency seeds.
pub fn evaluate_version(
    config: &Config,
    log: &dyn EventLog,
    store: &ModelStore,
    version: Option<u64>,
    trials: usize,
    say: &mut dyn FnMut(String),
) -> Result<EvalReport, TrainerError> {
    let version = match version {
        Some(version) => Some(version),
        None => store.active()?,
    };
    let model = version.map(|v| store.load(v)).transpose()?;
    let inputs = TrainingInputs::load(config, log)?;
    let attributes = inputs.attributes();
    let started = Instant::now();
    let towers = model.as_ref().map(|m| &m.towers);
    let modalities = inputs.modalities(config)?;
    let mut rows =
        evaluate(&inputs.dataset, &attributes, &Split::default(), towers, &modalities, &REVEALED, EVAL_SEED)?;
    let catalog = picks::serving_catalog(config, inputs.items.clone(), &inputs.vectors)?;
    let served = model.map(|loaded| ActiveModel::new(&catalog, loaded)).transpose()?;
    if let Some(served) = &served {
        let check = persona_check(config, &catalog, served, &inputs.dataset, Split::default());
        served::add_rows(&check, &REVEALED, &mut rows)?;
    }
    let rows_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let encoder = text_encoder(config, say);
    let text = encoder.as_ref().map(|e| e as &dyn TextQuery);
    let events = &inputs.interactions.events;
    let scores = picks::evaluation(config, &catalog, served.as_ref(), events, text, trials).evaluate()?;
    let blend = served.map(|served| served.blend);
    Ok(EvalReport { version, rows, rows_seconds, scores, scores_seconds: started.elapsed().as_secs_f64(), blend })
}
